import { parsePositiveDuration, type Duration } from '../duration.js';
import { CashewsConfigError } from '../errors.js';
import { bloomDefinition, bloomShape } from '../strategies/bloom.strategy.js';
import {
  checkOptions,
  strategyDecorator,
  UNVERSIONED_KEY_OPTION_NAMES,
  type UnversionedKeyOptions,
} from './strategy-decorator.js';
import type { TypedMethodDecorator } from './typed-decorator.js';

/** Options of {@link Bloom}. */
export interface BloomDecoratorOptions<
  A extends readonly unknown[] = readonly unknown[],
> extends UnversionedKeyOptions<A> {
  /** Members the filter is sized for; past it the false positive rate grows. */
  capacity: number;
  /** False positive rate at `capacity`, `0 < rate < 1`. Default `0.01`. */
  falsePositiveRate?: number;
  /**
   * Single filter: a member whose bits are all set runs the method to confirm (`true`, the default), or is answered
   * `true` without running it (`false`: a false positive then answers `true`).
   */
  check?: boolean;
  /** Two filters that learn the method's `true` and `false` answers, and answer a member found in exactly one. */
  dual?: boolean;
  /**
   * Name of the filter (bits under `bloom:<name>`): shared by methods naming the same one, which then give the same
   * `key` template (the member). Default: the method.
   */
  name?: string;
  /** Lifetime of the filter's bits from their creation. Default: none. */
  ttl?: Duration;
}

const NAME = /^[A-Za-z0-9._:-]{1,100}$/;
/** Redis strings hold at most 512 MB: 2^32 bits. */
const MAX_BITS = 2 ** 32;

/**
 * A predicate ("does this user exist?") behind a Bloom filter kept in the backend, shared by every process. A member
 * whose bits are not all set is answered `false` without running the method; members are added with
 * `bloomFilter(service.method).add(...args)` (or `service.method.set(...args)`, as in cashews). With `dual: true` the
 * filter learns the method's answers instead. The member is the call's key (the arguments, or `key`). When the
 * backend cannot be read the method runs.
 *
 * @example
 * ```ts
 * ;@Bloom({ capacity: 1_000_000, falsePositiveRate: 0.01 })
 * async emailTaken(email: string): Promise<boolean> {
 *   return this.users.exists(email);
 * }
 * ```
 */
export function Bloom<A extends readonly unknown[] = readonly unknown[]>(
  options: BloomDecoratorOptions<A>,
): TypedMethodDecorator<boolean, A> {
  const where = '@Bloom';
  checkOptions(
    where,
    options,
    ['capacity', 'falsePositiveRate', 'check', 'dual', 'name', 'ttl'],
    UNVERSIONED_KEY_OPTION_NAMES,
  );
  const { capacity, falsePositiveRate = 0.01, check = true, dual = false, name, ttl } = options;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) {
    throw new CashewsConfigError(
      `${where}: capacity must be a whole number of members, at least 1 (got ${String(capacity)}).`,
    );
  }
  if (typeof falsePositiveRate !== 'number' || !(falsePositiveRate > 0 && falsePositiveRate < 1)) {
    throw new CashewsConfigError(
      `${where}: falsePositiveRate must be a number between 0 and 1, such as 0.01 for 1% (got ${String(falsePositiveRate)}).`,
    );
  }
  for (const [option, value] of [
    ['check', check],
    ['dual', dual],
  ] as const) {
    if (typeof value !== 'boolean') throw new CashewsConfigError(`${where}: ${option} must be true or false.`);
  }
  if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) {
    throw new CashewsConfigError(
      `${where}: name must be 1-100 letters, digits, ".", "_", ":" or "-" (got ${JSON.stringify(name)}).`,
    );
  }
  if (name !== undefined && options.key === undefined) {
    throw new CashewsConfigError(
      `${where}: name shares the filter between methods, whose default keys (the members) name each method. Give ` +
        `the member a key template too, the same on every method of the filter: key: '{email}'.`,
    );
  }
  const shape = bloomShape(capacity, falsePositiveRate);
  if (shape.bits > MAX_BITS) {
    throw new CashewsConfigError(
      `${where}: capacity ${capacity} at falsePositiveRate ${falsePositiveRate} needs ${shape.bits} bits, more than ` +
        `a Redis string holds (2^32): lower the capacity or raise the rate.`,
    );
  }
  return strategyDecorator({
    definition: bloomDefinition,
    options: {
      ...shape,
      check,
      dual,
      ...(name === undefined ? {} : { name }),
      ...(ttl === undefined ? {} : { ttl: parsePositiveDuration(ttl, `${where} ttl`) }),
    },
    keys: options,
  }) as TypedMethodDecorator<boolean, A>;
}
