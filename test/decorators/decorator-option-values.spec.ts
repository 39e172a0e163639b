/**
 * Option values a decorator used to take without a word (JavaScript callers, or values behind an `any`), each now
 * refused when the decorator is applied, naming the decorator, the option and the accepted form:
 * - `@Cache({ lock: 'yes' })` (or `1`) ran without the stampede lock: only `true` turned it on;
 * - `@Failover` and `@Soft` took any `exceptions`, and a string or an array of names failed only when the method
 *   threw, inside the fallback (`exceptions.some is not a function`, `instanceof` of a string): the failure they
 *   exist to absorb reached the caller as a TypeError. `@Adaptive` and `@CircuitBreaker` already checked it;
 * - `cache: 5` was turned into the instance name '5';
 * - a `step` longer than a Node timer waits (2^31 - 1 ms) made waiters poll every millisecond;
 * - `version` on a decorator that stores no result (`@Locked`, `@RateLimit`...) was accepted, not even checked, and
 *   ignored: its keys are not versioned.
 */
import {
  Bloom,
  Cache,
  CashewsConfigError,
  CircuitBreaker,
  Early,
  Failover,
  HitCache,
  Invalidate,
  Locked,
  PerfDegradation,
  RateLimit,
  SlidingRateLimit,
  Soft,
} from '../../lib/index.js';

type AnyDecorator = MethodDecorator;

/** Makes the decorator and applies it to a method of a fresh class, as TypeScript would; answers what it threw. */
function applying(make: () => AnyDecorator): unknown {
  class Subject {
    async method(id: number) {
      return id;
    }
  }
  try {
    make()(Subject.prototype, 'method', Object.getOwnPropertyDescriptor(Subject.prototype, 'method')!);
    return undefined;
  } catch (error) {
    return error;
  }
}

// Options as a JavaScript caller may write them: past the types.
const loose = (options: Record<string, unknown>): never => options as never;

describe('decorator option values are checked when the decorator is applied', () => {
  it.each<[string, () => AnyDecorator, RegExp]>([
    [
      '@Cache lock: "yes"',
      () => Cache(loose({ ttl: '1m', lock: 'yes' })),
      /@Cache: lock must be true or false \(got the string "yes"\)/,
    ],
    [
      '@Cache lock: 1',
      () => Cache(loose({ ttl: '1m', lock: 1 })),
      /@Cache: lock must be true or false \(got the number 1\)/,
    ],
    ['@Early lock: "true"', () => Early(loose({ ttl: '1m', lock: 'true' })), /@Early: lock must be true or false/],
    [
      '@Soft lock: "on"',
      () => Soft(loose({ ttl: '1m', softTtl: '10s', lock: 'on' })),
      /@Soft: lock must be true or false/,
    ],
    [
      '@Failover exceptions: a class name',
      () => Failover(loose({ ttl: '1m', exceptions: 'UpstreamError' })),
      /Invalid "@Failover exceptions": expected an array of error classes or a predicate/,
    ],
    [
      '@Failover exceptions: an array of names',
      () => Failover(loose({ ttl: '1m', exceptions: ['UpstreamError'] })),
      /Invalid "@Failover exceptions"/,
    ],
    [
      '@Soft exceptions: a class name',
      () => Soft(loose({ ttl: '1m', softTtl: '10s', exceptions: 'TimeoutError' })),
      /Invalid "@Soft exceptions": expected an array of error classes or a predicate/,
    ],
    [
      '@Cache cache: a number',
      () => Cache(loose({ ttl: '1m', cache: 5 })),
      /@cache on Subject:method: cache must be the name of an instance registered with CashewsModule\.forRoot\(url, \{ name \}\), such as 'sessions' \(got the number 5\)/,
    ],
    ['@Cache cache: empty', () => Cache(loose({ ttl: '1m', cache: '' })), /cache must be the name of an instance/],
    // Waiters sleep `step` on a timer, which Node fires after 1 ms when longer than 2^31 - 1 ms.
    [
      '@Cache step: 30 days',
      () => Cache({ ttl: '1h', lock: true, step: '30d' }),
      /"@Cache step": 2592000000 ms is longer than a timer can wait\. Accepted: at most 2147483647 ms/,
    ],
    ['@Early step: 30 days', () => Early({ ttl: '1h', step: '30d' }), /"@Early step".* at most 2147483647 ms/],
    ['@Locked step: 30 days', () => Locked({ step: '30d' }), /"@Locked step".* at most 2147483647 ms/],
    // Their keys carry no version (old and new code share a lock, a limit, a circuit): version would be ignored.
    [
      '@Locked version: not a version',
      () => Locked(loose({ version: 'not a version!' })),
      /^@Locked: version is not an option of this decorator\. .* version is taken by @Cache, @Failover, @HitCache, @Early, @Soft and @Adaptive\.$/,
    ],
    [
      '@RateLimit version: 2',
      () => RateLimit(loose({ limit: 1, period: '1s', key: 'x', version: 2 })),
      /^@RateLimit: version is not an option/,
    ],
    [
      '@SlidingRateLimit version',
      () => SlidingRateLimit(loose({ limit: 1, period: '1s', version: 'v2' })),
      /^@SlidingRateLimit: version is not an option/,
    ],
    [
      '@CircuitBreaker version',
      () => CircuitBreaker(loose({ errorsRate: 50, period: '1s', ttl: '1s', version: 1 })),
      /^@CircuitBreaker: version is not an option/,
    ],
    [
      '@PerfDegradation version',
      () => PerfDegradation(loose({ ttl: '1s', version: 1 })),
      /^@PerfDegradation: version is not an option/,
    ],
    ['@Bloom version', () => Bloom(loose({ capacity: 100, version: 1 })), /^@Bloom: version is not an option/],
    [
      '@Invalidate cache: a number',
      () => Invalidate('Items:*', loose({ cache: 5 })),
      /@Invalidate.*cache must be the name/,
    ],
  ])('%s is refused', (_label, decorator, message) => {
    const error = applying(decorator);
    expect(error).toBeInstanceOf(CashewsConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a misspelt method',
      ['GTE'],
      /@Cache: methods entry "GTE" is not an HTTP method name\. Accepted: GET, POST, .*QUERY/,
    ],
    ['one bad entry among good ones', ['GET', 'FETCH'], /methods entry "FETCH" is not an HTTP method name/],
    ['an entry that is not a string', ['GET', 5], /methods entry the number 5 is not an HTTP method name/],
  ])('@Cache methods with %s names the bad entry and the accepted methods', (_label, methods, message) => {
    const error = applying(() => Cache(loose({ ttl: '1m', methods })));
    expect(error).toBeInstanceOf(CashewsConfigError);
    expect((error as Error).message).toMatch(message);
  });

  // Their default key is the method (plus the client on controllers) and they store no result: skipArgs was refused
  // (the key has no arguments to skip) and version ignored, unsaid, yet their lists of accepted options named both.
  it.each<[string, () => AnyDecorator, RegExp]>([
    [
      '@SlidingRateLimit',
      () => SlidingRateLimit(loose({ limit: 1, period: '1s', limt: 1 })),
      /@SlidingRateLimit: unknown option "limt"\. Accepted: limit, period, action, key, prefix, cache\.$/,
    ],
    [
      '@RateLimit',
      () => RateLimit(loose({ limit: 1, period: '1s', limt: 1 })),
      /@RateLimit: unknown option "limt"\. Accepted: limit, period, ttl, action, key, prefix, cache\.$/,
    ],
    [
      '@CircuitBreaker',
      () => CircuitBreaker(loose({ errorsRate: 0.5, period: '1m', ttl: '1m', minCals: 1 })),
      /@CircuitBreaker: unknown option "minCals"\. Accepted: .*halfOpenTtl, exceptions, key, prefix, cache\.$/,
    ],
    [
      '@PerfDegradation',
      () => PerfDegradation(loose({ ttl: '1m', traceSise: 1 })),
      /@PerfDegradation: unknown option "traceSise"\. Accepted: ttl, traceSize, condition, key, prefix, cache\.$/,
    ],
  ])('%s lists only the options it takes', (_label, make, message) => {
    const error = applying(make);
    expect(error).toBeInstanceOf(CashewsConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it.each<[string, () => AnyDecorator]>([
    ['@SlidingRateLimit', () => SlidingRateLimit(loose({ limit: 1, period: '1s', skipArgs: [0] }))],
    ['@RateLimit', () => RateLimit(loose({ limit: 1, period: '1s', skipArgs: [0] }))],
    ['@CircuitBreaker', () => CircuitBreaker(loose({ errorsRate: 0.5, period: '1m', ttl: '1m', skipArgs: [0] }))],
    ['@PerfDegradation', () => PerfDegradation(loose({ ttl: '1m', skipArgs: [0] }))],
  ])('%s refuses skipArgs: its default key is the method', (where, make) => {
    const error = applying(make);
    expect(error).toBeInstanceOf(CashewsConfigError);
    expect((error as Error).message).toBe(
      `${where}: skipArgs does not apply: the default key of ${where} is the method, not its arguments.`,
    );
  });

  it('valid values still apply: booleans, classes and predicates', () => {
    class UpstreamError extends Error {}
    expect(applying(() => Cache({ ttl: '1m', lock: true }))).toBeUndefined();
    expect(applying(() => Cache({ ttl: '1m', lock: false }))).toBeUndefined();
    expect(applying(() => Cache({ ttl: '1m', cache: 'sessions' }))).toBeUndefined();
    expect(applying(() => Cache({ ttl: '1m', version: 2 }))).toBeUndefined();
    expect(applying(() => HitCache({ ttl: '1m', cacheHits: 3, version: 'v2' }))).toBeUndefined();
    expect(applying(() => Failover({ ttl: '1m', exceptions: [UpstreamError] }))).toBeUndefined();
    expect(
      applying(() => Failover({ ttl: '1m', exceptions: (error) => error instanceof UpstreamError })),
    ).toBeUndefined();
    expect(
      applying(() => Soft({ ttl: '1m', softTtl: '10s', exceptions: [UpstreamError], lock: true })),
    ).toBeUndefined();
  });
});
