import type { BackendFactory, BackendParams } from './custom-backend-config.js';

/** One custom scheme as `registerBackend` recorded it. */
export interface BackendRegistration {
  readonly scheme: string;
  readonly factory: BackendFactory;
  /** The scheme's own query parameters (beyond the common ones). */
  readonly params: BackendParams;
}

/**
 * The custom schemes of this process. Module state, like the cacheable classes: registering is done once at
 * start-up, before any cache resolves its URL, and a scheme cannot be replaced (two libraries claiming one scheme
 * is a conflict to report, not to settle by load order).
 */
const registrations = new Map<string, BackendRegistration>();

/** The registration of `scheme` (lower case), if any. */
export function registeredBackend(scheme: string): BackendRegistration | undefined {
  return registrations.get(scheme);
}

/** Every registered scheme, in registration order. */
export function registeredSchemes(): string[] {
  return [...registrations.keys()];
}

/** Records a registration already checked by `registerBackend`. */
export function addRegistration(registration: BackendRegistration): void {
  registrations.set(registration.scheme, registration);
}
