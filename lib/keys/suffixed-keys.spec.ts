import { SuffixedKeys } from './suffixed-keys.js';

describe('SuffixedKeys', () => {
  it('answers key + suffix for repeated keys, through the memo filling, emptying and resting', () => {
    const keys = new SuffixedKeys(':%adaptive');
    const wrong: string[] = [];
    const ask = (key: string) => {
      if (keys.of(key) !== `${key}:%adaptive`) wrong.push(key);
    };
    // Repeated keys (answered from the memo), more than the memo holds (it empties), then unique keys (it rests).
    for (let round = 0; round < 3; round++) for (let i = 0; i < 5000; i++) ask(`Items:find:${i}`);
    for (let i = 0; i < 80_000; i++) ask(`Search:q:${i}`);
    for (let i = 0; i < 100; i++) ask(`Items:find:${i % 7}`);
    expect(wrong).toEqual([]);
  });

  it('keeps keys that differ only past a shared head apart', () => {
    const keys = new SuffixedKeys(':s');
    expect(keys.of('a:1')).toBe('a:1:s');
    expect(keys.of('a:10')).toBe('a:10:s');
    expect(keys.of('a:1')).toBe('a:1:s');
    expect(keys.of('')).toBe(':s');
  });
});
