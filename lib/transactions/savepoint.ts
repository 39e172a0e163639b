import { AsyncLocalStorage } from 'node:async_hooks';

/** What a scope changed of one key: the entry before its first write, and the entry it wrote last. */
interface Change<E> {
  readonly before: E | undefined;
  wrote: E;
}

/** The savepoint of the current async context (nested transactions of any cache instance, innermost first). */
const scope = new AsyncLocalStorage<Savepoint<unknown>>();

/**
 * The scope of a nested transaction: an undo log of what the code running inside it wrote, so that a throw undoes
 * those writes only. The transaction's overlay is shared with code running concurrently outside the scope (a
 * `Promise.all` sibling of the nested call): restoring a copy of the whole overlay would undo their writes too.
 *
 * Each key the scope writes is logged once, with the entry it replaced; on undo a key is restored only if it still
 * holds what the scope wrote last, so a later write of the same key from outside the scope is kept. A scope that
 * ends without a throw hands its log to the enclosing savepoint of the same transaction, which undoes those writes
 * too should it throw.
 */
export class Savepoint<E> {
  private readonly changes = new Map<string, Change<E>>();
  /** Tags this scope deleted that the transaction had not deleted before. */
  private readonly tags = new Set<string>();
  /** The enclosing savepoint of the same transaction, if any. */
  private readonly parent?: Savepoint<E>;

  private constructor(
    /** The transaction the savepoint belongs to. */
    private readonly owner: object,
    /** The enclosing savepoint of the async context, whatever its transaction (instances may nest transactions). */
    private readonly outer: Savepoint<unknown> | undefined,
  ) {
    this.parent = Savepoint.find<E>(owner, outer);
  }

  /** The innermost savepoint of `owner` in the current async context. */
  static current<E>(owner: object): Savepoint<E> | undefined {
    return Savepoint.find<E>(owner, scope.getStore());
  }

  /** Runs `fn` inside a new savepoint of `owner`: writes made by what `fn` runs are logged there. */
  static run<E, T>(owner: object, fn: () => Promise<T>): { savepoint: Savepoint<E>; result: Promise<T> } {
    const savepoint = new Savepoint<E>(owner, scope.getStore());
    return { savepoint, result: scope.run(savepoint as Savepoint<unknown>, fn) };
  }

  private static find<E>(owner: object, from: Savepoint<unknown> | undefined): Savepoint<E> | undefined {
    for (let savepoint = from; savepoint; savepoint = savepoint.outer) {
      if (savepoint.owner === owner) return savepoint as Savepoint<E>;
    }
    return undefined;
  }

  /** `key` is about to hold `entry` in place of `before`. */
  wrote(key: string, before: E | undefined, entry: E): void {
    const change = this.changes.get(key);
    if (change) change.wrote = entry;
    else this.changes.set(key, { before, wrote: entry });
  }

  /** `tag` was deleted by this scope, and not before it. */
  deletedTag(tag: string): void {
    this.tags.add(tag);
  }

  /** The scope ended without a throw: its writes are the enclosing savepoint's to undo should that one throw. */
  keep(entries: ReadonlyMap<string, E>): void {
    const parent = this.parent;
    if (!parent) return;
    for (const [key, { before, wrote }] of this.changes) {
      const known = parent.changes.get(key);
      if (!known) parent.changes.set(key, { before, wrote });
      // The parent's own write of the key came after this scope's: it stays the one to compare with.
      else if (entries.get(key) !== known.wrote) known.wrote = wrote;
    }
    for (const tag of this.tags) parent.tags.add(tag);
  }

  /** The scope threw: puts back what it replaced, where nothing outside the scope wrote since. */
  undo(entries: Map<string, E>, deletedTags: Set<string>): void {
    for (const [key, { before, wrote }] of this.changes) {
      if (entries.get(key) !== wrote) continue;
      if (before === undefined) entries.delete(key);
      else entries.set(key, before);
    }
    for (const tag of this.tags) deletedTags.delete(tag);
  }
}
