/**
 * One Jest file for the command API. Each Jest file loads Nest, ioredis and lib/ afresh (about 1.5 s of CPU on this
 * project's machines), so these suites share one load. One of them alone: `npx jest
 * test/commands/commands.e2e-spec.ts -t '<describe name>'`.
 */
import './data-commands.e2e.js';
import './keys-count.e2e.js';
import './raw-values.e2e.js';
