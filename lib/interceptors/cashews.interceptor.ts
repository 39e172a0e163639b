import {
  Inject,
  Injectable,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HOST_METADATA } from '@nestjs/common/constants.js';
import { HttpAdapterHost } from '@nestjs/core';
import { defer, isObservable, lastValueFrom, mergeMap, of, throwError, type Observable } from 'rxjs';
import { CacheResolver } from '../cache-resolver.js';
import {
  argsFromContext,
  handlerContextTypes,
  isFieldResolver,
  keyedArgs,
  readHandlerArgs,
  requestInKeys,
  unkeyedInDefaultKey,
  unreadableInKeys,
  type HandlerArgs,
  type HandlerContextType,
} from '../decorators/handler-args.js';
import { CACHED_METHODS } from '../decorators/http-methods.js';
import { argsFromRequest, readRouteArgs, type RouteArgs } from '../decorators/route-args.js';
import { getLayers, layersFor } from '../decorators/strategy-metadata.js';
import { routeScope } from '../detect/route-scope.js';
import { type CashewsConfigError, KeyPlaceholderError } from '../errors.js';
import { escapeKeyPart } from '../keys/escape-key-part.js';
import { keyHead, type KeySource } from '../keys/key-template.js';
import { execute, type Invocation, type Layer } from '../strategies/executor.js';
import type { ClassType } from '../strategies/layer.js';
import type { LimitInfo } from '../strategies/strategy.js';

/** A handler as its controller routes it: its route arguments, `Class.method` name and layers. */
type Route = HttpRoute & {
  layers: readonly Layer[];
  /** The layers as a GraphQL field resolver runs them (see `parentKeyed`), made at its first such call. */
  withParent?: readonly Layer[];
  /**
   * Whether it is a GraphQL field resolver, from its `@nestjs/graphql` metadata (see `isFieldResolver`); `undefined`
   * without any, when a call's argument 0 tells (see `isParent`).
   */
  fieldResolver?: boolean;
  /** Where its parameter metadata is found: the class routing it and the property holding it. */
  owner: object;
  property: string | symbol;
  /** Its parameters as each context outside HTTP fills them, read at its first call there. */
  contexts?: Partial<Record<HandlerContextType, ContextRoute>>;
};

/** A handler's parameters in one context outside HTTP, and the error refusing its calls when a key reads one wrongly. */
interface ContextRoute {
  args: HandlerArgs;
  refused?: CashewsConfigError;
}

const CONTEXT_TYPES: ReadonlySet<string> = new Set<HandlerContextType>(['graphql', 'rpc', 'ws']);

/**
 * A GraphQL resolver's argument 0 when it is a field resolver's parent: an object with fields (not a root `{}`). Only
 * a guess, for a resolver without `@nestjs/graphql` metadata: a parent keeping its data in private fields has none.
 */
function isParent(root: unknown): root is object {
  return typeof root === 'object' && root !== null && Object.keys(root).length > 0;
}

/**
 * Marks the execution context (one per call, shared by all its interceptors) once a `CashewsInterceptor` ran its
 * layers: mounted on a controller while the global one runs too, the strategies run once (a second run of a storing
 * layer would wait on its own single flight).
 */
const RAN = Symbol('CashewsInterceptor');

/** Metadata `@Sse()` puts on a handler (`SSE_METADATA` of @nestjs/common, not exported from its entry point). */
const SSE_METADATA = '__sse__';

/**
 * A decorated route handler as its HTTP calls need it: its route arguments, `Class.method`, and whether its controller
 * is host-routed (`@Controller({ host })`), when its default key names the request's host.
 * @internal
 */
export type HttpRoute = RouteArgs & { target: string; byHost?: boolean };

type HttpRequest = {
  method?: string;
  url?: string;
  originalUrl?: string;
  ip?: string;
  socket?: { remoteAddress?: string };
};

/**
 * Runs strategy decorators on controller handlers (HTTP, RPC), GraphQL resolvers and WebSocket gateways. It only
 * adapts the execution context to an {@link Invocation} (outside HTTP, keys read the handler's arguments as Nest fills
 * them: see handler-args.ts); the strategies themselves live in the executor.
 * @example
 * ```ts
 * import { UseInterceptors } from '@nestjs/common';

 *
 * // attached to every decorated method by its decorator (through CashewsRouteInterceptor); mounting it by hand
 * // (next to the Controller decorator; the handler's Get decorator goes next to Cache) changes nothing
 * ;@UseInterceptors(CacheHeadersInterceptor, CashewsInterceptor)
 * export class ProductsController {
 *   constructor(private readonly products: ProductsService) {}
 *
 *   ;@Cache({ ttl: '1m' })
 *   list(): Promise<Product[]> {
 *     return this.products.list();
 *   }
 * }
 * ```
 */
@Injectable()
export class CashewsInterceptor implements NestInterceptor {
  /** Per controller class, then handler: a handler a base controller declares is routed by each class extending it. */
  private readonly routes = new WeakMap<object, WeakMap<object, Route>>();

  constructor(
    @Inject(CacheResolver) private readonly resolver: CacheResolver,
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler();
    const layers = getLayers(handler);
    if (!layers) return next.handle();
    const marks = context as unknown as Record<symbol, boolean | undefined>;
    if (marks[RAN]) return next.handle();
    marks[RAN] = true;
    const route = this.routeOf(context.getClass(), handler as (...args: unknown[]) => unknown, layers);
    const target = route.target;
    // A server-sent events route streams its Observable: the layers get (and may record) the stream itself.
    const sse = Reflect.getMetadata(SSE_METADATA, handler) === true;
    const run = sse ? async () => next.handle() : () => lastValueFrom(next.handle(), { defaultValue: undefined });
    const flatten = (result: Observable<unknown>) =>
      sse ? result.pipe(mergeMap((value) => (isObservable(value) ? value : of(value)))) : result;

    const type = context.getType<string>();
    if (type !== 'http') {
      let active = route.layers;
      // A field resolver (`@ResolveField`): argument 0 is its parent.
      if (type === 'graphql' && (route.fieldResolver ?? isParent(context.getArgByIndex(0)))) {
        active = route.withParent ??= this.parentKeyed(route, target);
      }
      if (!CONTEXT_TYPES.has(type)) {
        // A context of another library: what its handlers receive is its own; keys see argument 0 ({0}).
        const args = [context.getArgByIndex(0)];
        return flatten(defer(() => execute(active, { target, source: { args } }, this.resolver, run)));
      }
      const handler = this.contextRoute(route, type as HandlerContextType);
      if (handler.refused) {
        const refused = handler.refused;
        return throwError(() => refused);
      }
      // The handler's arguments as Nest fills its parameters, by position: `{user.id}` of `@Parent() user` is the parent.
      const source: KeySource = { args: argsFromContext(handler.args, context.getArgs(), () => context, target) };
      const invocation = contextInvocation(handler.args, target, source);
      return flatten(defer(() => execute(active, invocation, this.resolver, run)));
    }

    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const running = this.runRoute(route, route.layers, request, http.getResponse<unknown>(), run, () => context);
    return running ? flatten(defer(() => running())) : next.handle();
  }

  /**
   * The layers a GraphQL field resolver runs: a storing layer with the default key steps aside, said once, whatever
   * the parent looks like. That key would render the parent whole: an entity, often with references back to it
   * (no key), or keeping its data in private fields (rendered `{}`, so every parent would share one entry).
   */
  private parentKeyed(route: Route, target: string): readonly Layer[] {
    return route.layers.filter((layer) => {
      if (!layer.storesResult || layer.hasTemplate) return true;
      this.resolver.onLayerProblem(
        layer,
        target,
        'graphql-parent',
        'runs uncached on a GraphQL field resolver: its default key would render the whole parent (@Parent()), ' +
          'which is no key (an entity may refer back to itself, or keep its fields private and render as {}, so ' +
          "parents would share one entry). Give it a key template naming the parent, e.g. 'posts:{user.id}' for " +
          '@Parent() user.',
        'warn',
      );
      return false;
    });
  }

  /**
   * The handler's parameters as a `type` context fills them, read at its first call there (then one property read
   * per call). A template naming one that no key may read (`@Context()`, `@ConnectedSocket()`), or the request
   * (`{req.…}`), refuses every call of the handler there, said once; a default key leaving out one it reads is warned about once. The explorer does
   * both at bootstrap when the handler's routing decorators tell its context (see `handlerContextTypes`).
   */
  private contextRoute(route: Route, type: HandlerContextType): ContextRoute {
    const contexts = (route.contexts ??= {});
    let found = contexts[type];
    if (found) return found;
    const handler = (route.owner as { prototype?: Record<string | symbol, unknown> }).prototype?.[route.property];
    const args = readHandlerArgs(route.owner, route.property, type, handler);
    const unreadable =
      unreadableInKeys(args, route.layers, route.target) ?? requestInKeys(args, route.layers, route.target);
    found = contexts[type] = { args, ...(unreadable && { refused: unreadable.error }) };
    if (unreadable) {
      const problem = `${unreadable.problem} Its calls fail with CashewsConfigError until the template changes.`;
      this.resolver.onLayerProblem(unreadable.layer, route.target, 'unreadable-parameter', problem);
    }
    // Said at bootstrap when the handler's routing decorators tell this context (see the explorer).
    const unkeyed = handlerContextTypes(handler).includes(type)
      ? undefined
      : unkeyedInDefaultKey(args, route.layers, handler);
    if (unkeyed)
      this.resolver.onLayerProblem(unkeyed.layer, route.target, 'unkeyed-parameter', unkeyed.problem, 'warn');
    return found;
  }

  /**
   * One HTTP call of a decorated route, for this interceptor and for a direct route (lib/routes/direct-routes.ts,
   * where the handler itself runs it): the call's layers (those that apply to its HTTP method) ready to run around
   * `run`, or `undefined` when none applies. Keys are built from the request before pipes, the same either way;
   * `context` is the call's execution context, for the factories of custom parameter decorators a key reads.
   * @internal
   */
  runRoute(
    route: HttpRoute,
    layers: readonly Layer[],
    request: object,
    response: unknown,
    run: () => Promise<unknown>,
    context?: () => ExecutionContext,
  ): (() => Promise<unknown>) | undefined {
    const req = request as HttpRequest;
    const method = String(req.method ?? 'GET').toUpperCase();
    const active = layers.filter(
      (layer) => !layer.storesResult || (!route.usesResponse && (layer.methods ?? CACHED_METHODS).includes(method)),
    );
    if (active.length === 0) return undefined;
    const target = route.target;
    const source: KeySource = { args: argsFromRequest(route, req, context, target), req: requestView(req) };
    const host = route.byHost ? this.hostnameOf(req) : undefined;
    const invocation: Invocation = {
      target,
      source,
      keyOf: (layer) => this.keyOf(layer, source, method, req, target, host),
      onLimit: this.limitHeaders(response),
      detect: routeScope(req),
    };
    return () => execute(active, invocation, this.resolver, run);
  }

  /**
   * Default controller keys name the route and the whole query string as sent (parameters sorted by name), after the
   * request's host (`host`) on a host-routed controller.
   */
  protected keyOf(
    layer: Layer,
    source: KeySource,
    method: string,
    req: HttpRequest,
    target = '',
    host?: string,
  ): string {
    if (layer.hasTemplate) {
      if (layer.defaultKey !== 'client') return layer.key(source);
      try {
        return layer.key(source);
      } catch (error) {
        if (!(error instanceof KeyPlaceholderError)) throw error;
        // A rate limit whose template cannot name this caller (`{req.user.id}` without a user) counts the
        // client instead, under the method's default per-client key: never one bucket for all such callers.
        this.resolver.onMissingKeyPart(layer, target, error, 'client');
        return `${keyHead({ prefix: layer.prefix, base: layer.base })}:${escapeKeyPart(clientOf(req))}`;
      }
    }
    if (layer.defaultKey) {
      // Protective decorators: the method alone, or per client. Never the query string: varying it must
      // not get around a rate limit. `req.ip` honours the adapter's `trust proxy` setting, and only it.
      const key = layer.key(source);
      return layer.defaultKey === 'client' ? `${key}:${escapeKeyPart(clientOf(req))}` : key;
    }
    const url = req.originalUrl ?? req.url ?? '';
    const mark = url.indexOf('?');
    const path = mark >= 0 ? `${url.slice(0, mark)}?${sortedQuery(url.slice(mark + 1))}` : url;
    if (host !== undefined) return `${keyHead(layer)}:${method}:${escapeKeyPart(host)}:${escapeKeyPart(path)}`;
    return `${keyHead(layer)}:${method}:${escapeKeyPart(path)}`;
  }

  /**
   * The request's host as Nest matched it against a host-routed controller's pattern: the adapter's
   * `getRequestHostname` (`req.hostname` on Express and Fastify: without the port, from `X-Forwarded-Host` only
   * under `trust proxy`), as reported (not lower-cased: `@HostParam` values keep the case sent).
   */
  private hostnameOf(req: object): string {
    const adapter = this.adapterHost?.httpAdapter as { getRequestHostname?(req: object): unknown } | undefined;
    const hostname = adapter?.getRequestHostname
      ? adapter.getRequestHostname(req)
      : (req as { hostname?: unknown }).hostname;
    return typeof hostname === 'string' ? hostname : '';
  }

  /**
   * `X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds) on every response of a rate-limited route; with
   * several limits on one route, the one closest to its limit. Set through the HTTP adapter (Express, Fastify).
   */
  private limitHeaders(response: unknown): ((info: LimitInfo) => void) | undefined {
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter || !response) return undefined;
    let shown: LimitInfo | undefined;
    return (info) => {
      if (shown && shown.remaining <= info.remaining) return;
      shown = info;
      adapter.setHeader(response, 'X-RateLimit-Limit', String(info.limit));
      adapter.setHeader(response, 'X-RateLimit-Remaining', String(info.remaining));
      adapter.setHeader(response, 'X-RateLimit-Reset', String(Math.ceil(info.reset / 1000)));
    };
  }

  /**
   * The handler's route arguments, `Class.method` name and layers, found once per controller and handler under the
   * property Nest routes it by: `@Param`/`@Query` metadata is stored under that property key, which need not be the
   * function's name. Class and layers are the controller's (see `layersFor`), also for a handler it inherits.
   */
  private routeOf(controller: object, handler: (...args: unknown[]) => unknown, layers: readonly Layer[]): Route {
    let routes = this.routes.get(controller);
    if (!routes) this.routes.set(controller, (routes = new WeakMap()));
    let route = routes.get(handler);
    if (!route) {
      const key = propertyKeyOf(controller, handler);
      route = {
        ...readRouteArgs(controller, key),
        target: `${(controller as { name?: string }).name}.${String(key)}`,
        layers: layersFor(layers, controller as ClassType),
        byHost: isHostRouted(controller),
        owner: controller,
        property: key,
        fieldResolver: isFieldResolver(handler),
      };
      routes.set(handler, route);
    }
    return route;
  }
}

/**
 * A call outside HTTP: templates read the handler's arguments by position; a default key renders them without those
 * it leaves out (a context, a socket, a custom decorator's value: see `keyedArgs`), made once per call when a default
 * key is built.
 */
function contextInvocation(handler: HandlerArgs, target: string, source: KeySource): Invocation {
  if (handler.unkeyed.length === 0) return { target, source };
  let keyed: KeySource | undefined;
  const keyOf = (layer: Layer) =>
    layer.hasTemplate ? layer.key(source) : layer.key((keyed ??= { args: keyedArgs(handler, source.args) }));
  return { target, source, keyOf };
}

/**
 * The property of the controller's prototype (or of a class it extends) that holds `handler`: Nest routes
 * `prototype[key]`, and a handler defined through a mixin, `Object.defineProperty` or wrapped by another
 * decorator has a function name (`other`, `wrapped`, `bound x`) that differs from `key`. Falls back to the
 * function's name when the handler is not on the prototype chain.
 */
function propertyKeyOf(controller: object, handler: (...args: unknown[]) => unknown): string | symbol {
  const prototype = (controller as { prototype?: unknown }).prototype;
  for (let proto = prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Reflect.ownKeys(proto)) {
      if (key !== 'constructor' && Object.getOwnPropertyDescriptor(proto, key)?.value === handler) return key;
    }
  }
  return handler.name;
}

/**
 * The most parts a query string is sorted with: Node's `querystring` (Express's default parser) keeps the first 1000
 * pairs and `qs` (its `extended` parser) the first 1000 parts, so beyond that the order decides which ones the handler
 * sees, and the query is keyed as sent.
 */
const MAX_SORTED_PARTS = 1000;

/**
 * The query string of a default controller key: its `&`-separated parts exactly as sent (never decoded or re-encoded:
 * parsers disagree on a bad escape or invalid UTF-8, `%350%+off` is `'%350% off'` to Fastify and `qs` and
 * `'50% off'` to Node's `querystring`, so no normal form can stand for what every handler sees), sorted by name so
 * that `?a=1&b=2` and `?b=2&a=1` share an entry. The sort is stable and only moves parts between groups that no
 * parser can merge: the decoded name up to its first `[` (`a`, `a[]`, `a[x]` and `%61` are one group: `qs` nests
 * them, repeated names make arrays, and within a group the order is what the handler sees), and one group for every
 * name that does not decode cleanly (a bad escape, invalid UTF-8, or a `%` once decoded), which parsers may keep raw
 * (`%FF`, like a sent `%25FF`) or decode lossily (U+FFFD, like a sent `%EF%BF%BD`). `+` and `%20` stay two entries.
 */
function sortedQuery(query: string): string {
  const parts = query.split('&');
  if (parts.length < 2 || parts.length > MAX_SORTED_PARTS) return query;
  const groups = parts.map((part, index) => ({ part, index, group: queryGroup(part) }));
  groups.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.index - b.index));
  return groups.map(({ part }) => part).join('&');
}

/** The group of a query part for {@link sortedQuery}: `'%'` (which no cleanly decoded name has) for a doubtful name. */
function queryGroup(part: string): string {
  const equals = part.indexOf('=');
  const raw = (equals >= 0 ? part.slice(0, equals) : part).replace(/\+/g, ' ');
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return '%';
  }
  if (name.includes('%') || name.includes('\uFFFD')) return '%';
  // qs reads a name that starts with a bracket by its first bracket's content: `[a]=2` is `a=2`, `[a][x]` is `a[x]`.
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close > 0) return name.slice(1, close);
  }
  const bracket = name.indexOf('[');
  return bracket >= 0 ? name.slice(0, bracket) : name;
}

/**
 * Whether a controller is host-routed (`@Controller({ host: ':tenant.example.com' })`): one handler answers several
 * hosts, which its default key must keep apart.
 * @internal
 */
export function isHostRouted(controller: object): boolean {
  const host: unknown = Reflect.getMetadata(HOST_METADATA, controller);
  return host !== undefined && host !== null && !(Array.isArray(host) && host.length === 0);
}

/** The client address as the adapter sees it: `req.ip` (proxy headers only under `trust proxy`). */
function clientOf(req: HttpRequest): string {
  return req.ip ?? req.socket?.remoteAddress ?? 'unknown';
}

/**
 * On Fastify, Nest middleware receives the raw Node request (`req.raw`), so a `req.user` set by
 * middleware lives there, not on the Fastify request the interceptor sees. Key templates read through
 * this view, which falls back to the raw request for properties the Fastify request lacks.
 */
function requestView(req: object): object {
  const raw = (req as { raw?: unknown }).raw;
  if (typeof raw !== 'object' || raw === null || raw === req) return req;
  return new Proxy(req, {
    get: (target, prop) => (Reflect.has(target, prop) ? Reflect.get(target, prop) : Reflect.get(raw, prop)),
    getOwnPropertyDescriptor: (target, prop) => {
      const own = Reflect.getOwnPropertyDescriptor(target, prop);
      if (own) return own;
      const fallback = Reflect.getOwnPropertyDescriptor(raw, prop);
      return fallback && { ...fallback, configurable: true };
    },
  });
}
