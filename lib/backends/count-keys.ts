import { isTagKey } from '../tags/tag-keys.js';
import type { Backend } from './backend.interface.js';

/**
 * The number of cache keys of a backend (`getKeysCount`): protection state and tag indexes are not cache keys. A
 * backend that can count them itself does ({@link Backend.countKeys}); any other is scanned, `scan('*')` already
 * leaving protection state out and yielding each key once (on the prefix router: each route's own keys).
 */
export async function countKeys(backend: Backend): Promise<number> {
  if (backend.countKeys) return backend.countKeys();
  let count = 0;
  for await (const key of backend.scan('*')) if (!isTagKey(key)) count++;
  return count;
}
