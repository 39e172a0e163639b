/**
 * Walks the curl tour of sample-app/README.md against the sample app, in order, and checks what each step's
 * comment promises. The commands are read from the README itself (so the tour cannot drift from this test):
 * each `curl` becomes an HTTP request to the app (booted on mem:// on a free port, UPSTREAM_FAILURE_RATE=0);
 * `for … seq N` loops run N times (concurrently when the body ends in `&`); `sleep N` waits for background
 * refreshes and moves the clock N s forward (Jest fake `Date`/`performance` only: timers and the upstream's
 * latency stay real). The checks come from the comments: a leading status code, `X-From-Cache: <key>`
 * (`<hash>` matches any version), `X-From-Cache-Exc: <error>`, `Retry-After: <s>`, `no X-From-Cache`/`MISS`,
 * a JSON body (`…` for any value or further fields; numbers stand for any number), plus the few claims written in words (listed in CLAIMS below).
 */
import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { backgroundSettled } from '../../lib/index.js';

const README = new URL('../../sample-app/README.md', import.meta.url);

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One line of the tour, with what it printed. */
interface Step {
  line: string;
  comment: string;
  replies: Reply[];
}

/** The bash blocks of the "Curl tour" section, as lines (continuations and blank lines dropped). */
function tourLines(markdown: string): string[] {
  const section = markdown.slice(markdown.indexOf('## Curl tour'));
  const lines: string[] = [];
  for (const block of section.matchAll(/```bash\n([\s\S]*?)```/g)) {
    for (const line of block[1].split('\n')) if (line.trim()) lines.push(line);
  }
  return lines;
}

/** Splits a shell word list, honouring '…' and "…" quotes (enough for the tour's curl lines). */
function words(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inWord = false;
  for (const char of text) {
    if (quote) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) out.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (inWord) out.push(current);
  return out;
}

/** Splits `code # comment` (a `#` inside quotes is code). */
function splitComment(line: string): [string, string] {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (i === 0 || /\s/.test(line[i - 1])))
      return [line.slice(0, i).trim(), line.slice(i + 1).trim()];
  }
  return [line.trim(), ''];
}

describe('sample-app tour (sample-app/README.md)', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    // The app reads these when its modules are loaded and instantiated.
    const saved = { REDIS_URL: process.env.REDIS_URL, UPSTREAM_FAILURE_RATE: process.env.UPSTREAM_FAILURE_RATE };
    delete process.env.REDIS_URL;
    process.env.UPSTREAM_FAILURE_RATE = '0';
    try {
      const { AppModule } = await import('../../sample-app/app.module.js');
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const address = app.getHttpServer().address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    // Only the clock is faked: the app's timers, the upstream's latency and the sockets stay real.
    jest.useFakeTimers({
      advanceTimers: true,
      doNotFake: [
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'setImmediate',
        'clearImmediate',
        'nextTick',
        'queueMicrotask',
        'hrtime',
      ],
    });
  });

  afterAll(async () => {
    jest.useRealTimers();
    await backgroundSettled();
    await app?.close();
  });

  /** Runs one curl command line (`curl … URL …`) against the app. */
  async function curl(command: string): Promise<Reply> {
    const args = words(command);
    let method = 'GET';
    let body: string | undefined;
    const headers: Record<string, string> = {};
    let url: string | undefined;
    for (let i = 1; i < args.length; i++) {
      const arg = args[i];
      if (arg === '-X') method = args[++i];
      else if (arg === '-H') {
        const [name, ...value] = args[++i].split(':');
        headers[name.trim()] = value.join(':').trim();
      } else if (arg === '-d') body = args[++i];
      else if (arg === '-o' || arg === '-D' || arg === '-w') i++;
      else if (arg.startsWith('localhost:3000')) url = base + arg.slice('localhost:3000'.length);
    }
    if (!url) throw new Error(`no localhost:3000 URL in tour command: ${command}`);
    const response = await fetch(url, { method, headers, body });
    const replyHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (replyHeaders[name] = value));
    return { status: response.status, headers: replyHeaders, body: await response.text() };
  }

  /** Runs one tour line and answers the replies of its curl commands, in order. */
  async function run(code: string): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (const part of code.split(/;\s*(?!done|do\b)/)) {
      const command = part.trim();
      if (!command || command === 'wait' || command === 'echo' || command.startsWith('H=')) continue;
      if (command.startsWith('xdg-open')) continue;
      const sleep = /^sleep (\d+)$/.exec(command);
      if (sleep) {
        await backgroundSettled();
        jest.advanceTimersByTime(Number(sleep[1]) * 1000);
        continue;
      }
      const loop = /^for (\w+) in (.+?); do (.+?)( &)?;? done(; wait)?$/.exec(code.trim());
      if (loop) {
        const [, variable, list, body, background] = loop;
        const seq = /^\$\(seq (\d+)\)$/.exec(list);
        const values = seq ? Array.from({ length: Number(seq[1]) }, (_, i) => String(i + 1)) : list.split(/\s+/);
        const bodies = values.map((value) => body.split(';')[0].replaceAll(`$${variable}`, value).trim());
        if (background) replies.push(...(await Promise.all(bodies.map((b) => curl(b.replace(/\s*\|.*$/, ''))))));
        else for (const b of bodies) replies.push(await curl(b.replace(/\s*\|.*$/, '')));
        return replies;
      }
      if (command.startsWith('curl')) replies.push(await curl(command.replace(/\s*&$/, '').replace(/\s*\|.*$/, '')));
      else throw new Error(`tour line not understood by the walker: ${command}`);
    }
    return replies;
  }

  it('every step prints what its comment says', async () => {
    const steps: Step[] = [];
    const pending: Array<Promise<void>> = [];
    for (const line of tourLines(readFileSync(README, 'utf8'))) {
      const [code, comment] = splitComment(line);
      if (!code) continue;
      const step: Step = { line, comment, replies: [] };
      steps.push(step);
      if (/&$/.test(code) && !code.startsWith('for ')) {
        // A background command (`curl … &`): the next line runs while it is in flight; `wait` joins it.
        pending.push(run(code).then((replies) => void step.replies.push(...replies)));
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (code === 'wait') await Promise.all(pending.splice(0));
      else step.replies.push(...(await run(code)));
    }
    await Promise.all(pending);

    const failures: string[] = [];
    let checked = 0;
    for (const [index, step] of steps.entries()) {
      for (const problem of check(step, steps.slice(0, index))) failures.push(`${step.line.trim()}\n    ${problem}`);
      checked += claims(step.comment).length;
    }
    expect(failures).toEqual([]);
    // The walker found the tour and checked a claim on most lines (a rewrite that hid them would fail here).
    expect(steps.length).toBeGreaterThan(50);
    expect(checked).toBeGreaterThanOrEqual(55);
  }, 180_000);
});

type Claim = (step: Step, before: Step[]) => string | undefined;

const json = (reply: Reply | undefined): Record<string, unknown> => {
  try {
    return JSON.parse(reply?.body ?? '') as Record<string, unknown>;
  } catch {
    return {};
  }
};

/** The reply of the last earlier step that requested `path` (`/admin/upstream` GET or POST alike). */
function earlier(before: Step[], pattern: RegExp): Reply | undefined {
  for (let i = before.length - 1; i >= 0; i--) if (pattern.test(before[i].line)) return before[i].replies.at(-1);
  return undefined;
}

/** `expected` from a README comment (`…` matches anything, numbers match any number) against a reply body. */
function matches(expected: unknown, actual: unknown): boolean {
  if (expected === null) return true;
  if (typeof expected === 'number') return typeof actual === 'number';
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matches(e, actual[i]))
    );
  }
  if (typeof expected === 'object') {
    if (typeof actual !== 'object' || actual === null) return false;
    return Object.entries(expected).every(([k, v]) => matches(v, (actual as Record<string, unknown>)[k]));
  }
  return expected === actual;
}

const HEADER = /(?<!no )(X-[A-Za-z-]+|Retry-After|Age): ([^\s,]+)/g;

/** The checks a comment makes, each a function of the step and the steps before it. */
function claims(comment: string): Claim[] {
  const out: Claim[] = [];
  const every = /\beach\b/.test(comment);
  const status = /^(\d{3})\b/.exec(comment) ?? /HTTP\/1\.1 (\d{3})/.exec(comment);
  if (status) {
    out.push((step) => {
      const bad = (every ? step.replies : step.replies.slice(-1)).find((r) => r.status !== Number(status[1]));
      return bad && `status ${bad.status}, not ${status[1]}: ${bad.body.slice(0, 200)}`;
    });
    const error = /^\d{3} (\w+Error)/.exec(comment);
    if (error) {
      out.push((step) => {
        const bad = (every ? step.replies : step.replies.slice(-1)).find((r) => json(r).error !== error[1]);
        return bad && `error ${String(json(bad).error)}, not ${error[1]}`;
      });
    }
  }
  for (const [, name, value] of comment.matchAll(HEADER)) {
    out.push((step) => {
      const actual = step.replies.at(-1)?.headers[name.toLowerCase()];
      if (actual === undefined) return `no ${name} header (expected ${value})`;
      if (/^\d+$/.test(value)) {
        return Math.abs(Number(actual) - Number(value)) <= 1 ? undefined : `${name}: ${actual}, not ${value}`;
      }
      const pattern = new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<hash>/g, '[0-9a-f]+')}$`);
      return pattern.test(actual) ? undefined : `${name}: ${actual}, not ${value}`;
    });
  }
  if (/\bMISS\b|no X-From-Cache/.test(comment)) {
    out.push((step) => {
      const header = step.replies.at(-1)?.headers['x-from-cache'];
      return header === undefined ? undefined : `X-From-Cache: ${header}, expected none`;
    });
  }
  const body = /(\{.*\})/.exec(comment);
  if (body) {
    const text = body[1].replace(/,…\}/g, '}').replace(/\{…\}|…/g, 'null');
    let expected: unknown;
    try {
      expected = JSON.parse(text);
    } catch {
      expected = undefined;
    }
    if (expected !== undefined) {
      out.push((step) =>
        matches(expected, json(step.replies.at(-1))) ? undefined : `body ${step.replies.at(-1)?.body}, not ${body[1]}`,
      );
    }
  }
  // Claims written in words.
  if (comment.includes('"calls" went up by 1')) {
    out.push((step, before) => {
      const was = json(earlier(before, /admin\/upstream\s*$/)).calls as number;
      const now = json(step.replies.at(-1)).calls as number;
      return now === was + 1 ? undefined : `"calls" went from ${was} to ${now}`;
    });
  }
  if (comment.includes('"calls" grew by 5')) {
    out.push((step, before) => {
      const was = json(earlier(before, /"healthy":false/)).calls as number;
      const now = json(step.replies.at(-1)).calls as number;
      return now === was + 5 ? undefined : `"calls" went from ${was} to ${now}`;
    });
  }
  if (comment.includes('new "asOf"')) {
    out.push((step, before) => {
      const was = json(earlier(before, /products\/1\/price\s+#\s*~2 ms/)).asOf;
      const now = json(step.replies.at(-1)).asOf;
      return now !== undefined && now !== was ? undefined : `"asOf" ${String(now)} is not new`;
    });
  }
  const computed = /the (old|new) "computedAt"/.exec(comment);
  if (computed) {
    out.push((step, before) => {
      const path = /localhost:3000(\/\S+)/.exec(step.line)![1];
      const previous = json(earlier(before, new RegExp(`localhost:3000${path}\\s`))).computedAt;
      const now = json(step.replies.at(-1)).computedAt;
      const same = now === previous;
      if (now === undefined) return 'no "computedAt"';
      return same === (computed[1] === 'old') ? undefined : `"computedAt" ${String(now)} vs ${String(previous)}`;
    });
  }
  return out;
}

function check(step: Step, before: Step[]): string[] {
  return claims(step.comment)
    .map((claim) => claim(step, before))
    .filter((problem): problem is string => problem !== undefined);
}
