import { CashewsConfigError } from '../errors.js';
import type { CacheStats } from '../stats/types.js';
import { metricFamilies, type MetricFamily } from './prometheus.js';

/** The part of a prom-client `Registry` used here. */
export interface PromRegistryLike {
  registerMetric(metric: unknown): void;
  getSingleMetric?(name: string): unknown;
  removeSingleMetric?(name: string): void;
}

type Importer = () => Promise<unknown>;

/** `import('prom-client')`, only when an application passes a registry; missing → {@link CashewsConfigError}. */
export async function loadPromClient(importer: Importer = () => import('prom-client')): Promise<void> {
  try {
    await importer();
  } catch (error) {
    throw new CashewsConfigError(
      'CashewsModule option metrics.registry needs the optional peer dependency prom-client: npm install prom-client',
      { cause: error },
    );
  }
}

/**
 * Registers the cashews metric families in a prom-client registry as collected-on-scrape metrics: each one reads
 * the current statistics when the registry renders (`await registry.metrics()`), so nothing is updated per call.
 * Counters keep their `_total` names (prom-client adds it back under OpenMetrics).
 */
export async function registerPromClient(
  registry: PromRegistryLike,
  source: () => readonly CacheStats[],
  importer?: Importer,
): Promise<void> {
  await loadPromClient(importer);
  if (typeof registry?.registerMetric !== 'function') {
    throw new CashewsConfigError('CashewsModule option metrics.registry must be a prom-client Registry.');
  }
  const families = metricFamilies([]);
  let cached: { at: number; families: MetricFamily[] } | undefined;
  // One snapshot per scrape, shared by the families read in the same tick.
  const current = (): MetricFamily[] => {
    const now = Date.now();
    if (!cached || cached.at !== now) cached = { at: now, families: metricFamilies(source()) };
    return cached.families;
  };
  for (const { name, help, type } of families) {
    // A registry outliving an application (tests, hot reload) gets the new application's collectors.
    if (registry.getSingleMetric?.(name)) registry.removeSingleMetric?.(name);
    registry.registerMetric({
      name,
      help,
      type,
      aggregator: 'sum',
      labelNames: [],
      get: () => {
        const family = current().find((f) => f.name === name);
        return Promise.resolve({
          name,
          help,
          type,
          aggregator: 'sum',
          values: (family?.samples ?? []).map((sample) => ({
            value: sample.value,
            labels: sample.labels,
            ...(sample.name ? { metricName: sample.name } : {}),
          })),
        });
      },
      reset: () => undefined,
    });
  }
}
