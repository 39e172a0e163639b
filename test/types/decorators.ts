/**
 * Type tests of the decorator surface, checked by `npm run test:types` (tsc --noEmit on test/types/).
 * Every `@ts-expect-error` line must be a compile error; every other line must compile.
 * Imports go through '../../lib/index.js' only, so the same fixtures can type-check the packed package.
 */
import { applyDecorators, Controller, Get, Injectable, Param } from '@nestjs/common';
import { Observable, of } from 'rxjs';
import {
  Cache,
  CircuitBreaker,
  Early,
  Failover,
  HitCache,
  Invalidate,
  Locked,
  NoCache,
  PerfDegradation,
  RateLimit,
  SlidingRateLimit,
  Soft,
} from '../../lib/index.js';

interface Token {
  expiresIn: number;
}

interface User {
  id: string;
}

class UpstreamError extends Error {}

declare const token: Token;

@Injectable()
export class TypedService {
  // The result type is inferred from the callback's annotation and checked against the method.
  @Cache({ ttl: (t: Token) => t.expiresIn * 1000 })
  async annotated(): Promise<Token> {
    return token;
  }

  // Or given explicitly: the callback's parameter is then typed without an annotation.
  @Cache<Token>({ ttl: (t) => t.expiresIn * 1000, condition: (t) => t.expiresIn > 0 })
  async explicit(): Promise<Token> {
    return token;
  }

  // A callback expecting another shape than the method resolves to does not compile.
  // @ts-expect-error the method resolves to Token, not { wrong: 1 }
  @Cache({ ttl: (r: { wrong: 1 }) => r.wrong })
  async wrongResult(): Promise<Token> {
    return token;
  }

  // @ts-expect-error explicit result type that the method does not resolve to
  @Cache<User>({ ttl: '1m' })
  async wrongExplicit(): Promise<Token> {
    return token;
  }

  // Without an annotation (and without @Cache<T>) the parameter is `unknown` under strict: TypeScript types a
  // decorator expression before it sees the method, so it cannot take the type from there.
  // @ts-expect-error 't' is of type 'unknown'
  @Cache({ ttl: (t) => t.expiresIn })
  async unannotated(): Promise<Token> {
    return token;
  }

  // A wider callback parameter is fine (it accepts what the method resolves to).
  @Failover({ ttl: '1h', condition: (r: Token | null) => r !== null })
  async wider(): Promise<Token> {
    return token;
  }

  @Early({ ttl: '10m', condition: (t: Token) => t.expiresIn > 0 })
  async early(): Promise<Token> {
    return token;
  }

  // @ts-expect-error Early: the method resolves to Token
  @Early({ ttl: '10m', condition: (t: User) => t.id !== '' })
  async earlyWrong(): Promise<Token> {
    return token;
  }

  @Soft({ ttl: '1h', condition: (t: Token) => t.expiresIn > 0 })
  async soft(): Promise<Token> {
    return token;
  }

  // @ts-expect-error Soft: the method resolves to Token
  @Soft({ ttl: '1h', condition: (t: User) => t.id !== '' })
  async softWrong(): Promise<Token> {
    return token;
  }

  @HitCache({ ttl: (t: Token) => t.expiresIn, cacheHits: 3 })
  async hits(): Promise<Token> {
    return token;
  }

  // @ts-expect-error HitCache: the method resolves to Token
  @HitCache({ ttl: (t: User) => t.id.length, cacheHits: 3 })
  async hitsWrong(): Promise<Token> {
    return token;
  }

  // @ts-expect-error Failover: the method resolves to Token
  @Failover({ ttl: (t: User) => t.id.length })
  async failoverWrong(): Promise<Token> {
    return token;
  }

  // Key functions: their argument list is checked against the method's.
  @Cache({ ttl: '1m', key: ([id]: readonly [string]) => `user:${id}` })
  async keyFunction(id: string): Promise<User> {
    return { id };
  }

  // @ts-expect-error the method takes a number, the key function a string
  @Cache({ ttl: '1m', key: ([id]: readonly [string]) => `user:${id}` })
  async keyFunctionWrong(id: number): Promise<User> {
    return { id: String(id) };
  }

  // @ts-expect-error a key function returns a string
  @Locked({ key: () => 42 })
  async lockedWrong(): Promise<void> {}

  @Locked({ key: ([id]: readonly [string]) => `invoice:${id}` })
  async locked(id: string): Promise<string> {
    return id;
  }

  @Cache({ ttl: '1m', skipArgs: ['manager'] })
  async skipping(id: string, manager: object): Promise<User> {
    return { id: `${id}${String(manager)}` };
  }

  @CircuitBreaker({ errorsRate: 50, period: '1m', ttl: '30s' })
  @PerfDegradation({ ttl: '30s' })
  async guarded(): Promise<number> {
    return 1;
  }

  // The rate limits' action answers instead of the method: its result must fit the method's.
  @RateLimit({ limit: 1, period: '1m', action: (id: string) => ({ id }) })
  async limited(id: string): Promise<User> {
    return { id };
  }

  // @ts-expect-error action returns a number, the method a User
  @RateLimit({ limit: 1, period: '1m', action: () => 42 })
  async limitedWrong(id: string): Promise<User> {
    return { id };
  }

  // @ts-expect-error action takes a number, the method a string
  @SlidingRateLimit({ limit: 1, period: '1m', action: (n: number) => ({ id: String(n) }) })
  async slidingWrong(id: string): Promise<User> {
    return { id };
  }

  @SlidingRateLimit({ limit: 1, period: '1m', action: async (id: string) => ({ id }) })
  async sliding(id: string): Promise<User> {
    return { id };
  }

  // Its key is the method (plus the client): no arguments to skip, and no stored result to version.
  @SlidingRateLimit({ limit: 1, period: '1m', key: 'send:{id}', prefix: 'p', cache: 'limits' })
  async slidingKeyed(id: string): Promise<User> {
    return { id };
  }

  // @ts-expect-error skipArgs is not an option of @SlidingRateLimit
  @SlidingRateLimit({ limit: 1, period: '1m', skipArgs: [0] })
  async slidingSkip(id: string): Promise<User> {
    return { id };
  }

  // @ts-expect-error skipArgs is not an option of @RateLimit (its key is the method, or the client)
  @RateLimit({ limit: 1, period: '1m', skipArgs: [0] })
  async limitedSkip(id: string): Promise<User> {
    return { id };
  }

  // @ts-expect-error skipArgs is not an option of @CircuitBreaker
  @CircuitBreaker({ errorsRate: 0.5, period: '1m', ttl: '1m', skipArgs: [0] })
  async circuitSkip(id: string): Promise<User> {
    return { id };
  }

  // @ts-expect-error skipArgs is not an option of @PerfDegradation
  @PerfDegradation({ ttl: '1m', skipArgs: [0] })
  async perfSkip(id: string): Promise<User> {
    return { id };
  }

  // @ts-expect-error version is not an option of @SlidingRateLimit
  @SlidingRateLimit({ limit: 1, period: '1m', version: 2 })
  async slidingVersion(id: string): Promise<User> {
    return { id };
  }

  // Invalidate's argsMap callbacks take this method's arguments.
  @Invalidate([TypedService, 'keyFunction'], { argsMap: { id: (user: User) => user.id } })
  async update(user: User): Promise<void> {
    void user;
  }

  // @ts-expect-error argsMap takes a string, the method a User
  @Invalidate([TypedService, 'keyFunction'], { argsMap: { id: (id: number) => String(id) } })
  async updateWrong(user: User): Promise<void> {
    void user;
  }

  // Issue #12: every storing decorator takes ttl as a function of the result and the call's arguments, tags and
  // timeCondition; the ones that store errors take cacheErrors (Error classes only), onlyErrors and errorTtl.
  @Early({ ttl: (t: Token, args) => t.expiresIn * Number(args.length), tags: ['token'], timeCondition: '1s' })
  async earlyByArgs(): Promise<Token> {
    return token;
  }

  @Soft({ ttl: (t: Token) => t.expiresIn, softTtl: '1s', cacheErrors: [UpstreamError], errorTtl: '5s' })
  async softWithErrors(): Promise<Token> {
    return token;
  }

  @HitCache({ ttl: '1m', cacheHits: 3, cacheErrors: [UpstreamError], onlyErrors: true, tags: ['board'] })
  async hitsWithErrors(): Promise<Token> {
    return token;
  }

  @Failover({ ttl: (t: Token, args) => (args[0] === 'x' ? t.expiresIn : 1000), tags: ['last'], timeCondition: 50 })
  async failoverTagged(id: string): Promise<Token> {
    return { expiresIn: id.length };
  }

  @Early({ ttl: '1m', background: false })
  async earlyWaited(): Promise<Token> {
    return token;
  }

  // @ts-expect-error Early: the ttl function takes a Token
  @Early({ ttl: (t: User) => t.id.length })
  async earlyTtlWrong(): Promise<Token> {
    return token;
  }

  // @ts-expect-error earlyTtl is a fixed duration, not a function
  @Early({ ttl: (t: Token) => t.expiresIn, earlyTtl: () => 1000 })
  async earlyAgeFunction(): Promise<Token> {
    return token;
  }

  // @ts-expect-error cacheErrors takes Error classes
  @Cache({ ttl: '1m', cacheErrors: [Date] })
  async notAnError(): Promise<Token> {
    return token;
  }

  // @ts-expect-error Failover stores no errors
  @Failover({ ttl: '1m', cacheErrors: [UpstreamError] })
  async failoverErrors(): Promise<Token> {
    return token;
  }

  // A sync provider method compiles (controllers may stay synchronous); the explorer refuses it at bootstrap.
  @Cache({ ttl: (t: Token) => t.expiresIn })
  syncProvider(): Token {
    return token;
  }
}

// Still assignable to Nest's MethodDecorator / ClassDecorator.
export const Cached = (): MethodDecorator =>
  applyDecorators(Cache({ ttl: '1m' }), RateLimit({ limit: 1, period: '1s' }));

@Cache({ ttl: '1m' })
@Controller('typed')
export class TypedController {
  @Get(':id')
  @NoCache()
  one(@Param('id') id: string): User {
    return { id };
  }

  // Observables are unwrapped like promises.
  @Get()
  @Cache({ ttl: (users: User[]) => users.length * 1000 })
  list(): Observable<User[]> {
    return of([]);
  }

  // @ts-expect-error the handler emits User[], not Token
  @Cache({ ttl: (t: Token) => t.expiresIn })
  @Get('wrong')
  wrong(): Observable<User[]> {
    return of([]);
  }

  // A key function reading the request.
  @Get('me')
  @Cache({ ttl: '1m', key: (_args, req?: { user?: User }) => req?.user?.id ?? '' })
  me(): User {
    return { id: 'me' };
  }
}
