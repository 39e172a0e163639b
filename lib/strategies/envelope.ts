import { MISS } from '../miss.js';

/** A stored result with the time (epoch ms) after which the strategy wants it refreshed. */
export interface Envelope {
  v: unknown;
  at: number;
}

/**
 * An envelope that also records when it was written (`w`, epoch ms): stored by `@Adaptive`, whose TTL may change
 * while the entry is stored, so that its age is known whatever TTL it was written with.
 */
export interface WrittenEnvelope extends Envelope {
  w: number;
}

/** Reads an envelope; anything else under the key (another strategy's value, garbage) is a miss. */
export function asEnvelope(stored: unknown): Envelope | typeof MISS {
  if (typeof stored !== 'object' || stored === null) return MISS;
  const candidate = stored as Partial<Envelope>;
  return Object.hasOwn(candidate, 'v') && typeof candidate.at === 'number' ? (candidate as Envelope) : MISS;
}

/** Reads an envelope with its write time; anything else (a plain value, an envelope without `w`) is a miss. */
export function asWrittenEnvelope(stored: unknown): WrittenEnvelope | typeof MISS {
  const envelope = asEnvelope(stored);
  return envelope !== MISS && typeof (envelope as Partial<WrittenEnvelope>).w === 'number'
    ? (envelope as WrittenEnvelope)
    : MISS;
}
