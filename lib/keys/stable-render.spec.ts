import { CacheValueError } from '../errors.js';
import { NULL_KEY_PART, UNDEFINED_KEY_PART, renderArg, renderKeyPart } from './stable-render.js';

describe('renderArg', () => {
  it('renders primitives as text and strings as themselves', () => {
    expect(renderArg('red')).toBe('red');
    expect(renderArg(42)).toBe('42');
    expect(renderArg(-1.5)).toBe('-1.5');
    expect(renderArg(true)).toBe('true');
    expect(renderArg(12345678901234567890n)).toBe('12345678901234567890n');
    expect(renderArg(null)).toBe('null');
    expect(renderArg(undefined)).toBe('undefined');
  });

  it('renders dates as ISO strings', () => {
    expect(renderArg(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('2024-01-02T03:04:05.000Z');
    expect(renderArg(new Date(NaN))).toBe('Invalid Date');
    expect(renderArg({ at: new Date(0) })).toBe('{"at":~"1970-01-01T00:00:00.000Z"}');
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
    expect(renderArg({ id })).toBe('{"id":~"65f0c0ffee"}');
    expect(renderArg({ id })).not.toBe(renderArg({ id: '65f0c0ffee' }));
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
    expect(renderKeyPart({ q: 'a b' })).toBe('%o%7B"q"%3A"a%20b"%7D');
    expect(renderKeyPart(7)).toBe('7');
  });

  it('gives null and undefined markers no string can produce', () => {
    expect(renderKeyPart(null)).toBe(NULL_KEY_PART);
    expect(renderKeyPart(undefined)).toBe(UNDEFINED_KEY_PART);
    const parts = [null, undefined, 'null', 'undefined', '%null', '%undefined', '%25null'].map(renderKeyPart);
    expect(new Set(parts).size).toBe(parts.length);
  });

  it('writes numbers and booleans bare and quotes the strings that read like them, as YAML does', () => {
    expect(renderKeyPart(42)).toBe('42');
    expect(renderKeyPart('42')).toBe("'42'");
    expect(renderKeyPart(42n)).toBe('42n');
    expect(renderKeyPart('42n')).toBe("'42n'");
    expect(renderKeyPart(true)).toBe('true');
    expect(renderKeyPart('true')).toBe("'true'");
    expect(renderKeyPart('-1.5')).toBe("'-1.5'");
    expect(renderKeyPart("'42'")).toBe("%2742'");
    // Strings that do not read as a number stay as they are.
    expect(renderKeyPart('042')).toBe('042');
    expect(renderKeyPart('42 ')).toBe('42%20');
    expect(renderKeyPart('2024-01-02')).toBe('2024-01-02');
    expect(renderKeyPart('3f9a2c1b')).toBe('3f9a2c1b');
    expect(renderKeyPart('truthy')).toBe('truthy');
    expect(renderKeyPart(new Date(0))).toBe('%@1970-01-01T00%3A00%3A00.000Z');
    expect(renderKeyPart({ q: { a: 1 } })).toBe('%o%7B"q"%3A%7B"a"%3A1%7D%7D');
  });
});

/** Many values of every type, pairwise different (by `Object.is` for primitives, by structure otherwise). */
function distinctValues(): unknown[] {
  const strings = [
    '',
    ' ',
    '42',
    '-1.5',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e+21',
    '42n',
    'true',
    'false',
    'null',
    'undefined',
    '%null',
    "'42'",
    "'42",
    "%2742'",
    "'",
    "''",
    '%o',
    '%@1970',
    '%7B%7D',
    '{}',
    '[]',
    '{"a":1}',
    '[1,2]',
    '1,2',
    '"a"',
    'a:b',
    'a%3Ab',
    '*',
    '%2A',
    'Map{}',
    'Set[]',
    '~"x"',
    'x',
    '\uD800',
    '\uDC00',
    '\uFFFD',
    '\uD83D\uDE00',
    '\uDE00\uD83D',
    'a\uD800b',
    'a\uFFFDb',
    '\u0000',
    '1970-01-01T00:00:00.000Z',
    'Symbol.for("s")',
    'é',
    'e\u0301',
  ];
  const numbers = [0, 1, -1, 42, 1.5, -1.5, NaN, Infinity, -Infinity, 1e21, Number.MAX_SAFE_INTEGER];
  const nested = [...strings, ...numbers, true, false, null, 42n, -1n, new Date(0), new Date(NaN), Symbol.for('s')];
  const values: unknown[] = [...nested, undefined];
  for (const inner of nested) {
    values.push([inner], { q: inner }, new Set([inner]), new Map([[inner, 1]]), new Map([['k', inner]]));
  }
  values.push([], {}, [[]], [{}], [1, 2], ['1', '2'], [1, [2]], [[1], 2], new Map(), new Set(), [undefined]);
  values.push({ toJSON: () => 'x' }, { toJSON: () => ({ a: 1 }) }, { a: 1 }, { a: { b: 1 } });
  values.push({ a: '{"b":1}' }, { 'a"': 1 }, { a: 1, b: 2 }, { 'a":1,"b': 2 });
  return values;
}

describe('renderKeyPart is injective', () => {
  it('gives pairwise different values pairwise different parts, also as the UTF-8 bytes Redis stores', () => {
    const values = distinctValues();
    const byPart = new Map<string, unknown>();
    const byBytes = new Map<string, unknown>();
    for (const value of values) {
      const part = renderKeyPart(value);
      const bytes = Buffer.from(part, 'utf8').toString('hex');
      expect([value, byPart.get(part)]).toEqual([value, undefined]);
      expect([value, byBytes.get(bytes)]).toEqual([value, undefined]);
      byPart.set(part, value);
      byBytes.set(bytes, value);
    }
    expect(byBytes.size).toBe(values.length);
  });

  it('keeps the collisions of issue #9 apart', () => {
    const utf8 = (value: unknown) => Buffer.from(renderKeyPart(value), 'utf8').toString('hex');
    expect(utf8('\uD800')).not.toBe(utf8('\uFFFD'));
    expect(utf8({ q: { a: 1 } })).not.toBe(utf8({ q: '{"a":1}' }));
    expect(utf8({ a: 1 })).not.toBe(utf8('{"a":1}'));
    expect(utf8([1, 2])).not.toBe(utf8('[1,2]'));
    expect(utf8(42)).not.toBe(utf8('42'));
    expect(utf8(42)).not.toBe(utf8(42n));
    expect(utf8(true)).not.toBe(utf8('true'));
    expect(utf8(new Date(0))).not.toBe(utf8(new Date(0).toISOString()));
    expect(utf8({ at: new Date(0) })).not.toBe(utf8({ at: new Date(0).toISOString() }));
  });

  it('refuses symbols that have no stable identity', () => {
    expect(() => renderKeyPart(Symbol('s'))).toThrow(CacheValueError);
    expect(renderKeyPart(Symbol.for('s'))).toBe('%oSymbol.for("s")');
  });
});

describe('negative zero', () => {
  // -0 rendered as '0' everywhere: a JSON body's {"delta": -0} shared the key of {"delta": 0}.
  it('keeps -0 apart from 0, and from the string "-0"', () => {
    const minusZero = JSON.parse('-0') as number;
    expect(renderKeyPart(minusZero)).toBe('-0');
    expect(new Set([renderKeyPart(minusZero), renderKeyPart(0), renderKeyPart('-0'), renderKeyPart('0')]).size).toBe(4);
    expect(renderArg({ d: minusZero })).not.toBe(renderArg({ d: 0 }));
    expect(renderArg([minusZero])).not.toBe(renderArg([0]));
    expect(renderArg(minusZero)).toBe('-0');
  });
});
