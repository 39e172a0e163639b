import { registerCacheableClass, unregisterCacheableClass } from '../codec/class-registry.js';
import { CashewsConfigError } from '../errors.js';
import { errorPolicy, isErrorFromCache, restoreError, StoredError, toStoredError } from './cached-errors.js';

class SpecMissingError extends Error {
  constructor(
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(`no ${id}`, options);
  }
}

describe('cached errors', () => {
  beforeAll(() => registerCacheableClass(SpecMissingError, 'SpecMissingError'));
  afterAll(() => unregisterCacheableClass(SpecMissingError));

  const policy = () => errorPolicy('@Cache', { cacheErrors: [SpecMissingError] }, 10_000)!;

  it('errorPolicy: none without cacheErrors; errorTtl defaults to the fixed ttl', () => {
    expect(errorPolicy('@Cache', {}, 10_000)).toBeUndefined();
    expect(policy()).toEqual({ classes: [SpecMissingError], only: false, ttl: 10_000 });
    expect(
      errorPolicy('@Cache', { cacheErrors: [SpecMissingError], errorTtl: '2s', onlyErrors: true }, undefined),
    ).toEqual({ classes: [SpecMissingError], only: true, ttl: 2_000 });
    expect(() => errorPolicy('@Cache', { cacheErrors: [SpecMissingError] }, undefined)).toThrow(CashewsConfigError);
  });

  it('toStoredError keeps the message and the storable own fields, without stack and cause', () => {
    const error = new SpecMissingError('a', { cause: new Error('socket') });
    const fields = error as unknown as Record<string, unknown>;
    fields.retry = () => undefined;
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    fields.circular = circular;
    fields.status = 404;
    const stored = toStoredError(error)!;
    expect(stored).toBeInstanceOf(StoredError);
    expect(stored.n).toBe('SpecMissingError');
    expect(stored.m).toBe('no a');
    expect(stored.d).toEqual({ id: 'a', status: 404 });
  });

  it('restoreError rebuilds the class; a malformed stored error is refused', () => {
    const stored = toStoredError(new SpecMissingError('b'))!;
    const restored = restoreError(policy(), stored);
    expect(restored).toBeInstanceOf(SpecMissingError);
    expect(restored).toMatchObject({ id: 'b', message: 'no b' });
    expect(isErrorFromCache(restored)).toBe(true);
    expect(isErrorFromCache(new SpecMissingError('c'))).toBe(false);
    const malformed = [
      new StoredError(42 as never, stored.f, 'm', {}),
      new StoredError(stored.n, stored.f, 42 as never, {}),
      new StoredError(stored.n, stored.f, 'm', [] as never),
      new StoredError(stored.n, stored.f, 'm', null as never),
      new StoredError(stored.n, 'another', 'm', {}),
    ];
    for (const value of malformed) expect(restoreError(policy(), value)).toBeUndefined();
    expect(restoreError(undefined, stored)).toBeUndefined();
  });
});
