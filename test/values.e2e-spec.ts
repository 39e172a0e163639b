/**
 * One Jest file for keys, codecs, the command API, the command pipeline, the testing helpers and migration. Each
 * Jest file loads Nest, ioredis and lib/ afresh (about 1 s of CPU), and these suites are short, so they share one
 * load. One of them alone: `npx jest test/values.e2e-spec.ts -t '<describe name>'`.
 */
import './keys/collisions.e2e.js';
import './keys/class-keys.e2e.js';
import './keys/key-context.e2e.js';
import './keys/key-functions.e2e.js';
import './keys/formatters.e2e.js';
import './keys/undefined-placeholder.e2e.js';
import './codec/hostile-values.e2e.js';
import './codec/json-and-compression.e2e.js';
import './codec/registered-fields.e2e.js';
import './commands/data-commands.e2e.js';
import './commands/command-arguments.e2e.js';
import './commands/command-options.e2e.js';
import './commands/keys-count.e2e.js';
import './commands/raw-values.e2e.js';
import './pipeline/builtin-hooks.e2e.js';
import './pipeline/command-hooks.e2e.js';
import './pipeline/invalidate-further.e2e.js';
import './testing/runtime-switch.e2e.js';
import './testing/testing-recipes.e2e.js';
import './migration/cache-manager.e2e.js';
import './migration/default-ttl.e2e.js';
