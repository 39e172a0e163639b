import { CashewsConfigError } from '../errors.js';
import { validateStatsOptions } from './stats-options.js';

describe('validateStatsOptions', () => {
  it('accepts paths, guards and registries', () => {
    expect(() =>
      validateStatsOptions({
        metrics: { path: '/internal/metrics', guard: () => true },
        dashboard: { path: '/ops/cashews', guard: async () => false },
      }),
    ).not.toThrow();
    expect(() => validateStatsOptions({ metrics: { registry: { registerMetric: () => undefined } } })).not.toThrow();
  });

  it.each([['/'], [''], ['metrics'], ['/a//b'], ['/a b'], ['/a/'], ['/a?x'], ['/a#x'], ['/:id'], [42]])(
    'rejects the path %p',
    (path) => {
      expect(() => validateStatsOptions({ metrics: { path: path as string } })).toThrow(CashewsConfigError);
    },
  );

  it('requires a guard for the stats page', () => {
    expect(() => validateStatsOptions({ dashboard: { path: '/cashews' } as never })).toThrow(/guard is required/);
  });
});
