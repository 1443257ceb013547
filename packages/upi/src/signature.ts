/**
 * Razorpay signatures, verified in constant time (razorpay-node compares with `===`; this does not):
 * - webhooks: `X-Razorpay-Signature` = hex(HMAC-SHA256(key = webhook secret, message = raw body))
 *   (https://razorpay.com/docs/webhooks/validate-test/);
 * - checkout callback: `razorpay_signature` = hex(HMAC-SHA256(key = API key secret,
 *   message = `order_id|payment_id`)) (https://razorpay.com/docs/payments/payment-gateway/web-integration/standard/build-integration/#15-verify-payment-signature).
 *
 * @module
 */
import { TenderError, hmacSha256, timingSafeEqualString } from '@tender/core';

const HEX_64 = /^[0-9a-f]{64}$/;

/** hex(HMAC-SHA256(secret, message)). */
export function razorpayHmacHex(secret: string, message: string | Uint8Array): string {
  return hmacSha256(secret, message);
}

/**
 * Constant-time comparison of an expected lowercase hex digest with a candidate (any other form never
 * matches: the format is public, so checking it first leaks nothing).
 */
function equalHex(expectedHex: string, candidate: string): boolean {
  if (!HEX_64.test(candidate)) return false;
  return timingSafeEqualString(expectedHex, candidate);
}

/** Computes the `X-Razorpay-Signature` of a webhook body (what the sandbox sends). */
export function computeRazorpayWebhookSignature(rawBody: string | Uint8Array, secret: string): string {
  return razorpayHmacHex(secret, rawBody);
}

/** Why a Razorpay webhook signature did not verify (the TenderError `code`). */
export type RazorpaySignatureErrorCode = 'missing_signature_header' | 'malformed_signature_header' | 'signature_mismatch';

/**
 * Verifies `X-Razorpay-Signature` against the raw body with any of `secrets` (the current webhook
 * secret and, during a rotation window, the previous one: Razorpay retries events signed before a
 * rotation with the old secret). Every secret is tried, without an early exit.
 * @throws TenderError `webhook_signature_error` with a {@link RazorpaySignatureErrorCode}.
 */
export function verifyRazorpayWebhookSignature(rawBody: Uint8Array | string, header: string | readonly string[] | undefined, secrets: readonly string[]): void {
  if (Array.isArray(header)) {
    if (header.length !== 1) throw signatureError('malformed_signature_header', 'Expected exactly one X-Razorpay-Signature header');
    header = header[0];
  }
  if (typeof header !== 'string' || header === '') throw signatureError('missing_signature_header', 'No X-Razorpay-Signature header was provided');
  if (secrets.length === 0) throw new TenderError({ type: 'api_error', code: 'webhook_secret_missing', message: 'No Razorpay webhook secret is configured (webhookSecret)' });
  const candidate = header.trim();
  let matched = false;
  for (const secret of secrets) if (equalHex(razorpayHmacHex(secret, rawBody), candidate)) matched = true;
  if (!matched) throw signatureError('signature_mismatch', 'The X-Razorpay-Signature does not match the body (verify the raw bytes as received)');
}

/**
 * True when `signature` is Razorpay's checkout signature of an order payment:
 * hex(HMAC-SHA256(`order_id|payment_id`, key secret)), compared in constant time. Use it on the
 * `razorpay_order_id`, `razorpay_payment_id` and `razorpay_signature` a checkout callback hands you.
 */
export function verifyRazorpayPaymentSignature(input: { orderId: string; paymentId: string; signature: string }, keySecret: string): boolean {
  if (typeof input.signature !== 'string' || typeof input.orderId !== 'string' || typeof input.paymentId !== 'string') return false;
  return equalHex(razorpayHmacHex(keySecret, `${input.orderId}|${input.paymentId}`), input.signature);
}

/** The checkout signature of an order payment (what Razorpay computes; used by the sandbox and tests). */
export function computeRazorpayPaymentSignature(orderId: string, paymentId: string, keySecret: string): string {
  return razorpayHmacHex(keySecret, `${orderId}|${paymentId}`);
}

function signatureError(code: RazorpaySignatureErrorCode, message: string): TenderError {
  return new TenderError({ type: 'webhook_signature_error', code, message });
}
