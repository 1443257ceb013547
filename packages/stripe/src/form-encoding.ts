/**
 * Stripe's `application/x-www-form-urlencoded` dialect, as stripe-node's `stringifyRequestData` writes it:
 * nested objects as `parent[child]`, arrays indexed `arr[0]`, `undefined` skipped, `null` and `''`
 * sent as an empty value (Stripe's way to unset), dates as unix seconds, keys in insertion order.
 *
 * @module
 */

/** A value Stripe's encoder accepts. */
export type FormValue =
  | string
  | number
  | boolean
  | bigint
  | Date
  | null
  | undefined
  | readonly FormValue[]
  | { readonly [key: string]: FormValue };

/** The encoding stripe-node applies: `encodeURIComponent`, plus `!'()*`, brackets left readable. */
const PLAIN = /^[A-Za-z0-9_.~\-[\]]*$/;

export function encodeFormComponent(text: string): string {
  // Most keys and values (ids, amounts, enums) need no escaping at all.
  if (PLAIN.test(text)) return text;
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%5B/g, '[')
    .replace(/%5D/g, ']');
}

/**
 * Flattens a nested value into ordered `[key, value]` pairs (unencoded).
 * @example flattenForm({ metadata: { a: '1' }, types: ['card'] }) // [['metadata[a]','1'],['types[0]','card']]
 */
export function flattenForm(data: Readonly<Record<string, FormValue>>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const key of Object.keys(data)) walk(key, data[key], out);
  return out;
}

function walk(key: string, value: FormValue, out: Array<[string, string]>): void {
  if (value === undefined) return;
  if (value === null) {
    out.push([key, '']);
  } else if (value instanceof Date) {
    out.push([key, String(Math.floor(value.getTime() / 1000))]);
  } else if (Array.isArray(value)) {
    // An empty array is how Stripe clears a list (`key=`).
    if (value.length === 0) out.push([key, '']);
    for (let i = 0; i < value.length; i++) walk(`${key}[${i}]`, value[i], out);
  } else if (typeof value === 'object') {
    const obj = value as { readonly [key: string]: FormValue };
    for (const child of Object.keys(obj)) walk(`${key}[${child}]`, obj[child], out);
  } else {
    out.push([key, String(value)]);
  }
}

/** Encodes a nested value as a Stripe form body (`a=1&metadata[k]=v`). */
export function encodeForm(data: Readonly<Record<string, FormValue>>): string {
  let body = '';
  for (const [key, value] of flattenForm(data)) {
    if (body) body += '&';
    body += `${encodeFormComponent(key)}=${encodeFormComponent(value)}`;
  }
  return body;
}
