// Starts the HTTP apps of bench/http/app-child.mjs and drives them: `compareHttp` with autocannon in a process of
// its own for a fixed time per round (the judged figures), `load` with keep-alive requests from the bench process
// (warm-ups and exact request counts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { Agent, get } from 'node:http';
import { promisify } from 'node:util';
import { stats } from '../harness.mjs';

const CHILD = fileURLToPath(new URL('./app-child.mjs', import.meta.url));
// BENCH_HTTP_ENTRY: another build's dist/esm/entry.js for the apps (an A/B of a change, see the README).
const ENTRY = process.env.BENCH_HTTP_ENTRY ?? fileURLToPath(new URL('../../dist/esm/entry.js', import.meta.url));

/** Starts one app variant; resolves with its base URL and a `stop()`. */
export function startApp(variant, cacheUrl = 'mem://', env = {}) {
  const child = spawn(process.execPath, [CHILD, variant, cacheUrl, ENTRY], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app ${variant} did not start within 20 s`));
    }, 20_000);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        base: `http://127.0.0.1:${match[1]}`,
        stop: () =>
          new Promise((done) => {
            child.once('exit', done);
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
          }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app ${variant} exited with ${code} before listening`));
    });
  });
}

const agents = new Map();

/** Exactly `n` GET requests to `url`, `connections` at a time over keep-alive sockets; throws on any non-2xx. */
export async function load(url, n, connections = 16) {
  const { host } = new URL(url);
  let agent = agents.get(host);
  if (!agent) agents.set(host, (agent = new Agent({ keepAlive: true, maxSockets: connections })));
  let next = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      get(url, { agent }, (res) => {
        res.resume();
        res.once('end', () =>
          res.statusCode >= 200 && res.statusCode < 300 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`)),
        );
      }).once('error', reject);
    });
  const worker = async () => {
    while (next < n) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(connections, n) }, worker));
}

/** Closes the keep-alive sockets of every app. */
export function closeClients() {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/** A contender of `ctx.compare` that sends `n` requests per batch. */
export function httpContender(name, url, note) {
  return { name, note, quantum: 16, batch: (n) => load(url, n) };
}

const AUTOCANNON = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));
const execFileAsync = promisify(execFile);

/** Requests per second of `url` over `seconds`, measured by autocannon in its own process (16 connections). */
async function rate(url, seconds) {
  const { stdout } = await execFileAsync(process.execPath, [AUTOCANNON, '-c', '16', '-d', String(seconds), '-j', url], {
    timeout: (seconds + 20) * 1000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const result = JSON.parse(stdout);
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad) throw new Error(`${url}: ${bad} of ${result.requests.total} requests failed`);
  return result.requests.total / seconds;
}

/**
 * `ctx.compare`'s report for HTTP contenders (`{ name, url }`), measured in time-based rounds: each round runs
 * autocannon for `seconds` against every contender in turn (rotating the start), and ratios are taken within a
 * round. One warm-up round is not counted.
 */
export async function compareHttp(ctx, { anchor, contenders, targets = [], pairs = [], seconds = 2 }) {
  const rounds = Math.max(5, Math.min(ctx.rounds, 9));
  const rates = new Map(contenders.map((c) => [c.name, []]));
  for (let r = -1; r < rounds; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + Math.max(r, 0)) % contenders.length];
      const value = await rate(c.url, r < 0 ? 1 : seconds);
      if (r >= 0) rates.get(c.name).push(value);
    }
  }
  ctx.log(`  ${rounds} rounds of ${seconds} s per contender (autocannon, 16 connections, own process)`);
  const ratios = (a, b) => rates.get(a).map((value, r) => value / rates.get(b)[r]);
  const results = contenders.map((c) => ({
    name: c.name,
    anchor: c.name === anchor,
    note: c.note,
    opsPerRound: Math.round(stats(rates.get(c.name)).median * seconds),
    opsPerSec: stats(rates.get(c.name)),
    vsAnchor: stats(ratios(c.name, anchor)),
  }));
  const byName = new Map(results.map((res) => [res.name, res]));
  const evaluated = targets.map((t) => ({
    ...t,
    anchor,
    actual: byName.get(t.contender).vsAnchor.median,
    pass: byName.get(t.contender).vsAnchor.median >= t.min,
  }));
  const extra = pairs.map(([a, b]) => ({ a, b, ratio: stats(ratios(a, b)) }));
  return { anchor, rounds, roundMs: seconds * 1000, contenders: results, targets: evaluated, pairs: extra };
}
