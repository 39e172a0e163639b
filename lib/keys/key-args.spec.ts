/** Formatters with arguments, jwt claims and registered key types, through compiled key templates. */
import { createHash } from 'node:crypto';
import { CashewsConfigError, KeyPlaceholderError } from '../errors.js';
import { compileKey } from './key-template.js';
import { registerKeyType } from './key-types.js';

const token = (payload: unknown) => `h.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

class Money {
  constructor(
    readonly amount: number,
    readonly currency: string,
  ) {}
}
registerKeyType(Money, (m) => `${m.amount}${m.currency}`);

describe('key templates: formatter arguments', () => {
  it('{q:hash(sha256)} digests with sha256', () => {
    const key = compileKey({ base: 'S:find', params: ['q'], template: 'q:{q:hash(sha256)}' });
    expect(key({ args: ['shoes'] })).toBe(`q:${createHash('sha256').update('shoes').digest('hex')}`);
  });

  it('{token:jwt(sub)} keys on the claim; a strict key refuses a token without it', () => {
    const key = compileKey({ base: 'S:me', params: ['token'], template: 'me:{token:jwt(sub)}', strict: true });
    expect(key({ args: [`Bearer ${token({ sub: 'u:1' })}`] })).toBe('me:u%3A1');
    expect(() => key({ args: [token({ role: 'x' })] })).toThrow(KeyPlaceholderError);
    const optional = compileKey({ base: 'S:me', params: ['token'], template: 'me:{token?:jwt(sub)}', strict: true });
    // No claim renders the marker no string renders as: never the key of a token whose sub is "undefined".
    expect(optional({ args: ['garbage'] })).toBe('me:%undefined');
    expect(optional({ args: [token({ sub: 'undefined' })] })).toBe('me:undefined');
    expect(optional({ args: [token({ sub: '%undefined' })] })).toBe('me:%25undefined');
  });

  it.each([
    ['{q:hash(md4)}', /hash takes one optional algorithm: sha1, sha256, sha512, md5/],
    ['{q:jwt}', /jwt takes the claim to read/],
    ['{q:lower(x)}', /lower takes no arguments/],
    ['{q:hash(a b)}', /gives formatter "hash" the argument "a b"/],
    ['{q:hash(sha256}', /malformed formatter "hash\(sha256"/],
  ])('%s is a CashewsConfigError at compile time', (template, message) => {
    expect(() => compileKey({ base: 'S:find', params: ['q'], template })).toThrow(CashewsConfigError);
    expect(() => compileKey({ base: 'S:find', params: ['q'], template })).toThrow(message);
  });
});

describe('registered key types', () => {
  it('render with their own text and class name, apart from strings and plain objects', () => {
    const key = compileKey({ base: 'Prices:convert', params: ['price'] });
    const money = key({ args: [new Money(10, 'EUR')] });
    expect(money).toBe('Prices:convert:%o=Money("10EUR")');
    expect(key({ args: ['=Money("10EUR")'] })).not.toBe(money);
    expect(key({ args: [{ amount: 10, currency: 'EUR' }] })).not.toBe(money);
    const nested = compileKey({ base: 'Prices:sum', params: ['list'] });
    expect(nested({ args: [[new Money(1, 'EUR'), new Money(2, 'EUR')]] })).toContain('=Money(');
  });

  it('parsed input naming the type is not taken for it: only the prototype decides', () => {
    const key = compileKey({ base: 'Prices:convert', params: ['price'] });
    const forged = JSON.parse('{"constructor":"Money","amount":10,"currency":"EUR"}') as unknown;
    expect(key({ args: [forged] })).not.toContain('=Money(');
  });

  it('refuses anonymous classes, non-functions and a second renderer', () => {
    expect(() => registerKeyType(class {} as never, () => '')).toThrow(CashewsConfigError);
    expect(() => registerKeyType(Money, 'x' as never)).toThrow(/render must be a function/);
    expect(() => registerKeyType(Money, () => 'other')).toThrow(/already registered with another renderer/);
  });
});
