/**
 * Deep copy of plain JSON-like data (records, snapshots). Node's `structuredClone` costs tens of
 * microseconds per call, which dominated the engine's hot path; records hold only plain data.
 *
 * @module
 */

/** Copies plain objects, arrays and primitives; anything else is kept by reference. */
export function cloneData<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(cloneData) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key in value as Record<string, unknown>) out[key] = cloneData((value as Record<string, unknown>)[key]);
  return out as T;
}
