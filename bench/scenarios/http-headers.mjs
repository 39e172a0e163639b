// The X-From-Cache headers on a cached GET must cost little (issue #15: "headers without a
// tax"): the same @Cache hit with detectHeaders on vs off, in interleaved paired rounds.
import { closeClients, compareHttp, startApp } from '../http/apps.mjs';

export const name = 'http-headers';
export const description = 'HTTP: @Cache hit with X-From-Cache headers (detectHeaders) vs without (req/s)';

export async function run(ctx) {
  await ctx.lib('CashewsModule');
  const off = await startApp('cashews');
  const on = await startApp('cashews-headers');
  try {
    return await compareHttp(ctx, {
      anchor: 'hit without headers',
      contenders: [
        { name: 'hit without headers', url: `${off.base}/p/cached` },
        { name: 'hit with headers', url: `${on.base}/p/cached` },
      ],
      targets: [{ contender: 'hit with headers', min: 0.95, label: '>= 0.95x without headers' }],
    });
  } finally {
    closeClients();
    await Promise.all([off.stop(), on.stop()]);
  }
}
