import { describeArgument } from '../config/describe-argument.js';
import { CacheValueError } from '../errors.js';

/**
 * Where the index of a tag lives in the backend. One index per tag, named after the tag alone, so on Redis
 * Cluster each index is an ordinary key in its own slot (it never needs to share a slot with its members).
 */
export const TAG_INDEX_PREFIX = 'cashews:tag:';

export function tagIndexKey(tag: string): string {
  return TAG_INDEX_PREFIX + tag;
}

/**
 * Where the tags of a tagged key are listed (a set of tag index keys, expiring with the key), so whatever
 * removes the key also removes it from its indexes: an index never outlives its keys.
 */
export const TAGS_OF_PREFIX = 'cashews:tags-of:';

export function tagsOfKey(key: string): string {
  return TAGS_OF_PREFIX + key;
}

/** Whether `key` is storage of the tags (a tag index or a key's tag list), not a cache key. */
export function isTagKey(key: string): boolean {
  return key.startsWith(TAG_INDEX_PREFIX) || key.startsWith(TAGS_OF_PREFIX);
}

/** Keys removed per round trip when a tag is deleted. */
export const TAG_BATCH = 1000;

/**
 * Validates tags given to `set` or `deleteTags`: an array of non-empty strings, without the `*` wildcard. One string
 * given for the array would be read as its characters, a tag each, and `deleteTags` of the string would miss the key.
 */
export function checkTags(tags: readonly unknown[], where: string): readonly string[] {
  if (!Array.isArray(tags)) {
    throw new CacheValueError(
      `${where}: tags must be an array of non-empty strings, such as ['user:42'] (got ${describeArgument(tags)}).`,
    );
  }
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag === '' || tag.includes('*')) {
      throw new CacheValueError(`${where}: tags must be non-empty strings without "*" (got ${JSON.stringify(tag)}).`);
    }
  }
  return tags as readonly string[];
}
