import { RequestMethod } from '@nestjs/common';
import { describeArgument } from '../config/describe-argument.js';
import { CashewsConfigError } from '../errors.js';

/** HTTP methods a route can answer: the names of Nest's `RequestMethod`, without `ALL`. */
const HTTP_METHODS: readonly string[] = Object.keys(RequestMethod).filter(
  (name) => Number.isNaN(Number(name)) && name !== 'ALL',
);

/** What a storing decorator on a route caches unless its `methods` option says otherwise. */
export const CACHED_METHODS: readonly string[] = ['GET', 'HEAD'];

/**
 * A decorator's `methods` option, upper-cased: a list of HTTP method names. `['GTE']` or `'POST'` (a string for the
 * list) used to be taken as given, and a route then never cached, unsaid.
 * @throws CashewsConfigError naming the decorator and the accepted names.
 */
export function checkHttpMethods(where: string, methods: unknown): string[] | undefined {
  if (methods === undefined) return undefined;
  const accepted = `Accepted: ${HTTP_METHODS.join(', ')}`;
  if (!Array.isArray(methods) || methods.length === 0) {
    throw new CashewsConfigError(
      `${where}: methods must be a non-empty array of HTTP method names, such as ['GET', 'POST'] (${accepted}; ` +
        `got ${describeArgument(methods)}).`,
    );
  }
  const bad = (methods as unknown[]).findIndex(
    (method) => typeof method !== 'string' || !HTTP_METHODS.includes(method.toUpperCase()),
  );
  if (bad !== -1) {
    const entry: unknown = methods[bad];
    const shown = typeof entry === 'string' ? JSON.stringify(entry) : describeArgument(entry);
    throw new CashewsConfigError(
      `${where}: methods entry ${shown} is not an HTTP method name. ${accepted} (e.g. methods: ['GET', 'POST']).`,
    );
  }
  return (methods as string[]).map((method) => method.toUpperCase());
}
