import { PARAMTYPES_METADATA, PROPERTY_DEPS_METADATA, SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants.js';
import { LazyModuleLoader, ModuleRef, type ModulesContainer } from '@nestjs/core';
import { STATIC_CONTEXT } from '@nestjs/core/injector/constants.js';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { Module } from '@nestjs/core/injector/module.js';

/**
 * Has `decorate` see the modules `LazyModuleLoader` adds to an application, before `load()` hands out their
 * `ModuleRef`. Nest runs no lifecycle hook in a lazily loaded module, so the explorer, which decorates at
 * `onModuleInit`, would never see its providers; the loader is the one place every lazy module goes through.
 *
 * Nest provides one loader per application (InternalCoreModule's factory), the same instance everyone injects:
 * `load` is replaced on that instance only, so nothing is shared between applications and nothing outlives the
 * application's container (no process-wide list). Only the loaded module and its imports not seen before are walked,
 * once each, synchronously after Nest's `load` resolved: a second, concurrent `load()` of the same module (Nest 12
 * has it wait for the first one's build) resumes either before or after that walk, never during it, so neither
 * caller gets the `ModuleRef` before its providers are decorated. Nothing runs on any call of a decorated method.
 *
 * A walk that throws (decorators that cannot apply, as at start-up) rejects the `load()` and marks nothing, so a
 * later `load()` of the same module refuses it again instead of handing out undecorated providers.
 */
export function decorateLazyLoads(
  loader: LazyModuleLoader,
  modules: ModulesContainer,
  decorate: (loaded: readonly Module[]) => void,
): void {
  // Every module there now was walked at start-up.
  const walked = new WeakSet<Module>(modules.values());
  // The refs of modules walked already: a module loaded again (Nest answers its cached ref; apps that load per request
  // do so on every request) costs one lookup here instead of a pass over the container's modules.
  const done = new WeakSet<ModuleRef>();
  const load = loader.load;
  loader.load = async (...args: Parameters<LazyModuleLoader['load']>): ReturnType<LazyModuleLoader['load']> => {
    const ref = await load.apply(loader, args);
    if (!ref || done.has(ref)) return ref;
    const target = moduleOf(ref, modules, walked);
    if (target) {
      const loaded = unwalked(target, walked);
      if (loaded.length) decorate(loaded);
      for (const module of loaded) walked.add(module);
      // Not built yet (an older Nest answering a concurrent load early): left to the load() that builds it.
      if (!walked.has(target)) return ref;
    }
    done.add(ref);
    return ref;
  };
}

/** The module `ref` is the `ModuleRef` of, among those not walked yet (a module walked before has nothing new). */
function moduleOf(ref: ModuleRef, modules: ModulesContainer, walked: WeakSet<Module>): Module | undefined {
  for (const module of modules.values()) {
    if (!walked.has(module) && module.getProviderByKey(ModuleRef)?.instance === ref) return module;
  }
  return undefined;
}

/**
 * `target` and the modules it imports, directly or not, that were not walked yet and are built. A module seen before
 * is not entered: its imports were walked with it. Nest 12 resolves `load()` once every one of them is built; an
 * older Nest can resolve a concurrent `load()` while another one still builds the module, and that module is left to
 * the `load()` building it.
 */
function unwalked(target: Module, walked: WeakSet<Module>): Module[] {
  const found: Module[] = [];
  const visited = new Set<Module>();
  const pending = [target];
  for (let module = pending.pop(); module; module = pending.pop()) {
    if (visited.has(module) || walked.has(module)) continue;
    visited.add(module);
    if (built(module)) found.push(module);
    for (const imported of module.imports) if (imported) pending.push(imported);
  }
  return found;
}

/** Whether every singleton provider of `module` has its instance (not the prototype Nest puts first). */
function built(module: Module): boolean {
  for (const wrapper of module.providers.values()) {
    if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) continue;
    if (!wrapper.getInstanceByContextId(STATIC_CONTEXT).isResolved) return false;
  }
  return true;
}

/**
 * Whether a provider or controller among `wrappers` injects `LazyModuleLoader` (by constructor type, `@Inject`, a
 * property, or a factory's `inject`): the modules it loads later may hold decorated providers, whose hits below a
 * route handler report to the request's scope. Read once at start-up, when what is mounted on every route is
 * decided; a module can only be loaded lazily by code that holds the loader.
 */
export function injectsLazyModuleLoader(wrappers: Iterable<InstanceWrapper>): boolean {
  for (const wrapper of wrappers) {
    if (wrapper.inject?.some((token) => token === LazyModuleLoader)) return true;
    const type = wrapper.metatype;
    if (typeof type !== 'function' || wrapper.inject) continue;
    const params = Reflect.getMetadata(PARAMTYPES_METADATA, type) as unknown[] | undefined;
    if (params?.includes(LazyModuleLoader)) return true;
    const declared = Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, type) as Array<{ param: unknown }> | undefined;
    if (declared?.some(({ param }) => param === LazyModuleLoader)) return true;
    const properties = Reflect.getMetadata(PROPERTY_DEPS_METADATA, type) as Array<{ type: unknown }> | undefined;
    if (properties?.some((property) => property.type === LazyModuleLoader)) return true;
  }
  return false;
}
