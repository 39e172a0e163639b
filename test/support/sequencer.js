/**
 * Jest's default order (failed files first, then the longest by the last run's timings), except that a file without
 * timings is weighed by the size of the suites it imports, not by its own: a group file (see jest.config.js) is a
 * few import lines, and on a clean clone the default would start the longest groups last and leave a long tail.
 */
import { statSync } from 'node:fs';
import { join, relative } from 'node:path';
import Sequencer from '@jest/test-sequencer';
import { suiteModules } from '../../jest.config.js';

const BaseSequencer = Sequencer.default ?? Sequencer;
const root = join(import.meta.dirname, '..', '..');

function weight(path) {
  const suites = suiteModules(relative(root, path)).map((suite) => join(root, suite));
  return [path, ...suites].reduce((sum, file) => sum + statSync(file).size, 0);
}

export default class GroupSequencer extends BaseSequencer {
  sort(tests) {
    const weights = new Map(tests.map((test) => [test.path, weight(test.path)]));
    for (const test of tests) test.duration = this.time(test);
    return tests.sort((a, b) => {
      const failedA = this.hasFailed(a);
      if (failedA !== this.hasFailed(b)) return failedA ? -1 : 1;
      if ((a.duration == null) !== (b.duration == null)) return a.duration == null ? -1 : 1;
      if (a.duration != null && b.duration != null) return b.duration - a.duration;
      return weights.get(b.path) - weights.get(a.path);
    });
  }
}
