import type { ExecutionContext } from '@nestjs/common';
import { CashewsConfigError } from '../errors.js';
import { LEFT_OUT } from '../keys/left-out.js';
import type { ArgumentRead, KeySource } from '../keys/key-template.js';
import type { Layer } from '../strategies/layer.js';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  DIRECT_ROUTE_PARAM,
  readRouteArgs,
  ROUTE_ARGS_METADATA,
  withCustomParams,
  type CustomParam,
} from './route-args.js';

/**
 * The arguments of handlers outside HTTP as Nest calls them, rebuilt from the execution context so that a key's
 * `{user.id}` is what the handler's `user` parameter receives. Nest fills a handler's parameters from the route-argument
 * metadata its parameter decorators write (`'<type>:<index>'` → `{ index, data }`), through one factory per context:
 * - GraphQL (`@nestjs/graphql`, `GqlParamsFactory`, context arguments `[root, args, context, info]`): `@Parent()` and
 *   `@Root()` type 0 (argument 0), `@Context()` type 1 (argument 2, or one property), `@Info()` type 2 (argument 3),
 *   `@Args()` type 3 (argument 1, or one property with `@Args('id')` / `@Args({ name: 'id' })`). A reference resolver
 *   gets `[reference, context, info]`, which Nest reads as if the args were missing. Without parameter decorators a
 *   resolver receives the four context arguments as they are.
 * - RPC (`@nestjs/microservices`, `RpcParamsFactory`, `[payload, context]`, gRPC `[payload, metadata, call]`):
 *   `@Payload()` type 3 (argument 0, or one property), `@Ctx()` type 6 (argument 1), the gRPC call type 9
 *   (argument 2). Without parameter decorators Nest binds the payload to parameter 0 (gRPC: metadata 1, call 2).
 * - WebSocket (`@nestjs/websockets`, `WsParamsFactory`, `[client, data]`): `@ConnectedSocket()` type 0 (argument 0),
 *   `@MessageBody()` type 3 (argument 1, or one property), `@Ack()` type 13 (the first function argument). Without
 *   parameter decorators Nest binds client, data and ack to parameters 0, 1 and 2.
 * A `createParamDecorator` parameter is its factory's answer, as on HTTP. Values are read before pipes.
 *
 * The type numbers collide with HTTP's (`@Body()` is type 3 too), so the metadata means something only for the
 * context a call runs in. They are restated here: none of those packages is a dependency. The same in Nest 11 and 12.
 */
export type HandlerContextType = 'graphql' | 'rpc' | 'ws';

/** Method metadata of `@Query`, `@Mutation`, `@Subscription` (`@nestjs/graphql`'s `RESOLVER_TYPE_METADATA`). */
const GRAPHQL_RESOLVER_TYPE = 'graphql:resolver_type';
/** Method metadata of `@ResolveField` (`RESOLVER_PROPERTY_METADATA`). */
const GRAPHQL_RESOLVE_PROPERTY = 'graphql:resolve_property';
/** Method metadata of `@ResolveReference` (`RESOLVER_REFERENCE_METADATA`). */
const GRAPHQL_RESOLVE_REFERENCE = 'graphql:resolve_reference';
/** Method metadata of `@MessagePattern`, `@EventPattern`, `@GrpcMethod` (`@nestjs/microservices`' `PATTERN_METADATA`). */
const RPC_PATTERN = 'microservices:pattern';
/** Method metadata of `@SubscribeMessage` (`@nestjs/websockets`' `MESSAGE_MAPPING_METADATA`). */
const WS_MESSAGE_MAPPING = 'websockets:message_mapping';

type Read = (args: readonly unknown[]) => unknown;
/** One entry of the route-argument metadata, as Nest's parameter decorators write it. */
type RouteArg = { index: number; data?: unknown; factory?: unknown };

/** One parameter as a context fills it: how it is read and, for one a key may not read, what it is. */
interface Param {
  read: Read;
  /** Set when a key may not read it: the decorator and what it binds, e.g. `@Ctx() (the RPC context)`. */
  unreadable?: string;
}

/** A handler's parameters as one context fills them, read once per handler and context. */
export interface HandlerArgs {
  readonly type: HandlerContextType;
  /**
   * Each parameter by position; `undefined` for one the metadata does not bind (Nest passes `undefined`). Without
   * parameter metadata on GraphQL, `raw`: the handler receives the context's arguments as they are.
   */
  readonly params: ReadonlyArray<Param | undefined>;
  readonly raw: boolean;
  /** GraphQL: arguments are read as Nest reads them, a reference resolver's with its args missing. */
  readonly normalize: boolean;
  /** The positions of the parameters a key may not read ({@link Param.unreadable}). */
  readonly unreadable: readonly number[];
  /**
   * The positions of the parameters a default key leaves out (see {@link keyedArgs}): those a key may not read, and
   * those of custom decorators (`createParamDecorator`), which may answer the request or a DataLoader (no key), as a
   * default controller key leaves them out. A template may name a custom decorator's parameter.
   */
  readonly unkeyed: readonly number[];
  readonly custom?: readonly CustomParam[];
  /** Bound by what Nest passes a handler without parameter decorators, whatever parameters it declares. */
  readonly implicit: boolean;
}

/** Reads `args[at]`, or its property `data` when the decorator names one (`@Payload('id')`), as Nest's factories do. */
function argument(at: number, data: unknown): Read {
  if (data === undefined || data === null || data === '') return (args) => args[at];
  const name = data as string;
  return (args) => {
    const value = args[at] as Record<string, unknown> | null | undefined;
    return value === null || value === undefined ? value : value[name];
  };
}

const GRAPHQL_CONTEXT = '@Context() (the GraphQL context)';
const GRAPHQL_INFO = '@Info() (the resolve info)';
const RPC_CONTEXT = '@Ctx() (the transport context)';
const GRPC_CALL = 'the gRPC call';
const WS_SOCKET = '@ConnectedSocket() (the client socket)';
const WS_ACK = '@Ack() (the acknowledgement callback)';

function graphqlParam(type: number, data: unknown): Param {
  switch (type) {
    case 0:
      return { read: (args) => args[0] };
    case 3:
      return { read: argument(1, data) };
    case 1:
      return { read: argument(2, data), unreadable: GRAPHQL_CONTEXT };
    case 2:
      return { read: argument(3, data), unreadable: GRAPHQL_INFO };
    default:
      return unknownParam('GraphQL');
  }
}

function rpcParam(type: number, data: unknown): Param {
  switch (type) {
    case 3:
      return { read: argument(0, data) };
    case 6:
      return { read: (args) => args[1], unreadable: RPC_CONTEXT };
    case 9:
      return { read: (args) => args[2], unreadable: GRPC_CALL };
    default:
      return unknownParam('RPC');
  }
}

function wsParam(type: number, data: unknown): Param {
  switch (type) {
    case 0:
      return { read: (args) => args[0], unreadable: WS_SOCKET };
    case 3:
      return { read: argument(1, data) };
    case 13:
      return { read: (args) => args.find((arg) => typeof arg === 'function'), unreadable: WS_ACK };
    default:
      return unknownParam('WebSocket');
  }
}

/** A decorator of another context (an HTTP `@Query()` on a resolver): Nest's factory gives it `null`. */
function unknownParam(context: string): Param {
  return { read: () => null, unreadable: `a parameter decorator that a ${context} handler receives null for` };
}

const PARAM_OF: Record<HandlerContextType, (type: number, data: unknown) => Param> = {
  graphql: graphqlParam,
  rpc: rpcParam,
  ws: wsParam,
};

/** What Nest binds when a handler has no parameter decorators (microservices' and websockets' default metadata). */
const DEFAULT_METADATA: Record<'rpc' | 'ws', Record<string, RouteArg>> = {
  // gRPC handlers also get metadata (1) and the call (2): no key reads them either way.
  rpc: { '3:0': { index: 0 }, '6:1': { index: 1 }, '9:2': { index: 2 } },
  ws: { '0:0': { index: 0 }, '3:1': { index: 1 }, '13:2': { index: 2 } },
};

/** The parameters of an undecorated GraphQL resolver: the context's arguments as they are. */
const GRAPHQL_RAW: readonly Param[] = [
  { read: (args) => args[0] },
  { read: (args) => args[1] },
  { read: (args) => args[2], unreadable: GRAPHQL_CONTEXT },
  { read: (args) => args[3], unreadable: GRAPHQL_INFO },
];
/** An undecorated reference resolver (`@ResolveReference()`) receives `[reference, context, info]`. */
const GRAPHQL_RAW_REFERENCE: readonly Param[] = [
  { read: (args) => args[0] },
  { read: (args) => args[1], unreadable: GRAPHQL_CONTEXT },
  { read: (args) => args[2], unreadable: GRAPHQL_INFO },
];

/**
 * The parameters of handler `method` of `owner` (its route-argument metadata, inherited included) as a `type` context
 * fills them. `handler` is the method itself, for the metadata of its own decorators (`@ResolveReference()`).
 */
export function readHandlerArgs(
  owner: object,
  method: string | symbol,
  type: HandlerContextType,
  handler?: unknown,
): HandlerArgs {
  const declared = Reflect.getMetadata(ROUTE_ARGS_METADATA, owner, method) as Record<string, RouteArg> | undefined;
  const decorated = declared !== undefined && Object.keys(declared).length > 0;
  if (type === 'graphql' && !decorated) {
    const reference = isMarked(handler, GRAPHQL_RESOLVE_REFERENCE);
    return described(type, reference ? GRAPHQL_RAW_REFERENCE : GRAPHQL_RAW, true, false, true);
  }
  const meta = decorated || type === 'graphql' ? (declared ?? {}) : DEFAULT_METADATA[type];
  const params: Array<Param | undefined> = [];
  const custom: CustomParam[] = [];
  for (const [id, { index, data, factory }] of Object.entries(meta)) {
    if (data === DIRECT_ROUTE_PARAM) continue;
    if (id.includes(CUSTOM_ROUTE_ARGS_METADATA)) {
      if (typeof factory === 'function') custom.push({ index, data, factory: factory as CustomParam['factory'] });
      if (params.length <= index) params.length = index + 1;
      continue;
    }
    params[index] = PARAM_OF[type](Number(id.split(':')[0]), data);
  }
  const implicit = !decorated && type !== 'graphql';
  return described(type, params, false, type === 'graphql', implicit, custom.length > 0 ? custom : undefined);
}

function described(
  type: HandlerContextType,
  params: ReadonlyArray<Param | undefined>,
  raw: boolean,
  normalize: boolean,
  implicit: boolean,
  custom?: readonly CustomParam[],
): HandlerArgs {
  const unreadable: number[] = [];
  for (let i = 0; i < params.length; i++) if (params[i]?.unreadable) unreadable.push(i);
  const unkeyed = [...unreadable, ...(custom ?? []).map((param) => param.index)].sort((a, b) => a - b);
  return { type, params, raw, normalize, unreadable, unkeyed, implicit, ...(custom && { custom }) };
}

/**
 * The handler's arguments for one call, from the context's (`context.getArgs()`), by position; a custom decorator's
 * parameter is read when a key first reads it (see `withCustomParams`).
 */
export function argsFromContext(
  handler: HandlerArgs,
  args: readonly unknown[],
  context: () => ExecutionContext,
  target: string,
): unknown[] {
  if (handler.raw) return [...args];
  // Nest's GqlParamsFactory: a reference resolver's `[reference, context, info]` is read with its args missing.
  const from = handler.normalize && args.length === 3 ? [args[0], undefined, args[1], args[2]] : args;
  const params = handler.params;
  const values = new Array<unknown>(params.length);
  for (let i = 0; i < params.length; i++) values[i] = params[i]?.read(from);
  return handler.custom ? withCustomParams(values, handler.custom, context, target) : values;
}

/**
 * The arguments a default key renders: the call's, with those it leaves out ({@link HandlerArgs.unkeyed}) replaced by
 * `LEFT_OUT` (a custom decorator's factory is not called), so calls that differ only there share an entry, as they
 * share one on a default controller key differing by headers.
 */
export function keyedArgs(handler: HandlerArgs, args: readonly unknown[]): unknown[] {
  const keyed = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i++) keyed[i] = handler.unkeyed.includes(i) ? LEFT_OUT : args[i];
  return keyed;
}

/**
 * The contexts a handler answers in, from the metadata of its routing decorators (`@Query()`, `@ResolveField()`,
 * `@MessagePattern()`, `@SubscribeMessage()`...), so its keys can be checked at bootstrap. A handler routed by a
 * library of its own (another context type) is checked at its first call instead.
 */
export function handlerContextTypes(handler: unknown): HandlerContextType[] {
  if (typeof handler !== 'function') return [];
  const types: HandlerContextType[] = [];
  if (
    Reflect.getMetadata(GRAPHQL_RESOLVER_TYPE, handler) !== undefined ||
    isMarked(handler, GRAPHQL_RESOLVE_PROPERTY) ||
    isMarked(handler, GRAPHQL_RESOLVE_REFERENCE)
  ) {
    types.push('graphql');
  }
  if (Reflect.getMetadata(RPC_PATTERN, handler) !== undefined) types.push('rpc');
  if (isMarked(handler, WS_MESSAGE_MAPPING)) types.push('ws');
  return types;
}

/**
 * Whether a GraphQL handler is a field resolver (`@ResolveField()`), whose argument 0 is its parent, from its routing
 * metadata: `undefined` when it carries none of `@nestjs/graphql` (a resolver routed otherwise), when only its
 * arguments can tell.
 */
export function isFieldResolver(handler: unknown): boolean | undefined {
  if (isMarked(handler, GRAPHQL_RESOLVE_PROPERTY)) return true;
  return handlerContextTypes(handler).includes('graphql') ? false : undefined;
}

/**
 * The readers of a handler's parameters by decorator data, for its templates' `{id}`: `@Param('id')` reads the
 * request, and a call without one (an `@Invalidate` naming an HTTP route) has no key, as before pipes the request is
 * all it means; `@Args('id')`, `@Payload('id')` and `@MessageBody('id')` read the argument when the handler's routing
 * decorators say it answers outside HTTP (known at its first call, when all its decorators are applied).
 */
export function namedArguments(
  owner: object,
  property: string | symbol,
): Record<string, (source: KeySource) => unknown> {
  let outside: boolean | undefined;
  const handler = () => (owner as { prototype?: Record<string | symbol, unknown> }).prototype?.[property];
  return readRouteArgs(owner, property, () => (outside ??= handlerContextTypes(handler()).length > 0)).byName;
}

/**
 * The arguments a handler's default key renders from `args`, its own (an `@Invalidate([Class, 'method'])` building
 * them from another call's): those it leaves out in the contexts its routing decorators name (see
 * {@link HandlerArgs.unkeyed}) replaced by `LEFT_OUT`, as its calls stored them. Read at the first call.
 */
export function defaultKeyedArgs(owner: object, property: string | symbol): (args: unknown[]) => unknown[] {
  let unkeyed: ReadonlySet<number> | undefined;
  return (args) => {
    if (!unkeyed) {
      const handler = (owner as { prototype?: Record<string | symbol, unknown> }).prototype?.[property];
      const contexts = handlerContextTypes(handler);
      unkeyed = new Set(contexts.flatMap((type) => readHandlerArgs(owner, property, type, handler).unkeyed));
    }
    if (unkeyed.size === 0) return args;
    const left = unkeyed;
    return args.map((arg, index) => (left.has(index) ? LEFT_OUT : arg));
  };
}

function isMarked(handler: unknown, key: string): boolean {
  return typeof handler === 'function' && Reflect.getMetadata(key, handler) === true;
}

const CONTEXT_NAMES: Record<HandlerContextType, string> = { graphql: 'a GraphQL', rpc: 'an RPC', ws: 'a WebSocket' };

/**
 * The error refusing the first template of `layers` (keys, tags, invalidation patterns) that reads a parameter a key
 * may not read on this context, naming the method and the parameter; `undefined` when none does. A key function is
 * not checked: it receives the handler's arguments as they are and reads what it chooses.
 */
export function unreadableInKeys(
  handler: HandlerArgs,
  layers: readonly Layer[],
  target: string,
): { layer: Layer; error: CashewsConfigError; problem: string } | undefined {
  if (handler.unreadable.length === 0) return undefined;
  for (const layer of layers) {
    for (const read of layer.reads ?? []) {
      const index = handler.unreadable.find((at) => at === read.index || (read.rest === true && at > read.index));
      if (index === undefined) continue;
      const problem = refusal(handler, read, index);
      return { layer, error: new CashewsConfigError(`@${layer.strategy} on ${target}: ${problem}`), problem };
    }
  }
  return undefined;
}

/**
 * The error refusing the first of `layers` whose templates read `{req.…}`: outside HTTP there is no request, so every
 * call would have no key (and run uncached, or one default key for all). `undefined` when none does.
 */
export function requestInKeys(
  handler: HandlerArgs,
  layers: readonly Layer[],
  target: string,
): { layer: Layer; error: CashewsConfigError; problem: string } | undefined {
  const layer = layers.find((candidate) => candidate.usesRequest);
  if (!layer) return undefined;
  const problem =
    `a {req.…} template has no request to read in ${CONTEXT_NAMES[handler.type]} call. Name what the call asks ` +
    "for instead (key: 'order:{data.id}' for @Payload() data), or give a key function.";
  return { layer, error: new CashewsConfigError(`@${layer.strategy} on ${target}: ${problem}`), problem };
}

/** Why a template may not read argument `index` (what `read` names), and what to name instead. */
function refusal(handler: HandlerArgs, read: ArgumentRead, index: number): string {
  const bound = handler.params[index]?.unreadable ?? 'a parameter no key may read';
  const named = /^\d+$/.test(read.name) ? `argument ${read.name}` : `parameter ${read.name} (argument ${read.index})`;
  const which = read.rest && read.index !== index ? `, whose argument ${index} is` : ', which is';
  return (
    `template "${read.template}" names ${named} in {${read.placeholder}}${which} ${bound} in ` +
    `${CONTEXT_NAMES[handler.type]} call: a key may not read it (made for each call, it holds the request, ` +
    'connections or services). Name what the call asks for instead (a parent, args, payload or message body ' +
    'field), or give a key function: it receives the arguments as they are.'
  );
}

/**
 * The warning for a handler whose storing layers with the default key leave out parameters it reads
 * ({@link HandlerArgs.unkeyed}: a context, a socket, a custom decorator's value), which may tell callers apart: calls
 * differing only there share one entry, as requests differing only by `@Headers()` share a default controller key.
 * `undefined` when there is none, and on a field resolver (its default key steps aside). `method` is the handler: of
 * what Nest passes a handler without parameter decorators, only the parameters it declares count.
 */
export function unkeyedInDefaultKey(
  handler: HandlerArgs,
  layers: readonly Layer[],
  method: unknown,
): { layer: Layer; problem: string } | undefined {
  const byDefaultKey = layers.filter((layer) => layer.storesResult && !layer.hasTemplate);
  if (byDefaultKey.length === 0 || handler.unkeyed.length === 0 || isFieldResolver(method) === true) return undefined;
  const declared = typeof method === 'function' ? method.length : 0;
  const left = handler.unkeyed.filter((index) => !handler.implicit || index < declared);
  if (left.length === 0) return undefined;
  const named = left.map(
    (index) => `${handler.params[index]?.unreadable ?? 'a custom parameter decorator'} (argument ${index})`,
  );
  const problem =
    `it reads ${named.join(', ')}, which its default key leaves out on ${CONTEXT_NAMES[handler.type]} ` +
    'call: calls differing only there (another user, connection or request) share one entry. Give it a key ' +
    "template naming what tells callers apart (key: 'me:{user.id}' for a custom " +
    "decorator's @CurrentUser() user, or an argument), or a key function: it receives the arguments as they are.";
  return { layer: byDefaultKey[0]!, problem };
}
