import type { InjectionToken } from '@nestjs/common';
import type { ModulesContainer } from '@nestjs/core';
import type { Module } from '@nestjs/core/injector/module.js';

/**
 * Whether the module providing `token` was added by `LazyModuleLoader` after the application started, rather than
 * scanned at start-up. At start-up Nest scans every module from the root module's imports; a lazy load adds its
 * modules without touching the imports of those already there, so a lazily loaded module is the one the root module
 * does not reach. (The root is the container's second module, after Nest's InternalCoreModule, as Nest itself reads
 * it.) Meant for what runs once per instance: it walks every module's imports.
 */
export function providedLazily(modules: ModulesContainer, token: InjectionToken): boolean {
  const host = [...modules.values()].find((module) => module.providers.has(token));
  const root = [...modules.values()][1];
  if (!host || !root) return false;
  const reached = new Set<Module>([root]);
  for (const module of reached) {
    if (module === host) return false;
    for (const imported of module.imports) if (imported) reached.add(imported);
  }
  return true;
}
