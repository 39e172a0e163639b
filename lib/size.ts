import { CashewsConfigError } from './errors.js';

const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A size in bytes from a number or a string such as `'512'`, `'64KB'`, `'1.5MB'` (units of 1024). */
export function parseSize(value: number | string, option: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value);
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value) : null;
  if (!match) {
    throw new CashewsConfigError(
      `Invalid ${option}: ${JSON.stringify(value) ?? String(value)}. Accepted: a number of bytes (e.g. 65536) or a ` +
        `string with a unit B, KB, MB or GB (e.g. '64KB').`,
    );
  }
  return Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]);
}
