import { addRegistration, registeredBackend } from '../backends/backend-registry.js';
import type { BackendFactory, BackendParamKind, BackendParams } from '../backends/custom-backend-config.js';
import { CashewsConfigError } from '../errors.js';
import { isReservedParameter } from './cache-url.js';

/** Lower-case letters and digits, parts joined by `+`, `.` or `-` (`memcached`, `dynamo+table`, `s3.v2`). */
const SCHEME = /^[a-z][a-z0-9]*(?:[+.-][a-z0-9]+)*$/;
/** camelCase, as the built-in parameters are named (the URL may write them in snake_case). */
const PARAM = /^[a-z][a-zA-Z0-9]*$/;
const KINDS: readonly BackendParamKind[] = ['string', 'int', 'bool', 'duration', 'size'];

/** Options of {@link registerBackend}. */
export interface RegisterBackendOptions<P extends BackendParams> {
  /**
   * The scheme's own query parameters, camelCase name to kind (`{ table: 'string', readTimeout: 'duration' }`):
   * checked, converted and handed to the factory as `config.params`. Any other parameter in a URL of the scheme,
   * besides the common ones (`enable`, `safe`, `secret`, `ttl`, `codec`, `compress`, `compress_min`,
   * `connect_timeout`), is refused with the list of accepted ones.
   */
  params?: P;
}

/**
 * Plugs a backend of your own (memcached, DynamoDB, …) under a URL scheme: `createCache('memcached://host:11211')`
 * and `CashewsModule.forRoot(...)` then build it with `factory`, for the main URL and for `prefixes` routes alike.
 * Register before any cache resolves its URL (at the top of `main.ts`, or in the module file that imports
 * `CashewsModule`). The backend implements {@link Backend} and proves itself with the conformance suite of
 * `nestjs-cashews/testing` (`runBackendConformance`); see the README, "Your own backend".
 *
 * @throws CashewsConfigError for a malformed scheme, a built-in one (`mem`, `redis`, `rediss`, `redis+…`), a scheme
 *   already registered, or a parameter that is malformed, of an unknown kind, or named like a common parameter.
 * @example
 * ```ts
 * registerBackend('tiny', (config) => new MemoryBackend({ size: config.params.size ?? 100, checkInterval: 0 }), {
 *   params: { size: 'int' },
 * });
 * const cache = await createCache('tiny://?size=10');
 * ```
 */
export function registerBackend<const P extends BackendParams = Record<never, BackendParamKind>>(
  scheme: string,
  factory: BackendFactory<P>,
  options: RegisterBackendOptions<P> = {},
): void {
  if (typeof scheme !== 'string' || !SCHEME.test(scheme)) {
    throw new CashewsConfigError(
      `Invalid backend scheme ${JSON.stringify(scheme)}: lower-case letters and digits starting with a letter, parts ` +
        `joined by "+", "." or "-" (e.g. 'memcached', 'dynamo+table'), without "://".`,
    );
  }
  if (scheme === 'mem' || scheme === 'redis' || scheme === 'rediss' || scheme.startsWith('redis+')) {
    throw new CashewsConfigError(
      `Backend scheme "${scheme}" is built in: mem, redis, rediss and every redis+… scheme are reserved. ` +
        `Register yours under a name of its own.`,
    );
  }
  if (registeredBackend(scheme)) {
    throw new CashewsConfigError(
      `Backend scheme "${scheme}" is already registered: register each scheme once, at start-up.`,
    );
  }
  if (typeof factory !== 'function') {
    throw new CashewsConfigError(
      `registerBackend('${scheme}', factory): the factory must be a function returning a Backend.`,
    );
  }
  const params: Record<string, BackendParamKind> = {};
  for (const [name, kind] of Object.entries(options.params ?? {})) {
    if (!PARAM.test(name) || isReservedParameter(name)) {
      throw new CashewsConfigError(
        `Invalid parameter "${name}" for backend scheme "${scheme}": ` +
          (PARAM.test(name)
            ? 'a common cache parameter or an instance option has that name; choose another.'
            : 'expected a camelCase name such as "table" or "readTimeout" (URLs may write it read_timeout).'),
      );
    }
    if (!KINDS.includes(kind)) {
      throw new CashewsConfigError(
        `Invalid kind ${JSON.stringify(kind)} for parameter "${name}" of backend scheme "${scheme}". ` +
          `Accepted: ${KINDS.map((k) => `'${k}'`).join(', ')}.`,
      );
    }
    params[name] = kind;
  }
  addRegistration({ scheme, factory: factory as unknown as BackendFactory, params: Object.freeze(params) });
}
