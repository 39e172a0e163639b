import type { Backend } from './backend.interface.js';

/**
 * The type of a query parameter a custom scheme declares (see `registerBackend`): checked and converted like the
 * built-in ones. `duration` is in milliseconds (`'500ms'`, `'10s'`), `size` in bytes (`'1KB'`), `bool` takes
 * `1/0, true/false, yes/no, on/off`, `int` a whole number from 0.
 */
export type BackendParamKind = 'string' | 'int' | 'bool' | 'duration' | 'size';

/** The value a parameter of kind `K` arrives with: `bool` a boolean, `string` a string, the others a number. */
export type BackendParamValue<K extends BackendParamKind> = K extends 'bool'
  ? boolean
  : K extends 'string'
    ? string
    : number;

/**
 * The query parameters of a custom scheme: camelCase name to kind. The URL may spell a name in snake_case too
 * (`read_timeout` for `readTimeout`), as for the built-in parameters.
 * @example
 * ```ts
 * const params = { table: 'string', readTimeout: 'duration', consistent: 'bool' } as const;
 * ```
 */
export type BackendParams = Readonly<Record<string, BackendParamKind>>;

/**
 * What the factory of a custom scheme receives: the parts of the URL, the scheme's own parameters (converted,
 * absent ones left out) and the instance options a backend may need. The signing `secret` is not handed over: the
 * instance signs values before they reach any backend, so a backend never needs the key.
 */
export interface CustomBackendConfig<P extends BackendParams = BackendParams> {
  /** The scheme as registered, lower case: `memcached`, `dynamo+table`. */
  readonly scheme: string;
  /** The URL with any password replaced by `***`, for logs and errors. */
  readonly displayUrl: string;
  /** The instance name (`CacheOptions.name`), when it has one. */
  readonly name?: string;
  /** The hosts of the URL, in order (`memcached://a:11211,b:11211`): a port not written is `undefined`. */
  readonly hosts: ReadonlyArray<{ readonly host: string; readonly port?: number }>;
  /** The path after the hosts, percent-decoded, without its leading `/` (`''` when none): a table, a database. */
  readonly path: string;
  /** User and password of the URL's user info, percent-decoded. */
  readonly username?: string;
  readonly password?: string;
  /** The scheme's declared parameters given in the URL, converted to their kind. */
  readonly params: { readonly [N in keyof P]?: BackendParamValue<P[N]> };
  /** Whether backend failures become misses: a backend may lower its own retries or timeouts accordingly. */
  readonly safe: boolean;
  /** The instance's default TTL in ms, when it has one (the engine already applies it to every write). */
  readonly ttl?: number;
  /** How long the engine waits for `connect()` before it gives up (`connect_timeout`, default 2 s). */
  readonly connectTimeout: number;
}

/**
 * Builds the backend of a custom scheme from its URL. Called once per instance (and once per `prefixes` route using
 * the scheme) when the cache is created, before `connect()`; it should not open connections itself.
 * @example
 * ```ts
 * const factory: BackendFactory = (config) => new MemoryBackend({ size: config.hosts.length * 1000, checkInterval: 0 });
 * ```
 */
export type BackendFactory<P extends BackendParams = BackendParams> = (config: CustomBackendConfig<P>) => Backend;
