import { circuitBreakerDefinition } from '../strategies/circuit-breaker.strategy.js';
import { defineStrategy, type Layer } from '../strategies/layer.js';
import { StatsCollector } from './collector.js';
import { HISTORY_BUCKET_MS, HISTORY_BUCKETS } from './types.js';

const layer = (strategy = 'cache', storesResult = true): Layer => {
  const definition = defineStrategy({ name: strategy, run: (_call, _options, _cache, next) => next(), storesResult });
  return { strategy, definition, base: 'Svc:find', storesResult, options: {} } as unknown as Layer;
};

describe('StatsCollector', () => {
  let collector: StatsCollector;
  beforeEach(() => (collector = new StatsCollector()));
  afterEach(() => collector.close());

  it('keeps one record per layer and numbers a strategy used twice on one method', () => {
    const a = layer();
    const b = layer('invalidate', false);
    const c = layer('invalidate', false);
    expect(collector.observe(a, {})).toBe(collector.observe(a, {}));
    collector.observe(b, {}).onCall();
    collector.observe(c, {}).onCall();
    expect(collector.methods().map((m) => m.strategy)).toEqual(['cache', 'invalidate', 'invalidate#2']);
  });

  it('rolls the hit-ratio history into bounded buckets lazily', () => {
    const record = collector.observe(layer(), {});
    const t0 = Date.now();
    record.calls += 3;
    record.hits += 2;
    const later = t0 + HISTORY_BUCKET_MS * 2;
    const history = collector.history(later);
    expect(history.reduce((sum, b) => sum + b.hits, 0)).toBe(2);
    expect(history.reduce((sum, b) => sum + b.misses, 0)).toBe(1);
    expect(history.at(-1)).toMatchObject({ hits: 0, misses: 0 });
    record.calls += 1;
    expect(collector.history(later).at(-1)).toMatchObject({ misses: 1 });
    // A day later (the timer was not running): still HISTORY_BUCKETS buckets at most, older counts aged out,
    // and new counts land in the bucket in progress.
    const dayLater = later + 86_400_000;
    expect(collector.history(dayLater).length).toBeLessThanOrEqual(HISTORY_BUCKETS);
    record.calls += 1;
    record.hits += 1;
    const history2 = collector.history(dayLater);
    expect(history2.length).toBe(HISTORY_BUCKETS);
    expect(history2.reduce((sum, b) => sum + b.hits, 0)).toBe(1);
    expect(history2.at(-1)).toMatchObject({ hits: 1, misses: 0 });
  });

  it('counts what the executor observes and reads the half-open window from the circuit breaker definition', () => {
    const options = { threshold: 0.5, minCalls: 1, period: 1000, ttl: 1000, halfOpenTtl: 500 };
    const breaker = {
      ...layer('circuit-breaker', false),
      definition: circuitBreakerDefinition,
      options,
    } as unknown as Layer;
    const record = collector.observe(breaker, options);
    record.onCall();
    record.onRun(false);
    record.onSuccess(4);
    record.onCall();
    record.onRun(true);
    record.onError();
    record.onCall();
    record.onRejected();
    const now = Date.now();
    record.onCircuit({ allowed: false, state: 'open', retryAfter: 1000, trial: false }, true);
    expect(collector.methods(now)[0]).toMatchObject({
      strategy: 'circuit-breaker',
      calls: 3,
      executions: 1,
      refreshes: 1,
      errors: 1,
      rejections: 2,
      meanDurationMs: 4,
      circuit: 'open',
    });
    // Once the open time is up, the circuit reads half-open because the definition gave a half-open window.
    expect(collector.methods(now + 2000)[0].circuit).toBe('half-open');
  });

  it('derives misses, avoided executions and time saved', () => {
    const record = collector.observe(layer(), {});
    Object.assign(record, { calls: 10, hits: 6, stale: 1, executions: 2, durationSum: 30, durationCount: 2 });
    expect(collector.methods()[0]).toMatchObject({
      misses: 3,
      executionsAvoided: 8,
      meanDurationMs: 15,
      timeSavedMs: 90,
      hitRatio: 0.6,
    });
  });
});
