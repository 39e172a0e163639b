import type { ResolvedCacheConfig } from '../config/cache-options.js';
import { CashewsConfigError } from '../errors.js';
import type { Backend } from './backend.interface.js';
import { registeredBackend } from './backend-registry.js';
import { storesValues } from './stores-values.js';

/** The members of {@link Backend} every backend has; the others are optional capabilities. */
const REQUIRED = [
  'connect',
  'close',
  'get',
  'getMany',
  'set',
  'setMany',
  'delete',
  'deleteMany',
  'scan',
  'deleteMatch',
  'expire',
  'getExpire',
  'exists',
  'ping',
  'clear',
  'run',
  'setTagged',
  'deleteTags',
] as const;
const KINDS: ReadonlyArray<Backend['kind']> = ['memory', 'redis', 'cluster', 'custom'];

/**
 * Builds the backend of a custom scheme with its registered factory, and checks what comes back: a JavaScript user
 * (or a factory returning the wrong object) learns it at start-up, not from the first command that needs a method.
 */
export function createCustomBackend(config: ResolvedCacheConfig): Backend {
  const input = config.custom;
  const registration = input && registeredBackend(input.scheme);
  if (!input || !registration) {
    throw new CashewsConfigError(`No backend is registered for ${config.displayUrl}; see registerBackend.`);
  }
  const backend = registration.factory(input);
  const where = `The factory registered for ${input.scheme}:// returned`;
  if (typeof backend !== 'object' || backend === null) {
    throw new CashewsConfigError(`${where} ${backend === null ? 'null' : typeof backend}, not a Backend.`);
  }
  const missing = REQUIRED.filter((member) => typeof backend[member] !== 'function');
  if (missing.length) {
    throw new CashewsConfigError(`${where} an object without the Backend methods ${missing.join(', ')}.`);
  }
  if (!KINDS.includes(backend.kind)) {
    throw new CashewsConfigError(
      `${where} a backend of kind ${JSON.stringify(backend.kind)}. Accepted: 'custom' (with stores: 'strings' or ` +
        `'values'), or the kind of a built-in backend it wraps ('memory', 'redis', 'cluster').`,
    );
  }
  if (backend.kind === 'custom' && backend.stores !== undefined && !['strings', 'values'].includes(backend.stores)) {
    throw new CashewsConfigError(
      `${where} a backend with stores ${JSON.stringify(backend.stores)}. Accepted: 'strings' or 'values'.`,
    );
  }
  if (config.compress && storesValues(backend)) {
    throw new CashewsConfigError(
      `"compress" applies to backends that store strings; ${config.displayUrl} keeps JS values (stores: 'values'). ` +
        `Drop "compress".`,
    );
  }
  return backend;
}
