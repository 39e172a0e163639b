// A route without any decorator must cost the same whether the app imports CashewsModule or not (issue #15:
// "no tax on routes that do not cache"). Both apps run in child processes; autocannon (own process) drives them in
// interleaved time-based rounds, and the verdict is the median of the paired per-round ratios.
import { closeClients, compareHttp, startApp } from '../http/apps.mjs';

export const name = 'http-undecorated';
export const description = 'HTTP: an undecorated route, app with vs without CashewsModule (req/s)';

export async function run(ctx) {
  await ctx.lib('CashewsModule');
  const plain = await startApp('plain');
  const cashews = await startApp('cashews');
  try {
    return await compareHttp(ctx, {
      anchor: 'app without the module',
      contenders: [
        { name: 'app without the module', url: `${plain.base}/p/bare` },
        { name: 'app with CashewsModule', url: `${cashews.base}/p/bare` },
      ],
      targets: [{ contender: 'app with CashewsModule', min: 0.97, label: '>= 0.97x without the module' }],
    });
  } finally {
    closeClients();
    await Promise.all([plain.stop(), cashews.stop()]);
  }
}
