/**
 * The few checks the conformance suite needs beyond node:assert, written on node:assert so that the suite runs
 * under any test runner and fails with an `AssertionError` each of them reports.
 */
import assert from 'node:assert/strict';

export function assertAbove(actual: number, than: number): void {
  assert.ok(actual > than, `expected ${actual} > ${than}`);
}

export function assertAtLeast(actual: number, than: number): void {
  assert.ok(actual >= than, `expected ${actual} >= ${than}`);
}

export function assertBelow(actual: number, than: number): void {
  assert.ok(actual < than, `expected ${actual} < ${than}`);
}

export function assertAtMost(actual: number, than: number): void {
  assert.ok(actual <= than, `expected ${actual} <= ${than}`);
}

/** Every property of `expected` is deep-equal in `actual` (which may hold more). */
export function assertMatches<T extends object>(actual: T, expected: Partial<T>): void {
  const picked = Object.fromEntries(
    Object.keys(expected).map((key) => [key, (actual as Record<string, unknown>)[key]]),
  );
  assert.deepEqual(picked, expected);
}

/** `promise` rejects with an error carrying `code` (`CacheValueError`: `CASHEWS_VALUE`). */
export async function assertRejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown } | null)?.code, code, `expected an error with code ${code}`);
    return true;
  });
}
