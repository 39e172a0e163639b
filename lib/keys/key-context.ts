import { AsyncLocalStorage } from 'node:async_hooks';
import { CashewsConfigError } from '../errors.js';

const storage = new AsyncLocalStorage<Readonly<Record<string, unknown>>>();

/**
 * Values that key templates read as `{@name}` (`'report:{@tenant}:{id}'`), set for everything called inside
 * {@link keyContext.run} (AsyncLocalStorage: per request, per job, never leaking to a concurrent one). It is how a
 * multi-tenant app keeps tenants' entries apart without threading a tenant argument through every method. A
 * decorator key whose `{@name}` has no value in the current context is refused like any missing placeholder (the
 * call runs uncached, logged once), so callers without a tenant never share one entry; mark it optional
 * (`{@tenant?}`) to allow that. On controllers the module option `keyContext: (req) => ({ tenant: … })` fills it
 * from each request.
 * @example
 * ```ts
 * declare const reports: { monthly(month: string): Promise<string> }; // key: 'report:{@tenant}:{month}'
 * await keyContext.run({ tenant: 't1' }, () => reports.monthly('2026-11')); // key report:t1:…
 * console.log(keyContext.get('tenant')); // undefined outside run()
 * ```
 */
export const keyContext = {
  /** Runs `fn` with `values` added to the current context (an inner `run` overrides names of an outer one). */
  run<T>(values: Readonly<Record<string, unknown>>, fn: () => T): T {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      throw new CashewsConfigError(
        `keyContext.run(values, fn): values must be an object of names to values, e.g. { tenant: 't1' }.`,
      );
    }
    // A null-prototype copy: a name such as "constructor" reads the given value or nothing, never Object's.
    const merged = Object.assign(Object.create(null) as Record<string, unknown>, storage.getStore(), values);
    return storage.run(Object.freeze(merged), fn);
  },
  /** The value of `name` in the current context; `undefined` outside `run` or when not set. */
  get(name: string): unknown {
    return storage.getStore()?.[name];
  },
};
