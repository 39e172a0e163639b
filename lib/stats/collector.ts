import type { Layer } from '../strategies/layer.js';
import type { ExecutionObserver } from '../strategies/observer.js';
import { BackendCounters } from './backend-counters.js';
import { LayerStats } from './layer-stats.js';
import { HISTORY_BUCKET_MS, HISTORY_BUCKETS, type HistoryBucket, type MethodStats } from './types.js';

interface Totals {
  hits: number;
  misses: number;
  stale: number;
}

/**
 * Usage statistics of one cache instance: a counter record per layer (allocated the first time the layer runs
 * against this instance), the instance's backend counters, and a bounded history of the hit ratio.
 *
 * The history is a ring of {@link HISTORY_BUCKETS} buckets of {@link HISTORY_BUCKET_MS}: a bucket is closed by
 * differencing the running totals, either by an unref'd timer (started with the first layer, stopped by
 * {@link close}) or lazily when the history is read, so calls never touch it.
 */
export class StatsCollector implements ExecutionObserver {
  readonly since = Date.now();
  /** Instance totals: every command of the instance, whatever backend it went to. */
  readonly backend = new BackendCounters();
  private readonly layers: LayerStats[] = [];
  private readonly byLayer = new WeakMap<Layer, LayerStats>();
  private readonly ring: HistoryBucket[] = [];
  private bucketStart = alignedBucket(Date.now());
  private baseline: Totals = { hits: 0, misses: 0, stale: 0 };
  private timer?: NodeJS.Timeout;
  private closed = false;

  /**
   * The record of a layer, created on its first call (the executor asks on every call: one lookup after that).
   * `options` are the ones the layer runs with on this instance.
   */
  observe<O>(layer: Layer<O>, options: O): LayerStats {
    const record = this.byLayer.get(layer as Layer);
    return record === undefined ? this.create(layer, options) : record;
  }

  private create<O>(layer: Layer<O>, options: O): LayerStats {
    const record = new LayerStats(layer as Layer, layer.definition.traits(options));
    this.byLayer.set(layer as Layer, record);
    this.layers.push(record);
    if (!this.timer && !this.closed) {
      this.timer = setInterval(() => this.roll(Date.now()), HISTORY_BUCKET_MS);
      this.timer.unref();
    }
    return record;
  }

  /** One entry per layer, in first-use order; a strategy used twice on one method is numbered `#2`, `#3`… */
  methods(now = Date.now()): MethodStats[] {
    const seen = new Map<string, number>();
    return this.layers.map((record) => {
      const id = `${record.method}\u0000${record.strategy}`;
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      return record.snapshot(n === 1 ? record.strategy : `${record.strategy}#${n}`, now, this);
    });
  }

  /** Closed buckets, oldest first, then the bucket in progress. */
  history(now = Date.now()): HistoryBucket[] {
    this.roll(now);
    const totals = this.totals();
    return [
      ...this.ring,
      {
        at: this.bucketStart,
        hits: totals.hits - this.baseline.hits,
        misses: totals.misses - this.baseline.misses,
        stale: totals.stale - this.baseline.stale,
      },
    ];
  }

  /** Stops the history timer (instance closed). Counting goes on; the history then rolls only when read. */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Closes every bucket that ended before `now`; the first one closed gets what was counted since the last roll. */
  private roll(now: number): void {
    if (now < this.bucketStart + HISTORY_BUCKET_MS) return;
    const totals = this.totals();
    let first = true;
    while (now >= this.bucketStart + HISTORY_BUCKET_MS) {
      this.ring.push(
        first
          ? {
              at: this.bucketStart,
              hits: totals.hits - this.baseline.hits,
              misses: totals.misses - this.baseline.misses,
              stale: totals.stale - this.baseline.stale,
            }
          : { at: this.bucketStart, hits: 0, misses: 0, stale: 0 },
      );
      first = false;
      this.bucketStart += HISTORY_BUCKET_MS;
      // Keep one slot for the bucket in progress; a long idle gap is skipped rather than looped over.
      if (this.ring.length > HISTORY_BUCKETS - 1) this.ring.splice(0, this.ring.length - (HISTORY_BUCKETS - 1));
      if (now - this.bucketStart > HISTORY_BUCKET_MS * HISTORY_BUCKETS) {
        this.bucketStart = alignedBucket(now) - HISTORY_BUCKET_MS * (HISTORY_BUCKETS - 1);
      }
    }
    this.baseline = totals;
  }

  private totals(): Totals {
    const totals: Totals = { hits: 0, misses: 0, stale: 0 };
    for (const record of this.layers) {
      if (!record.storesResult) continue;
      totals.hits += record.hits;
      totals.stale += record.stale;
      totals.misses += Math.max(0, record.calls - record.hits - record.stale);
    }
    return totals;
  }
}

function alignedBucket(now: number): number {
  return now - (now % HISTORY_BUCKET_MS);
}
