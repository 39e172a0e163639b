import { fingerprint, functionFingerprint } from './fingerprint.js';

describe('fingerprint', () => {
  it('is 8 hex digits, stable for the same text and different for other text', () => {
    expect(fingerprint('a')).toMatch(/^[0-9a-f]{8}$/);
    expect(fingerprint('a')).toBe(fingerprint('a'));
    expect(fingerprint('a')).not.toBe(fingerprint('b'));
  });

  it('changes with the source of a function or class, not with its identity', () => {
    const v1 = function find(id: number) {
      return id;
    };
    const v1again = function find(id: number) {
      return id;
    };
    const v2 = function find(id: number) {
      return id + 1;
    };
    expect(functionFingerprint(v1)).toBe(functionFingerprint(v1again));
    expect(functionFingerprint(v1)).not.toBe(functionFingerprint(v2));
    class A {
      x = 1;
    }
    class B {
      x = 2;
    }
    expect(functionFingerprint(A)).not.toBe(functionFingerprint(B));
  });
});
