/**
 * `@Cache` on provider methods, inside a real Nest app, on mem:// and Redis db 8: the storing scenarios every
 * storing strategy shares (test/support/storing-scenarios.ts), `timeCondition` among them. What only `@Cache`
 * does is covered where it is a feature of its own: stampede locks (test/support/storing-scenarios.ts, with
 * `stampedeLock`), class-level caching (test/decorators/class-cache.e2e.ts), ETags (test/detect).
 * Every class name and key template here starts with "Cx" (see test/support/strategy-fixtures.ts).
 */
import { Cache } from '../../lib/index.js';
import { storingScenarios, type StoringStrategy } from '../support/storing-scenarios.js';
import { describeBackends } from '../support/strategy-fixtures.js';

const TAG = 'Cx';

const CACHE: StoringStrategy = {
  name: 'cache',
  tag: TAG,
  serves: 'hit',
  envelope: false,
  hitCounter: false,
  stampedeLock: true,
  cacheErrors: true,
};

describeBackends('@Cache: storing scenarios', ({ url }) => storingScenarios(CACHE, (options) => Cache(options), url));

// With timeouts (`staleTtl` + `timeout`) values are stored as envelopes; every shared scenario holds there too.
describeBackends('@Cache with staleTtl and timeout: storing scenarios', ({ url }) =>
  storingScenarios(
    { ...CACHE, tag: 'Ct', envelope: true, keptPastTtl: 60_000 },
    (options) => Cache({ ...options, staleTtl: '1m', timeout: '5s' }),
    url,
  ),
);
