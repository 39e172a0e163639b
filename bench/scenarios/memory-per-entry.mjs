// Memory held per entry: 100k objects of ~200 bytes in mem:// vs lru-cache holding them (the anchor) and
// cache-manager 7 on Keyv's in-memory store. Each contender fills a fresh process (bench/memory-child.mjs), three
// times; the median bytes per entry is reported and ours is held to 1.1x lru-cache.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const name = 'memory-per-entry';
export const description = 'retained heap per entry, 100k x ~200 B objects, mem:// vs lru-cache';

const execFileAsync = promisify(execFile);
const ENTRIES = 100_000;
const RUNS = 3;
const child = fileURLToPath(new URL('../memory-child.mjs', import.meta.url));
const libUrl = new URL('../../dist/esm/entry.js', import.meta.url).href;

async function perEntry(kind) {
  const figures = [];
  for (let run = 0; run < RUNS; run++) {
    const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', child, kind, String(ENTRIES), libUrl], {
      timeout: 120_000,
    });
    figures.push(JSON.parse(stdout.trim().split('\n').pop()).perEntry);
  }
  figures.sort((a, b) => a - b);
  return { median: figures[RUNS >> 1], range: `${Math.round(figures[0])}..${Math.round(figures[RUNS - 1])}` };
}

export async function run(ctx) {
  await ctx.lib('createCache');
  const lru = await perEntry('lru-cache');
  const ours = await perEntry('nestjs-cashews');
  const manager = await perEntry('cache-manager');
  const ratio = (x) => Math.round((x.median / lru.median) * 100) / 100;
  ctx.log(
    `  bytes per entry (median of ${RUNS} processes, range): lru-cache ${Math.round(lru.median)} (${lru.range}), ` +
      `nestjs-cashews ${Math.round(ours.median)} (${ours.range}), cache-manager ${Math.round(manager.median)} (${manager.range})`,
  );
  return {
    checks: [
      {
        label: 'mem:// bytes per entry vs lru-cache holding the same objects (ratio)',
        value: ratio(ours),
        max: 1.1,
        detail: `cache-manager ${ratio(manager)}x`,
      },
    ],
  };
}
