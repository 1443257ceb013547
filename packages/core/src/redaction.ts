/**
 * Redaction of secrets and personal data before anything is logged. Every log line Tender writes
 * goes through {@link redact} (see {@link redactingLogger}); the reference server's pino logger uses
 * the same function so both follow one rule set.
 *
 * Rules, by field name (case and `-`/`_` ignored, so `Bill-Email`, `bill_email` and `billEmail`
 * are one name; a nested form key such as `metadata[cvv]` is also named by its last part):
 * - secrets (`authorization`, cookies, `*secret*`, `*token*`, `*password*`, `*signature*`, API/verify
 *   keys, Fiuu `skey`/`vcode`/`VrfKey`/`checksum`, card `cvv`/`cvc`...) become `[REDACTED]`;
 * - emails keep their first character and domain (`j***@example.com`);
 * - phone numbers keep their last 4 digits (`********6789`);
 * - names keep their first character (`J***`);
 * - addresses and UPI VPAs are masked like names.
 *
 * In every string, whatever its field: card-like digit runs (13–19 digits, spaces or dashes allowed,
 * passing the Luhn check) keep their last 4 digits, e-mail addresses and `+`-prefixed phone numbers
 * are masked, `Bearer`/`Basic` credentials are removed, and query strings / form bodies
 * (`a=1&skey=...`) are redacted field by field. URLs — absolute, relative ones such as a request's
 * path (`/pay?bill_name=...`), and `http(s)://` URLs inside longer text — have every query and
 * fragment parameter redacted by its name (see {@link redactUrl}).
 *
 * @module
 */

/** Replacement for secret values. */
export const REDACTED = '[REDACTED]';

const MAX_DEPTH = 10;

/** Normalised name: lower case, letters and digits only. */
function norm(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const SECRET_EXACT = new Set([
  'skey', 'vcode', 'mpsvcode', 'vrfkey', 'checksum', 'sig', 'sign', 'hash', 'hmac', 'pin', 'otp',
  'cvv', 'cvc', 'cvv2', 'cvn', 'cardnumber', 'pan', 'ccnum', 'cardno', 'xverify', 'jwt', 'cookie',
  'setcookie', 'authorization', 'proxyauthorization', 'key',
]);
const SECRET_PATTERN =
  /secret|password|passwd|passphrase|token|signature|sig$|authorization|credential|(verify|api|private|access|signing|hmac|encryption|client|salt|webhook|merchant)key/;

/** Kinds of personal data the redaction rules know (`name` also covers addresses and UPI VPAs). */
export type PersonalDataKind = 'email' | 'phone' | 'name';
type PiiKind = PersonalDataKind;

function classify(key: string): 'secret' | PiiKind | null {
  // A nested form key (`metadata[cvv]`, `card[number]`, as Stripe encodes objects) is named by its last part.
  const nested = /\[([^[\]]+)\]$/.exec(key);
  if (nested && nested[1] !== key) {
    const inner = classify(nested[1]!);
    if (inner !== null) return inner;
  }
  const k = norm(key);
  if (SECRET_EXACT.has(k) || SECRET_PATTERN.test(k)) return 'secret';
  if (k.includes('email')) return 'email';
  if (/phone|mobile|msisdn|contactno|contactnumber|^tel$|telephone/.test(k)) return 'phone';
  if (
    k === 'name' ||
    /(bill|first|last|full|given|middle|family|customer|holder|payer|payee|account|buyer|shipping|recipient|card)name$/.test(k) ||
    /^(surname|cardholder|address|addressline\d?|line[12]|street|billaddress|shippingaddress|vpa|upiid|payeraddress)$/.test(k)
  ) {
    return 'name';
  }
  return null;
}

/**
 * The kind of personal data a field name stands for by the rules above (`email`, `phone`, or `name`,
 * which also covers addresses and UPI VPAs), or null when the name is not personal data (secrets are
 * not personal data here). One classification for redaction and for field-level encryption at rest
 * (`createEncryptingStore`) and retention, so a field masked in logs is also encrypted and erased.
 */
export function personalDataKind(key: string): PersonalDataKind | null {
  const kind = classify(key);
  return kind === 'secret' ? null : kind;
}

/** `john.doe@example.com` -> `j***@example.com`. */
export function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  if (at <= 0) return maskName(value);
  return `${value[0]}***${value.slice(at)}`;
}

/** `+60 12-345 6789` -> `********6789` (last 4 digits kept when there are at least 8). */
export function maskPhone(value: string): string {
  if (/^\*+\d{0,4}$/.test(value)) return value; // masked already
  const digits = value.replace(/\D/g, '');
  if (digits.length < 8) return '***';
  return `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/** `Jane Doe` -> `J***`. */
export function maskName(value: string): string {
  return value.length === 0 ? value : `${value[0]}***`;
}

function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

// 13–19 digits, optionally grouped by single spaces or dashes, not touching other digits.
const CARD_RUN = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const INTL_PHONE = /(?<![\w+])\+\d[\d -]{6,16}\d(?!\d)/g;
const AUTH_SCHEME = /\b(Bearer|Basic|Digest|Token)\s+[A-Za-z0-9\-._~+/=:]+/gi;
const FORM_LIKE = /^[^\s=&?#]+=[^\s&]*(?:&[^\s=&]+=[^\s&]*)*$/;

function maskCard(run: string): string {
  const digits = run.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19 || !luhn(digits)) return run;
  return `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    // Not valid percent-encoding: redact the raw text.
    return value;
  }
}

function redactFormString(value: string): string {
  return value
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      // A bare word (`?flag`, `#section`): scanned as text, kept as sent when nothing is found.
      if (eq < 0) {
        const clean = redactFreeText(decodeComponent(pair), false);
        return clean === decodeComponent(pair) ? pair : clean;
      }
      const rawKey = pair.slice(0, eq);
      const key = decodeComponent(rawKey);
      const val = decodeComponent(pair.slice(eq + 1));
      const clean = redactField(key, val);
      // Masks are left unencoded so log lines stay readable; untouched pairs keep their raw bytes.
      return clean === val ? pair : `${rawKey}=${String(clean)}`;
    })
    .join('&');
}

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:\/\//i;
const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>]+/gi;

/**
 * Redacts a URL: absolute (`https://host/path?query#fragment`) or relative, as the path and query of
 * a request line (`/api/v1/payments/seamless/config?bill_name=...`). The path is scanned as text;
 * each query and fragment parameter is redacted by its name as a form field is (`access_token`,
 * `skey`, `signature`... become `[REDACTED]`; `bill_name`, `bill_email`, `bill_mobile` are masked)
 * and its value, percent-decoded first, is scanned too. Parts with nothing to redact keep their exact
 * bytes.
 */
export function redactUrl(value: string): string {
  const hash = value.indexOf('#');
  const beforeHash = hash < 0 ? value : value.slice(0, hash);
  const q = beforeHash.indexOf('?');
  const path = q < 0 ? beforeHash : beforeHash.slice(0, q);
  const decodedPath = decodeComponent(path);
  const cleanPath = redactFreeText(decodedPath, false);
  let out = cleanPath === decodedPath ? path : cleanPath;
  if (q >= 0) out += `?${redactFormString(beforeHash.slice(q + 1))}`;
  if (hash >= 0) out += `#${redactFormString(value.slice(hash + 1))}`;
  return out;
}

/** Redacts secrets and PII found inside one free-text string (see the module rules). */
export function redactString(value: string): string {
  if (value.length === 0) return value;
  if (ABSOLUTE_URL.test(value) && /[?#]/.test(value)) return redactUrl(value);
  // The path and query of a request line.
  if (value.startsWith('/') && /[?#]/.test(value) && !/\s/.test(value)) return redactUrl(value);
  if (value.includes('=') && FORM_LIKE.test(value)) return redactFormString(value);
  return redactFreeText(value);
}

function redactFreeText(value: string, urls = true): string {
  let out = value;
  if (urls && out.includes('://')) out = out.replace(URL_IN_TEXT, (url) => (/[?#]/.test(url) ? redactUrl(url) : url));
  if (/\d/.test(out)) out = out.replace(CARD_RUN, maskCard);
  if (out.includes('@')) out = out.replace(EMAIL, maskEmail);
  if (out.includes('+')) out = out.replace(INTL_PHONE, maskPhone);
  if (/bearer|basic|digest|token/i.test(out)) out = out.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  return out;
}

function redactField(key: string, value: unknown, depth = 0, seen?: WeakSet<object>): unknown {
  const kind = classify(key);
  if (kind === null) return redactValue(value, depth, seen);
  if (value === null || value === undefined || value === '') return value;
  if (kind === 'secret') return REDACTED;
  if (typeof value === 'string') {
    if (kind === 'email') return maskEmail(value);
    if (kind === 'phone') return maskPhone(value);
    return maskName(value);
  }
  if (typeof value === 'number' || typeof value === 'bigint') return kind === 'phone' ? maskPhone(String(value)) : '***';
  // A structured PII field (e.g. `address: { line1, city }`): mask every leaf.
  return maskLeaves(value, depth, seen);
}

function maskLeaves(value: unknown, depth: number, seen?: WeakSet<object>): unknown {
  if (typeof value === 'string') return maskName(value);
  if (typeof value !== 'object' || value === null) return value === undefined ? value : '***';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  if (Array.isArray(value)) return value.map((v) => maskLeaves(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskLeaves(v, depth + 1, seen);
  return out;
}

function isEntryList(value: unknown[]): value is Array<[string, unknown]> {
  return value.length > 0 && value.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string');
}

function redactValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) return `[binary ${value.byteLength} bytes]`;
  if (value instanceof Date) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    // A list of [name, value] entries (a form body or headers as pairs) is redacted as the object it stands for.
    if (Array.isArray(value) && isEntryList(value)) return value.map(([k, v]) => [k, redactField(k, v, depth + 1, seen)]);
    if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
    if (value instanceof Map) return redactValue(Object.fromEntries(value), depth, seen);
    if (value instanceof URLSearchParams) return redactFormString(value.toString());
    if (value instanceof Error) {
      const out: Record<string, unknown> = { name: value.name, message: redactString(value.message) };
      for (const [k, v] of Object.entries(value)) out[k] = redactField(k, v, depth + 1, seen);
      if (value.cause !== undefined) out.cause = redactValue(value.cause, depth + 1, seen);
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactField(k, v, depth + 1, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * Returns a copy of `value` with secrets removed and personal data masked (see the module rules).
 * Objects, arrays (a list of `[name, value]` pairs as the object it stands for), `Map`s,
 * `URLSearchParams` and `Error`s are walked (circular references and depth
 * beyond 10 are cut); strings are scanned; binary bodies are replaced by their size. The input is
 * never modified.
 */
export function redact<T>(value: T): T {
  return redactValue(value) as T;
}

/** Logger shape accepted by {@link redactingLogger} (the core `Logger`, or pino). */
interface LoggerLike {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

/** Wraps a logger so every object and message it receives is redacted first. */
export function redactingLogger<L extends LoggerLike>(logger: L): LoggerLike {
  const wrap =
    (level: keyof LoggerLike) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      const clean = redact(obj);
      if (msg === undefined) logger[level](clean);
      else logger[level](clean, redactString(msg));
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
