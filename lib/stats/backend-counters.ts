/** Commands, failures and key reads of one backend. Plain fields, bumped inline on the command paths. */
export class BackendCounters {
  commands = 0;
  errors = 0;
  hits = 0;
  misses = 0;

  /** Counts one key read: a hit unless the backend answered nothing. */
  read(found: boolean): void {
    if (found) this.hits++;
    else this.misses++;
  }
}
