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
  const names =
    Array.isArray(methods) && methods.every((method) => typeof method === 'string')
      ? methods.map((method: string) => method.toUpperCase())
      : [];
  if (names.length === 0 || names.some((name) => !HTTP_METHODS.includes(name))) {
    throw new CashewsConfigError(
      `${where}: methods must be a non-empty array of HTTP method names, such as ['GET', 'POST'] (accepted: ` +
        `${HTTP_METHODS.join(', ')}; got ${describeArgument(methods)}).`,
    );
  }
  return names;
}
