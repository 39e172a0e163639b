import type { ClassType, Layer } from '../strategies/layer.js';

/** The one metadata key of every strategy decorator, read only through {@link getLayers}. */
const LAYERS = 'cashews:layers';

/** Whether `key` is the metadata key of the layers (a copy of a handler that runs them itself leaves it out). */
export function isLayersKey(key: unknown): boolean {
  return key === LAYERS;
}

/** Layers of a decorated method, outermost decorator first; `undefined` when it has none. */
export function getLayers(method: unknown): readonly Layer[] | undefined {
  return typeof method === 'function' ? (Reflect.getMetadata(LAYERS, method) as Layer[] | undefined) : undefined;
}

/**
 * TypeScript applies method decorators from the bottom up, so each new one is the outer layer and goes
 * first: `@RateLimit` written above `@Cache` runs before it. `innermost`: the layer goes last, below the method's
 * own decorators (a controller's class-level `@Cache`, applied after them).
 */
export function addLayer(method: object, layer: Layer, innermost = false): void {
  const layers = getLayers(method) ?? [];
  Reflect.defineMetadata(LAYERS, innermost ? [...layers, layer] : [layer, ...layers], method);
}

/**
 * The layers of a method as they run on an instance of `type`: default keys (and statistics) name the instance's
 * class, not the class that declares the method, so two providers inheriting one decorated method never share its
 * entries. The same array when no layer changes (the method is declared on `type`, or on a class of its name).
 */
export function layersFor(layers: readonly Layer[], type: ClassType): readonly Layer[] {
  const rebased = layers.map((layer) => (layer.forClass ? layer.forClass(type) : layer));
  return rebased.every((layer, i) => layer === layers[i]) ? layers : rebased;
}
