/** Drives test/fixtures/client-side-worker.ts: a second process holding its own client-side cache. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const WORKER = join(process.cwd(), 'test', 'fixtures', 'client-side-worker.ts');

export interface RemoteCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  state(): Promise<{ tracking: boolean; localSize: number }>;
  close(): Promise<void>;
}

/** Starts the worker on `url` and resolves once its cache is connected (killed after `timeoutMs` regardless). */
export async function startRemoteCache(url: string, timeoutMs = 60_000): Promise<RemoteCache> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, NODE_OPTIONS: '', CACHE_URL: url },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  killer.unref();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 0;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => {
      const error = new Error(`client-side worker exited with ${code}: ${stderr}`);
      reject(error);
      for (const { reject: fail } of waiting.values()) fail(error);
      waiting.clear();
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as { ready?: boolean; id?: number; value?: unknown; error?: string };
      if (message.ready) return resolve();
      const pending = waiting.get(message.id ?? -1);
      if (!pending) return;
      waiting.delete(message.id ?? -1);
      if (message.error) pending.reject(new Error(message.error));
      else pending.resolve(message.value);
    });
  });
  const call = (op: string, key?: string, value?: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      child.stdin!.write(`${JSON.stringify({ id, op, key, value })}\n`);
    });
  try {
    await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    get: (key) => call('get', key),
    set: (key, value) => call('set', key, value),
    state: () => call('state') as Promise<{ tracking: boolean; localSize: number }>,
    close: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call('close').catch(() => undefined);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
      clearTimeout(timer);
      child.kill('SIGKILL');
      clearTimeout(killer);
    },
  };
}
