import type { Observable } from 'rxjs';

/**
 * Types of the decorator surface. TypeScript checks a decorator expression (`@Cache({ ... })`) before it sees
 * the method, so an option callback cannot take its parameter type from the method: an unannotated
 * `ttl: (token) => …` sees `unknown` under `strict`. What the types do instead: the result and argument
 * types are inferred from the callbacks' annotations (`ttl: (token: Token) => …`) or given explicitly
 * (`@Cache<Token>({ ... })`), and the decorator itself is generic over the decorated method, so a method
 * whose result or arguments do not match what the options expect does not compile.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the constraint "any method" needs `any` parameters
export type AnyMethod = (...args: any[]) => unknown;

/** What callers of a method get once awaited: `Promise<T>` (any thenable) and `Observable<T>` give `T`. */
export type MethodResult<F> = F extends (...args: never[]) => infer Out ? Unwrap<Out> : never;

type Unwrap<T> = T extends PromiseLike<infer U> ? U : T extends Observable<infer U> ? U : T;

/** A method's arguments, as option callbacks see them (the whole argument list). */
export type MethodArgs<F> = F extends (...args: infer A) => unknown ? A : never;

/**
 * A key computed by a function of the call: the method's arguments (on a controller, the handler's route
 * arguments read from the request) and, on controllers, the request. Declared bivariantly so that the request
 * may be annotated with the framework's type (`(args, req?: Request) => …`).
 */
export type KeyFunctionOption<A extends readonly unknown[] = readonly unknown[]> = {
  bivariant(args: A, req?: unknown): string | null | undefined;
}['bivariant'];

/** Shown in the compile error when the method's result is not what the options' callbacks take. */
export interface ResultMismatch<R> {
  'cashews: the options expect the decorated method to resolve to': R;
}

/** Shown in the compile error when the method's arguments are not what the options' callbacks take. */
export interface ArgsMismatch<A> {
  'cashews: the options expect the decorated method to take arguments': A;
}

type ArgsCheck<F, A extends readonly unknown[]> = ((...args: A) => void) extends (...args: MethodArgs<F>) => void
  ? unknown
  : ArgsMismatch<A>;

/** Option callbacks take results `R` (the method must resolve to an `R`) and arguments `A`. */
export type ResultCheck<F, R, A extends readonly unknown[]> = [MethodResult<F>] extends [R]
  ? ArgsCheck<F, A>
  : ResultMismatch<R>;

/** An option produces results `R` (`@RateLimit`'s `action`): they must fit the method's result. */
export type ProducedCheck<F, R, A extends readonly unknown[]> = [R] extends [MethodResult<F>]
  ? ArgsCheck<F, A>
  : ResultMismatch<R>;

/**
 * A method decorator generic over the decorated method `F`: it compiles only when `F` resolves to the `R`
 * the options take, and accepts the arguments `A` they take. Declared as a method (bivariant parameters) with
 * an unconstrained `F`, so it is still assignable to Nest's `MethodDecorator` (`applyDecorators(...)`).
 */
export type TypedMethodDecorator<R = unknown, A extends readonly unknown[] = readonly unknown[]> = {
  decorate<F>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<F> & ResultCheck<F, R, A>,
  ): void;
}['decorate'];

/** Like {@link TypedMethodDecorator}, for options that produce a result (`action` of the rate limits). */
export type ProducingMethodDecorator<R = never, A extends readonly unknown[] = readonly unknown[]> = {
  decorate<F>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<F> & ProducedCheck<F, R, A>,
  ): void;
}['decorate'];
