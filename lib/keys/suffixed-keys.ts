import { MemoBudget } from './memo-budget.js';

/**
 * `key + suffix` for recent keys, as the same string each time. A strategy that stores under a key derived from the
 * call's own (`@Adaptive`: `<key>:%adaptive`) built a new string per call, which the store and the tuner's table then
 * hashed again; a derived key remembered here is found by the hash it already carries. The call key itself is looked
 * up by its hash too when {@link KeyMemo} answered it. At most {@link LIMIT} keys are held (see {@link MemoBudget}).
 */
export class SuffixedKeys {
  private keys = new Map<string, string>();
  private readonly budget = new MemoBudget(LIMIT);

  constructor(private readonly suffix: string) {}

  of(key: string): string {
    if (!this.budget.open()) return key + this.suffix;
    const known = this.keys.get(key);
    if (known !== undefined) {
      this.budget.hit();
      return known;
    }
    const derived = key + this.suffix;
    if (this.budget.added(1)) this.keys = new Map();
    this.keys.set(key, derived);
    return derived;
  }
}

/** Keys per memo. A key is held twice (call key and derived key), both also held by the store while cached. */
const LIMIT = 4096;
