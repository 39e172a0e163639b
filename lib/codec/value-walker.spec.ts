import { CacheValueError } from '../errors.js';
import { copyOf, fromTagged, toTagged } from './value-walker.js';

/** What the memory store kept before copyOf: the value rebuilt from its tagged form. */
function roundTrip(value: unknown): unknown {
  return fromTagged(toTagged(value));
}

/** The classes of the prototypes met walking a value's arrays, objects, Map and Set contents, in order. */
function prototypes(value: unknown, out: string[] = []): string[] {
  if (value === null || typeof value !== 'object') return out;
  const proto = Object.getPrototypeOf(value) as { constructor: { name: string } } | null;
  out.push(proto ? proto.constructor.name : 'null');
  const inner = value instanceof Map ? [...value].flat() : value instanceof Set ? [...value] : Object.values(value);
  for (const item of inner) prototypes(item, out);
  return out;
}

/**
 * Same value: same tagged form (types, NaN, -0, dates, class names and fingerprints) and same prototypes. Jest's
 * toStrictEqual cannot compare invalid dates, nor objects with a `constructor` key.
 */
function expectSame(actual: unknown, expected: unknown): void {
  expect(JSON.stringify(toTagged(actual))).toBe(JSON.stringify(toTagged(expected)));
  expect(prototypes(actual)).toEqual(prototypes(expected));
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('copyOf', () => {
  it.each<[string, unknown]>([
    ['a plain object', { id: 1, name: 'a', tags: ['x', 'y'], nested: { deep: [{ z: null }] }, none: undefined }],
    ['an array of mixed values', [1, 'two', true, null, undefined, { a: [] }, [[]]]],
    ['numbers JSON cannot hold', { nan: NaN, inf: -Infinity, negativeZero: -0, list: [-0, NaN] }],
    ['a BigInt and a Date', { big: 12345678901234567890n, at: new Date(0), bad: new Date(NaN) }],
    ['a Map and a Set of objects', new Map<unknown, unknown>([[{ k: 1 }, new Set([{ v: 2 }])]])],
    ['bytes', { buffer: Buffer.from('abc'), view: new Uint16Array([1, 2]), raw: new Uint8Array([3]).buffer }],
    ['a class instance (unregistered)', { point: new Point(1, 2) }],
    ['a value with toJSON', { when: { toJSON: () => ({ at: 'noon' }) } }],
    ['an object with a "$" key', { $: 'T', v: 1 }],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { a: 1 })],
  ])('answers what the tagged round trip answers for %s', (_what, value) => {
    const copy = copyOf(value);
    expectSame(copy, roundTrip(value));
    if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
  });

  it('copies every level: changing the original afterwards does not change the copy', () => {
    const value = { list: [{ a: 1 }], inner: { b: [2] } };
    const copy = copyOf(value) as typeof value;
    value.list[0].a = 9;
    value.inner.b.push(3);
    expect(copy).toEqual({ list: [{ a: 1 }], inner: { b: [2] } });
  });

  it('keeps a "__proto__" key as data at every level and never changes a prototype', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":[{"__proto__":{"deep":1}}]}') as object;
    const copy = copyOf(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ polluted: true });
    expect(copy.polluted).toBeUndefined();
    const inner = (copy.a as Array<Record<string, unknown>>)[0];
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
    expect(Object.hasOwn(inner, '__proto__')).toBe(true);
    expect(inner.deep).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectSame(copy, roundTrip(value));
  });

  it('keeps "constructor" and "prototype" keys as data', () => {
    const value = JSON.parse('{"constructor":{"prototype":{"x":1}},"prototype":"p"}') as object;
    const copy = copyOf(value);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expectSame(copy, roundTrip(value));
  });

  it('reads a getter once, leaves symbol keys out, turns holes into undefined and array subclasses into arrays', () => {
    let reads = 0;
    const withGetter = {
      get counted() {
        reads++;
        return { n: reads };
      },
    };
    expect(copyOf(withGetter)).toEqual({ counted: { n: 1 } });
    expect(reads).toBe(1);
    const withSymbol = { a: 1, [Symbol('s')]: 2 };
    expect(Object.getOwnPropertySymbols(copyOf(withSymbol))).toEqual([]);
    expectSame(copyOf(withSymbol), roundTrip(withSymbol));
    // eslint-disable-next-line no-sparse-arrays
    const holes = [1, , 3];
    expect(1 in (copyOf(holes) as unknown[])).toBe(true);
    expectSame(copyOf(holes), roundTrip(holes));
    class List extends Array<number> {}
    const list = List.from([1, 2]);
    expect(Object.getPrototypeOf(copyOf(list))).toBe(Array.prototype);
    expectSame(copyOf(list), roundTrip(list));
  });

  it('refuses what the tagged form refuses, with the same message', () => {
    const circular: Record<string, unknown> = { a: { b: [] } };
    ((circular.a as Record<string, unknown>).b as unknown[]).push(circular);
    const hostile: unknown[] = [
      circular,
      { fn: () => 1 },
      [Symbol('s')],
      { nested: { big: BigInt('9'.repeat(100_002)) } },
      { p: Promise.resolve() },
      { weak: new WeakMap() },
    ];
    for (const value of hostile) {
      const error = (() => {
        try {
          copyOf(value);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(CacheValueError);
      expect(() => toTagged(value)).toThrow((error as Error).message);
    }
    let deep: unknown = 'leaf';
    for (let i = 0; i < 1001; i++) deep = i % 2 ? [deep] : { a: deep };
    expect(() => copyOf(deep)).toThrow(/deeper than 1000 levels/);
  });
});
