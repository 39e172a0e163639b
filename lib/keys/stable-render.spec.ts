import { CacheValueError } from '../errors.js';
import { NULL_KEY_PART, UNDEFINED_KEY_PART, renderArg, renderKeyPart } from './stable-render.js';

describe('renderArg', () => {
  it('renders primitives as text and strings as themselves', () => {
    expect(renderArg('red')).toBe('red');
    expect(renderArg(42)).toBe('42');
    expect(renderArg(-1.5)).toBe('-1.5');
    expect(renderArg(true)).toBe('true');
    expect(renderArg(12345678901234567890n)).toBe('12345678901234567890');
    expect(renderArg(null)).toBe('null');
    expect(renderArg(undefined)).toBe('undefined');
  });

  it('renders dates as ISO strings', () => {
    expect(renderArg(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('2024-01-02T03:04:05.000Z');
    expect(renderArg(new Date(NaN))).toBe('Invalid Date');
    expect(renderArg({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it('sorts object keys recursively, so key order does not matter', () => {
    const a = { b: 1, a: { d: [1, 2], c: 'x' } };
    const b = { a: { c: 'x', d: [1, 2] }, b: 1 };
    expect(renderArg(a)).toBe('{"a":{"c":"x","d":[1,2]},"b":1}');
    expect(renderArg(b)).toBe(renderArg(a));
  });

  it('keeps array order', () => {
    expect(renderArg([2, 1])).not.toBe(renderArg([1, 2]));
  });

  it('keeps nested null, undefined and strings apart', () => {
    const rendered = [[null], [undefined], ['null'], ['undefined'], [1], ['1']].map(renderArg);
    expect(new Set(rendered).size).toBe(6);
    expect(renderArg({ a: null })).not.toBe(renderArg({ a: 'null' }));
  });

  it('omits undefined properties as JSON does', () => {
    expect(renderArg({ a: 1, b: undefined })).toBe(renderArg({ a: 1 }));
  });

  it('renders Map and Set independently of insertion order', () => {
    const m1 = new Map<unknown, unknown>([
      ['b', 2],
      ['a', { y: 1, x: 2 }],
    ]);
    const m2 = new Map<unknown, unknown>([
      ['a', { x: 2, y: 1 }],
      ['b', 2],
    ]);
    expect(renderArg(m1)).toBe(renderArg(m2));
    expect(renderArg(m1)).not.toBe(renderArg(new Map([['a', 1]])));
    expect(renderArg(new Set([3, 1, 2]))).toBe(renderArg(new Set([1, 2, 3])));
    expect(renderArg(new Set(['1']))).not.toBe(renderArg(new Set([1])));
  });

  it('uses toJSON when an object has one', () => {
    const id = { toJSON: () => '65f0c0ffee', ignored: 'field' };
    expect(renderArg({ id })).toBe('{"id":"65f0c0ffee"}');
  });

  it('reads an own "__proto__" key as data, not the prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"admin": true}, "a": 1}') as object;
    expect(renderArg(parsed)).toBe('{"__proto__":{"admin":true},"a":1}');
    expect(renderArg(parsed)).not.toBe(renderArg({ a: 1 }));
  });

  it('refuses functions and circular structures', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => renderArg(() => 1)).toThrow(CacheValueError);
    expect(() => renderArg({ cb: () => 1 })).toThrow(CacheValueError);
    expect(() => renderArg(circular)).toThrow(/circular/);
    // A shared (non-circular) reference is fine.
    const shared = { x: 1 };
    expect(renderArg([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });
});

describe('renderKeyPart', () => {
  it('escapes rendered text', () => {
    expect(renderKeyPart('a:b')).toBe('a%3Ab');
    expect(renderKeyPart('*')).toBe('%2A');
    expect(renderKeyPart({ q: 'a b' })).toBe('%7B"q"%3A"a%20b"%7D');
    expect(renderKeyPart(7)).toBe('7');
  });

  it('gives null and undefined markers no string can produce', () => {
    expect(renderKeyPart(null)).toBe(NULL_KEY_PART);
    expect(renderKeyPart(undefined)).toBe(UNDEFINED_KEY_PART);
    const parts = [null, undefined, 'null', 'undefined', '%null', '%undefined', '%25null'].map(renderKeyPart);
    expect(new Set(parts).size).toBe(parts.length);
  });

  it('lets a number and its decimal string share a part, as a route parameter and its parsed value should', () => {
    expect(renderKeyPart(42)).toBe(renderKeyPart('42'));
  });
});
