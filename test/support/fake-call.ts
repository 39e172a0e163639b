/** A {@link StrategyCall} for strategy unit specs, recording what the strategy reports and schedules. */
import type { LimitInfo, StrategyCall } from '../../lib/strategies/strategy.js';

export interface RecordingCall extends StrategyCall {
  /** Hits passed to `report`, in order. */
  reports: unknown[];
  /** Work passed to `background`, not run: the spec decides when. */
  pending: Array<() => Promise<unknown>>;
  /** Rate-limit states passed to `reportLimit`. */
  limits: LimitInfo[];
  /** How many times `reportRejection` was called. */
  rejections: number;
}

export function fakeCall(key: string, args: unknown[] = []): RecordingCall {
  const call: RecordingCall = {
    target: 'Svc.method',
    args,
    key,
    reports: [],
    pending: [],
    limits: [],
    rejections: 0,
    report: async (hit) => void call.reports.push(hit),
    background: (work) => void call.pending.push(work),
    reportLimit: (info) => void call.limits.push(info),
    reportRejection: () => void call.rejections++,
  };
  return call;
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
