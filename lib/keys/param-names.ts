/**
 * Parameter names read from a function's source text, so key templates can say `{id}` instead of `{0}`.
 * Runs once per decorated method (at decoration time), never per call.
 */

import { originalMethod } from '../decorators/method-guard.js';

/** Anything callable; `never[]` parameters make every function signature assignable without `Function`. */
export type AnyFunction = (...args: never[]) => unknown;

/** Prefix marking a rest parameter in {@link parameterNames}' result: `...ids` collects the remaining arguments. */
export const REST_MARK = '...';

/**
 * Names of `fn`'s parameters, in order, parsed from `fn.toString()`.
 *
 * - Destructured parameters have no name of their own; they are reported as `__<position>` (as TypeScript
 *   names them) and key templates may only reach them by index (`{1}`, `{1.id}`).
 * - A rest parameter is reported with a leading `...` (`'...ids'`).
 * - Default values, comments, async/generator/getter methods, computed method names and arrow functions are
 *   understood; native and bound functions (no source) give `[]`.
 *
 * @example
 * ```ts
 * class Items { async find(id: number, { color }: { color?: string } = {}, ...tags: string[]) {} }
 * parameterNames(Items.prototype.find); // ['id', '__1', '...tags']
 * ```
 */
export function parameterNames(fn: AnyFunction): string[] {
  // A decorated method is read through its guard (see method-guard.ts) to the original's source.
  const src = Function.prototype.toString.call(originalMethod(fn));
  if (src.includes('[native code]')) return [];
  const list = locateParameterList(src);
  if (list === undefined) return [];
  if (list.kind === 'single') return [list.name];
  return splitParameters(src, list.start);
}

const IDENTIFIER_START = /[\p{ID_Start}$_]/u;
const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/u;
const SPACE = /\s/;

type ParameterList = { kind: 'parenthesised'; start: number } | { kind: 'single'; name: string };

/**
 * Finds the `(` opening the parameter list (or the lone parameter of `x => …`). Method names can be strings or
 * computed `[expr]` that themselves contain parentheses, hence the skipping instead of a plain `indexOf('(')`.
 */
function locateParameterList(src: string): ParameterList | undefined {
  let i = skipTrivia(src, 0);
  if (src.startsWith('class', i) && !isIdentifierPart(src[i + 5])) return undefined;
  let lastIdentifier: string | undefined;
  while (i < src.length) {
    const ch = src[i];
    if (ch === '(') return { kind: 'parenthesised', start: i + 1 };
    if (ch === '[') {
      i = scanTopLevel(src, i + 1, ']') + 1;
    } else if (ch === '"' || ch === "'" || ch === '`') {
      i = skipString(src, i);
    } else if (ch === '=' && src[i + 1] === '>') {
      return lastIdentifier === undefined ? undefined : { kind: 'single', name: lastIdentifier };
    } else if (ch === '{') {
      return undefined;
    } else if (IDENTIFIER_START.test(ch)) {
      const match = IDENTIFIER.exec(src.slice(i));
      const word = match ? match[0] : ch;
      lastIdentifier = word;
      i += word.length;
    } else {
      i += 1;
    }
    i = skipTrivia(src, i);
  }
  return undefined;
}

function splitParameters(src: string, start: number): string[] {
  const names: string[] = [];
  let i = start;
  for (;;) {
    const end = scanTopLevel(src, i, ',)');
    const text = stripComments(src.slice(i, end)).trim();
    if (text !== '') names.push(nameOf(text, names.length));
    if (end >= src.length || src[end] === ')') return names;
    i = end + 1;
  }
}

function nameOf(param: string, position: number): string {
  const rest = param.startsWith('...');
  const body = rest ? param.slice(3).trimStart() : param;
  const match = IDENTIFIER.exec(body);
  const name = match ? match[0] : `__${position}`;
  return rest ? `${REST_MARK}${name}` : name;
}

function isIdentifierPart(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{ID_Continue}$]/u.test(ch);
}

function skipTrivia(src: string, i: number): number {
  while (i < src.length) {
    if (SPACE.test(src[i])) i += 1;
    else if (src.startsWith('//', i)) i = lineEnd(src, i);
    else if (src.startsWith('/*', i)) i = blockCommentEnd(src, i);
    else break;
  }
  return i;
}

function lineEnd(src: string, i: number): number {
  const end = src.indexOf('\n', i);
  return end === -1 ? src.length : end + 1;
}

function blockCommentEnd(src: string, i: number): number {
  const end = src.indexOf('*/', i + 2);
  return end === -1 ? src.length : end + 2;
}

function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (text.startsWith('//', i)) {
      i = lineEnd(text, i);
      out += ' ';
    } else if (text.startsWith('/*', i)) {
      i = blockCommentEnd(text, i);
      out += ' ';
    } else if (ch === '"' || ch === "'" || ch === '`') {
      const end = skipString(text, i);
      out += text.slice(i, end);
      i = end;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

/** Index just past the string or template literal starting at `i` (template `${…}` may nest anything). */
function skipString(src: string, i: number): number {
  const quote = src[i];
  i += 1;
  while (i < src.length) {
    const ch = src[i];
    if (ch === '\\') i += 2;
    else if (ch === quote) return i + 1;
    else if (quote === '`' && ch === '$' && src[i + 1] === '{') i = scanTopLevel(src, i + 2, '}') + 1;
    else i += 1;
  }
  return i;
}

// A `/` after one of these starts a regex literal (`a = /x)/`); after a value it is a division.
const BEFORE_REGEX = new Set([
  '',
  '(',
  ',',
  '=',
  ':',
  '[',
  '!',
  '&',
  '|',
  '?',
  '{',
  '}',
  ';',
  '+',
  '-',
  '*',
  '%',
  '<',
  '>',
  '~',
  '^',
]);
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/**
 * Index of the first character from `stops` found at bracket depth 0, skipping strings, comments and regex
 * literals whose contents would otherwise unbalance the count. Returns `src.length` when none is found.
 */
function scanTopLevel(src: string, i: number, stops: string): number {
  const expected: string[] = [];
  let previous = '';
  while (i < src.length) {
    const ch = src[i];
    if (expected.length === 0 && stops.includes(ch)) return i;
    if (ch === '"' || ch === "'" || ch === '`') {
      i = skipString(src, i);
      previous = 'x';
      continue;
    }
    if (ch === '/' && src[i + 1] === '/') {
      i = lineEnd(src, i);
      continue;
    }
    if (ch === '/' && src[i + 1] === '*') {
      i = blockCommentEnd(src, i);
      continue;
    }
    if (ch === '/' && BEFORE_REGEX.has(previous)) {
      i = skipRegex(src, i);
      previous = 'x';
      continue;
    }
    if (ch in OPENERS) expected.push(OPENERS[ch]);
    else if (ch === expected[expected.length - 1]) expected.pop();
    if (!SPACE.test(ch)) previous = /[\p{ID_Continue}$]/u.test(ch) ? 'x' : ch;
    i += 1;
  }
  return i;
}

function skipRegex(src: string, i: number): number {
  let inClass = false;
  i += 1;
  while (i < src.length) {
    const ch = src[i];
    if (ch === '\\') i += 2;
    else if (ch === '/' && !inClass) return i + 1;
    else if (ch === '\n') return i;
    else {
      if (ch === '[') inClass = true;
      else if (ch === ']') inClass = false;
      i += 1;
    }
  }
  return i;
}
