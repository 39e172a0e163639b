import { MemoryBackend } from 'nestjs-cashews';
import { runBackendConformance } from 'nestjs-cashews/testing';

// A third party's run of the exported conformance suite, under the project's own Jest (real time: no fake timers,
// so the same file runs in CommonJS and ESM projects, where `jest` is not a global).
runBackendConformance({
  name: 'MemoryBackend from the packed package',
  create: () => new MemoryBackend({ size: 100_000, checkInterval: 0 }),
  test: { describe, it, beforeEach, afterEach },
});
