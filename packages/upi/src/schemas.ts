/**
 * Lenient zod schemas of the Razorpay objects Tender reads: each names only the fields used, lets every
 * other field through and says which field is missing or malformed. Field names are Razorpay's
 * (https://razorpay.com/docs/api/payments/, https://razorpay.com/docs/api/orders/,
 * https://razorpay.com/docs/api/refunds/, https://razorpay.com/docs/webhooks/payloads/payments/).
 *
 * @module
 */
import { GATEWAY_OUTCOME_UNKNOWN, TenderError } from '@tender/core';
import { z } from 'zod';

const missingOr = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is missing' : `is not ${what}`);
const id = z.string({ error: missingOr('a string') }).min(1, 'is empty');
/** Paise: a non-negative safe integer. */
const paise = z.number({ error: missingOr('a number') }).int('is not an integer').min(0, 'is negative');
const currency = z.string({ error: missingOr('a string') }).regex(/^[A-Z]{3}$/, 'is not an ISO 4217 code');
/** Razorpay sends `notes` as an object, or as `[]` when there are none. */
const notes = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).nullish();
/** An object field that Razorpay may write as `[]` when empty (as it does `notes`): read as absent. */
const emptyAsNull = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (Array.isArray(v) && v.length === 0 ? null : v), schema.nullish());
const text = z.string().nullish();

/** Payment statuses (https://razorpay.com/docs/payments/payments/#payment-life-cycle). */
const RAZORPAY_PAYMENT_STATUSES = ['created', 'authorized', 'captured', 'refunded', 'failed'] as const;

/** The payment fields Tender reads. */
export const PaymentSchema = z.looseObject({
  id,
  entity: z.literal('payment', { error: missingOr("'payment'") }).optional(),
  amount: paise,
  currency,
  status: z.enum(RAZORPAY_PAYMENT_STATUSES, { error: missingOr('a payment status') }),
  order_id: text,
  method: text,
  vpa: text,
  captured: z.boolean().nullish(),
  amount_refunded: paise.nullish(),
  refund_status: text,
  fee: paise.nullish(),
  tax: paise.nullish(),
  error_code: text,
  error_description: text,
  error_reason: text,
  error_source: text,
  error_step: text,
  acquirer_data: emptyAsNull(z.looseObject({ rrn: text, upi_transaction_id: text, auth_code: text })),
  upi: emptyAsNull(z.looseObject({ vpa: text, flow: text })),
  notes,
  created_at: z.number().optional(),
});

/** The order fields Tender reads. */
export const OrderSchema = z.looseObject({
  id,
  amount: paise,
  currency,
  status: z.string({ error: missingOr('a string') }),
  receipt: text,
  notes,
});

/** The refund fields Tender reads. */
export const RefundSchema = z.looseObject({
  id,
  amount: paise,
  currency,
  payment_id: text,
  status: z.enum(['pending', 'processed', 'failed'], { error: missingOr("'pending', 'processed' or 'failed'") }),
  speed_processed: text,
  notes,
  receipt: text,
  acquirer_data: emptyAsNull(z.record(z.string(), z.unknown())),
});

/** A list answer (`entity: collection`). */
export const CollectionSchema = z.looseObject({ items: z.array(z.unknown(), { error: missingOr('a list') }), count: z.number().optional() });

/** `POST /v1/payments/create/upi`'s answer: the payment id and, for the intent flow, the link. */
export const CreateUpiSchema = z.looseObject({ razorpay_payment_id: id, link: z.string().optional() });

/** `POST /v1/payments/validate/vpa`'s answer. */
export const ValidateVpaSchema = z.looseObject({ vpa: z.string().optional(), success: z.boolean({ error: missingOr('a boolean') }), customer_name: text });

/** A webhook envelope (https://razorpay.com/docs/webhooks/payloads/payments/). */
export const EventSchema = z.looseObject({
  entity: z.literal('event', { error: missingOr("'event'") }),
  event: z.string({ error: missingOr('a string') }).min(1, 'is empty'),
  payload: z.record(z.string(), z.unknown(), { error: missingOr('an object') }),
  created_at: z.number().optional(),
});

/** Razorpay's error envelope body (`{ error: {...} }`). */
export const ErrorSchema = z.looseObject({
  code: text,
  description: text,
  source: text,
  step: text,
  reason: text,
  field: text,
  metadata: z.unknown().optional(),
});

/** A Razorpay payment as read. */
export type RazorpayPayment = z.infer<typeof PaymentSchema>;
/** A Razorpay order as read. */
export type RazorpayOrder = z.infer<typeof OrderSchema>;
/** A Razorpay refund as read. */
export type RazorpayRefund = z.infer<typeof RefundSchema>;
/** Razorpay's error object. */
export type RazorpayErrorObject = z.infer<typeof ErrorSchema>;
/** A webhook envelope as read. */
export type RazorpayEvent = z.infer<typeof EventSchema>;

/** A parse outcome: the value, or one `field problem` line per problem. */
export type Read<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Parses `value` with `schema`, naming each unusable field. */
export function read<T>(schema: z.ZodType, value: unknown, prefix = ''): Read<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data as T };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${prefix}${issue.path.join('.') || '(object)'} ${issue.message}`) };
}

/** A string value of `notes`, or null. */
export function noteValue(notesValue: unknown, key: string): string | null {
  if (typeof notesValue !== 'object' || notesValue === null || Array.isArray(notesValue)) return null;
  const value = (notesValue as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * The error for a 2xx answer Tender cannot read: after a call that may have moved money the outcome
 * is unknown (the reconciler settles it); after a read it is a plain `gateway_error`.
 */
export function unusableAnswer(operation: string, problems: readonly string[], mutating: boolean): TenderError {
  return new TenderError({
    type: 'gateway_error',
    code: mutating ? GATEWAY_OUTCOME_UNKNOWN : 'invalid_gateway_response',
    message: `Razorpay ${operation} answered with an object Tender cannot read: ${problems.join('; ')}`,
    details: { problems: [...problems], ...(mutating ? { requestSent: true } : {}) },
  });
}
