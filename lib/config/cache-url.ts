import { parseDuration } from '../duration.js';
import { MAX_TIMER_MS, MAX_TIMER_TEXT } from '../timer-duration.js';
import { parseSize } from '../size.js';
import { CashewsConfigError } from '../errors.js';
import type { CommandHook } from '../pipeline/command-hook.js';
import { checkHook } from '../pipeline/command-pipeline.js';
import type { CacheOptions, ResolvedCacheConfig } from './cache-options.js';
import type { TracingMode } from '../telemetry/tracing.js';
import { customBackendConfig } from './custom-url.js';
import { showValue } from './describe-argument.js';
import { isCredentialName, redactUrl, shownParameterName, splitUserinfo, userinfoAmbiguous } from './redact-url.js';
import { registeredBackend, registeredSchemes, type BackendRegistration } from '../backends/backend-registry.js';

type Scheme = ResolvedCacheConfig['scheme'];
type Kind = 'bool' | 'int' | 'duration' | 'string' | 'enum' | 'size';

interface ParamSpec {
  kind: Kind;
  schemes: readonly Scheme[];
  min?: number;
  /** Durations a timer waits for (a Node timer fires a longer one after 1 ms): at most {@link MAX_TIMER_MS}. */
  timer?: boolean;
  /** The accepted values of an `enum` parameter. */
  values?: readonly string[];
}

const ALL: readonly Scheme[] = ['mem', 'redis', 'rediss', 'redis+cluster', 'redis+sentinel'];
const REDIS: readonly Scheme[] = ['redis', 'rediss', 'redis+cluster', 'redis+sentinel'];
/** One master at a time (not Cluster): a connection whose writes a `WAIT` can confirm. */
const SINGLE_MASTER: readonly Scheme[] = ['redis', 'rediss', 'redis+sentinel'];

/** The single list of parameters; both the URL and the options object are checked against it. */
const PARAMS: Record<string, ParamSpec> = {
  enable: { kind: 'bool', schemes: ALL },
  safe: { kind: 'bool', schemes: ALL },
  secret: { kind: 'string', schemes: ALL },
  ttl: { kind: 'duration', schemes: ALL, min: 1 },
  size: { kind: 'int', schemes: ['mem'], min: 1 },
  checkInterval: { kind: 'duration', schemes: ['mem'], timer: true },
  commandTimeout: { kind: 'duration', schemes: REDIS, timer: true },
  connectTimeout: { kind: 'duration', schemes: REDIS, timer: true },
  maxRetries: { kind: 'int', schemes: REDIS, min: 0 },
  clientSide: { kind: 'bool', schemes: REDIS },
  clientSideSize: { kind: 'int', schemes: ['redis', 'rediss'], min: 1 },
  waitReplicas: { kind: 'int', schemes: SINGLE_MASTER, min: 0 },
  sentinelPassword: { kind: 'string', schemes: ['redis+sentinel'] },
  codec: { kind: 'enum', schemes: ALL, values: ['cashews', 'json'] },
  compress: { kind: 'enum', schemes: REDIS, values: ['gzip', 'br'] },
  compressMin: { kind: 'size', schemes: REDIS },
  tracing: { kind: 'enum', schemes: ALL, values: ['auto', 'on', 'off'] },
};

/**
 * The built-in parameters a custom scheme (`registerBackend`) accepts: those the instance applies itself, whatever
 * the backend (its switch, safe mode, codec and signing, default TTL, the connect budget). Everything else in its URL
 * must be a parameter the scheme declared: a typo is refused, never ignored.
 */
const CUSTOM_COMMON = [
  'enable',
  'safe',
  'secret',
  'ttl',
  'codec',
  'compress',
  'compressMin',
  'connectTimeout',
  'tracing',
];

/**
 * Whether a custom scheme cannot declare parameter `name` (camelCase): a common one, or an option of the instance.
 * Built-in parameters of other schemes (`size`, `command_timeout`) are free for a scheme to declare with its meaning.
 */
export function isReservedParameter(name: string): boolean {
  return CUSTOM_COMMON.includes(name) || NOT_PARAMS.has(name);
}

const NOT_PARAMS = new Set(['name', 'isGlobal', 'cacheManagerCompat', 'url', 'prefixes', 'hooks']);
const SCHEMES = 'mem://, redis://, rediss://, redis+cluster://, redis+sentinel://';
const SENTINEL_EXAMPLE = "'redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster/0'";
/** Sentinel's own default port. */
const SENTINEL_PORT = 26379;
const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

const DEFAULTS = {
  enable: true,
  safe: true,
  size: 10_000,
  checkInterval: 60_000,
  commandTimeout: 1_000,
  connectTimeout: 2_000,
  maxRetries: 1,
  clientSide: false,
  clientSideSize: 10_000,
  codec: 'cashews',
  tracing: 'auto',
  compressMin: 1024,
  waitReplicas: 0,
};

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function accepted(spec: ParamSpec, fromUrl: boolean): string {
  switch (spec.kind) {
    case 'bool':
      // The options object takes booleans only: a string there is typically an unconverted environment variable.
      return fromUrl
        ? '1/0, true/false, yes/no, on/off'
        : "a boolean, true or false (the strings '1'/'0', 'true'/'false', 'yes'/'no', 'on'/'off' are read in the URL only)";
    case 'int':
      return `an integer >= ${spec.min ?? 0}`;
    case 'duration': {
      const forms = fromUrl
        ? "a duration with its unit (ms, s, m, h, d), such as '500ms', '10s', '1h30m'; a bare number other than 0 is refused"
        : "a number of milliseconds or a string with its unit (ms, s, m, h, d), such as '500ms', '10s', '1h30m'";
      // Only the default TTL has a minimum: omitting it is how "no default" is said (set() then never expires).
      if (spec.min) return `${forms}, greater than zero (omit it for no default)`;
      return spec.timer ? `${forms}, at most ${MAX_TIMER_TEXT}` : forms;
    }
    case 'enum':
      return (spec.values ?? []).map((value) => `'${value}'`).join(' or ');
    case 'size':
      return "a number of bytes, or a string with a unit B, KB, MB or GB such as '1KB'";
    default:
      return 'a non-empty string';
  }
}

function convert(name: string, spec: ParamSpec, value: unknown, fromUrl: boolean): unknown {
  const bad = (): never => {
    // A credential's value is never echoed, not even a wrong one.
    const shown = isCredentialName(name) ? `(${typeof value}, not shown)` : showValue(value);
    throw new CashewsConfigError(
      `Invalid value ${shown} for cache parameter "${name}". Accepted: ${accepted(spec, fromUrl)}.`,
    );
  };
  switch (spec.kind) {
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (fromUrl && typeof value === 'string') {
        const text = value.toLowerCase();
        if (TRUE.has(text)) return true;
        if (FALSE.has(text)) return false;
      }
      return bad();
    case 'int': {
      const n = typeof value === 'number' ? value : fromUrl && /^\d+$/.test(String(value)) ? Number(value) : NaN;
      return Number.isInteger(n) && n >= (spec.min ?? 0) ? n : bad();
    }
    case 'duration': {
      let ms: number;
      try {
        ms = parseDuration(value, name);
      } catch {
        return bad();
      }
      return ms >= (spec.min ?? 0) && (!spec.timer || ms <= MAX_TIMER_MS) ? ms : bad();
    }
    case 'enum':
      return typeof value === 'string' && spec.values?.includes(value.toLowerCase()) ? value.toLowerCase() : bad();
    case 'size':
      if (typeof value !== 'number' && typeof value !== 'string') return bad();
      try {
        return parseSize(typeof value === 'string' && fromUrl && /^\d+$/.test(value) ? Number(value) : value, name);
      } catch {
        return bad();
      }
    default:
      return typeof value === 'string' && value.length > 0 ? value : bad();
  }
}

/**
 * Parameter `raw` of a custom scheme: one of {@link CUSTOM_COMMON} (`own: false`) or one the scheme declared
 * (`own: true`, handed to its factory).
 */
function customParam(
  raw: string,
  custom: BackendRegistration,
  where: string,
  shown = (): string => `"${raw}"`,
): { name: string; spec: ParamSpec; own: boolean } {
  const name = camel(raw);
  const declared = Object.hasOwn(custom.params, name) ? custom.params[name] : undefined;
  if (declared) return { name, spec: { kind: declared, schemes: [] }, own: true };
  if (CUSTOM_COMMON.includes(name)) return { name, spec: PARAMS[name], own: false };
  const known = [...CUSTOM_COMMON, ...Object.keys(custom.params)].join(', ');
  throw new CashewsConfigError(
    `Unknown cache parameter ${shown()} in ${where}. Accepted for ${custom.scheme}://: ${known} ` +
      `(the scheme's own parameters are declared in registerBackend(scheme, factory, { params })).`,
  );
}

/** Levenshtein distance of `a` and `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The candidate closest to a mistyped `name` (case aside), when one is close: at most one edit per four characters
 * (at least one), so `tll` finds `ttl` and `detectHeader` `detectHeaders`, while `colour` finds nothing.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 4));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** ` Did you mean "x"?` for a shown, mistyped name (in snake_case when it was written so), or nothing. */
function suggestion(raw: string, shown: string, candidates: readonly string[]): string {
  // A name that is not shown (it may be part of a secret) gets no hint at what it is close to either.
  if (shown !== `"${raw}"`) return '';
  const best = closestName(camel(raw), candidates);
  if (!best) return '';
  return ` Did you mean "${raw.includes('_') ? best.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : best}"?`;
}

/**
 * The cache parameters an options object may give with `url` (camelCase) and its scheme as messages name it, plus
 * `known`: whether resolveCacheConfig knows a name at all (a parameter of another scheme, an object-only option, a
 * custom scheme's own parameter), so that it, not the caller, explains it. Undefined for a URL it refuses anyway.
 * For the module's refusal of an unknown option (cashews.module.ts), which also lists the module's own options.
 */
export function cacheParameterNames(
  url: unknown,
): { scheme: string; accepted: string[]; known: (name: string) => boolean } | undefined {
  const match = typeof url === 'string' ? /^([a-z][a-z0-9+.-]*):\/\//i.exec(url.trim()) : null;
  if (!match) return undefined;
  const lower = match[1].toLowerCase();
  const builtIn = (name: string) => Object.hasOwn(PARAMS, name) || NOT_PARAMS.has(name);
  if (ALL.includes(lower as Scheme)) {
    const accepted = Object.keys(PARAMS).filter((key) => PARAMS[key].schemes.includes(lower as Scheme));
    return { scheme: `${lower}://`, accepted, known: builtIn };
  }
  const custom = registeredBackend(lower);
  if (!custom) return undefined;
  return {
    scheme: `${custom.scheme}://`,
    accepted: [...CUSTOM_COMMON],
    known: (name) => builtIn(name) || Object.hasOwn(custom.params, name),
  };
}

/**
 * `shown`: how the parameter is named in errors (see shownParameterName: a URL's name may be part of a secret), worked
 * out only for an error.
 */
function checkName(raw: string, scheme: Scheme, where: string, shown = (): string => `"${raw}"`): string {
  const name = camel(raw);
  const spec = PARAMS[name];
  if (!spec) {
    const known = Object.keys(PARAMS).filter((key) => PARAMS[key].schemes.includes(scheme));
    const named = shown();
    throw new CashewsConfigError(
      `Unknown cache parameter ${named} in ${where}.${suggestion(raw, named, known)} Accepted for ${scheme}://: ` +
        `${known.join(', ')}.`,
    );
  }
  if (!spec.schemes.includes(scheme)) {
    throw new CashewsConfigError(
      `Cache parameter ${shown()} does not apply to ${scheme}:// (it is accepted by ${spec.schemes.join(', ')}).`,
    );
  }
  return name;
}

function parsePort(text: string, url: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new CashewsConfigError(`Invalid port "${text}" in cache URL ${url}. Accepted: 1-65535.`);
  }
  return port;
}

function parseHostPort(item: string, url: string, defaultPort = 6379): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:/?#\s]+)(?::([^:]*))?$/.exec(item);
  if (!match) throw new CashewsConfigError(`Malformed host "${item}" in cache URL ${url}. Expected host:port.`);
  const host = match[1].replace(/^\[|\]$/g, '');
  return { host, port: match[2] ? parsePort(match[2], url) : defaultPort };
}

/**
 * Parses a cache URL and merges an options object over it.
 * @throws CashewsConfigError naming the offending part and the accepted forms.
 * @example
 * ```ts
 * const config = resolveCacheConfig('redis://localhost:6379/2?command_timeout=500ms', { safe: false });
 * console.log(config.commandTimeout); // 500
 * ```
 */
export function resolveCacheConfig(url: string = 'mem://', options: CacheOptions = {}): ResolvedCacheConfig {
  if (typeof url !== 'string') {
    throw new CashewsConfigError(
      `The cache URL must be a string such as 'mem://' or 'redis://host:6379' (got ${typeof url}).`,
    );
  }
  const displayUrl = redactUrl(url);
  // The user info is cut off first (at its last '@'), so a password may hold ':', '@', '/', '?' or '#'.
  const { head, userinfo, tail } = splitUserinfo(url.trim());
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(head + tail);
  if (!match) {
    throw new CashewsConfigError(
      `Malformed cache URL "${displayUrl}". Accepted schemes: ${SCHEMES} (e.g. 'redis://127.0.0.1:6379/0').`,
    );
  }
  const [, rawScheme, hosts, path = '', query = ''] = match;
  const authority = userinfo === undefined ? hosts : `${userinfo}@${hosts}`;
  const lower = rawScheme.toLowerCase();
  // A custom scheme is checked against its registration; its config reads `scheme: 'custom'` (see customParam).
  const custom = ALL.includes(lower as Scheme) ? undefined : registeredBackend(lower);
  const scheme = (custom ? 'custom' : lower) as Scheme;
  if (!custom && !ALL.includes(scheme)) {
    const own = registeredSchemes().map((name) => `, ${name}://`);
    throw new CashewsConfigError(
      `Unknown cache URL scheme "${rawScheme}://" in "${displayUrl}". Accepted: ${SCHEMES}${own.join('')}. ` +
        `A backend of your own is registered with registerBackend('${lower}', factory) before the cache is created.`,
    );
  }

  const values: Record<string, unknown> = { ...DEFAULTS };
  const ownParams: Record<string, unknown> = {};
  const params = new URLSearchParams(query);
  for (const [raw, value] of params) {
    // The value of an unknown parameter is not shown either: it may be a mistyped secret.
    const where = `URL "${redactUrl(url, (other) => other === raw)}"`;
    const shown = () => shownParameterName(url, raw);
    if (custom) {
      const { name, spec, own } = customParam(raw, custom, where, shown);
      (own ? ownParams : values)[name] = convert(raw, spec, value, true);
      continue;
    }
    const name = checkName(raw, scheme, where, shown);
    values[name] = convert(raw, PARAMS[name], value, true);
  }
  for (const [key, value] of Object.entries(options)) {
    if (NOT_PARAMS.has(key) || value === undefined) continue;
    const name = custom ? customParam(key, custom, 'options') : { name: checkName(key, scheme, 'options'), own: false };
    if (name.own) {
      // CacheOptions has no field for a custom scheme's own parameters: they are URL-only.
      throw new CashewsConfigError(
        `Cache option "${key}" is a parameter of ${custom?.scheme}://: give it in the URL (?${key}=…), not in options.`,
      );
    }
    values[name.name] = convert(key, PARAMS[name.name], value, false);
  }
  const notices: string[] = [];
  if (params.has('max_retries') || params.has('maxRetries') || options.maxRetries !== undefined) {
    // Kept so existing URLs still boot, but an option that changes nothing must not look as if it did.
    notices.push(
      'The cache parameter "max_retries" has no effect: a command is never re-sent after a reconnect, so a ' +
        'non-idempotent command cannot run twice (see the README, "Safe mode"). Remove it from the URL/options.',
    );
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || !options.name)) {
    throw new CashewsConfigError(`Invalid cache option "name": expected a non-empty string.`);
  }
  if (values.codec === 'json' && values.secret) {
    throw new CashewsConfigError(
      `codec=json stores plain JSON for readers in other languages, which could not verify a signature: ` +
        `drop "secret", or keep the default codec (codec=cashews) to sign values.`,
    );
  }
  if (values.codec === 'json' && values.compress) {
    throw new CashewsConfigError(
      `codec=json stores plain JSON for readers in other languages; "compress" would hide it from them. ` +
        `Drop "compress", or keep the default codec (codec=cashews), whose compressed values every reader of it reads.`,
    );
  }
  if (scheme === 'redis+cluster' && values.clientSide) {
    throw new CashewsConfigError(
      `client_side is not supported on redis+cluster:// (Redis client tracking would be needed per node); ` +
        `use it with redis:// or rediss://, or route hot keys to a single server with the "prefixes" option.`,
    );
  }

  const config: ResolvedCacheConfig = {
    scheme,
    displayUrl,
    name: options.name,
    enable: values.enable as boolean,
    safe: values.safe as boolean,
    secret: values.secret as string | undefined,
    ttl: values.ttl as number | undefined,
    size: values.size as number,
    checkInterval: values.checkInterval as number,
    commandTimeout: values.commandTimeout as number,
    connectTimeout: values.connectTimeout as number,
    maxRetries: values.maxRetries as number,
    notices,
    clientSide: values.clientSide as boolean,
    clientSideSize: values.clientSideSize as number,
    codec: values.codec as 'cashews' | 'json',
    compress: values.compress as 'gzip' | 'br' | undefined,
    compressMin: values.compressMin as number,
    waitReplicas: values.waitReplicas as number,
    sentinelPassword: values.sentinelPassword as string | undefined,
    tracing: values.tracing as TracingMode,
    hooks: checkHooks(options.hooks),
    nodes: [],
    db: 0,
    tls: scheme === 'rediss',
  };
  let located: ResolvedCacheConfig;
  try {
    located = locate(config, { custom, userinfo, authority, hosts, path, ownParams });
  } catch (error) {
    // What was read as hosts, port or path may be part of a password that the shown URL masks: not quoted then.
    if (error instanceof CashewsConfigError && userinfoAmbiguous(url.trim())) throw ambiguousUrlError(displayUrl);
    throw error;
  }
  return withPrefixes(located, options.prefixes);
}

/** The parts of a cache URL {@link locate} reads, as resolveCacheConfig split it. */
interface UrlLocation {
  custom: BackendRegistration | undefined;
  userinfo: string | undefined;
  authority: string;
  hosts: string;
  path: string;
  ownParams: Record<string, unknown>;
}

/** `config` completed with where its backend is: credentials, hosts (or Sentinels), database, a custom backend's parts. */
function locate(config: ResolvedCacheConfig, location: UrlLocation): ResolvedCacheConfig {
  const { custom, userinfo, authority, hosts, path, ownParams } = location;
  const { scheme, displayUrl } = config;
  if (custom) {
    return { ...config, custom: customBackendConfig(custom.scheme, config, { userinfo, hosts, path }, ownParams) };
  }
  if (scheme === 'mem') {
    if (authority || (path && path !== '/')) {
      throw new CashewsConfigError(`mem:// takes no host or path (got "${displayUrl}"). Example: 'mem://?size=1000'.`);
    }
    return config;
  }

  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    const password = colon < 0 ? undefined : userinfo.slice(colon + 1);
    try {
      config.username = user ? decodeURIComponent(user) : undefined;
      config.password = password ? decodeURIComponent(password) : undefined;
    } catch {
      throw new CashewsConfigError(
        `Malformed percent-encoding in the user info of cache URL ${displayUrl}. Encode '%' as '%25'.`,
      );
    }
  }
  const items = hosts ? hosts.split(',') : [];
  if (scheme === 'redis+sentinel') return withSentinels(config, items, path);
  if (scheme === 'redis+cluster' && items.length === 0) {
    throw new CashewsConfigError(
      `redis+cluster:// needs at least one seed node, e.g. 'redis+cluster://10.0.0.1:7000,10.0.0.2:7001'.`,
    );
  }
  if (scheme !== 'redis+cluster' && items.length > 1) {
    throw new CashewsConfigError(
      `Several hosts in "${config.displayUrl}": use redis+cluster://host1:port1,host2:port2 for Redis Cluster, ` +
        `or redis+sentinel://host1:port1,host2:port2/<master name> for Sentinel.`,
    );
  }
  config.nodes = items.length
    ? items.map((item) => parseHostPort(item, config.displayUrl))
    : [{ host: '127.0.0.1', port: 6379 }];
  if (path && path !== '/') {
    const db = path.slice(1);
    if (scheme === 'redis+cluster') {
      throw new CashewsConfigError(`redis+cluster:// takes no database number (Redis Cluster only has db 0).`);
    }
    config.db = parseDb(db, config.displayUrl);
  }
  return config;
}

/**
 * The error for a URL whose hosts, port or path cannot be read when the text read as them may be part of a password
 * (an `@` after a `?` and a `=`, see userinfoAmbiguous): it names the fix, never that text.
 */
function ambiguousUrlError(displayUrl: string): CashewsConfigError {
  return new CashewsConfigError(
    `Malformed host, port or path in cache URL ${displayUrl}: an "@" follows its "?", so what precedes it may be a ` +
      `password holding "?" and "=". Percent-encode them in the password ("?" as %3F, "=" as %3D, "@" as %40), and ` +
      `"@" in a parameter value.`,
  );
}

function parseDb(text: string, url: string): number {
  if (!/^\d+$/.test(text)) {
    throw new CashewsConfigError(`Invalid database "${text}" in cache URL ${url}. Accepted: a number such as /0.`);
  }
  return Number(text);
}

/**
 * `redis+sentinel://[user:password@]sentinel1:26379,sentinel2:26379/<master name>[/db]`: the hosts are Sentinels
 * (port 26379 unless given), the first path segment names the master group, the optional second one is the
 * database. The user info is the master's; a Sentinel that requires a password gets `sentinel_password`.
 */
function withSentinels(config: ResolvedCacheConfig, items: string[], path: string): ResolvedCacheConfig {
  const url = config.displayUrl;
  if (items.length === 0 || items.some((item) => !item)) {
    throw new CashewsConfigError(
      `redis+sentinel:// needs the Sentinels' host:port list (got "${url}"), e.g. ${SENTINEL_EXAMPLE}.`,
    );
  }
  const [name, db, ...rest] = path.split('/').slice(1);
  if (!name) {
    throw new CashewsConfigError(
      `redis+sentinel:// needs the master name as the first path segment (got "${url}"), e.g. ${SENTINEL_EXAMPLE}.`,
    );
  }
  if (rest.length > 0 || db === '') {
    throw new CashewsConfigError(
      `Malformed path in cache URL ${url}: expected /<master name> or /<master name>/<db>, e.g. ${SENTINEL_EXAMPLE}.`,
    );
  }
  let masterName: string;
  try {
    masterName = decodeURIComponent(name);
  } catch {
    throw new CashewsConfigError(`Malformed percent-encoding in the master name of cache URL ${url}.`);
  }
  if (config.clientSide) {
    throw new CashewsConfigError(
      `client_side is not supported on redis+sentinel:// (after a failover its two connections could land on ` +
        `different servers and miss invalidations); use it with redis:// or rediss://.`,
    );
  }
  return {
    ...config,
    nodes: items.map((item) => parseHostPort(item, url, SENTINEL_PORT)),
    sentinelName: masterName,
    db: db === undefined ? 0 : parseDb(db, url),
  };
}

/** The `hooks` option: an array of `{ name, handle(call, next) }` objects, checked before anything connects. */
function checkHooks(hooks: CacheOptions['hooks']): ResolvedCacheConfig['hooks'] {
  if (hooks === undefined) return undefined;
  if (!Array.isArray(hooks)) {
    throw new CashewsConfigError(
      `Invalid cache option "hooks": expected an array of command hooks ({ name, handle(call, next) }), ` +
        `e.g. hooks: [lowerKeys].`,
    );
  }
  return (hooks as readonly CommandHook[]).map(checkHook);
}

/** Parameters that belong to the whole instance (codec, safe mode), not to one routed backend. */
const INSTANCE_ONLY = ['enable', 'safe', 'secret', 'ttl', 'codec', 'compress', 'compressMin'];

/**
 * Validates the `prefixes` option (`{ 'session:': 'redis://...' }`) with the same URL grammar, and attaches the
 * routed backends' configurations, longest prefix first (the order the router tries them in).
 */
function withPrefixes(config: ResolvedCacheConfig, prefixes: CacheOptions['prefixes']): ResolvedCacheConfig {
  if (prefixes === undefined) return config;
  if (typeof prefixes !== 'object' || prefixes === null || Array.isArray(prefixes)) {
    throw new CashewsConfigError(
      `Invalid cache option "prefixes": expected an object of key prefix to URL, e.g. { 'session:': 'redis://host/1' }.`,
    );
  }
  const routes: NonNullable<ResolvedCacheConfig['prefixes']> = [];
  for (const [prefix, url] of Object.entries(prefixes)) {
    if (!prefix) throw new CashewsConfigError(`Invalid cache option "prefixes": a prefix must be a non-empty string.`);
    if (typeof url !== 'string') {
      throw new CashewsConfigError(`Invalid URL for prefix "${prefix}" in "prefixes": expected a string URL.`);
    }
    const query = new URLSearchParams(url.split('?', 2)[1] ?? '');
    const misplaced = [...query.keys()].find((key) => INSTANCE_ONLY.includes(camel(key)));
    if (misplaced) {
      throw new CashewsConfigError(
        `Cache parameter "${misplaced}" in the URL of prefix "${prefix}" applies to the whole instance: ` +
          `set it on the main URL or options.`,
      );
    }
    routes.push({ prefix, config: resolveCacheConfig(url, { name: config.name }) });
  }
  routes.sort((a, b) => b.prefix.length - a.prefix.length);
  return { ...config, prefixes: routes };
}
