import type { AdaptiveStats } from '../adaptive/types.js';
import type { CacheStats, CircuitStateName, MethodStats } from '../stats/types.js';

/** One metric family: `# HELP`, `# TYPE`, then its samples. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'summary';
  readonly samples: ReadonlyArray<MetricSample>;
}

/** One sample of a {@link MetricFamily}: one line of the exposition. */
export interface MetricSample {
  /** Full sample name when it differs from the family's (`_sum`, `_count` of a summary). */
  readonly name?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

type MethodCounter = { field: keyof MethodStats; name: string; help: string };

const METHOD_COUNTERS: readonly MethodCounter[] = [
  { field: 'calls', name: 'cashews_calls_total', help: 'Calls that entered the decorator.' },
  { field: 'hits', name: 'cashews_hits_total', help: 'Calls answered with a fresh stored value.' },
  { field: 'misses', name: 'cashews_misses_total', help: 'Calls of a storing decorator not answered from the cache.' },
  { field: 'stale', name: 'cashews_stale_total', help: 'Calls answered with a stale value standing in for a failure.' },
  {
    field: 'executions',
    name: 'cashews_executions_total',
    help: 'Runs of the method (or the next decorator) made for a caller.',
  },
  {
    field: 'refreshes',
    name: 'cashews_refreshes_total',
    help: 'Background refresh runs (@Early, @HitCache updateAfter).',
  },
  { field: 'errors', name: 'cashews_errors_total', help: 'Runs below the decorator that threw.' },
  {
    field: 'executionsAvoided',
    name: 'cashews_executions_avoided_total',
    help: 'Calls of a storing decorator answered without running the method for that call.',
  },
  {
    field: 'rejections',
    name: 'cashews_rejections_total',
    help: 'Calls refused without running: over a rate limit, or failed fast by an open circuit.',
  },
];

const BACKEND_COUNTERS = [
  { field: 'commands', name: 'cashews_backend_commands_total', help: 'Commands sent to the backend.' },
  { field: 'errors', name: 'cashews_backend_errors_total', help: 'Backend commands that failed.' },
  { field: 'hits', name: 'cashews_backend_hits_total', help: 'Key reads that found a value.' },
  { field: 'misses', name: 'cashews_backend_misses_total', help: 'Key reads that found nothing.' },
] as const;

const CIRCUIT_STATES: readonly CircuitStateName[] = ['closed', 'open', 'half-open'];

/**
 * The metric families of some cache instances, in a stable order.
 * @example
 * ```ts
 * const names = metricFamilies([cache.stats()]).map((family) => family.name); // ['cashews_calls_total', …]
 * ```
 */
export function metricFamilies(instances: readonly CacheStats[]): MetricFamily[] {
  const methods = instances.flatMap((stats) =>
    stats.methods.map((m) => ({ m, labels: { cache: stats.cache, method: m.method, strategy: m.strategy } })),
  );
  const backends = instances.flatMap((stats) =>
    stats.backends.map((b) => ({ b, labels: { cache: stats.cache, prefix: b.prefix, url: b.url } })),
  );
  const families: MetricFamily[] = METHOD_COUNTERS.map(({ field, name, help }) => ({
    name,
    help,
    type: 'counter',
    samples: methods.map(({ m, labels }) => ({ labels, value: m[field] as number })),
  }));
  families.push(
    {
      name: 'cashews_execution_duration_seconds',
      help: 'Duration of successful runs below the decorator.',
      type: 'summary',
      samples: methods.flatMap(({ m, labels }) => {
        const count = m.executions + m.refreshes - m.errors;
        return [
          {
            name: 'cashews_execution_duration_seconds_sum',
            labels,
            value: (m.meanDurationMs * Math.max(0, count)) / 1000,
          },
          { name: 'cashews_execution_duration_seconds_count', labels, value: Math.max(0, count) },
        ];
      }),
    },
    {
      name: 'cashews_time_saved_seconds',
      help: 'Mean run duration times hits: time the cache saved callers.',
      type: 'gauge',
      samples: methods.map(({ m, labels }) => ({ labels, value: m.timeSavedMs / 1000 })),
    },
    {
      name: 'cashews_hit_ratio',
      help: 'Hits divided by calls of a storing decorator.',
      type: 'gauge',
      samples: methods.filter(({ m }) => m.calls > 0).map(({ m, labels }) => ({ labels, value: m.hitRatio })),
    },
    {
      name: 'cashews_circuit_state',
      help: 'Circuit breaker state as this process last saw it (1 for the current state).',
      type: 'gauge',
      samples: methods
        .filter(({ m }) => m.circuit !== undefined)
        .flatMap(({ m, labels }) =>
          CIRCUIT_STATES.map((state) => ({ labels: { ...labels, state }, value: m.circuit === state ? 1 : 0 })),
        ),
    },
  );
  families.push(...adaptiveFamilies(methods));
  for (const { field, name, help } of BACKEND_COUNTERS) {
    families.push({
      name,
      help,
      type: 'counter',
      samples: backends.map(({ b, labels }) => ({ labels, value: b[field] })),
    });
  }
  return families;
}

/** What an `@Adaptive` method may be running: its `strategy` figure. */
const ADAPTIVE_STRATEGIES = ['none', 'cache', 'early', 'failover', 'circuit'] as const;

/** Gauges of the `@Adaptive` methods: the decision (1 for the current one) and the figures behind it. */
function adaptiveFamilies(
  methods: ReadonlyArray<{ m: MethodStats; labels: Readonly<Record<string, string>> }>,
): MetricFamily[] {
  const rows = methods.flatMap(({ m, labels }) => (m.adaptive ? [{ a: m.adaptive, labels }] : []));
  const gauge = (name: string, help: string, value: (a: AdaptiveStats) => number | null): MetricFamily => ({
    name,
    help,
    type: 'gauge',
    samples: rows.flatMap(({ a, labels }) => {
      const v = value(a);
      return v === null ? [] : [{ labels, value: v }];
    }),
  });
  return [
    {
      name: 'cashews_adaptive_decision',
      help: 'What an @Adaptive method runs now (1 for the current decision).',
      type: 'gauge',
      samples: rows.flatMap(({ a, labels }) =>
        ADAPTIVE_STRATEGIES.map((decision) => ({
          labels: { ...labels, decision },
          value: a.strategy === decision ? 1 : 0,
        })),
      ),
    },
    gauge(
      'cashews_adaptive_ttl_seconds',
      'TTL an @Adaptive method stores results with (0: none).',
      (a) => a.ttlMs / 1000,
    ),
    gauge(
      'cashews_adaptive_repeat_ratio',
      'Share of recent calls whose arguments repeated within the TTL.',
      (a) => a.repeatRatio,
    ),
    gauge(
      'cashews_adaptive_change_interval_seconds',
      "Estimated time a key's result stays the same (absent before it is observed).",
      (a) => (a.changeIntervalMs === null ? null : a.changeIntervalMs / 1000),
    ),
    gauge('cashews_adaptive_failure_rate', 'Share of recent runs that failed.', (a) => a.failureRate),
    gauge(
      'cashews_adaptive_decision_since_seconds',
      'When the current decision was made (Unix time).',
      (a) => a.since / 1000,
    ),
  ];
}

/** Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Renders families in the Prometheus text format (`# HELP`, `# TYPE`, one line per sample).
 * @example
 * ```ts
 * const text = renderPrometheus(metricFamilies([cache.stats()]));
 * ```
 */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      lines.push(`${sample.name ?? family.name}${renderLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** `# HELP` text: backslash and newline escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function renderLabels(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
