/**
 * Request and response schemas (zod 4). The router validates with them and `/openapi.json` is
 * generated from them, so the document cannot drift from what the server accepts. Wire names are
 * snake_case. Shape checks live here; money and state rules stay in the engine.
 *
 * @module
 */
import { PAYMENT_STATUSES, REFUND_STATUSES } from '@tender/core';
import { z } from 'zod';
import { badRequest } from './errors';

/** Named schemas that become `components.schemas` of the OpenAPI document. */
export const apiSchemas = z.registry<{ id: string }>();

const text = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

/** Major units: a decimal string, or a JSON number taken from its source text (never float math). */
export const AmountSchema = z
  .union([z.string().max(40), z.number()])
  .describe('Amount in major units: a decimal string ("100.50") or a JSON number, read from its source text');

/** Integer minor units (as in `amount_paisa`: paise, for INR). */
export const MinorAmountSchema = z
  .union([z.string().regex(/^[0-9]{1,18}$/, 'must be a non-negative integer'), z.number().int().nonnegative()])
  .describe('Amount in minor units (integer)');

const MetadataSchema = z.record(text(40), text(500)).describe('Up to 50 string pairs, returned as given');

/**
 * `POST /api/v1/payments`: Fiuu's fields plus gateway, capture method and metadata, and the
 * fields common UPI and Stripe-style bodies use (`user_id`, `merchant_id`, `description`, `callback_url`,
 * `payment_details`), each honoured or refused. Any other field is refused (400 `unknown_parameter`).
 */
export const CreatePaymentBody = z
  .strictObject({
    order_id: text(64).nullish().describe("The merchant's order reference"),
    amount: AmountSchema.nullish(),
    amount_paisa: MinorAmountSchema.nullish().describe('Minor units (paise for INR) instead of `amount`'),
    amount_minor: MinorAmountSchema.nullish().describe('Minor units instead of `amount`'),
    currency: z.string().regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 code').describe('ISO 4217 code, e.g. MYR'),
    payment_method: text(64).nullish().describe('FPX, GRABPAY, card, upi..., a Stripe pm_... id, or a saved method of the user (spm_...)'),
    gateway: text(32).nullish().describe('fiuu, stripe, paypal, upi; routing rules pick when absent'),
    capture_method: z.enum(['automatic', 'manual']).nullish(),
    bill_name: text(128).nullish(),
    bill_email: text(254).nullish(),
    bill_mobile: text(32).nullish(),
    bill_description: text(500).nullish(),
    return_url: text(2048).nullish(),
    notify_url: text(2048).nullish().describe("The merchant's URL for the payment's result (Fiuu callbackurl)"),
    metadata: MetadataSchema.nullish(),
    description: text(500).nullish().describe('Another name for `bill_description` (give one of them, or both alike)'),
    callback_url: text(2048)
      .nullish()
      .describe('Another name for `notify_url`: where the payment result is sent (give one of them, or both alike)'),
    user_id: text(255)
      .nullish()
      .describe("The customer's id in the merchant's system: the payment is listed under the user (`GET /api/v1/users/{user_id}/payments`) and a saved method charged must be the user's; also kept as `metadata.user_id` (a different `metadata.user_id` is refused)"),
    off_session: z
      .boolean()
      .nullish()
      .describe('With a saved method (`payment_method: "spm_..."`): the customer is absent, a merchant-initiated charge (default true); `false` for a charge the customer is present for (it may answer REQUIRES_ACTION for authentication)'),
    confirm: z
      .boolean()
      .nullish()
      .describe('`false` stores the payment PENDING without sending it to the gateway; `POST /api/v1/payments/{id}/authorize` sends it (two-step authorize). Default true'),
    merchant_id: text(64)
      .nullish()
      .describe("Must be the token's merchant (`sub`); another merchant is refused with 403 `merchant_mismatch`"),
    device_fingerprint: text(512)
      .nullish()
      .describe("A fingerprint of the payer's device (the Fiuu browser bundle's `deviceFingerprint`, or your app's), for the risk checks' velocity rules; also taken from the `X-Device-Fingerprint` header. Hashed before it is counted, never stored on the payment"),
    payment_details: z
      .unknown()
      .optional()
      .describe('`{ "vpa": "user@bank" }` sends a UPI collect request to the payer\'s app. Nothing else is taken: raw card data is refused with 400 `raw_card_data_not_allowed` (use the gateway\'s hosted fields), other fields with 400 `parameter_unsupported`'),
  })
  .describe('Unknown fields are refused with 400 `unknown_parameter` naming the field')
  .register(apiSchemas, { id: 'CreatePayment' });

/** `POST /api/v1/payments/:id/capture`. */
export const CaptureBody = z
  .strictObject({
    amount: AmountSchema.nullish().describe('Defaults to the whole authorised amount'),
    amount_paisa: MinorAmountSchema.nullish().describe('Minor units instead of `amount`; both together are refused (400 ambiguous_amount)'),
    amount_minor: MinorAmountSchema.nullish().describe('Minor units instead of `amount` (the same as `amount_paisa`); two amounts together are refused (400 ambiguous_amount)'),
  })
  .register(apiSchemas, { id: 'CapturePayment' });

/** `POST /api/v1/payments/:id/cancel` takes no fields. */
export const CancelBody = z.strictObject({}).register(apiSchemas, { id: 'CancelPayment' });

const refundFields = {
  amount: AmountSchema.nullish().describe('Defaults to everything not yet refunded'),
  amount_paisa: MinorAmountSchema.nullish().describe('Minor units instead of `amount`; both together are refused (400 ambiguous_amount)'),
  amount_minor: MinorAmountSchema.nullish().describe('Minor units instead of `amount` (the same as `amount_paisa`); two amounts together are refused (400 ambiguous_amount)'),
  reason: text(500).nullish(),
  refund_reason: text(500).nullish(),
  metadata: MetadataSchema.nullish(),
};

/** `POST /api/v1/payments/:id/refund` (`refund_reason` is Fiuu's name for `reason`). */
export const RefundBody = z.strictObject(refundFields).register(apiSchemas, { id: 'RefundPayment' });

/**
 * `POST /api/v1/refunds`: the same refund with the payment named in the body, as `transaction_id`
 * (the Stripe seed's name) or `payment_id`.
 */
export const CreateRefundBody = z
  .strictObject({
    transaction_id: text(64).nullish().describe('The payment to refund (its Tender id, `pay_...`)'),
    payment_id: text(64).nullish().describe('Another name for `transaction_id` (give one of them, or both alike)'),
    ...refundFields,
  })
  .register(apiSchemas, { id: 'CreateRefund' });

/** `POST /api/v1/upi/static-links`. */
export const StaticUpiLinkBody = z
  .strictObject({
    amount_paisa: z
      .union([z.string().regex(/^[1-9][0-9]{0,9}$/, 'must be a positive integer'), z.number().int().positive().max(9_999_999_999)])
      .nullish()
      .describe('Amount in paise; absent lets the payer type one (a counter QR)'),
    reference: text(35).nullish().describe('Your reference (`tr`), e.g. the order id; characters other than letters and digits are dropped'),
    note: text(50).nullish().describe('Note shown to the payer (`tn`)'),
  })
  .register(apiSchemas, { id: 'CreateStaticUpiLink' });

/** `POST /api/v1/webhook-endpoints` (merchant webhooks). */
export const CreateWebhookEndpointBody = z
  .strictObject({
    url: z.string().max(2048).url().describe('http(s) URL that receives the events'),
    events: z
      .array(z.string().regex(/^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$/, 'must be an event type such as payment.captured, payment.*, or *'))
      .min(1)
      .max(50)
      .nullish()
      .describe('Event types (payment.*, refund.succeeded...); all when absent'),
    secret: z.string().min(8).max(256).nullish().describe('Signing secret; generated when absent'),
    description: text(500).nullish(),
  })
  .register(apiSchemas, { id: 'CreateWebhookEndpoint' });

const cursor = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id');
const limit = z.string().regex(/^[0-9]{1,3}$/, 'must be an integer from 1 to 100');

/** `GET /api/v1/payments` query. */
export const ListPaymentsQuery = z.object({
  limit: limit.optional(),
  starting_after: cursor.optional(),
  order_id: text(64).optional(),
  status: z.enum(PAYMENT_STATUSES).optional(),
  gateway: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a gateway name').optional().describe('Only payments through this gateway (stripe, paypal, fiuu, upi...)'),
  created_from: z.string().max(40).optional().describe('Only payments created at or after this date (YYYY-MM-DD, 00:00 UTC) or ISO 8601 instant with a zone'),
  created_before: z.string().max(40).optional().describe('Only payments created before this date or instant (exclusive)'),
});

/** `GET /api/v1/events` query: the merchant's events, newest first. */
export const ListEventsQuery = z.object({
  limit: limit.optional(),
  starting_after: cursor.optional(),
  type: z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/, 'must be an event type such as payment.captured').optional().describe('Only events of this type'),
  delivery_status: z.enum(['pending', 'delivered', 'dead']).optional().describe('Only events in this webhook delivery state'),
  payment_id: cursor.optional().describe('Only events about this payment (and its refunds)'),
});

/** Query of the other lists. */
export const PageQuery = z.object({ limit: limit.optional(), starting_after: cursor.optional() });

/** `GET /api/v1/payments/seamless/config` query: a Fiuu seamless checkout for an order. */
export const SeamlessConfigQuery = z.object({
  order_id: text(64).optional(),
  amount: z.string().max(40).optional(),
  currency: z.string().regex(/^[A-Za-z]{3}$/).optional(),
  payment_method: text(64).optional(),
  bill_name: text(128).optional(),
  bill_email: text(254).optional(),
  bill_mobile: text(32).optional(),
  bill_description: text(500).optional(),
  return_url: text(2048).optional(),
});

/**
 * Validates with a schema; the first issue becomes a 400 naming the field. A field the schema does not
 * know is a 400 `unknown_parameter` naming it: nothing sent is dropped silently.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const unknown = result.error.issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') {
    const field = [...unknown.path.map(String), unknown.keys[0]!].join('.');
    const known = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
    throw badRequest('unknown_parameter', `Unknown parameter: ${field.slice(0, 100)}${known.length > 0 ? ` (accepted: ${known.join(', ')})` : ' (this request takes no fields)'}`, field.slice(0, 100));
  }
  const issue = result.error.issues[0]!;
  const param = issue.path.map(String).join('.') || undefined;
  const message = param ? `${param}: ${issue.message}` : issue.message;
  // zod 4 issues do not carry the input: whether the field was absent is read from the value itself.
  const code = issue.code === 'invalid_type' && valueAt(value, issue.path) === undefined ? 'parameter_missing' : 'parameter_invalid';
  throw badRequest(code, message, param);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

// ---- Responses (documentation only; the serialisers in serialize.ts produce these shapes) ----

const FailureSchema = z.object({ code: z.string(), message: z.string(), decline_code: z.string().optional() }).nullable();

/** What the customer must do next, when the status is REQUIRES_ACTION. */
export const NextActionSchema = z
  .object({
    type: z.enum(['redirect', 'seamless', 'client_secret', 'upi_intent', 'upi_collect', 'custom']),
    vpa: z.string().optional(),
    url: z.string().optional(),
    method: z.enum(['GET', 'POST']).optional(),
    fields: z.record(z.string(), z.string()).optional(),
    gateway: z.string().optional(),
    params: z.record(z.string(), z.string()).optional(),
    client_secret: z.string().optional(),
    action: z.record(z.string(), z.unknown()).optional(),
    qr_code: z.string().optional(),
    expires_at: z.string().optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .nullable()
  .register(apiSchemas, { id: 'NextAction' });

/** The risk checks' decision on a payment (`risk` of a payment), null when it was not evaluated. */
export const RiskDecisionSchema = z
  .object({
    score: z.number().int().describe('Total score: the rules that fired plus the weighted external score, capped at MAX_FRAUD_SCORE'),
    level: z.enum(['low', 'elevated', 'high', 'blocked']).describe('low (allowed), elevated (3-D Secure asked), high (held for review), blocked'),
    action: z.enum(['allow', 'step_up', 'review', 'block']),
    rules: z
      .array(z.object({ id: z.string(), type: z.string(), score: z.number().int(), reason: z.string().describe('Amounts and counts, never personal data') }))
      .describe('The rules that fired'),
    evaluated_at: z.string(),
  })
  .nullable()
  .register(apiSchemas, { id: 'RiskDecision' });

/** A payment as the API returns it. */
export const PaymentSchema = z
  .object({
    id: z.string(),
    object: z.literal('payment'),
    status: z.enum(PAYMENT_STATUSES),
    amount: z.string(),
    amount_minor: z.number().int(),
    currency: z.string(),
    gateway: z.string(),
    gateway_reference: z.string().nullable(),
    order_id: z.string().nullable(),
    payment_method: z.string().nullable(),
    capture_method: z.enum(['automatic', 'manual']),
    amount_captured: z.string(),
    amount_refunded: z.string(),
    description: z.string().nullable(),
    bill_name: z.string().nullable(),
    bill_email: z.string().nullable(),
    bill_mobile: z.string().nullable(),
    return_url: z.string().nullable(),
    notify_url: z.string().nullable(),
    next_action: NextActionSchema,
    failure: FailureSchema,
    cancellation_requested_at: z
      .string()
      .nullable()
      .describe('Set when a cancel arrived while the create was still at the gateway: the payment stays PENDING until Tender has voided the authorisation or refunded the capture'),
    metadata: z.record(z.string(), z.string()),
    user_id: z.string().nullable().describe("The merchant's user the payment belongs to (`user_id` at creation, or the invoice's user)"),
    saved_payment_method_id: z.string().nullable().describe('The saved payment method charged (`spm_...`), when one was'),
    risk: RiskDecisionSchema,
    created_at: z.string(),
    updated_at: z.string(),
    payment_id: z.string().describe('The same as `id` (for clients that read `payment_id`)'),
    amount_paisa: z.number().int().optional().describe('INR payments: the amount in paise'),
    fees_paisa: z.number().int().optional().describe("INR payments: the gateway's fee in paise once it reports one, else 0"),
    payment_url: z.string().optional().describe('UPI: the `upi://pay?...` intent link while the payment waits for the payer'),
    qr_code: z.string().optional().describe('UPI: the intent link as a QR code (PNG data URL)'),
    expires_at: z.string().optional().describe('UPI: when an open UPI link or collect request stops being payable'),
    external_txn_id: z.string().optional().describe('UPI: the UPI transaction id, once paid'),
    gateway_response: z
      .object({ rrn: z.string().nullable(), approval_code: z.string().nullable() })
      .optional()
      .describe("UPI: the bank's retrieval reference number and approval code, once paid"),
  })
  .register(apiSchemas, { id: 'Payment' });

/** A refund as the API returns it. */
export const RefundSchema = z
  .object({
    id: z.string(),
    object: z.literal('refund'),
    payment_id: z.string(),
    status: z.enum(REFUND_STATUSES),
    amount: z.string(),
    amount_minor: z.number().int(),
    currency: z.string(),
    reason: z.string().nullable(),
    gateway_reference: z.string().nullable(),
    failure: FailureSchema,
    metadata: z.record(z.string(), z.string()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .register(apiSchemas, { id: 'Refund' });

/** A merchant webhook endpoint (the secret is shown only when created). */
export const WebhookEndpointSchema = z
  .object({
    id: z.string(),
    object: z.literal('webhook_endpoint'),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    secret: z.string().optional(),
    created_at: z.string(),
  })
  .register(apiSchemas, { id: 'WebhookEndpoint' });

/** An audit-trail entry. */
export const TransitionSchema = z
  .object({ id: z.string(), refund_id: z.string().nullable(), from: z.string().nullable(), to: z.string(), reason: z.string(), actor: z.string(), at: z.string() })
  .register(apiSchemas, { id: 'Transition' });

/** The error body of every failure. */
export const ErrorSchema = z
  .object({
    error: z.object({
      type: z.string(),
      code: z.string(),
      message: z.string(),
      param: z.string().optional(),
    }),
  })
  .register(apiSchemas, { id: 'Error' });

/** A page of a list. */
export const listOf = (item: z.ZodType) => z.object({ object: z.literal('list'), data: z.array(item), has_more: z.boolean(), next_cursor: z.string().nullable() });
