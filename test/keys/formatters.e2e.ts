/**
 * Key formatters with arguments and per-type renderers, end to end: `{q:hash(sha256)}` and a `registerKeyType` class
 * on providers (mem:// and Redis db 8, names starting with "Kt"), `{req.headers.authorization:jwt(sub)}` on a
 * controller (Express and Fastify, mem:// and Redis db 10 under `hf:`). `jwt` reads the claim without verifying the
 * token: a forged token keys like a genuine one, so only a guard keeps it away; a token without the claim, or one
 * that is not a JWT, answers uncached and never shares another caller's entry.
 */
import { createHash, createHmac } from 'node:crypto';
import {
  Controller,
  Get,
  Headers,
  Injectable,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import request from 'supertest';
import { Cache, registerKeyType, type CacheService } from '../../lib/index.js';
import { cleanup, closeApps, describeBackends, keysOf, startApp } from '../support/strategy-fixtures.js';
import {
  allCases,
  clearPrefix,
  Counter,
  createTestApp,
  describeCases,
  keysUnder,
  type TestApp,
} from '../http/harness.js';

const TAG = 'Kt';
const PREFIX = 'hf';

class Money {
  constructor(
    readonly amount: number,
    readonly currency: string,
  ) {}
}
registerKeyType(Money, (m) => `${m.amount}${m.currency}`);

@Injectable()
class KtPrices {
  runs = 0;

  @Cache({ ttl: '1m', key: 'KtSearch:{q:hash(sha256)}' })
  async search(q: string): Promise<string> {
    return `${q}#${++this.runs}`;
  }

  /** A default key: the Money argument is rendered by its registered renderer. */
  @Cache({ ttl: '1m', version: '1' })
  async convert(price: Money | string): Promise<string> {
    return `${typeof price === 'string' ? price : price.amount + price.currency}#${++this.runs}`;
  }

  @Cache({ ttl: '1m', key: 'KtPrice:{price}' })
  async byTemplate(price: Money): Promise<string> {
    return `${price.amount}${price.currency}#${++this.runs}`;
  }
}

describeBackends('key formatters on providers', ({ url }) => {
  let prices: KtPrices;
  let cache: CacheService;
  beforeEach(async () => {
    await cleanup(url, TAG);
    const started = await startApp(url, [KtPrices]);
    cache = started.cache;
    prices = started.app.get(KtPrices);
  });
  afterEach(() => closeApps());

  it('{q:hash(sha256)} keys each query by its sha256 digest: the same query hits, another misses', async () => {
    const query = 'red shoes: size *42*';
    expect(await prices.search(query)).toBe(`${query}#1`);
    expect(await prices.search(query)).toBe(`${query}#1`);
    expect(await prices.search('red shoes')).toBe('red shoes#2');
    const digest = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(await keysOf(cache, 'KtSearch:*')).toEqual(
      [`KtSearch:${digest(query)}`, `KtSearch:${digest('red shoes')}`].sort(),
    );
  });

  it('registerKeyType: equal Money values share an entry, other amounts, currencies and look-alike strings do not', async () => {
    expect(await prices.convert(new Money(10, 'EUR'))).toBe('10EUR#1');
    expect(await prices.convert(new Money(10, 'EUR'))).toBe('10EUR#1'); // another instance, same key
    expect(await prices.convert(new Money(10, 'USD'))).toBe('10USD#2');
    expect(await prices.convert(new Money(11, 'EUR'))).toBe('11EUR#3');
    // The string the renderer would produce, and the renderer's output verbatim, are other keys.
    expect(await prices.convert('10EUR')).toBe('10EUR#4');
    expect(await prices.convert('=Money("10EUR")')).toBe('=Money("10EUR")#5');
    expect(prices.runs).toBe(5);
    const keys = await keysOf(cache, 'KtPrices:convert:*');
    expect(keys).toHaveLength(5);
    // The class name stays in the key, around the renderer's text.
    expect(keys).toContain('KtPrices:convert:v1:%o=Money("10EUR")');
    expect(keys).toContain('KtPrices:convert:v1:10EUR');
  });

  it('registerKeyType in a template placeholder: {price} renders the Money the same way', async () => {
    expect(await prices.byTemplate(new Money(5, 'GBP'))).toBe('5GBP#1');
    expect(await prices.byTemplate(new Money(5, 'GBP'))).toBe('5GBP#1');
    expect(await prices.byTemplate(new Money(6, 'GBP'))).toBe('6GBP#2');
    const keys = await keysOf(cache, 'KtPrice:*');
    expect(keys).toEqual(['KtPrice:%o=Money("5GBP")', 'KtPrice:%o=Money("6GBP")']);
  });
});

const SECRET = 'test-secret';
const b64 = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT signed with {@link SECRET} (HS256), or with any other signature given. */
function jwt(payload: object, signature?: string): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${signature ?? createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

/** Accepts only tokens signed with {@link SECRET}, as an auth guard does before any interceptor runs. */
@Injectable()
class SignedTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers.authorization;
    const [head, body, signature] = (header ?? '').replace(/^Bearer /, '').split('.');
    const expected = createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url');
    if (signature !== expected) throw new UnauthorizedException();
    return true;
  }
}

const calls = new Counter();

@Controller('fmt')
class FmtController {
  @Get('me')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'me:{req.headers.authorization:jwt(sub)}' })
  me(@Headers('authorization') authorization?: string) {
    return { n: calls.hit('me'), auth: authorization?.slice(-6) };
  }

  @Get('optional')
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'opt:{req.headers.authorization?:jwt(sub)}' })
  optional() {
    return { n: calls.hit('optional') };
  }

  @Get('guarded')
  @UseGuards(SignedTokenGuard)
  @Cache({ ttl: '1m', prefix: PREFIX, key: 'guarded:{req.headers.authorization:jwt(sub)}' })
  guarded() {
    return { n: calls.hit('guarded') };
  }
}

describeCases('{req.headers.authorization:jwt(sub)} on a controller', allCases(), (c) => {
  let t: TestApp;
  beforeEach(async () => {
    calls.reset();
    await clearPrefix(c.url, PREFIX);
    t = await createTestApp(c, { controllers: [FmtController], providers: [SignedTokenGuard] });
  });
  afterEach(() => t.close());

  const get = (path: string, token?: string) => {
    const call = request(t.server).get(path);
    return token === undefined ? call : call.set('authorization', `Bearer ${token}`);
  };

  it('keys each user by the sub claim: a user hits their own entry, another user gets theirs', async () => {
    const alice = jwt({ sub: 'alice' });
    const bob = jwt({ sub: 'bob' });
    expect((await get('/fmt/me', alice).expect(200)).body.n).toBe(1);
    expect((await get('/fmt/me', bob).expect(200)).body.n).toBe(2);
    expect((await get('/fmt/me', jwt({ sub: 'alice', iat: 1 })).expect(200)).body.n).toBe(1); // another token, same sub
    expect(calls.get('me')).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual(['hf:me:alice', 'hf:me:bob']);
  });

  it('the claim is read unverified: an unsigned or forged token keys by its claim like a genuine one', async () => {
    const first = await get('/fmt/me', jwt({ sub: 'alice' })).expect(200);
    // alg "none" with no signature, and a garbage signature: the same key, the same (cached) body.
    const unsigned = `${b64({ alg: 'none' })}.${b64({ sub: 'alice' })}.`;
    expect((await get('/fmt/me', unsigned).expect(200)).body).toEqual(first.body);
    expect((await get('/fmt/me', jwt({ sub: 'alice' }, 'forged')).expect(200)).body).toEqual(first.body);
    // A forged claim cannot reach past its segment: `:` and `*` are escaped.
    expect((await get('/fmt/me', jwt({ sub: 'alice:*' }, 'forged')).expect(200)).body.n).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual(['hf:me:alice', 'hf:me:alice%3A%2A']);
  });

  it('behind a guard that verifies the signature, a forged token never reaches the cached entry', async () => {
    const genuine = await get('/fmt/guarded', jwt({ sub: 'alice' })).expect(200);
    await get('/fmt/guarded', jwt({ sub: 'alice' }, 'forged')).expect(401);
    await get('/fmt/guarded', `${b64({ alg: 'none' })}.${b64({ sub: 'alice' })}.`).expect(401);
    expect((await get('/fmt/guarded', jwt({ sub: 'alice' })).expect(200)).body).toEqual(genuine.body);
    expect(calls.get('guarded')).toBe(1);
  });

  it.each([
    ['without the claim', jwt({ name: 'no sub' })],
    ['with a null claim', jwt({ sub: null })],
    ['not a JWT', 'garbage'],
    ['with a payload that is not JSON', `${b64({ alg: 'none' })}.${b64('{not json')}.x`],
    ['with a payload that is not base64url', 'a.!!!.b'],
  ])('a token %s answers 200 uncached, sharing no entry', async (_name, token) => {
    await get('/fmt/me', jwt({ sub: 'alice' })).expect(200);
    const first = await get('/fmt/me', token).expect(200);
    const second = await get('/fmt/me', token).expect(200);
    // Both ran (no entry of their own), and neither was answered alice's entry.
    expect([first.body.n, second.body.n]).toEqual([2, 3]);
    expect(await keysUnder(t.cache, PREFIX)).toEqual(['hf:me:alice']);
  });

  it('no authorization header at all answers 200 uncached', async () => {
    expect((await get('/fmt/me').expect(200)).body.n).toBe(1);
    expect((await get('/fmt/me').expect(200)).body.n).toBe(2);
    expect(await keysUnder(t.cache, PREFIX)).toEqual([]);
  });

  it('{…?:jwt(sub)}: tokens without the claim share one entry, never that of a user whose sub is "undefined"', async () => {
    expect((await get('/fmt/optional', jwt({ name: 'x' })).expect(200)).body.n).toBe(1);
    expect((await get('/fmt/optional', 'garbage').expect(200)).body.n).toBe(1);
    expect((await get('/fmt/optional', jwt({ sub: 'undefined' })).expect(200)).body.n).toBe(2);
    expect((await get('/fmt/optional', jwt({ sub: '%undefined' })).expect(200)).body.n).toBe(3);
    expect(calls.get('optional')).toBe(3);
  });
});
