import { escapeKeyPart } from './escape-key-part.js';

describe('escapeKeyPart', () => {
  it('percent-encodes the wildcard, the separator and the glob characters', () => {
    expect(escapeKeyPart('*')).toBe('%2A');
    expect(escapeKeyPart('a:b')).toBe('a%3Ab');
    expect(escapeKeyPart('?[]\\{}')).toBe('%3F%5B%5D%5C%7B%7D');
    expect(escapeKeyPart('100%')).toBe('100%25');
  });

  it('encodes whitespace and control characters, beyond ASCII as UTF-8 bytes', () => {
    expect(escapeKeyPart('a b\tc\nd\u0000\u007f')).toBe('a%20b%09c%0Ad%00%7F');
    expect(escapeKeyPart('x\u00a0y\u2028')).toBe('x%C2%A0y%E2%80%A8');
  });

  it('leaves ordinary text, including non-ASCII letters, untouched', () => {
    expect(escapeKeyPart('red-42_ü.é,/@')).toBe('red-42_ü.é,/@');
    expect(escapeKeyPart('')).toBe('');
  });

  it('never outputs a forbidden character', () => {
    let all = '';
    for (let code = 0; code < 0x3000; code++) all += String.fromCharCode(code);
    expect(escapeKeyPart(all)).not.toMatch(/[*:?[\]\\{}\s\p{Cc}]/u);
  });

  it('encodes a lone surrogate as its own bytes, apart from U+FFFD, and leaves a well-formed pair alone', () => {
    expect(escapeKeyPart('\uD800')).toBe('%ED%A0%80');
    expect(escapeKeyPart('a\uDFFFb')).toBe('a%ED%BF%BFb');
    expect(escapeKeyPart('\uFFFD')).toBe('\uFFFD');
    expect(escapeKeyPart('\uD83D\uDE00')).toBe('\uD83D\uDE00');
    expect(escapeKeyPart('\uDE00\uD83D')).toBe('%ED%B8%80%ED%A0%BD');
    const utf8 = (text: string) => Buffer.from(escapeKeyPart(text), 'utf8').toString('hex');
    expect(utf8('\uD800')).not.toBe(utf8('\uFFFD'));
    expect(utf8('x\uDC00')).not.toBe(utf8('x\uFFFD'));
  });

  it('is injective, notably for inputs that look like escapes', () => {
    const inputs = ['*', '%2A', '%252A', 'a:b', 'a%3Ab', 'a%3ab', '%', '%%', ' ', '%20', '\u00a0', '%C2%A0', ''];
    const outputs = inputs.map(escapeKeyPart);
    expect(new Set(outputs).size).toBe(inputs.length);
    // Decoding recovers the input, which is what injective means in practice.
    for (const input of inputs) expect(decodeURIComponent(escapeKeyPart(input))).toBe(input);
  });
});
