/**
 * One Jest file for the command API, the command pipeline and the testing helpers. Each Jest file loads Nest,
 * ioredis and lib/ afresh (about 1.5 s of CPU on this project's machines), so these suites share one load. One of
 * them alone: `npx jest test/commands/commands.e2e-spec.ts -t '<describe name>'`.
 */
import './data-commands.e2e.js';
import './keys-count.e2e.js';
import './raw-values.e2e.js';
import '../pipeline/builtin-hooks.e2e.js';
import '../pipeline/command-hooks.e2e.js';
import '../pipeline/invalidate-further.e2e.js';
import '../testing/runtime-switch.e2e.js';
import '../testing/testing-recipes.e2e.js';
