/**
 * Idempotency keys the billing operations send to gateways, and ids derived from a caller's key.
 * Derived by hashing (SHA-256, as the engine's request fingerprints), so a key is stable across
 * retries and processes, carries no personal data (a `user_id` may be an email), and stays within
 * gateways' length limits (Stripe: 255 characters, https://docs.stripe.com/api/idempotent_requests).
 *
 * @module
 */
import { sha256Hex } from '../../crypto';

/** Crockford base32, the alphabet of `ids.ts`. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A SHA-256 of the parts, each ended by a NUL so `('ab', 'c')` and `('a', 'bc')` differ. */
function digest(parts: readonly string[]): string {
  return sha256Hex(parts.map((p) => `${p}\u0000`));
}

/** An idempotency key for a gateway call: `<operation>:<hash of the parts>`. */
export function derivedKey(operation: string, ...parts: string[]): string {
  return `${operation}:${digest([operation, ...parts])}`;
}

/**
 * A Tender id (`<prefix>_` and 28 base32 characters, the shape `newId` makes) derived from the
 * merchant's idempotency key, so a retried create names the same record in the gateway's metadata
 * (a gateway refuses a repeated idempotency key whose request differs).
 */
export function keyedId(prefix: string, merchantId: string, idempotencyKey: string): string {
  const hex = digest(['id', prefix, merchantId, idempotencyKey]);
  let out = '';
  for (let i = 0; i < 28; i++) out += ALPHABET[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % 32];
  return `${prefix}_${out}`;
}
