import 'reflect-metadata';
import { CashewsConfigError } from '../errors.js';
import { Adaptive, type AdaptiveDecoratorOptions } from './adaptive.decorator.js';
import { getLayers } from './strategy-metadata.js';
import type { AdaptiveStrategyOptions } from '../strategies/adaptive.strategy.js';

/** Decorates a fresh class's method with `@Adaptive(options)` and answers the layer's options. */
function decorate(options: AdaptiveDecoratorOptions): AdaptiveStrategyOptions {
  class Svc {
    async find(id: number) {
      return id;
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(Svc.prototype, 'find')!;
  Adaptive(options)(Svc.prototype, 'find', descriptor as TypedPropertyDescriptor<never>);
  return getLayers(descriptor.value)![0].options as AdaptiveStrategyOptions;
}

function configError(fn: () => unknown): CashewsConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CashewsConfigError) return error;
    throw error;
  }
  throw new Error('expected a CashewsConfigError');
}

describe('@Adaptive options', () => {
  it('fills the defaults and keeps one circuit per method', () => {
    const options = decorate({ maxTtl: '5m', prefix: 'p' });
    expect(options.bounds).toEqual({
      maxTtl: 300_000,
      maxStaleness: 300_000,
      minTtl: 1000,
      slowRun: 100,
      window: 10_000,
    });
    expect(options.namespace).toBe('p:Svc:find:adaptive');
    expect(options.fleet).toBe(true);
    expect(options.sampleSize).toBe(1024);
  });

  it('refuses bad options at decoration, naming the option and the accepted forms', () => {
    expect(configError(() => decorate({} as AdaptiveDecoratorOptions)).message).toMatch(/maxTtl is required.*'5m'/);
    expect(configError(() => decorate({ maxTtl: '5' })).message).toMatch(/maxTtl.*has no unit/);
    expect(configError(() => decorate({ maxTtl: '1m', minTtl: '2m' })).message).toMatch(/minTtl .* must not exceed/);
    expect(configError(() => decorate({ maxTtl: '1m', maxStaleness: 0 })).message).toMatch(
      /maxStaleness.*greater than zero/,
    );
    expect(configError(() => decorate({ maxTtl: '1m', sampleSize: 0 })).message).toMatch(/sampleSize.*integer >= 1/);
    expect(configError(() => decorate({ maxTtl: '1m', fleet: 'yes' as never })).message).toMatch(
      /fleet must be true or false/,
    );
    const typo = configError(() => decorate({ maxTtl: '1m', maxTTL: '2m' } as AdaptiveDecoratorOptions));
    expect(typo.message).toMatch(/unknown option "maxTTL". Accepted: maxTtl, maxStaleness/);
  });

  it('defaults minTtl to maxTtl when maxTtl is shorter than a second', () => {
    expect(decorate({ maxTtl: '500ms' }).bounds.minTtl).toBe(500);
  });
});
