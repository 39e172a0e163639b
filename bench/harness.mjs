// Measurement helpers shared by every scenario. Nothing here knows about a particular library.
//
// Method (the machines are shared and noisy, so only same-run ratios mean anything):
//   1. calibrate: each contender gets its own op count, sized so one batch takes ~roundMs;
//   2. warm up: one interleaved pass of every contender at that size, then re-calibrate (JIT is hot now);
//   3. measure: `rounds` interleaved rounds. Each round runs every contender once, back to back; the
//      starting contender rotates (A B C, B C A, C A B, ...) so no one always runs right after the same
//      neighbour's garbage. A full GC runs before every batch when it can be exposed.
//   4. report: median ops/s per contender, and the median of the per-round ratios against the anchor
//      (contender and anchor measured seconds apart, in the same round), with the min..max range.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Thrown (via `ctx.skip`) when a scenario cannot run here; the runner prints "skipped: <reason>". */
export class SkipError extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'SkipError';
  }
}

/** A full GC between batches keeps one contender's garbage from being collected on another's clock. */
export const fullGc = (() => {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc');
    if (typeof gc === 'function') return gc;
  } catch {
    // Not available: measurements still work, only a little noisier.
  }
  return () => {};
})();

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const stats = (values) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
  rounds: values,
});

/** Runs `batch(n)` once (after a full GC unless `gc` is false) and answers the elapsed nanoseconds as a Number. */
async function timeBatch(contender, n, gc = true) {
  if (gc) fullGc();
  const start = process.hrtime.bigint();
  await contender.batch(n);
  return Number(process.hrtime.bigint() - start);
}

/** Grows `n` until one batch takes at least ~minMs, then scales it to ~roundMs. */
async function calibrate(contender, roundMs, start = 64, gc = true) {
  const minNs = Math.min(roundMs, 50) * 1e6;
  let n = start;
  for (;;) {
    const ns = await timeBatch(contender, n, gc);
    if (ns >= minNs || n >= 1e9) return Math.max(1, Math.round((n * roundMs * 1e6) / Math.max(ns, 1)));
    n *= ns > 0 ? Math.min(16, Math.ceil(minNs / ns) + 1) : 16;
  }
}

/**
 * Measures contenders side by side.
 *
 * @param {object} spec
 * @param {string} spec.anchor   name of the contender every ratio is taken against
 * @param {Array<{name: string, note?: string, batch: (n: number) => unknown}>} spec.contenders
 *        `batch(n)` performs exactly `n` operations (sync or async) and should throw if a result is wrong;
 *        a contender may set `quantum` (e.g. the number of concurrent callers) so `n` is rounded to a multiple.
 * @param {Array<{contender: string, against?: string, min: number, label: string}>} [spec.targets]
 *        pass when median(contender ops/s / anchor ops/s per round) >= min; with `against`, that contender's
 *        ops/s in the same round instead of the anchor's (e.g. a hand-written floor)
 * @param {Array<[string, string]>} [spec.pairs]  extra "a vs b" ratios to report (no target)
 * @param {{rounds: number, roundMs: number, gc?: boolean}} opts
 *        `gc: false` skips the full GC before each batch: in a heap holding a million entries it takes ~0.5 s
 *        and slows the next tens of milliseconds, which a short batch would count as the cost of its operations.
 */
export async function compare(spec, opts) {
  const { anchor, contenders, targets = [], pairs = [] } = spec;
  const { rounds, roundMs, log = () => {}, gc = true } = opts;
  if (!contenders.some((c) => c.name === anchor)) throw new Error(`anchor "${anchor}" is not a contender`);
  const round = (c, n) => (c.quantum ? Math.max(c.quantum, Math.round(n / c.quantum) * c.quantum) : n);

  // 1. calibrate (cold), 2. one interleaved warm-up pass, then re-size from the warm timing.
  const size = new Map();
  for (const c of contenders) size.set(c.name, round(c, await calibrate(c, roundMs, c.quantum ?? 64, gc)));
  for (const c of contenders) {
    const n = size.get(c.name);
    const ns = await timeBatch(c, n, gc);
    size.set(c.name, round(c, Math.max(1, Math.round((n * roundMs * 1e6) / ns))));
  }
  log(`  warmed up; ops per round: ${contenders.map((c) => `${c.name}=${size.get(c.name)}`).join(', ')}`);

  // 3. interleaved, rotating rounds.
  const opsPerSec = new Map(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + r) % contenders.length];
      const n = size.get(c.name);
      const ns = await timeBatch(c, n, gc);
      opsPerSec.get(c.name).push((n * 1e9) / ns);
    }
  }

  // 4. per-round ratios, medians, targets.
  const ratios = (a, b) => opsPerSec.get(a).map((ops, r) => ops / opsPerSec.get(b)[r]);
  const results = contenders.map((c) => ({
    name: c.name,
    anchor: c.name === anchor,
    note: c.note,
    opsPerRound: size.get(c.name),
    opsPerSec: stats(opsPerSec.get(c.name)),
    vsAnchor: stats(ratios(c.name, anchor)),
  }));
  const byName = new Map(results.map((res) => [res.name, res]));
  const evaluated = targets.map((t) => {
    const res = byName.get(t.contender);
    if (!res) throw new Error(`target names unknown contender "${t.contender}"`);
    if (t.against === undefined)
      return { ...t, anchor, actual: res.vsAnchor.median, pass: res.vsAnchor.median >= t.min };
    if (!byName.has(t.against)) throw new Error(`target compares against unknown contender "${t.against}"`);
    const ratio = stats(ratios(t.contender, t.against));
    return { ...t, anchor: t.against, actual: ratio.median, range: ratio, pass: ratio.median >= t.min };
  });
  const extra = pairs.map(([a, b]) => ({ a, b, ratio: stats(ratios(a, b)) }));
  return { anchor, rounds, roundMs, contenders: results, targets: evaluated, pairs: extra };
}

// ---------------------------------------------------------------------------------------------------
// Formatting

const fmtOps = (ops) =>
  ops >= 1e6 ? `${(ops / 1e6).toFixed(2)}M` : ops >= 1e3 ? `${(ops / 1e3).toFixed(1)}k` : ops.toFixed(0);
const fmtX = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) + 'x';

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Human-readable report of one `compare` result. */
export function formatResult(result) {
  const targetsFor = (name) => result.targets.filter((t) => t.contender === name);
  const rows = result.contenders.map((c) => {
    const ts = targetsFor(c.name);
    return [
      c.name + (c.anchor ? ' (anchor)' : ''),
      fmtOps(c.opsPerSec.median),
      `${fmtOps(c.opsPerSec.min)}..${fmtOps(c.opsPerSec.max)}`,
      c.anchor ? '1.00x' : fmtX(c.vsAnchor.median),
      c.anchor ? '' : `${fmtX(c.vsAnchor.min)}..${fmtX(c.vsAnchor.max)}`,
      c.anchor ? '' : fmtX(1 / c.vsAnchor.median),
      ts.map((t) => t.label).join('; '),
      ts.length ? (ts.every((t) => t.pass) ? 'PASS' : 'FAIL') : '',
    ];
  });
  const out = [
    table(
      [
        'contender',
        'ops/s (median)',
        'ops/s range',
        'vs anchor',
        'ratio range',
        'anchor slower by',
        'target',
        'result',
      ],
      rows,
    ),
  ];
  for (const t of result.targets.filter((target) => target.against !== undefined)) {
    out.push(
      `  ${t.contender} vs ${t.against}: ${fmtX(t.actual)} (rounds ${fmtX(t.range.min)}..${fmtX(t.range.max)}), ` +
        `target ${t.label}: ${t.pass ? 'PASS' : 'FAIL'}`,
    );
  }
  for (const p of result.pairs) {
    out.push(
      `  ${p.a} vs ${p.b}: ${fmtX(p.ratio.median)} the throughput (rounds ${fmtX(p.ratio.min)}..${fmtX(p.ratio.max)})`,
    );
  }
  for (const c of result.contenders) if (c.note) out.push(`  note: ${c.name}: ${c.note}`);
  return out.join('\n');
}

/** Every key of `raw`'s database that matches `pattern`, found by SCAN (each once). */
export async function redisKeysMatching(raw, pattern) {
  const found = new Set();
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) found.add(key);
  } while (cursor !== '0');
  return [...found];
}

/** Deletes exactly the keys that match `pattern` (500 per `DEL`). */
export async function deleteRedisKeysMatching(raw, pattern) {
  const keys = await redisKeysMatching(raw, pattern);
  for (let i = 0; i < keys.length; i += 500) await raw.del(...keys.slice(i, i + 500));
}
