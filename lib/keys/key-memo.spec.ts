import { KeyMemo } from './key-memo.js';
import { KeyPlaceholderError } from '../errors.js';
import { compileKey } from './key-template.js';

/** A memo over a render function that counts its calls and renders like a default key. */
function counting(): { memo: KeyMemo; renders: () => number } {
  let renders = 0;
  const memo = new KeyMemo((args) => {
    renders++;
    return `K:${args.map((arg) => String(arg)).join(':')}`;
  });
  return { memo, renders: () => renders };
}

describe('KeyMemo', () => {
  it('renders a repeated call once, for one to three arguments', () => {
    const { memo, renders } = counting();
    for (const args of [[7], [7, 'red'], [7, 'red', true]]) {
      const before = renders();
      expect(memo.keyOf(args)).toBe(memo.keyOf([...args]));
      expect(memo.keyOf([...args])).toBe(`K:${args.join(':')}`);
      expect(renders() - before).toBe(1);
    }
  });

  it('renders every call whose arguments it cannot remember exactly', () => {
    const { memo, renders } = counting();
    const unremembered = [[0], [-0], ['x'.repeat(65)], [{ id: 1 }], [10n], [1, 2, 3, 4], []];
    for (const args of unremembered) {
      const before = renders();
      memo.keyOf(args);
      memo.keyOf(args);
      expect(renders() - before).toBe(2);
    }
  });

  it('starts again empty once it holds 4096 entries', () => {
    const { memo, renders } = counting();
    // Each key asked three times: a memo that is used, so it does not rest when it empties.
    for (let i = 1; i <= 4096; i++) for (let n = 0; n < 3; n++) memo.keyOf([i]);
    expect(renders()).toBe(4096);
    memo.keyOf([4097]); // one entry too many: the memo empties
    memo.keyOf([1]); // forgotten
    memo.keyOf([1]);
    expect(renders()).toBe(4098);
  });

  it('rests when the calls that filled it brought mostly new arguments, then remembers again', () => {
    const { memo, renders } = counting();
    for (let i = 1; i <= 4097; i++) memo.keyOf([i]); // unique ids, each seen once
    const filled = renders();
    memo.keyOf(['hot']);
    memo.keyOf(['hot']);
    expect(renders() - filled).toBe(2); // resting: rendered every time
    for (let i = 0; i < 16 * 4096; i++) memo.keyOf([i + 1]);
    const rested = renders();
    memo.keyOf(['hot']);
    memo.keyOf(['hot']);
    expect(renders() - rested).toBe(1);
  });
});

describe('compiled default keys with the memo', () => {
  const spec = { base: 'Items:find', params: ['a', 'b'], version: '3f9a2c1b' };
  // Values a Map could confuse with one another, or whose rendering is special: each must keep its own key.
  const values: unknown[] = [
    0,
    -0,
    1,
    '1',
    1.5,
    '1.5',
    NaN,
    'NaN',
    Infinity,
    true,
    'true',
    false,
    null,
    'null',
    undefined,
    '',
    "'1'",
    'a:b',
    '*',
    'x'.repeat(64),
    'x'.repeat(65),
    10n,
    { id: 1 },
    [1],
  ];

  it('answers every call exactly as a first rendering does, in any order of calls', () => {
    const memoized = compileKey(spec);
    const fresh = (args: unknown[]) => compileKey(spec)({ args }); // a new memo: the call is rendered
    const calls: unknown[][] = [];
    for (const a of values) {
      calls.push([a]);
      for (const b of values) calls.push([a, b], [a, b, a]);
    }
    // Twice over, forwards then backwards: the second pass is answered from the memo.
    for (const args of [...calls, ...calls.reverse()]) expect(memoized({ args })).toBe(fresh(args));
    expect(memoized({ args: [0] })).not.toBe(memoized({ args: [-0] }));
    expect(memoized({ args: [1] })).not.toBe(memoized({ args: ['1'] }));
    expect(memoized({ args: [1] })).not.toBe(memoized({ args: [1, undefined] }));
  });
});

describe('compiled template keys with the memo', () => {
  const values: unknown[] = [0, -0, 1, '1', NaN, 'NaN', true, 'true', null, 'null', undefined, '', 'a:b', '*', '{x}'];
  const templates = [
    'item:{a}:{b}', // every argument, in order
    '{b}-{a}', // out of order
    'only:{b}', // a subset
    '{a}:{a}:{c?}', // one argument twice, an optional one
    'p:{0}:{1}:{2}', // by position
  ];

  it.each(templates)('answers every call of %s exactly as a first rendering does', (template) => {
    const spec = { base: 'Items:find', params: ['a', 'b', 'c'], template };
    const memoized = compileKey(spec);
    const fresh = (args: unknown[]) => compileKey(spec)({ args });
    const calls: unknown[][] = [];
    for (const a of values) for (const b of values) calls.push([a, b], [a, b, a], [b]);
    for (const args of [...calls, ...calls.reverse()]) expect(memoized({ args })).toBe(fresh(args));
    expect(memoized({ args: [0, 0, 0] })).not.toBe(memoized({ args: [-0, -0, -0] }));
    expect(memoized({ args: [1, 1, 1] })).not.toBe(memoized({ args: ['1', '1', '1'] }));
  });

  it('keeps refusing a missing value of a strict key, whatever was remembered', () => {
    const key = compileKey({ base: 'Items:find', params: ['a', 'b'], template: '{a}:{b}', strict: true });
    expect(key({ args: [7, 'red'] })).toBe('7:red');
    expect(key({ args: [7, 'red'] })).toBe('7:red');
    for (let n = 0; n < 2; n++) expect(() => key({ args: [7, undefined] })).toThrow(KeyPlaceholderError);
    for (let n = 0; n < 2; n++) expect(() => key({ args: [7] })).toThrow(KeyPlaceholderError);
  });

  it('renders every call of placeholders that read more than the argument', () => {
    // Paths, formatters and extra roots read more than the argument's value: no memo may answer them.
    const key = compileKey({ base: 'Items:find', params: ['a'], template: '{a.id}:{a.lang:lower}' });
    const a = { id: 1, lang: 'EN' };
    expect(key({ args: [a] })).toBe('1:en');
    a.id = 2;
    expect(key({ args: [a] })).toBe('2:en');
    let tenant = 'one';
    const byRoot = compileKey({ base: 'I:f', params: ['a'], template: '{t}:{a}', extraRoots: { t: () => tenant } });
    expect(byRoot({ args: [5] })).toBe('one:5');
    tenant = 'two';
    expect(byRoot({ args: [5] })).toBe('two:5');
  });
});
