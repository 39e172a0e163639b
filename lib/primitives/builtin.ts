import { circuitPrimitive } from './circuit.primitive.js';
import { fixedWindowPrimitive } from './fixed-window.primitive.js';
import { getBitsPrimitive } from './get-bits.primitive.js';
import { getRawPrimitive } from './get-raw.primitive.js';
import { getSizePrimitive } from './get-size.primitive.js';
import { incrBitsPrimitive } from './incr-bits.primitive.js';
import { incrPrimitive } from './incr.primitive.js';
import type { Primitive } from './primitive.js';
import { setAddPrimitive } from './set-add.primitive.js';
import { setLockPrimitive } from './set-lock.primitive.js';
import { setPopPrimitive } from './set-pop.primitive.js';
import { setRemovePrimitive } from './set-remove.primitive.js';
import { sliceIncrPrimitive } from './slice-incr.primitive.js';
import { slidingWindowPrimitive } from './sliding-window.primitive.js';
import { unlockPrimitive } from './unlock.primitive.js';

/**
 * Every primitive the library ships: the chaos backend accepts their names in `commands`, and Redis backends
 * define their scripts when they are created. A primitive added to lib/primitives/ is added here.
 */
export const BUILTIN_PRIMITIVES: ReadonlyArray<Primitive<never, unknown>> = [
  incrPrimitive,
  setLockPrimitive,
  unlockPrimitive,
  fixedWindowPrimitive,
  slidingWindowPrimitive,
  circuitPrimitive,
  getBitsPrimitive,
  incrBitsPrimitive,
  sliceIncrPrimitive,
  setAddPrimitive,
  setRemovePrimitive,
  setPopPrimitive,
  getRawPrimitive,
  getSizePrimitive,
];
