// Starts the HTTP apps of bench/http/app-child.mjs and drives them with keep-alive requests from the bench
// process (the apps run in child processes). The client costs the same for every app; autocannon was tried
// first, but it ends a run on its one-second sampling tick, which makes short batches meaningless.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent, get } from 'node:http';

const CHILD = fileURLToPath(new URL('./app-child.mjs', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../dist/esm/entry.js', import.meta.url));

/** Starts one app variant; resolves with its base URL and a `stop()`. */
export function startApp(variant, cacheUrl = 'mem://') {
  const child = spawn(process.execPath, [CHILD, variant, cacheUrl, ENTRY], { stdio: ['ignore', 'pipe', 'inherit'] });
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
