/**
 * Webhook and request-signing crypto helpers shared by the gateway packages.
 *
 * **Raw bytes, always.** Providers sign the exact bytes they sent. Parsing the body as JSON and
 * re-serialising it changes whitespace, key order, number formatting and unicode escapes, and the
 * signature then fails (or, worse, a lenient re-serialiser makes a forged body pass). So
 * {@link hmacSha256} and {@link verifyHmacSha256} hash `string | Uint8Array` parts as given, and
 * {@link rawBodyBytes} refuses an already-parsed object with a message that says what to do instead
 * (`express.raw()`, `request.arrayBuffer()`, ...). Strings are hashed as UTF-8, which is what every
 * HTTP framework hands you when it gives you the body "as text" without re-encoding it.
 *
 * **One argument order.** Every keyed helper takes the key first and the message second
 * (`hmacSha256(key, message)`), as `createHmac(alg, key).update(message)` does; every comparison
 * takes the expected value first and the received one second. The gateway packages use these
 * helpers instead of their own, so a formula reads the same in every package.
 *
 * Comparisons of secrets or signatures go through {@link timingSafeEqualString}, whose work does
 * not depend on the contents compared nor on the length received.
 *
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Hash, Hmac, KeyObject } from 'node:crypto';
import type { Clock } from './clock';
import { systemClock } from './clock';
import { TenderError } from './errors';

/** Bytes or text to hash; text is encoded as UTF-8. */
export type HashInput = string | Uint8Array;

/**
 * An HMAC key: text (UTF-8), bytes, or a `KeyObject` from `createSecretKey` (import a key once
 * and reuse it when the same secret verifies many messages).
 */
export type HmacKey = HashInput | KeyObject;

/** Output encodings a provider may use for a digest. */
export type DigestEncoding = 'hex' | 'base64' | 'base64url';

// Strings are hashed as UTF-8 (Node's default for `update`).
function update(hash: Hash | Hmac, data: HashInput | readonly HashInput[]): void {
  if (typeof data === 'string' || data instanceof Uint8Array) {
    hash.update(data);
    return;
  }
  for (const part of data) hash.update(part);
}

/**
 * HMAC-SHA256 under `key` (first argument) of `data` (second: one part, or several hashed back to
 * back without copying, e.g. `[`${t}.`, rawBody]` for Stripe), encoded as `encoding` (default
 * lower-case hex).
 */
export function hmacSha256(key: HmacKey, data: HashInput | readonly HashInput[], encoding: DigestEncoding = 'hex'): string {
  const mac = createHmac('sha256', key);
  update(mac, data);
  return mac.digest(encoding);
}

/** Lower-case hex MD5 of the parts concatenated (Fiuu's `vcode`, `skey`, `Signature` formulas). */
export function md5Hex(data: HashInput | readonly HashInput[]): string {
  const hash = createHash('md5');
  update(hash, data);
  return hash.digest('hex');
}

/** Lower-case hex SHA-256 of the parts concatenated. */
export function sha256Hex(data: HashInput | readonly HashInput[]): string {
  const hash = createHash('sha256');
  update(hash, data);
  return hash.digest('hex');
}

function bytesOf(value: HashInput): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/**
 * Constant-time equality of an expected value (first argument) and a received one (second), for
 * strings (compared as UTF-8) or bytes of any lengths. The work done depends only on the expected
 * value's length: a received value of another length is not compared at all, `expected` is
 * compared with itself instead, so neither the position of the first difference nor whether the
 * lengths matched shows in the timing. (Python's `hmac.compare_digest` documents the same limit:
 * only the expected length, which for a digest is public, could be learnt.)
 */
export function timingSafeEqualString(expected: HashInput, received: HashInput): boolean {
  const a = bytesOf(expected);
  const b = bytesOf(received);
  const sameLength = a.length === b.length;
  // node's timingSafeEqual throws on unequal lengths; comparing `a` with itself keeps the same work.
  const equal = timingSafeEqual(a, sameLength ? b : a);
  return sameLength && equal;
}

/** Options of {@link verifyHmacSha256}. */
export interface VerifyHmacOptions {
  /** The shared secret (used as given; Stripe's whole `whsec_...` string is the key). */
  secret: HmacKey;
  /** The exact signed bytes, in parts if the provider prefixes something (e.g. a timestamp). */
  payload: HashInput | readonly HashInput[];
  /** The signature(s) received; any match passes (providers send several while rotating secrets). */
  signature: string | readonly string[];
  /** Default `hex`. Hex is compared case-insensitively since case carries no information there. */
  encoding?: DigestEncoding;
}

/**
 * Verifies an HMAC-SHA256 signature over raw bytes with a constant-time compare. Returns false for
 * a missing, malformed, wrong-length or wrong signature; never throws for bad input.
 */
export function verifyHmacSha256(options: VerifyHmacOptions): boolean {
  const encoding = options.encoding ?? 'hex';
  const expected = hmacSha256(options.secret, options.payload, encoding);
  const candidates = typeof options.signature === 'string' ? [options.signature] : options.signature;
  let ok = false;
  // Every candidate is compared (no early exit), so timing does not reveal which one matched.
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue;
    const given = encoding === 'hex' ? candidate.trim().toLowerCase() : candidate.trim();
    if (timingSafeEqualString(expected, given)) ok = true;
  }
  return ok;
}

/** Result of {@link checkTimestamp}. */
export type TimestampCheck =
  | { ok: true; ageSeconds: number }
  | { ok: false; reason: 'invalid' | 'stale' | 'future'; ageSeconds: number | null };

/** Options of {@link checkTimestamp}. */
export interface TimestampToleranceOptions {
  /** Maximum age in seconds (Stripe's default is 300). */
  toleranceSeconds: number;
  /**
   * How far in the future a timestamp may be (clock skew), in seconds. Default: `toleranceSeconds`.
   * Stripe's own check is one-sided; pass `Infinity` to reproduce that.
   */
  futureToleranceSeconds?: number;
  /** Default: the wall clock. Inject a fake clock in tests. */
  clock?: Clock;
}

/**
 * Checks a signed timestamp against the clock (replay protection). `timestamp` is Unix seconds
 * (number or digit string, as in `Stripe-Signature: t=...`) or a `Date`.
 */
export function checkTimestamp(timestamp: number | string | Date, options: TimestampToleranceOptions): TimestampCheck {
  let seconds: number;
  if (timestamp instanceof Date) seconds = timestamp.getTime() / 1000;
  else if (typeof timestamp === 'number') seconds = timestamp;
  else seconds = /^\d{1,15}$/.test(timestamp.trim()) ? Number(timestamp.trim()) : Number.NaN;
  if (!Number.isFinite(seconds)) return { ok: false, reason: 'invalid', ageSeconds: null };
  const now = (options.clock ?? systemClock).now().getTime() / 1000;
  const age = now - seconds;
  if (age > options.toleranceSeconds) return { ok: false, reason: 'stale', ageSeconds: age };
  if (-age > (options.futureToleranceSeconds ?? options.toleranceSeconds)) return { ok: false, reason: 'future', ageSeconds: age };
  return { ok: true, ageSeconds: age };
}

/**
 * Returns the webhook body as bytes for signature checks. Accepts what frameworks give as the raw
 * body (`Buffer`/`Uint8Array`, `ArrayBuffer`, or the untouched text); throws a
 * `webhook_signature_error` (code `raw_body_required`) for a parsed object, because a signature can
 * only be checked on the bytes that were signed.
 */
export function rawBodyBytes(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  throw new TenderError({
    type: 'webhook_signature_error',
    code: 'raw_body_required',
    message:
      'Webhook signatures are verified on the raw request body, but a parsed object was given. ' +
      'Pass the exact bytes received (e.g. express.raw({ type: "*/*" }), or `await request.arrayBuffer()`), ' +
      'never a re-serialised JSON body.',
  });
}
