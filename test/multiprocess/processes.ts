/**
 * Helpers of the multi-process suites: a throw-away tsc build of lib/ (child processes run through tsx,
 * which emits no decorator metadata, so they load the compiled library), and child processes that are
 * bounded in time and always killed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { ERROR_MARK, RESULT_MARK } from '../fixtures/worker-protocol.js';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(process.cwd());
export const WORKER = join(ROOT, 'test', 'fixtures', 'mp-worker.ts');

export interface LibBuild {
  /** Absolute path of the built `index.js`. */
  entry: string;
  remove(): void;
}

/** Compiles lib/ with tsc (which emits decorator metadata) into a temporary directory. */
export async function buildLib(): Promise<LibBuild> {
  const dir = mkdtempSync(join(tmpdir(), 'cashews-mp-'));
  const out = join(dir, 'lib');
  mkdirSync(out);
  // The build resolves @nestjs/*, ioredis, ... from the repository's node_modules.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['-p', 'tsconfig.build.json', '--outDir', out, '--declaration', 'false', '--sourceMap', 'false'];
  const output = await new Promise<string>((done) => {
    execFile(process.execPath, [tsc, ...args], { cwd: ROOT, timeout: 120_000 }, (_error, stdout, stderr) =>
      done(`${stdout}${stderr}`),
    );
  });
  const entry = join(out, 'index.js');
  if (!existsSync(entry)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`tsc did not emit ${entry}:\n${output}`);
  }
  return { entry, remove: () => rmSync(dir, { recursive: true, force: true }) };
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

const live = new Set<ChildProcess>();

/** Starts one worker (`script`, default mp-worker.ts); `done` resolves when it exits (killed after `timeoutMs`). */
export function startWorker(env: Record<string, string>, timeoutMs = 45_000, script = WORKER): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
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

/** Kills every worker still running (afterEach/afterAll). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Asserts-friendly summary of a failed worker. */
export function describeFailure(result: WorkerResult): string {
  return `worker exited with ${result.code}: ${result.error ?? ''}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}
