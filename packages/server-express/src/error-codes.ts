/**
 * The error codes the REST API answers: for each `code`, the HTTP status it is sent with, its `type`,
 * what it means and a realistic message. The OpenAPI document lists, per operation and status, the
 * codes of this table, so the reference cannot name a code the server does not know; the status here
 * is the one the {@link TenderError} carries (a test drives the server to check a sample over HTTP).
 *
 * @module
 */
import type { TenderErrorType } from '@tender/core';

/** One error code of the API. */
export interface ErrorCodeInfo {
  /** The HTTP status the error is answered with. */
  status: number;
  /** The `error.type` of the body. */
  type: TenderErrorType;
  /** What it means to the caller (Markdown, shown in the REST reference). */
  meaning: string;
  /** A message as the server writes it. */
  message: string;
  /** The `error.param` the server names, when it names one. */
  param?: string;
}

const e = (status: number, type: TenderErrorType, meaning: string, message: string, param?: string): ErrorCodeInfo => ({ status, type, meaning, message, ...(param ? { param } : {}) });

/** Every error code the REST API documents, by code. */
export const ERROR_CODES = {
  // Shape of the request (router.ts validation, json-body.ts, errors.ts body-parser mapping).
  invalid_json: e(400, 'invalid_request_error', 'the body is not valid JSON (or not UTF-8)', 'The request body is not valid JSON'),
  unknown_parameter: e(400, 'invalid_request_error', 'a field the route does not take (nothing sent is dropped silently)', 'Unknown parameter: amout (accepted: amount, amount_paisa, amount_minor)', 'amout'),
  parameter_missing: e(400, 'invalid_request_error', 'a required field is absent', 'currency: Invalid input: expected string, received undefined', 'currency'),
  parameter_invalid: e(400, 'invalid_request_error', 'a field has the wrong type or format', 'limit: must be an integer from 1 to 100', 'limit'),
  parameter_unsupported: e(400, 'invalid_request_error', 'payment_details holds a field other than vpa', 'payment_details.bank is not supported: payment_details takes only vpa (a UPI collect request)', 'payment_details.bank'),
  raw_card_data_not_allowed: e(400, 'invalid_request_error', 'card numbers are never accepted: use the gateway\'s hosted fields', 'Raw card data is never accepted: collect cards with the gateway\'s hosted fields (Stripe Elements, Fiuu seamless) and send the token they give (payment_method: "pm_...")', 'payment_details'),
  ambiguous_amount: e(400, 'invalid_request_error', 'both amount_paisa and amount_minor (or amount) were given', 'Give either amount_paisa or amount_minor, not both', 'amount_minor'),
  ambiguous_parameter: e(400, 'invalid_request_error', 'a field and its alias carry different values', 'Give either notify_url or callback_url (the same value), not two different ones', 'callback_url'),
  invalid_amount: e(400, 'invalid_request_error', 'the amount is not a decimal string or integer of minor units', "Amount must be a decimal string such as \"100.50\", got '10,50'", 'amount'),
  amount_too_precise: e(400, 'invalid_request_error', 'more decimal places than the currency has', "MYR allows 2 decimal places; '1.001' has 3", 'amount'),
  amount_negative: e(400, 'invalid_request_error', 'the amount is below zero', 'Amount must not be negative', 'amount'),
  amount_too_small: e(400, 'invalid_request_error', 'the amount is zero', 'amount must be greater than zero', 'amount'),
  amount_too_large: e(400, 'invalid_request_error', 'more than the gateway takes, the authorised amount, or what is left to refund', 'Refund of 30.00 MYR exceeds the 25.00 MYR left to refund', 'amount'),
  invalid_currency: e(400, 'invalid_request_error', 'not an ISO 4217 currency', "Unknown ISO 4217 currency 'XYZ'", 'currency'),
  invalid_email: e(400, 'invalid_request_error', 'bill_email is not an email address', 'bill_email is not a valid email address', 'bill_email'),
  invalid_vpa: e(400, 'invalid_request_error', 'payment_details.vpa is not a UPI address', 'vpa is not a valid UPI address (name@psp)', 'vpa'),
  invalid_metadata: e(400, 'invalid_request_error', 'metadata is not up to 50 string keys and values', 'metadata may have at most 50 keys', 'metadata'),
  invalid_capture_method: e(400, 'invalid_request_error', "capture_method is neither 'automatic' nor 'manual'", "capture_method must be 'automatic' or 'manual'", 'capture_method'),
  unknown_gateway: e(400, 'invalid_request_error', 'the gateway asked for is not configured', "Gateway 'adyen' is not configured", 'gateway'),
  // The settlement report (routes/admin-settlements.ts, tender.settlements).
  invalid_date: e(400, 'invalid_request_error', 'date is not a calendar day YYYY-MM-DD, or is in the future', 'date must be a calendar day, YYYY-MM-DD', 'date'),
  unknown_provider: e(400, 'invalid_request_error', 'provider names no configured gateway (UPI, RAZORPAY, FIUU, STRIPE, PAYPAL or a gateway id)', "No gateway 'ADYEN' is configured", 'provider'),
  analytics_not_supported: e(400, 'invalid_request_error', 'the store keeps no payment analytics (it does not implement AnalyticsStore)', 'This store keeps no payment analytics (it does not implement AnalyticsStore)'),
  settlements_not_supported: e(400, 'invalid_request_error', 'the gateway serves no settlement report', "Gateway 'upi' serves no settlement report", 'gateway'),
  capture_not_supported: e(400, 'invalid_request_error', 'the payment\'s gateway cannot capture', "Gateway 'upi' cannot capture", 'id'),
  partial_capture_not_supported: e(400, 'invalid_request_error', 'the payment\'s gateway captures all or nothing', "Gateway 'fiuu' cannot capture part of a payment", 'amount'),
  cancel_not_supported: e(400, 'invalid_request_error', 'the payment\'s gateway cannot void an authorisation', "Gateway 'upi' cannot void an authorisation", 'id'),
  partial_refund_not_supported: e(400, 'invalid_request_error', 'the payment\'s gateway refunds all or nothing', "Gateway 'upi' cannot refund part of a payment", 'amount'),
  invalid_user_id: e(400, 'invalid_request_error', 'user_id is not 1-255 printable characters', 'user_id must be 1-255 printable characters', 'user_id'),
  invalid_boolean: e(400, 'invalid_request_error', 'a flag (off_session, confirm) is not true or false', 'off_session must be true or false', 'off_session'),
  saved_method_user_mismatch: e(400, 'invalid_request_error', 'the saved method charged is another user\'s than user_id', 'The saved payment method belongs to another user than user_id', 'payment_method'),
  saved_method_gateway_mismatch: e(400, 'invalid_request_error', 'the saved method is saved at another gateway than the one named', "The saved payment method is saved at 'stripe', not 'paypal'", 'gateway'),
  gateway_not_supported: e(400, 'invalid_request_error', 'the gateway named (or every gateway routing allows) takes neither this currency nor this payment method', "Gateway 'stripe' does not support INR with upi", 'gateway'),
  customers_not_supported: e(400, 'invalid_request_error', 'the gateway keeps no customers (no gateway configured declares the capability)', "Gateway 'fiuu' does not keep customers", 'gateway'),
  saved_methods_not_supported: e(400, 'invalid_request_error', 'the gateway cannot save payment methods for later', "Gateway 'fiuu' cannot save payment methods", 'gateway'),
  subscriptions_not_supported: e(400, 'invalid_request_error', 'the gateway runs no subscriptions', "Gateway 'fiuu' cannot run subscriptions", 'gateway'),
  invalid_limit: e(400, 'invalid_request_error', 'limit is outside 1-100', 'limit must be an integer from 1 to 100', 'limit'),
  invalid_cursor: e(400, 'invalid_request_error', 'starting_after names no item of this list', 'starting_after is not in this list', 'starting_after'),
  invalid_url: e(400, 'invalid_request_error', 'the webhook URL is not http(s)', 'url must be an http(s) URL', 'url'),
  private_webhook_url: e(400, 'invalid_request_error', 'the webhook URL resolves to a loopback, private or link-local address', 'Webhook URLs must reach a public address; 10.0.0.5 is not one', 'url'),
  invalid_last_event_id: e(400, 'invalid_request_error', 'Last-Event-ID (or last_event_id) is not an event id', 'Last-Event-ID (or last_event_id) must be an event id this stream sent', 'last_event_id'),
  signature_mismatch: e(400, 'webhook_signature_error', 'the gateway\'s signature does not match the body', 'Webhook signature does not match'),
  missing_signature_header: e(400, 'webhook_signature_error', 'Stripe or Razorpay: the signature header is absent', 'No X-Razorpay-Signature header was provided'),
  malformed_signature_header: e(400, 'webhook_signature_error', 'Stripe or Razorpay: the signature header cannot be read', 'Expected exactly one X-Razorpay-Signature header'),
  timestamp_outside_tolerance: e(400, 'webhook_signature_error', 'Stripe: the signed timestamp is too old (a replay)', 'Timestamp outside the tolerance zone (912s old, tolerance 300s)'),
  missing_header: e(400, 'webhook_signature_error', 'PayPal: a transmission header is absent', 'PayPal webhook has no PAYPAL-TRANSMISSION-SIG header'),
  stale_timestamp: e(400, 'webhook_signature_error', 'PayPal: the transmission time is too old (a replay)', 'PayPal webhook transmission time 2026-03-14T09:20:00Z is older than 300 s'),
  cert_untrusted: e(400, 'webhook_signature_error', "PayPal: the signing certificate is not PayPal's", 'PayPal webhook certificate URL answered HTTP 404'),
  invalid_signature: e(400, 'webhook_signature_error', 'Fiuu: the `skey` does not verify', 'Fiuu skey does not verify'),
  missing_field: e(400, 'webhook_signature_error', 'Fiuu: a signed field is absent', "Fiuu result lacks 'skey'"),
  unknown_merchant: e(400, 'webhook_signature_error', 'Fiuu: the result is for another merchant id', "Fiuu result is for merchant 'other_shop', not ours"),
  invalid_webhook_payload: e(400, 'invalid_request_error', 'Fiuu: the result is signed but not usable', 'Fiuu result is not usable: amount is not a decimal', 'amount'),
  invalid_webhook_body: e(400, 'invalid_request_error', 'the notification cannot be read', 'Webhook body is not JSON'),
  body_too_large: e(413, 'invalid_request_error', 'the body is over the limit (100 kB for the API, 1 MB for gateway traffic)', 'The request body is too large'),
  unsupported_media_type: e(415, 'invalid_request_error', 'a body not sent as application/json', 'Send the body as application/json'),
  // Authentication and permission (auth.ts, router.ts).
  missing_token: e(401, 'authentication_error', 'no `Authorization: Bearer` token', 'Send Authorization: Bearer <token>'),
  invalid_token: e(401, 'authentication_error', 'the token\'s signature, issuer or audience is wrong', 'The token is not valid'),
  token_expired: e(401, 'authentication_error', 'the token is past its `exp`', 'The token has expired'),
  token_without_expiry: e(401, 'authentication_error', 'the token has no `exp`: tokens must expire', 'The token has no exp claim; tokens must expire'),
  invalid_metrics_token: e(401, 'authentication_error', 'the scrape did not send METRICS_TOKEN', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>'),
  insufficient_scope: e(403, 'permission_error', 'the token lacks the scope the route needs', "This token lacks the 'payments:write' scope"),
  risk_blocked: e(402, 'invalid_request_error', 'the risk checks declined the payment: it is stored FAILED (`risk_blocked`) and was sent to no gateway; the body says nothing of the rules that decided', 'The payment was declined by risk checks'),
  invalid_risk_signal: e(400, 'invalid_request_error', 'a risk signal (`device_fingerprint`, the `X-Device-Fingerprint` header) is not a short printable string', 'risk[device_fingerprint] must be a string of at most 512 printable characters', 'risk[device_fingerprint]'),
  risk_unavailable: e(503, 'storage_error', 'the risk checks could not decide (their velocity store, Redis or the database, did not answer); nothing was stored or sent, retry', 'Risk checks are unavailable right now; nothing was stored or sent, retry later'),
  payment_not_in_review: e(409, 'state_error', 'only a payment held REQUIRES_REVIEW can be approved or declined', 'Only a payment held for review can be reviewed; this one is CAPTURED'),
  merchant_mismatch: e(403, 'permission_error', "merchant_id is not the token's merchant (`sub`)", "merchant_id is not the merchant of this token (the token's sub); leave it out or give your own", 'merchant_id'),
  rate_limited: e(429, 'rate_limit_error', 'too many requests from this IP or merchant; see Retry-After', 'Too many requests; slow down'),
  too_many_live_connections: e(429, 'rate_limit_error', 'LIVE_MAX_CONNECTIONS_PER_MERCHANT live streams are already open', 'This merchant has 20 live connections open, the most allowed (LIVE_MAX_CONNECTIONS_PER_MERCHANT); close one first'),
  auth_unavailable: e(503, 'api_error', 'the JWKS that verifies tokens cannot be fetched', 'The token could not be checked: the key set is unreachable; retry shortly'),
  // Resources.
  resource_missing: e(404, 'not_found_error', 'no such resource for this merchant (another merchant\'s included)', "No such payment: 'pay_7QmZ2xV9kR4tN1sA'", 'id'),
  unknown_payment: e(404, 'not_found_error', 'the notification is about a payment this server does not know (yet): the gateway retries', 'The webhook refers to a payment this server does not know (yet); retry later'),
  static_links_not_configured: e(404, 'invalid_request_error', 'UPI_MERCHANT_VPA and UPI_MERCHANT_NAME are not set', 'Static UPI links are off: set UPI_MERCHANT_VPA and UPI_MERCHANT_NAME'),
  // State and idempotency (the engine).
  payment_method_in_use: e(409, 'state_error', 'the gateway token is saved for another user of the merchant', 'This payment method is saved for another user of the merchant'),
  payment_method_removed: e(409, 'state_error', 'the token was saved and removed: collect the card again', "This payment method was removed and cannot be saved again; collect the card again with the gateway's hosted fields"),
  customer_missing: e(409, 'state_error', 'the customer record the method is saved on is not stored (an inconsistent store)', 'The customer this payment method is saved on is not stored'),
  subscription_binding_conflict: e(409, 'state_error', "the gateway's subscription names another request than this one (its tender_* metadata)", "The gateway's subscription does not belong to this request; see the logs"),
  payment_already_confirmed: e(409, 'state_error', 'only a payment created with `confirm: false`, not yet authorised, can be authorised', 'Only a payment created with confirm=false and not authorised yet can be authorised; this one is CAPTURED'),
  payment_not_capturable: e(409, 'state_error', 'only an AUTHORIZED payment can be captured', 'Only an AUTHORIZED payment can be captured; this one is CAPTURED'),
  payment_not_cancellable: e(409, 'state_error', 'the payment is past cancelling (captured, failed, cancelled...)', 'A CAPTURED payment cannot be cancelled'),
  payment_not_refundable: e(409, 'state_error', 'only a captured payment can be refunded', 'Only a captured payment can be refunded; this one is AUTHORIZED'),
  charge_already_refunded: e(409, 'state_error', 'nothing is left to refund', 'This payment has already been fully refunded'),
  illegal_transition: e(409, 'state_error', 'a concurrent change moved the payment to a status this operation cannot leave', 'A payment cannot move from CANCELLED to CAPTURED'),
  order_already_paid: e(409, 'invalid_request_error', 'a payment of the order is AUTHORIZED, CAPTURED or PARTIALLY_REFUNDED', 'Order ORD-1001 is already paid by payment pay_7QmZ2xV9kR4tN1sA (CAPTURED)', 'order_id'),
  payment_in_progress: e(409, 'invalid_request_error', 'a payment of the order is under way at the gateway; see Retry-After', 'Payment pay_7QmZ2xV9kR4tN1sA of order ORD-1001 is PROCESSING; wait for its outcome', 'order_id'),
  idempotency_key_in_use: e(409, 'idempotency_error', 'a request with this Idempotency-Key is still in flight; retry after Retry-After', 'A request with this Idempotency-Key is still being processed', 'Idempotency-Key'),
  idempotency_key_reused: e(422, 'idempotency_error', 'this Idempotency-Key was used with a different request', 'This Idempotency-Key was already used with a different request', 'Idempotency-Key'),
  upgrade_required: e(426, 'invalid_request_error', 'the request is not a WebSocket handshake', 'This route speaks WebSocket (RFC 6455): send Upgrade: websocket, or read GET /api/v1/payments/{id}/events as Server-Sent Events'),
  // The gateway and the server.
  card_declined: e(402, 'gateway_error', "the gateway declined the card (Stripe's own code is sent: card_declined, expired_card, incorrect_cvc...; `decline_code` in the gateway's message)", 'Stripe create_setup_intent failed: Your card was declined.'),
  authentication_required: e(402, 'gateway_error', 'the card needs the customer to authenticate (3-D Secure): save or charge it with the customer present', 'Stripe could not save the card: it needs the customer to authenticate (3-D Secure), and the card was confirmed server-side'),
  gateway_server_error: e(502, 'gateway_error', 'the gateway answered with an error', 'stripe answered 500'),
  gateway_invalid_response: e(502, 'gateway_error', 'the gateway\'s answer could not be read', 'stripe answered with a body that is not JSON'),
  circuit_open: e(503, 'gateway_unavailable', 'the gateway is failing and calls to it are paused; see Retry-After', 'stripe is unavailable (circuit open); retry after 30s'),
  webhook_deferred: e(503, 'gateway_unavailable', 'the notification cannot be applied yet: the gateway retries', 'The webhook cannot be applied yet; retry later'),
  shutting_down: e(503, 'api_error', 'the server is shutting down; another instance answers', 'The server is shutting down; reconnect (another instance will answer)'),
} as const satisfies Record<string, ErrorCodeInfo>;

/** A code of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The `{ error }` body the server sends for `code`, with the table's example message. */
export function errorExample(code: ErrorCode): { error: { type: string; code: string; message: string; param?: string } } {
  const info: ErrorCodeInfo = ERROR_CODES[code];
  return { error: { type: info.type, code, message: info.message, ...(info.param ? { param: info.param } : {}) } };
}
