/**
 * Stripe's metadata limits, checked before sending so a caller gets a 400 naming the key instead of
 * Stripe's error after a round trip: at most 50 keys, keys up to 40 characters without square
 * brackets, values up to 500 characters (https://docs.stripe.com/api/metadata).
 *
 * @module
 */
import { invalidRequest } from '@tender/core';

/** Most keys one object's metadata holds. */
export const STRIPE_METADATA_MAX_KEYS = 50;
/** Longest metadata key. */
export const STRIPE_METADATA_MAX_KEY_LENGTH = 40;
/** Longest metadata value. */
export const STRIPE_METADATA_MAX_VALUE_LENGTH = 500;

/**
 * Returns `metadata` when Stripe accepts it.
 * @param param the Tender field the metadata came from, named in the error.
 * @throws TenderError `invalid_request_error` `invalid_metadata` naming the key that breaks a limit.
 */
export function stripeMetadata(metadata: Readonly<Record<string, string>>, param = 'metadata'): Record<string, string> {
  const keys = Object.keys(metadata);
  if (keys.length > STRIPE_METADATA_MAX_KEYS) {
    throw invalidRequest('invalid_metadata', `Stripe takes at most ${STRIPE_METADATA_MAX_KEYS} metadata keys; got ${keys.length}`, param);
  }
  for (const key of keys) {
    const value = metadata[key];
    if (key === '' || key.length > STRIPE_METADATA_MAX_KEY_LENGTH || /[[\]]/.test(key)) {
      throw invalidRequest('invalid_metadata', `Stripe metadata keys are 1 to ${STRIPE_METADATA_MAX_KEY_LENGTH} characters without square brackets; '${key.slice(0, 60)}' is not`, param);
    }
    if (typeof value !== 'string' || value.length > STRIPE_METADATA_MAX_VALUE_LENGTH) {
      throw invalidRequest('invalid_metadata', `Stripe metadata values are strings of at most ${STRIPE_METADATA_MAX_VALUE_LENGTH} characters; the value of '${key}' is not`, param);
    }
  }
  return { ...metadata };
}
