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
