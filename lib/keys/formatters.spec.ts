import { createHash } from 'node:crypto';
import { CacheValueError, CashewsConfigError } from '../errors.js';
import { BUILT_IN_KEY_FORMATTERS, findKeyFormatter, registerKeyFormatter } from './formatters.js';

function builtIn(name: string): (value: unknown, ...args: string[]) => string | undefined {
  const formatter = findKeyFormatter(name);
  if (formatter === undefined) throw new Error(`missing formatter ${name}`);
  return formatter;
}

describe('built-in key formatters', () => {
  it('hash: sha1 hex of the rendered value', () => {
    const hash = builtIn('hash');
    expect(hash('hello')).toBe(createHash('sha1').update('hello').digest('hex'));
    expect(hash('a b:c')).toBe(createHash('sha1').update('a b:c').digest('hex'));
    expect(hash(12)).toBe(createHash('sha1').update('12').digest('hex'));
    expect(hash({ a: [1] })).toBe(createHash('sha1').update('{"a":[1]}').digest('hex'));
    expect(hash({ b: 1, a: 2 })).toBe(hash({ a: 2, b: 1 }));
    expect(hash({ a: 1 })).not.toBe(hash({ a: 2 }));
  });

  it('hash keeps every type apart from the text that spells it, and lone surrogates apart from U+FFFD', () => {
    const hash = builtIn('hash');
    const date = new Date(0);
    const values: unknown[] = [
      42,
      '42',
      42n,
      '42n',
      true,
      'true',
      { a: 1 },
      '{"a":1}',
      [1],
      '[1]',
      date,
      date.toISOString(),
    ];
    values.push('\uD800', '\uDC00', '\uFFFD', "\u0000'42'", '\u000042', new Map(), 'Map{}', new Set(), 'Set[]');
    expect(new Set(values.map((value) => hash(value))).size).toBe(values.length);
  });

  it('hash keeps null, undefined and their string spellings apart', () => {
    const hash = builtIn('hash');
    const hashes = [null, undefined, 'null', 'undefined'].map((value) => hash(value));
    expect(new Set(hashes).size).toBe(4);
    expect(hash(null)).toBe('%null');
  });

  it('lower and upper change case of the rendered value', () => {
    expect(builtIn('lower')('MiXeD')).toBe('mixed');
    expect(builtIn('upper')('MiXeD')).toBe('MIXED');
    expect(builtIn('lower')({ K: 'V' })).toBe('{"k":"v"}');
  });

  it('len counts strings, arrays, Maps, Sets and object keys', () => {
    const len = builtIn('len');
    expect(len('abcd')).toBe('4');
    expect(len([1, 2, 3])).toBe('3');
    expect(len(new Map([['a', 1]]))).toBe('1');
    expect(len(new Set([1, 2]))).toBe('2');
    expect(len({ a: 1, b: 2 })).toBe('2');
    expect(len(null)).toBe('0');
    expect(() => len(5)).toThrow(CacheValueError);
  });
});

describe('registerKeyFormatter', () => {
  it('registers a custom formatter that findKeyFormatter then returns', () => {
    const tenant = (value: unknown): string => String((value as { tenant: string }).tenant);
    expect(findKeyFormatter('tenant')).toBeUndefined();
    registerKeyFormatter('tenant', tenant);
    expect(findKeyFormatter('tenant')?.({ tenant: 'acme' })).toBe('acme');
    // Registering the same function again is harmless (e.g. a module imported twice).
    expect(() => registerKeyFormatter('tenant', tenant)).not.toThrow();
  });

  it('refuses built-in names, bad names, non-functions and conflicting re-registration', () => {
    for (const name of BUILT_IN_KEY_FORMATTERS) {
      expect(() => registerKeyFormatter(name, () => 'x')).toThrow(CashewsConfigError);
    }
    expect(() => registerKeyFormatter('hash', () => 'x')).toThrow(/built in/);
    for (const name of ['', '1abc', 'a:b', 'a.b', 'a b', '{x}']) {
      expect(() => registerKeyFormatter(name, () => 'x')).toThrow(CashewsConfigError);
    }
    expect(() => registerKeyFormatter('notFn', 'nope' as unknown as () => string)).toThrow(CashewsConfigError);
    registerKeyFormatter('once', () => 'a');
    expect(() => registerKeyFormatter('once', () => 'b')).toThrow(/already registered/);
    expect(findKeyFormatter('once')?.(1)).toBe('a');
  });
});

describe('formatters with arguments', () => {
  it('hash(sha256) and hash(sha512) digest with that algorithm', () => {
    const hash = builtIn('hash');
    expect(hash('hello', 'sha256')).toBe(createHash('sha256').update('hello').digest('hex'));
    expect(hash('hello', 'sha512')).toBe(createHash('sha512').update('hello').digest('hex'));
  });

  it('jwt(claim) reads a claim of the payload without verifying, undefined when it cannot', () => {
    const jwt = builtIn('jwt');
    const token = (payload: unknown) =>
      `h.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.signature-not-checked`;
    expect(jwt(token({ sub: 'u-1', role: 'admin' }), 'sub')).toBe('u-1');
    expect(jwt(`Bearer ${token({ sub: 42 })}`, 'sub')).toBe('42');
    expect(jwt(token({ role: 'admin' }), 'sub')).toBeUndefined();
    expect(jwt(token({ __proto__: { sub: 'inherited' } }), 'sub')).toBeUndefined();
    expect(jwt('not-a-token', 'sub')).toBeUndefined();
    expect(jwt('a.%%%.c', 'sub')).toBeUndefined();
    expect(jwt(undefined, 'sub')).toBeUndefined();
  });
});
