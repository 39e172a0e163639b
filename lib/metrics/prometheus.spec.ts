import { escapeHelp, escapeLabelValue, metricFamilies, renderPrometheus } from './prometheus.js';
import { loadPromClient } from './prom-client.js';
import { CashewsConfigError } from '../errors.js';

describe('Prometheus text exposition', () => {
  it('escapes label values and help text', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeHelp('x\\y\nz "q"')).toBe('x\\\\y\\nz "q"');
  });

  it('renders HELP and TYPE before the samples of each family', () => {
    const text = renderPrometheus([
      { name: 'm_total', help: 'Help.', type: 'counter', samples: [{ labels: { method: 'A."b"\n' }, value: 3 }] },
      { name: 'g', help: 'G.', type: 'gauge', samples: [{ labels: {}, value: NaN }] },
    ]);
    expect(text).toBe(
      '# HELP m_total Help.\n# TYPE m_total counter\nm_total{method="A.\\"b\\"\\n"} 3\n# HELP g G.\n# TYPE g gauge\ng NaN\n',
    );
  });

  it('has every family even without instances, with unique names', () => {
    const names = metricFamilies([]).map((family) => family.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['cashews_hits_total', 'cashews_circuit_state']));
  });

  it('reports a missing prom-client as a CashewsConfigError', async () => {
    const missing = () => Promise.reject(new Error("Cannot find package 'prom-client'"));
    await expect(loadPromClient(missing)).rejects.toBeInstanceOf(CashewsConfigError);
    await expect(loadPromClient(missing)).rejects.toThrow('npm install prom-client');
  });
});

describe('Prometheus gauges of @Adaptive methods', () => {
  const row = {
    method: 'PricesService.price',
    strategy: 'adaptive',
    calls: 10,
    hits: 8,
    misses: 2,
    stale: 0,
    executions: 2,
    refreshes: 0,
    errors: 0,
    executionsAvoided: 8,
    meanDurationMs: 12,
    timeSavedMs: 96,
    hitRatio: 0.8,
    rejections: 0,
    adaptive: {
      strategy: 'cache',
      store: 'cache' as const,
      guard: 'none' as const,
      ttlMs: 30_000,
      repeatRatio: 0.97,
      changeIntervalMs: 31_000,
      failureRate: 0.01,
      meanRunMs: 12,
      since: 1_700_000_000_000,
      reason: '97% of calls repeat within 30s',
      shared: true,
    },
  };
  const stats = { cache: 'default', url: 'mem://', since: 0, methods: [row], backends: [], history: [], hooks: [] };

  it('exposes the decision (1 for the current one) and the figures behind it', () => {
    const text = renderPrometheus(metricFamilies([stats]));
    const labels = 'cache="default",method="PricesService.price",strategy="adaptive"';
    expect(text).toContain(`cashews_adaptive_decision{${labels},decision="cache"} 1\n`);
    expect(text).toContain(`cashews_adaptive_decision{${labels},decision="none"} 0\n`);
    expect(text).toContain(`cashews_adaptive_ttl_seconds{${labels}} 30\n`);
    expect(text).toContain(`cashews_adaptive_repeat_ratio{${labels}} 0.97\n`);
    expect(text).toContain(`cashews_adaptive_change_interval_seconds{${labels}} 31\n`);
    expect(text).toContain(`cashews_adaptive_failure_rate{${labels}} 0.01\n`);
    expect(text).toContain(`cashews_adaptive_decision_since_seconds{${labels}} 1700000000\n`);
  });

  it('leaves the change interval out before it is observed', () => {
    const unseen = { ...stats, methods: [{ ...row, adaptive: { ...row.adaptive, changeIntervalMs: null } }] };
    expect(renderPrometheus(metricFamilies([unseen]))).not.toMatch(/^cashews_adaptive_change_interval_seconds\{/m);
  });
});
