/**
 * Gateway spec v1: the error codes with a meaning the engine acts on (outcome unknown, payment not found).
 *
 * @module
 */
/** Error code meaning "the provider may or may not have acted" (timeout after send, reset mid-response). */
export const GATEWAY_OUTCOME_UNKNOWN = 'gateway_outcome_unknown';

/** Error code of `retrieve` when the provider does not know the payment. */
export const GATEWAY_PAYMENT_NOT_FOUND = 'gateway_payment_not_found';
