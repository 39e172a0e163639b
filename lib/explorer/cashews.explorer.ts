import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { CacheResolver } from '../cache-resolver.js';
import { getLayers } from '../decorators/strategy-metadata.js';
import { CashewsConfigError } from '../errors.js';
import { execute, type Layer } from '../strategies/executor.js';

type Method = (...args: unknown[]) => unknown;

/**
 * Wraps decorated methods of ordinary providers with the executor at bootstrap. Controllers are left to
 * the interceptor (routes are bound before `onModuleInit`), but their layers are validated here too, so
 * a decorator naming a missing cache instance fails at start-up rather than at the first request.
 */
@Injectable()
export class CashewsExplorer implements OnModuleInit {
  private readonly logger = new Logger('Cashews');
  private readonly wrapped = new WeakSet<object>();

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(CacheResolver) private readonly resolver: CacheResolver,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const prototype = (wrapper.metatype as { prototype?: object } | undefined)?.prototype;
      if (!prototype) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        for (const layer of getLayers((prototype as Record<string, unknown>)[name]) ?? [])
          this.resolver.cacheFor(layer);
      }
    }
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || this.wrapped.has(instance)) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const layers = getLayers((prototype as Record<string, unknown>)[name]);
        if (!layers) continue;
        if (!wrapper.isDependencyTreeStatic()) {
          this.logger.warn(
            `${wrapper.name as string}.${name} has cache decorators but is request-scoped (or depends on a ` +
              'request-scoped provider); its decorators are not applied. Move the method to a singleton provider.',
          );
          continue;
        }
        this.wrap(instance, name, layers);
        this.wrapped.add(instance);
      }
    }
  }

  private wrap(instance: Record<string, unknown>, name: string, layers: readonly Layer[]): void {
    const target = `${instance.constructor.name}.${name}`;
    for (const layer of layers) {
      if (layer.usesRequest) {
        throw new CashewsConfigError(
          `${target}: a {req.…} key placeholder only works on controller handlers; name a method parameter instead.`,
        );
      }
      this.resolver.cacheFor(layer);
    }
    const original = instance[name] as Method;
    const resolver = this.resolver;
    const decorated = function (this: unknown, ...args: unknown[]) {
      return execute(layers, { target, source: { args } }, resolver, async () => original.apply(this, args));
    };
    Object.defineProperty(decorated, 'name', { value: name });
    instance[name] = decorated;
  }
}
