/**
 * What a read answers inside the engine and the command pipeline when the key holds nothing usable: distinct
 * from a stored `undefined`. Command hooks see it as the result of a `get` that missed.
 * @example
 * ```ts
 * const countMisses: CommandHook = {
 *   name: 'countMisses',
 *   async handle(call, next) {
 *     const result = await next(call);
 *     if (call.command === 'get' && result === MISS) console.log(`miss: ${call.args[0]}`);
 *     return result;
 *   },
 * };
 * ```
 */
export const MISS: unique symbol = Symbol('cashews.miss');
/** The type of {@link MISS}: `if (value === MISS)` narrows to it. */
export type Miss = typeof MISS;

/** What a synchronous read answers when the value cannot be known without waiting (see `StrategyCache.readNow`). */
export const PENDING: unique symbol = Symbol('cashews.pending');
