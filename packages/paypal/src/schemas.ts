/**
 * Lenient schemas (zod) of the PayPal objects Tender reads: only the fields Tender uses are checked,
 * every other field passes through. Field names follow PayPal's Orders v2 and Payments v2 references
 * (https://developer.paypal.com/docs/api/orders/v2/, https://developer.paypal.com/docs/api/payments/v2/)
 * and the webhook event envelope (https://developer.paypal.com/api/rest/webhooks/event-names/).
 *
 * @module
 */
import { currencyExponent, GATEWAY_OUTCOME_UNKNOWN, isCurrency, TenderError } from '@tender/core';
import { z } from 'zod';

const missingOr = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is missing' : `is not ${what}`);
const id = z.string({ error: missingOr('a string') }).min(1, 'is empty');

/** PayPal's `{ currency_code, value }`. */
const MoneySchema = z
  .looseObject({
    currency_code: z.string({ error: missingOr('a string') }).refine((c) => /^[A-Z]{3}$/.test(c) && isCurrency(c), 'is not a known ISO 4217 code'),
    value: z.string({ error: missingOr('a string') }).regex(/^[0-9]{1,15}(\.[0-9]+)?$/, 'is not a decimal amount'),
  })
  .superRefine((money, ctx) => {
    // More decimals than the currency has cannot be a real amount (Tender would have to round).
    const decimals = money.value.split('.')[1]?.length ?? 0;
    if (isCurrency(money.currency_code) && decimals > currencyExponent(money.currency_code)) ctx.addIssue({ code: 'custom', path: ['value'], message: `has more decimals than ${money.currency_code} allows` });
  });
/** A HATEOAS link. */
const LinkSchema = z.looseObject({ href: z.string(), rel: z.string(), method: z.string().optional() });

const related = z
  .looseObject({ related_ids: z.looseObject({ order_id: z.string().optional(), authorization_id: z.string().optional(), capture_id: z.string().optional() }).optional() })
  .optional();

/** A capture (`PAYMENT.CAPTURE.*` resource, `purchase_units[].payments.captures[]`). */
export const CaptureSchema = z.looseObject({
  id,
  status: z.string({ error: missingOr('a string') }),
  amount: MoneySchema,
  custom_id: z.string().optional(),
  invoice_id: z.string().optional(),
  final_capture: z.boolean().optional(),
  status_details: z.looseObject({ reason: z.string().optional() }).optional(),
  supplementary_data: related,
  links: z.array(LinkSchema).optional(),
});

/** An authorization. */
export const AuthorizationSchema = z.looseObject({
  id,
  status: z.string({ error: missingOr('a string') }),
  amount: MoneySchema,
  custom_id: z.string().optional(),
  supplementary_data: related,
  links: z.array(LinkSchema).optional(),
});

/** A refund. */
export const RefundSchema = z.looseObject({
  id,
  status: z.string({ error: missingOr('a string') }),
  amount: MoneySchema,
  custom_id: z.string().optional(),
  invoice_id: z.string().optional(),
  status_details: z.looseObject({ reason: z.string().optional() }).optional(),
  links: z.array(LinkSchema).optional(),
});

/** Order statuses (https://developer.paypal.com/docs/api/orders/v2/#orders_get). */
const ORDER_STATUSES = ['CREATED', 'SAVED', 'APPROVED', 'VOIDED', 'COMPLETED', 'PAYER_ACTION_REQUIRED'] as const;

/** An order. */
export const OrderSchema = z.looseObject({
  id,
  status: z.enum(ORDER_STATUSES, { error: missingOr('an order status') }),
  intent: z.enum(['CAPTURE', 'AUTHORIZE']).optional(),
  purchase_units: z
    .array(
      z.looseObject({
        reference_id: z.string().optional(),
        custom_id: z.string().optional(),
        amount: MoneySchema.optional(),
        payments: z
          .looseObject({
            captures: z.array(CaptureSchema).optional(),
            authorizations: z.array(AuthorizationSchema).optional(),
            refunds: z.array(RefundSchema).optional(),
          })
          .optional(),
      }),
    )
    .optional(),
  links: z.array(LinkSchema).optional(),
  payer: z.looseObject({ payer_id: z.string().optional() }).optional(),
});

/** A webhook event envelope. */
export const EventSchema = z.looseObject({
  id,
  event_type: z.string({ error: missingOr('a string') }).min(1, 'is empty'),
  create_time: z.string().optional(),
  resource_type: z.string().optional(),
  resource: z.record(z.string(), z.unknown(), { error: missingOr('an object') }),
});

/** PayPal's error JSON (https://developer.paypal.com/api/rest/responses/). */
export const ErrorSchema = z.looseObject({
  name: z.string().optional(),
  message: z.string().optional(),
  debug_id: z.string().optional(),
  details: z.array(z.looseObject({ issue: z.string().optional(), description: z.string().optional(), field: z.string().optional() })).optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
});

/** PayPal's `{ currency_code, value }` as Tender reads it. */
export type PayPalMoney = z.infer<typeof MoneySchema>;
/** A HATEOAS link (`href`, `rel`, `method`). */
export type PayPalLink = z.infer<typeof LinkSchema>;
/** The capture fields Tender reads. */
export type PayPalCapture = z.infer<typeof CaptureSchema>;
/** The authorization fields Tender reads. */
export type PayPalAuthorization = z.infer<typeof AuthorizationSchema>;
/** The refund fields Tender reads. */
export type PayPalRefund = z.infer<typeof RefundSchema>;
/** The order fields Tender reads. */
export type PayPalOrder = z.infer<typeof OrderSchema>;
/** The webhook event envelope fields Tender reads. */
export type PayPalEvent = z.infer<typeof EventSchema>;
/** PayPal's error JSON (REST and OAuth shapes). */
export type PayPalErrorBody = z.infer<typeof ErrorSchema>;

/** A parse outcome: the value, or one `field problem` line per problem. */
export type Read<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Parses `value` with `schema`, naming each unusable field. */
export function read<T>(schema: z.ZodType<T>, value: unknown, prefix = ''): Read<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${prefix}${issue.path.join('.') || '(object)'} ${issue.message}`) };
}

/**
 * The error for a 2xx answer Tender cannot read: after a call that moves money the outcome is unknown
 * (the reconciler settles it); after a read, a plain `gateway_error`.
 */
export function unusableAnswer(operation: string, problems: readonly string[], mutating: boolean): TenderError {
  return new TenderError({
    type: 'gateway_error',
    code: mutating ? GATEWAY_OUTCOME_UNKNOWN : 'invalid_gateway_response',
    message: `PayPal ${operation} answered with an object Tender cannot read: ${problems.join('; ')}`,
    details: { problems: [...problems], ...(mutating ? { requestSent: true } : {}) },
  });
}
