/* global fetch */
// 50 concurrent cold requests to one cached route whose handler takes 100 ms: how many times the handler runs.
// Ours must run it once (single flight); @nestjs/cache-manager's CacheInterceptor is shown for comparison.
import { startApp } from '../http/apps.mjs';

export const name = 'http-stampede';
export const description = 'HTTP: handler runs for 50 concurrent cold requests to one cached route';

async function coldRuns(variant) {
  const app = await startApp(variant);
  try {
    const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(`${app.base}/p/slow`)));
    const ok = answers.filter((answer) => answer.ok).length;
    await Promise.all(answers.map((answer) => answer.arrayBuffer()));
    const { runs } = await (await fetch(`${app.base}/p/runs`)).json();
    return { runs, ok };
  } finally {
    await app.stop();
  }
}

export async function run(ctx) {
  await ctx.lib('CashewsModule');
  const ours = await coldRuns('cashews');
  const theirs = await coldRuns('cache-manager');
  return {
    checks: [
      {
        label: 'nestjs-cashews @Cache, 50 concurrent cold requests',
        value: ours.runs,
        expected: 1,
        detail: `${ours.ok}/50 answered 200; @nestjs/cache-manager CacheInterceptor ran the handler ${theirs.runs} times (${theirs.ok}/50 answered 200)`,
      },
    ],
  };
}
