import type { Clock } from '../clock.js';
import { AdaptiveTuner, type DecisionChange } from './tuner.js';
import type { AdaptiveBounds, AdaptiveDecision } from './types.js';

/** Virtual time: the tuner reads it through the clock port, nothing sleeps. */
class ManualClock implements Clock {
  constructor(public time = 1_000_000) {}
  now(): number {
    return this.time;
  }
}

const bounds: AdaptiveBounds = { maxTtl: 120_000, maxStaleness: 120_000, minTtl: 1000, slowRun: 100, window: 10_000 };

interface Workload {
  /** Key of the i-th call. */
  key(i: number): string;
  /** The upstream's answer for `key` at `time`, or an Error. */
  answer(key: string, time: number): unknown;
  /** Calls per second. */
  rate: number;
  /** Run duration (ms). */
  runMs?: number;
}

/**
 * Drives a tuner the way the strategy does, with an ideal cache of the decided TTL in front of the upstream:
 * `seconds` of calls at `rate`, returning the decisions seen and the runs made.
 */
function drive(tuner: AdaptiveTuner, clock: ManualClock, load: Workload, seconds: number, start = 0) {
  const stored = new Map<string, { value: unknown; until: number }>();
  let runs = 0;
  const total = Math.round(seconds * load.rate);
  for (let n = 0; n < total; n++) {
    clock.time += 1000 / load.rate;
    const key = load.key(start + n);
    const decision = tuner.onCall(key);
    const entry = stored.get(key);
    if (decision.store !== 'none' && entry && entry.until > clock.time) continue;
    runs++;
    const answer = load.answer(key, clock.time);
    if (answer instanceof Error) {
      tuner.onFailure();
      continue;
    }
    tuner.onSuccess(key, answer, load.runMs ?? 5);
    if (decision.store !== 'none') stored.set(key, { value: answer, until: clock.time + decision.ttl });
  }
  return { runs, calls: total, start: start + total };
}

function setup(extra: Partial<AdaptiveBounds> = {}) {
  const clock = new ManualClock();
  const changes: DecisionChange[] = [];
  const tuner = new AdaptiveTuner({ bounds: { ...bounds, ...extra }, clock, onChange: (c) => changes.push(c) });
  return { clock, tuner, changes };
}

/** Ten keys called round robin; each key's result changes every `period` ms. */
const periodic = (period: number, rate = 50): Workload => ({
  rate,
  key: (i) => `k${i % 10}`,
  answer: (key, time) => `${key}@${Math.floor(time / period)}`,
});

describe('AdaptiveTuner (virtual time)', () => {
  it('starts caching repeated arguments with a TTL near the change interval, capped by maxStaleness', () => {
    const { clock, tuner, changes } = setup();
    drive(tuner, clock, periodic(30_000), 120);
    const decision: AdaptiveDecision = tuner.decision;
    expect(decision.store).toBe('cache');
    // Runs a TTL apart see each periodic change once: the estimate settles within the TTL band around the period.
    expect(decision.ttl).toBeGreaterThanOrEqual(30_000 * 0.75);
    expect(decision.ttl).toBeLessThanOrEqual(30_000 / 0.75);
    expect(changes[0]?.previous.reason).toBe('observing');

    const capped = setup({ maxStaleness: 5000 });
    drive(capped.tuner, capped.clock, periodic(30_000), 60);
    expect(capped.tuner.decision).toMatchObject({ store: 'cache', ttl: 5000 });
  });

  it('never caches unique arguments, and its key table stays bounded', () => {
    const { clock, tuner, changes } = setup();
    drive(tuner, clock, { rate: 200, key: (i) => `unique-${i}`, answer: () => 1 }, 120);
    expect(tuner.decision.store).toBe('none');
    expect(changes).toEqual([]);
    expect(tuner.snapshot().repeatRatio).toBe(0);
  });

  it('does not cache results that change on every call', () => {
    const { clock, tuner } = setup();
    let version = 0;
    drive(tuner, clock, { rate: 50, key: (i) => `k${i % 5}`, answer: () => version++ }, 120);
    expect(tuner.decision.store).toBe('none');
    expect(tuner.decision.reason).toBe('observing');
    expect(tuner.snapshot().changeIntervalMs).toBeLessThan(1000);
  });

  it('follows a shift of workload within a bounded number of windows, and back', () => {
    const { clock, tuner, changes } = setup();
    let at = drive(tuner, clock, periodic(60_000), 60).start;
    expect(tuner.decision.store).toBe('cache');
    // Night: a scan of unique keys.
    const scan: Workload = { rate: 50, key: (i) => `scan-${i}`, answer: () => 'row' };
    const before = changes.length;
    for (let w = 1; w <= 6 && tuner.decision.store !== 'none'; w++) at = drive(tuner, clock, scan, 10, at).start;
    expect(tuner.decision.store).toBe('none');
    expect(changes.length).toBe(before + 1);
    // Day again.
    for (let w = 1; w <= 6 && tuner.decision.store !== 'cache'; w++)
      at = drive(tuner, clock, periodic(60_000), 10, at).start;
    expect(tuner.decision.store).toBe('cache');
  });

  it('falls back to the last good value within the window failures start, then relaxes once they stop', () => {
    const { clock, tuner } = setup();
    let failing = false;
    let n = 0;
    const flaky: Workload = {
      rate: 20,
      key: (i) => `u${i}`, // unique keys: every call runs, no cache
      answer: () => (failing && n++ % 10 < 3 ? new Error('upstream') : 'ok'),
    };
    let at = drive(tuner, clock, flaky, 30).start;
    expect(tuner.decision.guard).toBe('none');
    failing = true;
    at = drive(tuner, clock, flaky, 3, at).start; // 60 runs, 18 failures: within one window
    expect(tuner.decision.guard).toBe('failover');
    at = drive(tuner, clock, flaky, 60, at).start;
    expect(tuner.decision.guard).toBe('failover'); // 30 %: below circuitEnter, no circuit
    failing = false;
    drive(tuner, clock, flaky, 80, at);
    expect(tuner.decision.guard).toBe('none');
  });

  it('adds a circuit when most runs fail for windows in a row', () => {
    const { clock, tuner } = setup();
    const down: Workload = { rate: 20, key: (i) => `u${i}`, answer: () => new Error('down') };
    drive(tuner, clock, down, 40);
    expect(tuner.decision.guard).toBe('circuit');
    expect(tuner.snapshot()).toMatchObject({ strategy: 'circuit', failureRate: 1 });
  });

  it('refreshes hot keys of a slow method early', () => {
    const { clock, tuner } = setup();
    drive(tuner, clock, { ...periodic(30_000), runMs: 400 }, 60);
    expect(tuner.decision.store).toBe('early');
    expect(tuner.decision.refreshAfter).toBe(Math.floor((tuner.decision.ttl * 2) / 3));
  });

  it('reports the figures behind the decision', () => {
    const { clock, tuner } = setup();
    drive(tuner, clock, periodic(30_000), 60);
    const row = tuner.snapshot();
    expect(row).toMatchObject({ strategy: 'cache', store: 'cache', guard: 'none', shared: false });
    expect(row.repeatRatio).toBeGreaterThan(0.9);
    expect(row.changeIntervalMs).toBeGreaterThan(10_000);
    expect(row.since).toBeGreaterThan(1_000_000);
    expect(row.reason).toMatch(/repeat within/);
  });
});

describe('AdaptiveTuner.adopt (fleet decisions)', () => {
  it("holds a fleet decision to this process's own bounds (another version may have decided with longer ones)", () => {
    const clock = new ManualClock();
    const tuner = new AdaptiveTuner({ bounds: { ...bounds, maxTtl: 2000, maxStaleness: 2000 }, clock });
    tuner.adopt({
      decision: {
        store: 'early',
        ttl: 16_000,
        refreshAfter: 10_000,
        guard: 'none',
        reason: 'fleet',
        since: clock.time,
      },
    });
    expect(tuner.decision).toMatchObject({ store: 'early', ttl: 2000, refreshAfter: 2000 });
  });
});

describe('AdaptiveTuner.decideAlone (the fleet unreachable)', () => {
  const unique: Workload = { rate: 50, key: (i) => `u${i}`, answer: (key) => key };

  function fleetTuner() {
    const clock = new ManualClock();
    const tuner = new AdaptiveTuner({ bounds, clock, sink: { closed: () => undefined } });
    tuner.adopt({
      decision: { store: 'cache', ttl: 30_000, refreshAfter: 0, guard: 'none', reason: 'fleet', since: clock.time },
    });
    return { clock, tuner };
  }

  it('a shared decision holds while exchanges succeed: the fleet decides, not this process', () => {
    const { clock, tuner } = fleetTuner();
    drive(tuner, clock, unique, 60);
    expect(tuner.decision.store).toBe('cache');
  });

  it('once an exchange failed, this process decides from its own calls again', () => {
    const { clock, tuner } = fleetTuner();
    tuner.decideAlone();
    drive(tuner, clock, unique, 60);
    expect(tuner.decision.store).toBe('none');
    expect(tuner.snapshot().shared).toBe(false);
  });
});
