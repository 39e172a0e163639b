import { MISS } from '../miss.js';

/** A stored result with the time (epoch ms) after which the strategy wants it refreshed. */
export interface Envelope {
  v: unknown;
  at: number;
}

/** Reads an envelope; anything else under the key (another strategy's value, garbage) is a miss. */
export function asEnvelope(stored: unknown): Envelope | typeof MISS {
  if (typeof stored !== 'object' || stored === null) return MISS;
  const candidate = stored as Partial<Envelope>;
  return Object.hasOwn(candidate, 'v') && typeof candidate.at === 'number' ? (candidate as Envelope) : MISS;
}
