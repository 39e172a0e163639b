/**
 * Key templates compiled once per decorated method into a function that only concatenates precomputed parts:
 * every cached call (hits included) builds a key, so nothing is parsed or looked up by name per call.
 */
import { CashewsConfigError, KeyPlaceholderError } from '../errors.js';
import { escapeKeyPart } from './escape-key-part.js';
import { isReservedKey } from './protected-keys.js';
import { keyContext } from './key-context.js';
import { KeyMemo, MAX_ARITY } from './key-memo.js';
import { LEFT_OUT } from './left-out.js';
import { checkFormatterArgs, findKeyFormatter, keyFormatterNames } from './formatters.js';
import { REST_MARK } from './param-names.js';
import { renderArg, renderKeyPart } from './stable-render.js';

/** What a key is built from at call time. */
export interface KeySource {
  /** The method's arguments, as received. */
  args: readonly unknown[];
  /** The HTTP request, for controllers (`{req.…}` placeholders and request-based extra roots). */
  req?: unknown;
}

/** A compiled key (or pattern) builder. */
export type KeyFunction = (source: KeySource) => string;

/**
 * One argument a compiled template reads, found when it is compiled (see {@link templateReads}): the adapters check
 * it against what the handler's parameter is bound to (a GraphQL `@Context()` is no key).
 */
export interface ArgumentRead {
  /** The argument's position; with `rest`, a rest parameter's: it and every later argument. */
  readonly index: number;
  readonly rest?: boolean;
  /** What the placeholder names first: a parameter name, a decorator's data (`id` of `@Args('id')`) or a position. */
  readonly name: string;
  /** The placeholder's text between the braces, e.g. `user.id`. */
  readonly placeholder: string;
  readonly template: string;
}

export { LEFT_OUT };

/** What {@link compileKey} and {@link compilePattern} compile. */
export interface KeySpec {
  /** `'ClassName:methodName'`: the default key's base, so two classes with the same method never share keys. */
  base: string;
  /** The method's parameter names, from `parameterNames()` (`'...rest'` for a rest parameter, `__N` destructured). */
  params: readonly string[];
  /**
   * The key template, e.g. `'user:{id}'`, `'{user.id}'`, `'{0}'`, `'q:{q:hash}'`, `'{name:lower}'`,
   * `'{list:len}'`, `'{req.params.id}'`. Without one, the key is `base:arg1:arg2…`.
   */
  template?: string;
  /** Prepended as `${prefix}:`. */
  prefix?: string;
  /**
   * Version of default keys, inserted after the base as `v<version>` (`Items:find:v3f9a2c1b:42`); ignored
   * with a template. Must not contain `*` or `:` (decorators pass a fingerprint or a validated version).
   */
  version?: string;
  /** Argument positions left out of the default key (`skipArgs`); ignored with a template. */
  skipArgs?: readonly number[];
  /**
   * Names a placeholder may use besides parameter names, each resolved at call time (e.g. a controller's
   * `@Param('id')` name, or `user` read from the request). Parameter names take precedence.
   */
  extraRoots?: Readonly<Record<string, (source: KeySource) => unknown>>;
  /** Allows `{req.…}` placeholders, resolved from {@link KeySource.req} (controllers). */
  allowRequest?: boolean;
  /**
   * A placeholder whose value is `undefined` throws {@link KeyPlaceholderError} instead of rendering the
   * `%undefined` marker, unless it is marked optional (`{name?}`, `{req.user.id?:hash}`). Decorator keys are
   * strict, so callers that lack a value never silently share one entry or one bucket; tags and patterns are not.
   */
  strict?: boolean;
}

/**
 * Compiles a key spec into a function building the cache key of one call. With `strict`, the function throws
 * {@link KeyPlaceholderError} when a placeholder not marked optional (`{name?}`) is `undefined`.
 * All other validation happens here and
 * throws {@link CashewsConfigError}: unknown placeholder, `req.` without `allowRequest`, unclosed `{`, unknown
 * formatter, a path through `__proto__`/`constructor`/`prototype`, or a literal `*` (keys never hold the wildcard).
 *
 * Every substituted value is rendered ({@link renderArg}) and escaped ({@link escapeKeyPart}), so user input can
 * neither forge a separator nor a wildcard; `null`/`undefined` get markers no string can produce.
 *
 * @example
 * ```ts
 * const key = compileKey({ base: 'Users:find', params: ['id', 'opts'], template: 'user:{id}:{opts.lang:lower}' });
 * key({ args: [42, { lang: 'EN' }] }); // 'user:42:en'
 * compileKey({ base: 'Items:find', params: ['id', 'color'] })({ args: [42, 'red'] }); // 'Items:find:42:red'
 * ```
 */
export function compileKey(spec: KeySpec): KeyFunction {
  return compile(spec, false);
}

/**
 * Like {@link compileKey}, for invalidation patterns: a literal `*` in the template is kept as the wildcard,
 * while substituted values are still escaped, so a value `'*'` becomes `%2A` and cannot widen the pattern.
 * Without a template the result is the exact default key of those arguments.
 *
 * @example
 * ```ts
 * const pattern = compilePattern({ base: 'Users:update', params: ['id'], template: 'user:{id}:*' });
 * pattern({ args: [42] });  // 'user:42:*'
 * pattern({ args: ['*'] }); // 'user:%2A:*'
 * ```
 */
export function compilePattern(spec: KeySpec): KeyFunction {
  return compile(spec, true);
}

/** Reads one root of a placeholder (an argument, an extra root, the request) from a call. */
export type Resolver = (source: KeySource) => unknown;
type Part = string | KeyFunction;

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const INDEX = /^(?:0|[1-9][0-9]*)$/;
const DESTRUCTURED = /^__\d+$/;

/**
 * The head every default key starts with: `prefix:` (when given), the base `ClassName:method`, then `:v<version>`
 * (when given). Provider default keys, controller (route) default keys and the method-wide keys of protective
 * decorators are all built from it, so an invalidation or a version bump sees one shape.
 * @example
 * ```ts
 * keyHead({ prefix: 'shop', base: 'Items:find', version: '3f9a2c1b' }); // 'shop:Items:find:v3f9a2c1b'
 * keyHead({ base: 'Items:find' }); // 'Items:find'
 * ```
 */
export function keyHead(spec: { readonly prefix?: string; readonly base: string; readonly version?: string }): string {
  const head = spec.prefix ? `${spec.prefix}:${spec.base}` : spec.base;
  return spec.version === undefined ? head : `${head}:v${spec.version}`;
}

interface Context {
  spec: KeySpec;
  template: string;
  wildcard: boolean;
  /** The arguments its placeholders read, gathered while it is parsed. */
  reads: ArgumentRead[];
}

function compile(spec: KeySpec, wildcard: boolean): KeyFunction {
  if (typeof spec.base !== 'string' || spec.base === '' || spec.base.includes('*')) {
    throw new CashewsConfigError(`Key base ${JSON.stringify(spec.base)} must be a non-empty string without "*".`);
  }
  if (spec.prefix !== undefined && (typeof spec.prefix !== 'string' || spec.prefix.includes('*'))) {
    throw new CashewsConfigError(
      `Key prefix ${JSON.stringify(spec.prefix)} of ${spec.base} must be a string without "*".`,
    );
  }
  const head = spec.prefix ? `${spec.prefix}:` : '';
  if (spec.template === undefined) {
    const key = defaultKey(keyHead(spec));
    const skip = spec.skipArgs?.length ? new Set(spec.skipArgs) : undefined;
    return skip ? (source) => key({ ...source, args: source.args.filter((_, i) => !skip.has(i)) }) : key;
  }
  if (typeof spec.template !== 'string' || spec.template === '') {
    throw new CashewsConfigError(`Key template of ${spec.base} must be a non-empty string.`);
  }
  const ctx: Context = { spec, template: spec.template, wildcard, reads: [] };
  const parts = parseTemplate(ctx);
  if (typeof parts[0] === 'string') parts[0] = head + parts[0];
  else if (head !== '') parts.unshift(head);
  const key = joinParts(parts);
  if (ctx.reads.length > 0) reads.set(key, Object.freeze(ctx.reads));
  return key;
}

const reads = new WeakMap<KeyFunction, readonly ArgumentRead[]>();

/**
 * The arguments a compiled template reads, in the order its placeholders name them (`[]` for a default key, a key
 * function, or a template reading none): what an adapter checks against the parameters it fills.
 * @example
 * ```ts
 * const key = compileKey({ base: 'Friends:of', params: ['user', 'otherId'], template: 'f:{user.id}:{otherId}' });
 * templateReads(key).map((read) => read.index); // [0, 1]
 * ```
 */
export function templateReads(key: KeyFunction): readonly ArgumentRead[] {
  return reads.get(key) ?? [];
}

/** Resolvers of extra roots that answer one argument (see {@link argumentRoot}), by its position. */
const extraRootPositions = new WeakMap<Resolver, number>();

/**
 * Marks an extra root's resolver as reading argument `index` (a controller's `{id}` for `@Param('id') productId`,
 * a resolver's `{id}` for `@Args('id') otherId`), so {@link templateReads} reports the argument it stands for.
 */
export function argumentRoot<R extends Resolver>(index: number, resolver: R): R {
  extraRootPositions.set(resolver, index);
  return resolver;
}

/**
 * A key given as a function of the call (`key: (args, req?) => string`), made as safe as a template: the
 * result follows `prefix:`, its `*`, `%`, glob characters, whitespace and control characters are escaped (its
 * `:` separators are kept, so `'product:42'` stays readable and `'product:*'` patterns match), and a result
 * that would name protection state is escaped whole. `undefined`, `null` or `''` throws
 * {@link KeyPlaceholderError} (the call has no key: storing layers step aside, locks and limits refuse);
 * another non-string result throws {@link CashewsConfigError} naming the method.
 *
 * @example
 * ```ts
 * const key = compileKeyFunction({ base: 'Users:find' }, ([id]) => `user:${String(id)}`);
 * key({ args: [42] }); // 'user:42'
 * key({ args: ['*'] }); // 'user:%2A'
 * ```
 */
export function compileKeyFunction(
  spec: Pick<KeySpec, 'base' | 'prefix'>,
  fn: (args: readonly unknown[], req?: unknown) => unknown,
): KeyFunction {
  if (spec.prefix !== undefined && (typeof spec.prefix !== 'string' || spec.prefix.includes('*'))) {
    throw new CashewsConfigError(
      `Key prefix ${JSON.stringify(spec.prefix)} of ${spec.base} must be a string without "*".`,
    );
  }
  const head = spec.prefix ? `${spec.prefix}:` : '';
  const name = fn.name || 'key function';
  return (source) => {
    const result = fn(source.args, source.req);
    if (result === undefined || result === null || result === '') {
      throw new KeyPlaceholderError(
        spec.base,
        name,
        'key function',
        `The key function of ${spec.base} returned ${result === '' ? 'an empty string' : String(result)}, so the ` +
          `key cannot tell this call apart from other such calls. Return a non-empty string for every call.`,
      );
    }
    if (typeof result !== 'string') {
      throw new CashewsConfigError(
        `The key function of ${spec.base} returned a ${typeof result}; it must return a non-empty string.`,
      );
    }
    const key = head + escapeFunctionKey(result);
    return isReservedKey(key) ? escapeKeyPart(key) : key;
  };
}

// Like escape-key-part.ts, but keeps `:`: a key function writes a whole key, separators included.
const FUNCTION_UNSAFE = /[%*?[\]\\{}\s\p{Cc}\p{Cs}]/gu;

function escapeFunctionKey(text: string): string {
  return text.replace(FUNCTION_UNSAFE, escapeKeyPart);
}

function defaultKey(head: string): KeyFunction {
  const render = (args: readonly unknown[]): string => {
    let key = head;
    for (let i = 0; i < args.length; i++) if (args[i] !== LEFT_OUT) key += ':' + renderKeyPart(args[i]);
    return key;
  };
  // Every hit builds its key: a call repeating recent arguments gets the string rendered then (see KeyMemo).
  const memo = new KeyMemo(render);
  return (source) => memo.keyOf(source.args);
}

function joinParts(parts: readonly Part[]): KeyFunction {
  const render = concatenation(parts);
  const read = argumentsRead(parts);
  if (read === undefined) return render;
  // As for default keys (see KeyMemo): the key depends on those arguments alone, so a call repeating them gets the
  // string rendered then. Usually they are all the arguments, in order (`{id}:{color}` of find(id, color)).
  const memo = new KeyMemo<KeySource>(render);
  const arity = read.length;
  const inOrder = read.every((index, i) => index === i);
  return (source) => {
    const args = source.args;
    if (inOrder && args.length === arity) return memo.keyOf(args, source);
    const values: unknown[] = [];
    for (let i = 0; i < arity; i++) values.push(args[read[i]]);
    return memo.keyOf(values, source);
  };
}

function concatenation(parts: readonly Part[]): KeyFunction {
  if (parts.length === 1) {
    const only = parts[0];
    return typeof only === 'string' ? () => only : only;
  }
  return (source) => {
    let key = '';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      key += typeof part === 'string' ? part : part(source);
    }
    return key;
  };
}

/**
 * Placeholders that render one argument as it is (`{id}`, `{0}`: no path, formatter, context or request), by the
 * position they read: a template made of them and literals renders the same key for the same argument values.
 */
const argumentPlaceholders = new WeakMap<KeyFunction, number>();
/** Resolvers answering one argument as it is, by its position (see {@link argumentPlaceholders}). */
const argumentResolvers = new WeakMap<Resolver, number>();

/** Reads argument `index` as it is, marked so that a placeholder of it alone may be remembered. */
function argumentAt(index: number): Resolver {
  const resolver: Resolver = (source) => source.args[index];
  argumentResolvers.set(resolver, index);
  return resolver;
}

/**
 * The argument positions a template of `parts` reads, ascending, when every placeholder renders one argument as it
 * is and there are one to {@link MAX_ARITY} of them; otherwise `undefined` (the key is rendered every time).
 */
function argumentsRead(parts: readonly Part[]): number[] | undefined {
  const read = new Set<number>();
  for (const part of parts) {
    if (typeof part === 'string') continue;
    const index = argumentPlaceholders.get(part);
    if (index === undefined) return undefined;
    read.add(index);
  }
  return read.size === 0 || read.size > MAX_ARITY ? undefined : [...read].sort((a, b) => a - b);
}

function parseTemplate(ctx: Context): Part[] {
  const { template } = ctx;
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    if (ch === '{') {
      const end = template.indexOf('}', i + 1);
      const nested = template.indexOf('{', i + 1);
      if (end === -1 || (nested !== -1 && nested < end)) {
        throw templateError(ctx, `has an unclosed "{" at position ${i}`);
      }
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(compilePlaceholder(ctx, template.slice(i + 1, end)));
      i = end + 1;
      continue;
    }
    if (ch === '}') throw templateError(ctx, `has a "}" without a matching "{" at position ${i}`);
    if (ch === '*' && !ctx.wildcard) {
      throw templateError(ctx, 'contains "*", the pattern wildcard, which a key may not contain');
    }
    literal += ch;
    i += 1;
  }
  if (literal !== '' || parts.length === 0) parts.push(literal);
  return parts;
}

function compilePlaceholder(ctx: Context, inner: string): KeyFunction {
  const [pathPiece, ...formatterNames] = inner.split(':').map((piece) => piece.trim());
  // `{name?}`: the value may be undefined (rendered `%undefined`); otherwise a strict key refuses undefined.
  const optional = pathPiece.endsWith('?');
  const pathText = optional ? pathPiece.slice(0, -1) : pathPiece;
  // `{@tenant}`: a value of the key context (keyContext.run), not of the call.
  const contextual = pathText.startsWith('@');
  const segments = (contextual ? pathText.slice(1) : pathText).split('.');
  for (const segment of segments) {
    if (FORBIDDEN_SEGMENTS.has(segment)) {
      throw placeholderError(ctx, inner, `reads "${segment}", which could reach an object's prototype`);
    }
    if (!NAME.test(segment) && !INDEX.test(segment)) {
      throw placeholderError(ctx, inner, `has an invalid path segment ${JSON.stringify(segment)}`);
    }
  }
  const root: Resolver = contextual ? contextRoot(segments[0]) : resolveRoot(ctx, inner, segments);
  // The request is the framework's object: `ip`, `hostname`, Fastify's `headers` are getters it inherits.
  const read =
    !contextual && segments[0] === 'req' && root !== undefined && ctx.spec.allowRequest ? requestChild : child;
  const walked = segments.length === 1 ? root : walk(root, segments.slice(1), read);
  const get = ctx.spec.strict && !optional ? required(ctx, inner, walked) : walked;
  const formatters = formatterNames.map((name) => lookupFormatter(ctx, inner, name));
  if (formatters.length === 0) {
    const placeholder: KeyFunction = (source) => renderKeyPart(get(source));
    const index = segments.length === 1 ? argumentResolvers.get(root) : undefined;
    if (index !== undefined) argumentPlaceholders.set(placeholder, index);
    return placeholder;
  }
  // A formatter answering undefined (a JWT without the claim) is a missing value too: strict keys refuse it, and an
  // optional placeholder renders the `%undefined` marker, which no string renders as (the text "undefined" would
  // share its entry with a token whose sub is "undefined"). Later formatters are not given it.
  const strict = ctx.spec.strict === true && !optional;
  return (source) => {
    let value: unknown = get(source);
    for (let i = 0; i < formatters.length; i++) {
      value = formatters[i](value);
      if (value === undefined) {
        if (strict) throw new KeyPlaceholderError(ctx.spec.base, ctx.template, inner);
        return renderKeyPart(undefined);
      }
    }
    return escapeKeyPart(asText(value));
  };
}

/** Wraps a resolver so that an `undefined` value throws {@link KeyPlaceholderError} (one comparison per call). */
function required(ctx: Context, inner: string, get: Resolver): Resolver {
  return (source) => {
    const value = get(source);
    if (value === undefined) throw new KeyPlaceholderError(ctx.spec.base, ctx.template, inner);
    return value;
  };
}

/** Formatters are typed to return strings, but a JavaScript one may not; rendering keeps the key well-formed. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : renderArg(value);
}

function contextRoot(name: string): Resolver {
  return () => keyContext.get(name);
}

function resolveRoot(ctx: Context, inner: string, segments: readonly string[]): Resolver {
  const { spec } = ctx;
  const [name] = segments;
  const params = spec.params;
  const restAt = params.findIndex((param) => param.startsWith(REST_MARK));
  const read = (index: number, rest?: boolean) =>
    ctx.reads.push({ index, ...(rest && { rest }), name, placeholder: inner, template: ctx.template });
  if (INDEX.test(name)) {
    const index = Number(name);
    if (index >= params.length && restAt === -1) {
      throw placeholderError(ctx, inner, `names argument ${index}, but the method has ${params.length} parameter(s)`);
    }
    read(index);
    return argumentAt(index);
  }
  const position = DESTRUCTURED.test(name) ? -1 : params.findIndex((param) => paramName(param) === name);
  if (position !== -1) {
    read(position, position === restAt);
    if (position === restAt) return (source) => source.args.slice(position);
    return argumentAt(position);
  }
  const extra = spec.extraRoots;
  if (extra !== undefined && Object.hasOwn(extra, name)) {
    const resolver = extra[name];
    if (typeof resolver !== 'function') {
      throw placeholderError(ctx, inner, `names extra root "${name}", whose resolver is not a function`);
    }
    const index = extraRootPositions.get(resolver);
    if (index !== undefined) read(index);
    return resolver;
  }
  if (name === 'req' && spec.allowRequest) {
    if (segments.length === 1) {
      throw placeholderError(ctx, inner, 'names the whole request; name a property of it, e.g. {req.params.id}');
    }
    return (source) => source.req;
  }
  const reason =
    name === 'req'
      ? 'reads the request, which only controller methods can do'
      : DESTRUCTURED.test(name)
        ? `names a destructured parameter, which can only be reached by index ({${name.slice(2)}})`
        : `names "${name}", which is not a parameter`;
  throw placeholderError(ctx, inner, reason);
}

function paramName(param: string): string {
  return param.startsWith(REST_MARK) ? param.slice(REST_MARK.length) : param;
}

function walk(root: Resolver, path: readonly string[], read: typeof child): Resolver {
  if (path.length === 1) {
    const [only] = path;
    return (source) => read(root(source), only);
  }
  return (source) => {
    let value = root(source);
    for (let i = 0; i < path.length && value !== undefined; i++) value = read(value, path[i]);
    return value;
  };
}

/** Own properties only (or a Map entry): a template must never read what an object inherits. */
function child(value: unknown, segment: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Map) return value.get(segment);
  return Object.hasOwn(value as object, segment) ? (value as Record<string, unknown>)[segment] : undefined;
}

/**
 * Request paths may read inherited getters (`req.ip`); `__proto__`, `constructor` and `prototype` are
 * refused at compile time, and methods read as `undefined` rather than rendering a function.
 */
function requestChild(value: unknown, segment: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Map) return value.get(segment);
  if (typeof value !== 'object') return undefined;
  const found = (value as Record<string, unknown>)[segment];
  return typeof found === 'function' ? undefined : found;
}

const FORMATTER_CALL = /^([A-Za-z_][A-Za-z0-9_]*)(?:\(([^()]*)\))?$/;
const FORMATTER_ARG = /^[A-Za-z0-9_.-]+$/;

/**
 * A formatter with its arguments bound (`hash(sha256)`): arguments are plain words fixed in the template, checked
 * here, so nothing in a key is ever evaluated from the template or from user input.
 */
function lookupFormatter(ctx: Context, inner: string, piece: string): (value: unknown) => unknown {
  const match = FORMATTER_CALL.exec(piece);
  if (!match) {
    throw placeholderError(ctx, inner, `has a malformed formatter "${piece}"; write name or name(arg1,arg2)`, false);
  }
  const [, name, argText] = match;
  const args = argText === undefined ? [] : argText.split(',').map((arg) => arg.trim());
  const badArg = args.find((arg) => !FORMATTER_ARG.test(arg));
  if (badArg !== undefined) {
    throw placeholderError(
      ctx,
      inner,
      `gives formatter "${name}" the argument ${JSON.stringify(badArg)}; arguments are letters, digits, "_", "." or "-"`,
      false,
    );
  }
  const formatter = findKeyFormatter(name);
  if (formatter === undefined) {
    throw placeholderError(
      ctx,
      inner,
      `uses unknown formatter "${name}"; known formatters: ${keyFormatterNames().join(', ')}`,
      false,
    );
  }
  const wrong = checkFormatterArgs(name, args);
  if (wrong !== undefined) throw placeholderError(ctx, inner, `uses ${wrong}`, false);
  return args.length ? (value) => formatter(value, ...args) : formatter;
}

function templateError(ctx: Context, problem: string): CashewsConfigError {
  return new CashewsConfigError(`Key template "${ctx.template}" of ${ctx.spec.base} ${problem}.`);
}

function placeholderError(ctx: Context, inner: string, problem: string, listNames = true): CashewsConfigError {
  const accepted = listNames ? `; accepted names: ${acceptedNames(ctx.spec)}` : '';
  return new CashewsConfigError(
    `Key template "${ctx.template}" of ${ctx.spec.base}: placeholder {${inner}} ${problem}${accepted}.`,
  );
}

function acceptedNames(spec: KeySpec): string {
  const names = spec.params.map(paramName).filter((name) => !DESTRUCTURED.test(name));
  names.push(...Object.keys(spec.extraRoots ?? {}));
  if (spec.allowRequest) names.push('req.<property>');
  if (spec.params.length > 0) names.push(spec.params.length === 1 ? '0' : `0..${spec.params.length - 1}`);
  return names.length === 0 ? '(none: the method has no parameters)' : names.join(', ');
}
