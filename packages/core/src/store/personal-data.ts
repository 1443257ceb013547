/**
 * Where personal data sits in stored records: one walker that field-level encryption
 * (`createEncryptingStore`) and retention (`Store.anonymizePayments`) share, so what is encrypted is
 * exactly what is erased, and both follow the field names the log redaction rules classify
 * ({@link personalDataKind}).
 *
 * A string is personal data when
 * - a field on its path has a personal-data name by the redaction rules: `email`, `bill_email`,
 *   `phone`, `bill_mobile`, `name`, `bill_name`, `mpsbill_name`, `address`, `vpa`... (case, `-` and
 *   `_` ignored), at any depth: payment metadata, a gateway's kept form fields (`gatewayData`), a next
 *   action's parameters, the API-shaped event payload;
 * - or it is inside a `customer` object (the payment's billing details: name, e-mail, phone, VPA and
 *   whatever else a caller puts there).
 *
 * Lists of `[name, value]` pairs (a form as entries) are read as the object they stand for, as the
 * redaction does. Only string values are personal data here; an empty string and the
 * {@link ANONYMIZED} marker are left as they are (they carry nothing).
 *
 * @module
 */
import { personalDataKind } from '../redaction';

/** What retention leaves in place of each personal-data string (see {@link anonymizePersonalData}). */
export const ANONYMIZED = '[anonymised]';

/** The path of a value inside a record: object keys and array indexes from the record's root. */
export type DataPath = ReadonlyArray<string | number>;

const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<string, boolean>();

/** Whether a field name names personal data (cached: records repeat the same few dozen names). */
function personalName(key: string): boolean {
  let known = keyCache.get(key);
  if (known === undefined) {
    known = personalDataKind(key) !== null;
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, known);
  }
  return known;
}

function personalField(key: string, value: unknown): boolean {
  if (key === 'customer') return value !== null && typeof value === 'object';
  return personalName(key);
}

function isEntryList(value: unknown[]): value is Array<[string, unknown]> {
  return value.length > 0 && value.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string');
}

type Mapper = (text: string, path: DataPath) => string;

function walk(value: unknown, personal: boolean, path: Array<string | number>, fn: Mapper): unknown {
  if (typeof value === 'string') return personal && value !== '' && value !== ANONYMIZED ? fn(value, path) : value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const pairs = !personal && isEntryList(value);
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as unknown;
      path.push(i);
      let next: unknown;
      if (pairs) {
        const [k, v] = item as [string, unknown];
        path.push(k);
        const mapped = walk(v, personalField(k, v), path, fn);
        path.pop();
        next = mapped === v ? item : [k, mapped];
      } else {
        next = walk(item, personal, path, fn);
      }
      path.pop();
      if (next !== item) {
        out ??= value.slice();
        out[i] = next;
      }
    }
    return out ?? value;
  }
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (const key of Object.keys(record)) {
    const v = record[key];
    path.push(key);
    const mapped = walk(v, personal || personalField(key, v), path, fn);
    path.pop();
    if (mapped !== v) {
      out ??= { ...record };
      out[key] = mapped;
    }
  }
  return out ?? value;
}

/**
 * Returns `value` with every personal-data string (see the module rules) replaced by `fn(text, path)`.
 * Copy on write: the input is never modified, and objects with nothing to replace are returned as
 * they are (the same reference), so a record without personal data costs one walk and no copy.
 */
export function mapPersonalData<T>(value: T, fn: (text: string, path: DataPath) => string): T {
  return walk(value, false, [], fn) as T;
}

/** Calls `fn` on every personal-data string of `value` (read only). */
export function forEachPersonalData(value: unknown, fn: (text: string, path: DataPath) => void): void {
  walk(value, false, [], (text, path) => {
    fn(text, path);
    return text;
  });
}

/**
 * `value` with every personal-data string replaced by {@link ANONYMIZED}, whether it is plaintext or
 * a ciphertext of field-level encryption (so it needs no key). Amounts, statuses, references and
 * every other field stay; applying it twice changes nothing more.
 */
export function anonymizePersonalData<T>(value: T): T {
  return mapPersonalData(value, () => ANONYMIZED);
}
