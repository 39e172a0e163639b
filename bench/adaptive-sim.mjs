// A seeded workload simulator for @Adaptive (issue #14), in virtual time.
//
// The real tuner (dist/esm/adaptive/tuner.js: observations and decisions, exactly what the decorator runs) reads the
// simulated time through the clock port; the cache, the fallback and the circuit around it are modelled here, the
// way the delegated strategies behave: an entry answers until its TTL ends; with early refresh a hit past
// `refreshAfter` refreshes the entry in the background; a failure falls back to the last good value (no older than
// maxStaleness); an open circuit fails fast to that value. Under @Adaptive a failure with no last good value in the
// backend falls back on the one the real tuner kept in process (`lastGoodOf`, every tracked key's last success). Fixed policies (a hand-tuned @Cache, @Early or @Failover,
// or no cache) run through the same model, so the figures compare decisions, not plumbing.
//
// Figures per policy: calls; hit ratio (calls answered from the cache, fresh or past a change); stale-read ratio
// (calls answered with a value the upstream had already replaced); upstream calls; errors that reached callers, and
// those among them whose key had a last good value.

/** Seeded PRNG (mulberry32): the same seed gives the same workload. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a fixed policy runs: `store` 'none' | 'cache' | 'early', `ttl`, `refreshAfter`, `fallback`. */
export const fixed = (label, decision) => ({ label, decision: { refreshAfter: 0, guard: 'none', ...decision } });

/**
 * Runs `scenario` under `policy` and answers its figures.
 * scenario: { duration (ms), rate(t) calls/s, key(random, t, i), version(key, t), fails(random, t), runMs,
 *             maxStaleness (ms, the fallback's limit for every policy) }
 * policy:   a {@link fixed} policy, or { label, adaptive: AdaptiveTuner factory (clock) => tuner }.
 */
export function simulate(scenario, policy, seed = 1) {
  const random = rng(seed);
  const clock = { time: 0, now: () => clock.time };
  const tuner = policy.adaptive ? policy.adaptive(clock) : undefined;
  const entries = new Map();
  const lastGood = new Map();
  /** When each key last got an answer, whatever the policy: a caller of such a key "had a value". */
  const answered = new Map();
  const circuit = { from: 0, calls: 0, failures: 0, openUntil: -1 };
  const figures = { calls: 0, hits: 0, stale: 0, upstream: 0, errors: 0, errorsWithValue: 0, fallbacks: 0 };
  const timeline = [];
  let lastLabel;
  const window = scenario.window ?? 10_000;

  const run = (key, t, decision) => {
    figures.upstream++;
    if (scenario.fails(random, t)) {
      tuner?.onFailure();
      circuitStep(t, true);
      return undefined;
    }
    const version = scenario.version(key, t);
    answered.set(key, t);
    tuner?.onSuccess(key, version, scenario.runMs);
    circuitStep(t, false);
    if (decision.store !== 'none') {
      entries.set(key, { version, until: t + decision.ttl, refreshAt: t + (decision.refreshAfter || decision.ttl) });
    }
    if (decision.store !== 'none' || decision.guard !== 'none') lastGood.set(key, { version, at: t });
    return version;
  };
  const circuitStep = (t, failed) => {
    if (t - circuit.from > window) Object.assign(circuit, { from: t, calls: 0, failures: 0 });
    circuit.calls++;
    if (failed) circuit.failures++;
    if (circuit.calls >= 10 && circuit.failures / circuit.calls >= 0.5) circuit.openUntil = t + window;
  };
  const serve = (key, t, version, hit) => {
    if (hit) figures.hits++;
    else figures.fallbacks++;
    if (version !== scenario.version(key, t)) figures.stale++;
  };

  for (let i = 0; clock.time < scenario.duration; i++) {
    const t = clock.time;
    const key = scenario.key(random, t, i);
    const decision = tuner ? tuner.onCall(key) : policy.decision;
    const label = `${decision.store}${decision.store === 'none' ? '' : ` ${decision.ttl}`}${decision.guard === 'none' ? '' : `+${decision.guard}`}`;
    if (label !== lastLabel) timeline.push({ at: t, label, reason: decision.reason });
    lastLabel = label;
    figures.calls++;
    const entry = decision.store === 'none' ? undefined : entries.get(key);
    if (entry && entry.until > t) {
      if (decision.store === 'early' && t >= entry.refreshAt) {
        entry.refreshAt = t + decision.refreshAfter; // one refresher (the lock), then a new value or a retry later
        run(key, t, decision);
      }
      serve(key, t, entry.version, true);
    } else {
      const open = decision.guard === 'circuit' && circuit.openUntil > t;
      const answer = open ? undefined : run(key, t, decision);
      if (answer === undefined) {
        const good = lastGood.get(key);
        const usable =
          good && (decision.store !== 'none' || decision.guard !== 'none') && t - good.at <= scenario.maxStaleness;
        const kept = usable ? undefined : tuner?.lastGoodOf(key);
        if (usable) serve(key, t, good.version, false);
        else if (kept) serve(key, t, kept.value, false);
        else {
          figures.errors++;
          const at = answered.get(key);
          if (at !== undefined && t - at <= scenario.maxStaleness) figures.errorsWithValue++;
        }
      }
    }
    clock.time += 1000 / scenario.rate(t);
  }
  const ratio = (n) => (figures.calls ? n / figures.calls : 0);
  return {
    label: policy.label,
    ...figures,
    hitRatio: ratio(figures.hits),
    staleRatio: ratio(figures.stale),
    timeline,
    final: tuner?.decision,
  };
}

/** A figure for the table. */
export const pct = (value) => `${(value * 100).toFixed(2)}%`;

/** One line per policy: hit ratio, stale-read ratio, upstream calls, errors. */
export function table(results) {
  const width = Math.max(...results.map((r) => r.label.length));
  return results
    .map(
      (r) =>
        `    ${r.label.padEnd(width)}  hit ${pct(r.hitRatio).padStart(7)}  stale ${pct(r.staleRatio).padStart(7)}  ` +
        `upstream ${String(r.upstream).padStart(7)}  errors ${String(r.errors).padStart(5)} (with a value ${r.errorsWithValue})` +
        (r.fallbacks ? `  fallbacks ${r.fallbacks}` : ''),
    )
    .join('\n');
}
