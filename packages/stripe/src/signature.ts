/**
 * `Stripe-Signature` verification exactly as stripe-node does it (https://docs.stripe.com/webhooks#verify-manually): header
 * `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`; `v1 = hex(HMAC-SHA256(secret, "<t>.<raw body>"))` with the
 * whole `whsec_...` string as the key; any matching `v1` passes (secret roll); other schemes (`v0`)
 * are ignored to prevent downgrades; the signature is checked before the timestamp; only a too-old
 * timestamp is rejected.
 *
 * @module
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { TenderError, hmacSha256, timingSafeEqualString } from '@tender/core';
import { STRIPE_DEFAULT_TOLERANCE_SECONDS } from './config';

/** Why a Stripe signature did not verify (the TenderError `code`). */
export type StripeSignatureErrorCode =
  | 'missing_signature_header'
  | 'malformed_signature_header'
  | 'no_v1_signature'
  | 'signature_mismatch'
  | 'timestamp_outside_tolerance'
  | 'missing_payload';

/** Options of {@link verifyStripeSignature}. */
export interface VerifyStripeSignatureOptions {
  /** Maximum age of the signed timestamp in seconds; default 300, `0` disables the check. */
  toleranceSeconds?: number;
  /** The current time (defaults to `new Date()`). */
  now?: Date;
}

/** What a verified header contained. */
export interface VerifiedStripeSignature {
  /** The signed unix timestamp (seconds). */
  timestamp: number;
}

const encoder = new TextEncoder();

function fail(code: StripeSignatureErrorCode, message: string): TenderError {
  return new TenderError({ type: 'webhook_signature_error', code, message });
}

/**
 * Verifies a `Stripe-Signature` header against the raw request body.
 * @param rawBody - the bytes exactly as received (never re-serialised JSON).
 * @param header - the `stripe-signature` header value.
 * @param secrets - one signing secret or several (any may match).
 * @throws TenderError of type `webhook_signature_error` with a {@link StripeSignatureErrorCode}.
 */
export function verifyStripeSignature(
  rawBody: Uint8Array | string | null | undefined,
  header: string | readonly string[] | null | undefined,
  secrets: string | readonly string[],
  options: VerifyStripeSignatureOptions = {},
): VerifiedStripeSignature {
  if (rawBody === null || rawBody === undefined) throw fail('missing_payload', 'No webhook payload was provided.');
  if (Array.isArray(header)) {
    if (header.length !== 1) throw fail('malformed_signature_header', 'Expected exactly one Stripe-Signature header');
    header = header[0];
  }
  if (typeof header !== 'string' || header === '') {
    throw fail('missing_signature_header', 'No stripe-signature header value was provided.');
  }

  let timestamp = -1;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === 't') timestamp = /^[0-9]+$/.test(value) ? Number(value) : -1;
    else if (key === 'v1') signatures.push(value);
  }
  if (timestamp < 0) throw fail('malformed_signature_header', 'Unable to extract timestamp and signatures from header');
  if (signatures.length === 0) throw fail('no_v1_signature', 'No signatures found with expected scheme v1');

  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody;
  const secretList = typeof secrets === 'string' ? [secrets] : secrets;
  if (secretList.length === 0) throw new TenderError({ type: 'api_error', code: 'webhook_secret_missing', message: 'No Stripe webhook signing secret is configured' });

  let matched = false;
  for (const secret of secretList) {
    const expected = hmacHex(secret, timestamp, body);
    // Every candidate is compared (no early exit) so timing reveals nothing about which matched.
    for (const candidate of signatures) if (equalHex(expected, candidate)) matched = true;
  }
  if (!matched) {
    const hint = secretList.some((s) => /\s/.test(s)) ? ' Note: the configured signing secret contains whitespace.' : '';
    throw fail(
      'signature_mismatch',
      `No signatures found matching the expected signature for payload. Verify the raw request body as received from Stripe.${hint}`,
    );
  }

  const tolerance = options.toleranceSeconds ?? STRIPE_DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (tolerance > 0 && nowSeconds - timestamp > tolerance) {
    throw fail('timestamp_outside_tolerance', `Timestamp outside the tolerance zone (${nowSeconds - timestamp}s old, tolerance ${tolerance}s)`);
  }
  return { timestamp };
}

// Imported key objects per secret: saves re-importing the key on every verification.
const keys = new Map<string, KeyObject>();

function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= 64) keys.clear();
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}

function hmacHex(secret: string, timestamp: number, body: Uint8Array): string {
  return hmacSha256(keyOf(secret), [`${timestamp}.`, body]);
}

const LOWER_HEX_64 = /^[0-9a-f]{64}$/;

function equalHex(expected: string, candidate: string): boolean {
  // stripe-node compares the lowercase hex text, so anything else (upper case, odd length) never matches.
  if (!LOWER_HEX_64.test(candidate)) return false;
  return timingSafeEqualString(expected, candidate);
}

/** Options of {@link signStripePayload}. */
export interface SignStripePayloadOptions {
  payload: string | Uint8Array;
  secret: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
}

/** Computes the `v1` signature of a payload (hex). */
export function computeStripeSignature(payload: string | Uint8Array, secret: string, timestamp: number): string {
  const body = typeof payload === 'string' ? encoder.encode(payload) : payload;
  return hmacHex(secret, timestamp, body);
}

/** Builds a `Stripe-Signature` header value (`t=...,v1=...`), as Stripe and stripe-node's test helper do. */
export function signStripePayload(options: SignStripePayloadOptions): string {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return `t=${timestamp},v1=${computeStripeSignature(options.payload, options.secret, timestamp)}`;
}
