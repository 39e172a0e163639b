/* global fetch -- Node 18+ */
// Boots a generated consumer app (`node <argv[2]>`, default dist/main.js, in the current directory) on a free port, asks
// GET /products/7 twice and checks the second answer came from the cache (a cached provider), the same for
// GET /products/8/cached (a cached handler), then stops the app.
// Exits non-zero, with the app's output, if the app does not start within 30 s or answers wrongly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const app = spawn(process.execPath, [process.argv[2] ?? 'dist/main.js'], { env: { ...process.env, PORT: '0' } });
let output = '';
const url = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('the app did not print "listening on <url>" within 30 s')), 30_000);
  const read = (chunk) => {
    output += chunk;
    const match = /listening on (\S+)/.exec(output);
    if (match) {
      clearTimeout(timer);
      resolve(match[1].replace('[::1]', '127.0.0.1'));
    }
  };
  app.stdout.on('data', read);
  app.stderr.on('data', read);
  app.on('exit', (code) => reject(new Error(`the app exited with ${code} before listening`)));
});
try {
  const get = async () => {
    const response = await fetch(`${url}/products/7`);
    assert.equal(response.status, 200, `GET /products/7 answered ${response.status}`);
    return response.json();
  };
  const first = await get();
  const second = await get();
  assert.deepEqual(first, { id: 7, runs: 1, ping: 'PONG' });
  assert.deepEqual(second, { id: 7, runs: 1, ping: 'PONG' }, 'the second call must be served from the cache');
  // A decorated handler (a direct route): the second call is a hit, the handler ran once.
  const cached = [];
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${url}/products/8/cached`);
    assert.equal(response.status, 200, `GET /products/8/cached answered ${response.status}`);
    cached.push(await response.json());
  }
  assert.deepEqual(cached, [
    { id: 8, handlerRuns: 1 },
    { id: 8, handlerRuns: 1 },
  ]);
  console.log(
    `booted ${url}: GET /products/7 twice, the provider ran once; GET /products/8/cached twice, the handler once`,
  );
} catch (error) {
  console.error(output);
  throw error;
} finally {
  app.kill('SIGTERM');
}
