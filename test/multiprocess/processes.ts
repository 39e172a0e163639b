/**
 * Helpers of the multi-process suites: one build of lib/ and of the worker fixtures per test run (child processes
 * need decorator metadata, which tsx does not emit, so they load compiled JavaScript), and long-lived worker
 * processes that run one job after another, bounded in time and always killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type ts from 'typescript';
import { ERROR_MARK, JOB_MARK, RESULT_MARK, type JobReply } from '../fixtures/worker-protocol.js';
import { ENV } from '../support/global-setup.js';

export const ROOT = resolve(process.cwd());

/** The worker fixtures compiled with lib/ (worker-protocol.ts is what they import). */
const FIXTURES = ['mp-worker.ts', 'protect-worker.ts', 'tx-worker.ts', 'worker-protocol.ts'].map((name) =>
  join(ROOT, 'test', 'fixtures', name),
);

export interface LibBuild {
  /** Absolute path of the built `index.js`. */
  entry: string;
  /** Absolute path of a compiled worker fixture, e.g. `fixture('mp-worker')`. */
  fixture(name: string): string;
  /** Removes a build of its own (no shared run directory); a shared one goes with the run (global teardown). */
  remove(): void;
}

/**
 * TypeScript, loaded only by the file that builds: inside Jest it costs ~2 s of CPU to load, which a file that
 * finds the run's build already made need not pay.
 */
async function typescript(): Promise<typeof ts> {
  return (await import('typescript')).default;
}

function compilerOptions(ts: typeof import('typescript')): { options: ts.CompilerOptions; fileNames: string[] } {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.build.json could not be read');
  // ES modules, as tsc emits them under the package's "type": "module" (transpileModule alone cannot tell).
  const options = { ...config.options, module: ts.ModuleKind.ES2022, declaration: false, sourceMap: false };
  return { options: { ...options, inlineSourceMap: false }, fileNames: config.fileNames };
}

/**
 * Transpiles lib/ and the worker fixtures file by file (TypeScript's transpileModule, which emits decorator
 * metadata) into `dir`. The sources are written for isolated transpiling (`isolatedModules`), so this is what tsc
 * emits, without a type check: `npm run typecheck` does that once.
 */
async function transpileInto(dir: string): Promise<void> {
  const ts = await typescript();
  const { options, fileNames } = compilerOptions(ts);
  const files = [...fileNames, ...FIXTURES];
  mkdirSync(dir, { recursive: true });
  // The build resolves @nestjs/*, ioredis, ... from the repository's node_modules.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  for (const file of files) {
    if (file.endsWith('.d.ts')) continue; // declarations only (lib/backends/cluster-key-slot.d.ts): nothing to emit
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file });
    const target = join(dir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  if (!existsSync(join(dir, 'lib', 'index.js'))) throw new Error(`the build did not emit ${dir}/lib/index.js`);
}

const sleep = (ms: number) => new Promise<void>((resolveSleep) => setTimeout(resolveSleep, ms));

function libBuild(dir: string, remove: () => void): LibBuild {
  return {
    entry: join(dir, 'lib', 'index.js'),
    fixture: (name) => join(dir, 'test', 'fixtures', `${name}.js`),
    remove,
  };
}

/**
 * The build of lib/ and the worker fixtures. Under global setup, one build per content of the sources, kept in
 * node_modules/.cache/nestjs-cashews/ between runs (as ts-jest keeps its transforms): the multi-process files run in
 * parallel workers, so the first one builds (under a lock directory) and the others wait for it, and a run whose
 * sources are unchanged builds nothing, instead of paying the ~5 s of CPU of a build (and ~2 s of loading TypeScript).
 * Builds of other contents older than a day are removed. Without global setup, a build of its own, removed by
 * `remove()`.
 */
export async function buildLib(): Promise<LibBuild> {
  const runDir = process.env[ENV.runDir];
  if (!runDir) {
    const dir = mkdtempSync(join(tmpdir(), 'cashews-mp-'));
    try {
      await transpileInto(dir);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return libBuild(dir, () => rmSync(dir, { recursive: true, force: true }));
  }
  // What the build reads, hashed without TypeScript: every file under lib/ (spec files too: a superset of what
  // tsconfig.build.json includes), the fixtures and the two tsconfig files.
  const libFiles = readdirSync(join(ROOT, 'lib'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  const hash = createHash('sha256');
  // The compiler's version too: a build kept from another TypeScript may emit differently.
  hash.update(readFileSync(join(ROOT, 'node_modules', 'typescript', 'package.json')));
  for (const file of [join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json'), ...FIXTURES, ...libFiles]) {
    hash.update(file).update(readFileSync(file));
  }
  const cacheDir = join(ROOT, 'node_modules', '.cache', 'nestjs-cashews');
  mkdirSync(cacheDir, { recursive: true });
  const name = `mp-build-${hash.digest('hex').slice(0, 16)}`;
  pruneBuilds(cacheDir, name);
  const final = join(cacheDir, name);
  const lock = `${final}.lock`;
  const deadline = Date.now() + 120_000;
  while (!existsSync(final)) {
    if (Date.now() > deadline) throw new Error(`no build of lib/ in ${final} within 120 s (lock ${lock})`);
    try {
      mkdirSync(lock);
    } catch {
      await sleep(100); // another file is building it
      continue;
    }
    try {
      if (existsSync(final)) break;
      const partial = `${final}.${process.pid}`;
      rmSync(partial, { recursive: true, force: true });
      await transpileInto(partial);
      renameSync(partial, final);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  // Marks the build as used, so that pruning by another content's run leaves it for a day.
  const now = new Date();
  utimesSync(final, now, now);
  return libBuild(final, () => undefined);
}

/** Removes the builds of other source contents not used for a day (a build in use is touched by its run). */
function pruneBuilds(cacheDir: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const entry of readdirSync(cacheDir)) {
    if (!entry.startsWith('mp-build-') || entry === keep || entry.endsWith('.lock')) continue;
    const path = join(cacheDir, entry);
    try {
      if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by a concurrent run: nothing to do.
    }
  }
}

export interface JobWorker {
  readonly pid: number | undefined;
  /** Sends one job; resolves with its result, rejects with its error (the worker is killed past `timeoutMs`). */
  run(job: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
}

const live = new Set<ChildProcess>();

/**
 * Starts a long-lived worker: `node <script>` (a compiled fixture, see {@link buildLib}) answering jobs sent as JSON
 * lines on its stdin (test/fixtures/worker-protocol.ts). One process runs many scenarios, each in a Nest app of
 * its own, so a file pays for a process start (~2 s of CPU) once per worker, not once per scenario.
 */
export function startJobWorker(script: string, env: Record<string, string>): JobWorker {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  const waiting = new Map<number, { resolve: (value: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const failure = (why: string) =>
    new Error(`worker ${child.pid}: ${why}\nstdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr.slice(-4000)}`);
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith(JOB_MARK)) {
      stdout += `${line}\n`;
      return;
    }
    const reply = JSON.parse(line.slice(JOB_MARK.length)) as JobReply;
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.error !== undefined) pending?.reject(failure(`job failed: ${reply.error}`));
    else pending?.resolve(reply.result as Record<string, unknown>);
  });
  child.once('exit', (code, signal) => {
    live.delete(child);
    for (const pending of waiting.values()) pending.reject(failure(`exited with ${code ?? signal}`));
    waiting.clear();
  });
  let next = 0;
  return {
    pid: child.pid,
    run: (job, timeoutMs = 45_000) =>
      new Promise((resolveJob, rejectJob) => {
        const id = next++;
        const timer = setTimeout(() => {
          rejectJob(failure(`job ${JSON.stringify(job)} did not finish within ${timeoutMs} ms`));
          child.kill('SIGKILL');
        }, timeoutMs);
        waiting.set(id, {
          resolve: (value) => (clearTimeout(timer), resolveJob(value)),
          reject: (error) => (clearTimeout(timer), rejectJob(error)),
        });
        if (child.exitCode !== null || child.signalCode !== null) {
          waiting.get(id)!.reject(failure('not running'));
          waiting.delete(id);
          return;
        }
        child.stdin!.write(`${JSON.stringify({ ...job, id })}\n`);
      }),
  };
}

export interface WorkerResult {
  code: number | null;
  result?: Record<string, unknown>;
  error?: string;
  stdout: string;
  stderr: string;
}

export interface Worker {
  child: ChildProcess;
  done: Promise<WorkerResult>;
}

/**
 * Starts a one-shot worker, `node <script>` (a compiled fixture, see {@link buildLib}, answering with
 * worker-protocol.ts's runWorker); `done` resolves when it exits (killed after `timeoutMs`). For a test about the
 * process itself (killed mid-way); scenarios that only need several processes are cheaper on {@link startJobWorker}.
 * Compiled, not run through tsx: tsx transpiles lib/ again in every process (about 1.2 s more CPU each).
 */
export function startWorker(env: Record<string, string>, timeoutMs = 45_000, script: string): Worker {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<WorkerResult>((resolveDone) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      live.delete(child);
      const resultLine = stdout.split('\n').find((line) => line.startsWith(RESULT_MARK));
      const errorLine = stdout.split(`\n${ERROR_MARK}`)[1];
      resolveDone({
        code,
        result: resultLine ? (JSON.parse(resultLine.slice(RESULT_MARK.length)) as Record<string, unknown>) : undefined,
        error: errorLine ?? (stdout.startsWith(ERROR_MARK) ? stdout.slice(ERROR_MARK.length) : undefined),
        stdout,
        stderr,
      });
    });
  });
  return { child, done };
}

/** Asserts-friendly summary of a failed one-shot worker. */
export function describeFailure(result: WorkerResult): string {
  return `worker exited with ${result.code}: ${result.error ?? ''}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** Kills every worker still running, of both kinds (a job worker also exits by itself once its stdin closes). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
