import type { Backend } from './backend.interface.js';

/**
 * Whether `backend` keeps the JS values it is given in this process (memory, or a `custom` backend declaring
 * `stores: 'values'`), so the instance may hand it live copies instead of strings. A custom backend that says
 * nothing stores strings: every store can hold a string, while live values would break any store that serializes.
 */
export function storesValues(backend: Backend): boolean {
  return backend.kind === 'memory' || (backend.kind === 'custom' && backend.stores === 'values');
}
