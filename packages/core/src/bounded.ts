/**
 * Bounded in-memory collections, for long-running fakes and caches that must not grow without limit:
 * the oldest entries are forgotten first.
 *
 * @module
 */

/**
 * A retention limit from options: `fallback` when absent.
 * @throws RangeError when it is not a positive integer (`name` says which option).
 */
export function retentionLimit(value: number | undefined, fallback: number, name: string): number {
  const limit = value ?? fallback;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return limit;
}

/**
 * Sets `key` in `map`, then forgets the oldest entries (a Map iterates in insertion order) until at
 * most `limit` remain. `onEvict` hears each forgotten entry, to clean up what refers to it.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, limit: number, onEvict?: (key: K, value: V) => void): void {
  map.set(key, value);
  while (map.size > limit) {
    const [oldest, evicted] = map.entries().next().value as [K, V];
    map.delete(oldest);
    onEvict?.(oldest, evicted);
  }
}

/**
 * Appends `item` to a history kept oldest first. Once it holds twice `limit` items it is cut back to
 * the newest `limit`: trimming in batches keeps an append O(1) on average instead of shifting the
 * whole array every time.
 */
export function pushBounded<T>(history: T[], item: T, limit: number): void {
  history.push(item);
  if (history.length > 2 * limit) history.splice(0, history.length - limit);
}
