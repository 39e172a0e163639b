import type { CustomBackendConfig } from '../backends/custom-backend-config.js';
import { CashewsConfigError } from '../errors.js';
import type { ResolvedCacheConfig } from './cache-options.js';

/** Percent-decodes one part of the URL, with an error naming the part instead of a bare URIError. */
function decode(text: string, part: string, displayUrl: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new CashewsConfigError(
      `Malformed percent-encoding in the ${part} of cache URL ${displayUrl}. Encode '%' as '%25'.`,
    );
  }
}

/** `host`, `host:port` or `[v6]:port`; unlike Redis URLs no default port: the factory knows its own. */
function parseHost(item: string, displayUrl: string): { host: string; port?: number } {
  const match = /^(\[[^\]]+\]|[^:/?#\s[\]]+)(?::(\d+))?$/.exec(item);
  if (!match) {
    throw new CashewsConfigError(`Malformed host "${item}" in cache URL ${displayUrl}. Expected host or host:port.`);
  }
  const host = match[1].replace(/^\[|\]$/g, '');
  if (match[2] === undefined) return { host };
  const port = Number(match[2]);
  if (port < 1 || port > 65535) {
    throw new CashewsConfigError(`Invalid port "${match[2]}" in cache URL ${displayUrl}. Accepted: 1-65535.`);
  }
  return { host, port };
}

/**
 * The factory input of a custom scheme (see `registerBackend`): the URL split into hosts, path and user info, the
 * scheme's own parameters already converted, and the instance options a backend may use.
 */
export function customBackendConfig(
  scheme: string,
  config: ResolvedCacheConfig,
  url: { userinfo?: string; hosts: string; path: string },
  params: Record<string, unknown>,
): CustomBackendConfig {
  const { displayUrl } = config;
  let username: string | undefined;
  let password: string | undefined;
  if (url.userinfo !== undefined) {
    const colon = url.userinfo.indexOf(':');
    const user = colon < 0 ? url.userinfo : url.userinfo.slice(0, colon);
    const secret = colon < 0 ? '' : url.userinfo.slice(colon + 1);
    username = user ? decode(user, 'user info', displayUrl) : undefined;
    password = secret ? decode(secret, 'user info', displayUrl) : undefined;
  }
  return Object.freeze({
    scheme,
    displayUrl,
    name: config.name,
    hosts: Object.freeze(url.hosts ? url.hosts.split(',').map((item) => parseHost(item, displayUrl)) : []),
    path: decode(url.path.replace(/^\//, ''), 'path', displayUrl),
    username,
    password,
    params: Object.freeze({ ...params }) as CustomBackendConfig['params'],
    safe: config.safe,
    ttl: config.ttl,
    connectTimeout: config.connectTimeout,
  });
}
