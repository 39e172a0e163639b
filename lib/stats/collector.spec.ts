import type { Layer } from '../strategies/executor.js';
import { StatsCollector } from './collector.js';
import { layerStats } from './layer-stats.js';
import { HISTORY_BUCKET_MS, HISTORY_BUCKETS } from './types.js';

const layer = (strategy = 'cache', storesResult = true): Layer =>
  ({ strategy, base: 'Svc:find', storesResult, options: {} }) as unknown as Layer;

describe('StatsCollector', () => {
  let collector: StatsCollector;
  beforeEach(() => (collector = new StatsCollector()));
  afterEach(() => collector.close());

  it('keeps one record per layer and numbers a strategy used twice on one method', () => {
    const a = layer();
    const b = layer('invalidate', false);
    const c = layer('invalidate', false);
    expect(layerStats(a, collector, collector.create)).toBe(layerStats(a, collector, collector.create));
    layerStats(b, collector, collector.create).calls++;
    layerStats(c, collector, collector.create).calls++;
    expect(collector.methods().map((m) => m.strategy)).toEqual(['cache', 'invalidate', 'invalidate#2']);
  });

  it('rolls the hit-ratio history into bounded buckets lazily', () => {
    const record = layerStats(layer(), collector, collector.create);
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

  it('derives misses, avoided executions and time saved', () => {
    const record = layerStats(layer(), collector, collector.create);
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
