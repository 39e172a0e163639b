// A route without any decorator must cost the same whether the app imports CashewsModule or not (issue #15:
// "no tax on routes that do not cache"). Both apps run in child processes; autocannon drives them in
// interleaved rounds, and the verdict is the median of the paired per-round ratios.
import { closeClients, httpContender, startApp } from '../http/apps.mjs';

export const name = 'http-undecorated';
export const description = 'HTTP: an undecorated route, app with vs without CashewsModule (req/s)';

export async function run(ctx) {
  await ctx.lib('CashewsModule');
  const plain = await startApp('plain');
  const cashews = await startApp('cashews');
  try {
    return await ctx.compare({
      anchor: 'app without the module',
      contenders: [
        httpContender('app without the module', `${plain.base}/p/bare`),
        httpContender('app with CashewsModule', `${cashews.base}/p/bare`),
      ],
      targets: [{ contender: 'app with CashewsModule', min: 0.97, label: '>= 0.97x without the module' }],
    });
  } finally {
    closeClients();
    await Promise.all([plain.stop(), cashews.stop()]);
  }
}
