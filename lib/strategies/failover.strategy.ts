import { MISS } from '../miss.js';
import { settle } from './cached-errors.js';
import { compute, storeOptions, storeResult, storeWhenRecorded, type StorePolicy } from './store-policy.js';
import { errorName, matchesExceptions, type ExceptionsOption, type Strategy } from './strategy.js';
import { defineStrategy, fixedTtlOf, type StrategyDefinition } from './layer.js';

/** `@Failover` stores no errors (see its decorator): its policy never has `errors`. */
export interface FailoverStrategyOptions extends StorePolicy {
  exceptions?: ExceptionsOption;
}

/**
 * Always run the method and keep its last success; when it fails with one of `exceptions`, answer the
 * last success instead. With nothing stored the original error goes through.
 */
export const failoverStrategy: Strategy<FailoverStrategyOptions> = async (call, options, cache, next) => {
  try {
    const computed = await compute(call, options, next);
    const save = (value: unknown, ttl: number) =>
      storeResult(call, cache, call.key, value, storeOptions(options, call, ttl));
    if (computed.store) await save(computed.value, computed.ttl);
    storeWhenRecorded(call, computed, save);
    return settle(computed.answer);
  } catch (error) {
    if (!matchesExceptions(options.exceptions, error)) throw error;
    const stored = await cache.read(call.key, call);
    if (stored === MISS) throw error;
    await call.report({ strategy: 'failover', stale: true, exception: errorName(error) });
    return settle(stored);
  }
};

/** `failover` layers: stores results; entries live for the policy's fixed `ttl`. */
export const failoverDefinition: StrategyDefinition<FailoverStrategyOptions> = defineStrategy<FailoverStrategyOptions>({
  name: 'failover',
  run: failoverStrategy,
  storesResult: true,
  traits: (options) => ({ ttl: fixedTtlOf(options) }),
});
