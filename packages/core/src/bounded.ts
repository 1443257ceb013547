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

/** Keys of each bounded map in the order they were first set, oldest at `head`. */
interface Arrivals<K> {
  keys: (K | undefined)[];
  head: number;
}

const arrivalsOf = new WeakMap<Map<unknown, unknown>, Arrivals<unknown>>();

/**
 * Sets `key` in `map`, then forgets the oldest entries until at most `limit` remain. `onEvict` hears
 * each forgotten entry, to clean up what refers to it.
 *
 * The order is kept in a queue beside the map rather than read from the map itself: asking a Map for
 * its first entry walks past every slot deleted since V8 last compacted it, which at a limit of 100,000
 * cost about 60 µs per call. A key that other code deletes and sets again may be forgotten at its
 * first arrival's turn; entries set without this function are forgotten after all tracked ones.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, limit: number, onEvict?: (key: K, value: V) => void): void {
  let arrivals = arrivalsOf.get(map) as Arrivals<K> | undefined;
  if (!arrivals) {
    arrivals = { keys: [...map.keys()], head: 0 };
    arrivalsOf.set(map, arrivals);
  }
  if (!map.has(key)) arrivals.keys.push(key);
  map.set(key, value);
  while (map.size > limit) {
    let oldest: K;
    if (arrivals.head < arrivals.keys.length) {
      oldest = arrivals.keys[arrivals.head] as K;
      arrivals.keys[arrivals.head++] = undefined;
      if (!map.has(oldest)) continue;
    } else {
      oldest = map.keys().next().value as K;
    }
    const evicted = map.get(oldest) as V;
    map.delete(oldest);
    onEvict?.(oldest, evicted);
  }
  if (arrivals.keys.length - arrivals.head > 2 * map.size + 1024) {
    // Mostly keys deleted by other code: start again from the map's own order (amortised O(1)).
    arrivals.keys = [...map.keys()];
    arrivals.head = 0;
  } else if (arrivals.head > 1024 && arrivals.head * 2 > arrivals.keys.length) {
    // Drop the consumed front once it is most of the array.
    arrivals.keys = arrivals.keys.slice(arrivals.head);
    arrivals.head = 0;
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
