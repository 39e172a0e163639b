import { namedArguments } from '../decorators/handler-args.js';
import { CashewsConfigError } from '../errors.js';
import { compileKey, compilePattern, type KeyFunction, type KeySource } from '../keys/key-template.js';
import { parameterNames, type AnyFunction } from '../keys/param-names.js';

/** Where a template is compiled: the decorated method and what its placeholders may name. */
export interface TemplateSite {
  where: string;
  target: object;
  propertyKey: string | symbol;
  method: unknown;
}

/**
 * Compiles tag templates (`'user:{id}'`) or invalidation patterns (`'items:page:*'`) of a decorated
 * method, at decoration time, with the same placeholders as key templates (parameters, `@Param` names on
 * controllers, `{req.…}`). Tags may not contain `*`; in patterns it is the wildcard, and substituted
 * values are escaped so they cannot widen it.
 */
export function compileTemplates(
  site: TemplateSite,
  templates: readonly unknown[],
  kind: 'tag' | 'pattern',
): KeyFunction[] {
  const owner = typeof site.target === 'function' ? site.target : site.target.constructor;
  const base = `${(owner as { name: string }).name}:${String(site.propertyKey)}`;
  if (typeof site.method !== 'function') {
    throw new CashewsConfigError(`${site.where} on ${base}: only methods can be decorated.`);
  }
  const params = parameterNames(site.method as AnyFunction);
  const extraRoots = namedArguments(owner, site.propertyKey);
  return templates.map((template) => {
    if (typeof template !== 'string' || template === '') {
      throw new CashewsConfigError(`${site.where} on ${base}: each ${kind} must be a non-empty string template.`);
    }
    const spec = { base, params, template, extraRoots, allowRequest: true };
    return kind === 'tag' ? compileKey(spec) : compilePattern(spec);
  });
}

/** The tags of one call, rendered from compiled templates; `undefined` when there are none. */
export function renderTags(tags: readonly KeyFunction[] | undefined, source: KeySource): string[] | undefined {
  if (!tags || tags.length === 0) return undefined;
  return tags.map((tag) => tag(source));
}

/** Whether a template names the request (`{req.…}`): such templates only work on controller handlers. */
export function usesRequest(templates: readonly string[]): boolean {
  return templates.some((template) => /\{req[.}:]/.test(template));
}
