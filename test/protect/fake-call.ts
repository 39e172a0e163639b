/** A {@link StrategyCall} for strategy unit specs, recording what the strategy reports. */
import type { LimitInfo, StrategyCall } from '../../lib/strategies/strategy.js';

export function fakeCall(key: string, args: unknown[] = []): StrategyCall & { limits: LimitInfo[] } {
  const limits: LimitInfo[] = [];
  return {
    target: 'Svc.method',
    args,
    key,
    limits,
    report: async () => undefined,
    background: () => undefined,
    reportLimit: (info) => void limits.push(info),
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The rejection of `promise` (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
