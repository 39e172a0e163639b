import { createHash } from 'node:crypto';
import type { Strategy } from './strategy.js';
import { defineStrategy, type StrategyDefinition } from './layer.js';

/** A Bloom filter's shape and behaviour, computed from `capacity` and `falsePositiveRate` at decoration. */
export interface BloomStrategyOptions {
  /** Name of the filter: its bits live under `bloom:<name>` (`:t` / `:f` for a dual filter). */
  name?: string;
  /** Bits in the filter (m). */
  bits: number;
  /** Bits set per member (k). */
  hashes: number;
  /** A member whose bits are all set runs the method to confirm (a Bloom filter may answer a false positive). */
  check: boolean;
  /** Two filters learning the method's true and false answers. */
  dual: boolean;
  /** Lifetime of the filter's bits, from when it is created (ms); none by default. */
  ttl?: number;
}

/**
 * Bits and hashes of a filter holding `capacity` members with an expected false positive rate of at most `rate`:
 * k = -log2 p hashes (the optimum, rounded), then the fewest bits m for which (1 - e^(-kn/m))^k <= p with that
 * whole k (the textbook m = -n ln p / (ln 2)² assumes a fractional k and lands just above p once k is rounded).
 */
export function bloomShape(capacity: number, rate: number): { bits: number; hashes: number } {
  const hashes = Math.max(1, Math.round(-Math.log2(rate)));
  const bits = Math.ceil((-hashes * capacity) / Math.log(1 - rate ** (1 / hashes)));
  return { bits, hashes };
}

/**
 * The `hashes` bit positions of `member` in a filter of `bits` bits: two 32-bit halves of its SHA-256 combined
 * (Kirsch–Mitzenmacher double hashing), so every process and language computing the same digest agrees.
 */
export function bloomIndexes(member: string, bits: number, hashes: number): number[] {
  const digest = createHash('sha256').update(member).digest();
  const h1 = digest.readUInt32BE(0);
  // `| 1` keeps the step odd (never 0); `>>> 0` keeps it unsigned, as `|` answers a signed 32-bit integer.
  const h2 = (digest.readUInt32BE(4) | 1) >>> 0;
  const indexes: number[] = [];
  for (let i = 0; i < hashes; i++) indexes.push((h1 + i * h2) % bits);
  return indexes;
}

/** The key of a filter's bits; `name` is the decorator's, or the method (`Class.method`). */
export function bloomKey(options: BloomStrategyOptions, target: string, answer?: boolean): string {
  const base = `bloom:${options.name ?? target}`;
  if (!options.dual) return base;
  return answer ? `${base}:t` : `${base}:f`;
}

const allSet = (bits: readonly number[]) => bits.every((bit) => bit === 1);

/**
 * A predicate behind a Bloom filter. Single filter: a member whose bits are not all set is answered `false` without
 * running the method; one whose bits are all set runs it to confirm (`check`, the default) or is answered `true`.
 * Members are added with `bloomFilter(method).add(...args)`. Dual filter: the method's answers are learned into a
 * "true" and a "false" filter; a member found in exactly one of them is answered from it, any other runs the method
 * and is learned. When the backend cannot be read, the method runs (a filter never answers from a failure).
 */
export const bloomStrategy: Strategy<BloomStrategyOptions> = async (call, options, cache, next) => {
  const indexes = bloomIndexes(call.key, options.bits, options.hashes);
  if (!options.dual) {
    const bits = await cache.readBits(bloomKey(options, call.target), indexes);
    if (bits !== undefined && !allSet(bits)) {
      await call.report({ strategy: 'bloom', key: bloomKey(options, call.target) });
      return false;
    }
    if (bits !== undefined && !options.check) {
      await call.report({ strategy: 'bloom', key: bloomKey(options, call.target) });
      return true;
    }
    return next();
  }
  const [inTrue, inFalse] = await Promise.all([
    cache.readBits(bloomKey(options, call.target, true), indexes),
    cache.readBits(bloomKey(options, call.target, false), indexes),
  ]);
  if (inTrue !== undefined && inFalse !== undefined) {
    const yes = allSet(inTrue);
    const no = allSet(inFalse);
    if (yes !== no) {
      await call.report({ strategy: 'bloom', key: bloomKey(options, call.target, yes) });
      return yes;
    }
  }
  const answer = await next();
  if (typeof answer === 'boolean') {
    // Learned after the caller has its answer: a failure to learn only means the next call runs the method too.
    call.background(() => cache.addBits(bloomKey(options, call.target, answer), indexes, options.ttl, false));
  } else {
    call.reportProblem?.(
      'bloom-not-boolean',
      `the method answered ${typeof answer}, not a boolean: a dual Bloom filter learns true and false only.`,
    );
  }
  return answer;
};

/** `bloom` layers: store nothing of their own but the filter's bits. */
export const bloomDefinition: StrategyDefinition<BloomStrategyOptions> = defineStrategy<BloomStrategyOptions>({
  name: 'bloom',
  run: bloomStrategy,
  storesResult: false,
});
