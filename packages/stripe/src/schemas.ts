/**
 * Lenient schemas (zod) for the Stripe objects Tender reads: each names only the fields Tender uses,
 * lets every other field through, and says exactly which field is missing or malformed. Field names
 * and types are Stripe's (https://docs.stripe.com/api/payment_intents/object,
 * https://docs.stripe.com/api/refunds/object, https://docs.stripe.com/api/charges/object,
 * https://docs.stripe.com/api/disputes/object, https://docs.stripe.com/api/events/object).
 *
 * @module
 */
import { GATEWAY_OUTCOME_UNKNOWN, isCurrency, TenderError } from '@tender/core';
import { z } from 'zod';
import type { StripeCharge, StripeDispute, StripePaymentIntent, StripeRefund } from './stripe-types';

const missingOr = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is missing' : `is not ${what}`);

const knownCurrency = (code: string): boolean => isCurrency(code.toUpperCase());

/** A non-empty id. */
const id = z.string({ error: missingOr('a string') }).min(1, 'is empty');
/** An amount in Stripe's smallest unit: a non-negative safe integer. */
const amount = z.number({ error: missingOr('a number') }).int('is not an integer').min(0, 'is negative');
/** A three-letter currency code Tender knows (Stripe sends them in lower case). */
const currency = z.string({ error: missingOr('a string') }).refine((c) => /^[A-Za-z]{3}$/.test(c) && knownCurrency(c), 'is not a known ISO 4217 code');
/** Metadata: read key by key, so one odd value does not make the whole object unusable. */
const metadata = z.record(z.string(), z.unknown()).nullish();

/** `PaymentIntent.status` values (https://docs.stripe.com/api/payment_intents/object#payment_intent_object-status). */
const PAYMENT_INTENT_STATUSES = ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture', 'canceled', 'succeeded'] as const;

/** The PaymentIntent fields Tender reads; `amount_received` is needed once it has `succeeded`. */
const PaymentIntentSchema = z
  .looseObject({
    id,
    amount,
    currency,
    status: z.enum(PAYMENT_INTENT_STATUSES, { error: missingOr('a PaymentIntent status') }),
    amount_received: amount.optional(),
    capture_method: z.string().nullish(),
    client_secret: z.string().nullish(),
    latest_charge: z.unknown().optional(),
    payment_method: z.unknown().optional(),
    last_payment_error: z
      .looseObject({ type: z.string().nullish(), code: z.string().nullish(), decline_code: z.string().nullish(), message: z.string().nullish() })
      .nullish(),
    next_action: z.record(z.string(), z.unknown()).nullish(),
    metadata,
  })
  .superRefine((pi, ctx) => {
    if (pi.status === 'succeeded' && pi.amount_received === undefined) {
      ctx.addIssue({ code: 'custom', path: ['amount_received'], message: 'is missing (needed once the PaymentIntent has succeeded)' });
    }
  });

/** The Refund fields Tender reads. */
export const RefundSchema = z.looseObject({
  id,
  amount,
  currency,
  status: z.string({ error: missingOr('a string') }).min(1, 'is empty'),
  payment_intent: z.string().nullish(),
  failure_reason: z.string().nullish(),
  metadata,
});

/** The Charge fields `charge.refunded` needs; `amount_captured` only when the refunds are embedded. */
const ChargeSchema = z
  .looseObject({
    id,
    currency,
    amount_refunded: amount,
    refunded: z.boolean({ error: missingOr('a boolean') }),
    payment_intent: z.string().nullish(),
    amount_captured: amount.optional(),
    refunds: z.looseObject({ data: z.array(z.unknown(), { error: missingOr('a list') }) }).nullish(),
    metadata,
  })
  .superRefine((charge, ctx) => {
    if (charge.refunds && charge.amount_captured === undefined) {
      ctx.addIssue({ code: 'custom', path: ['amount_captured'], message: 'is missing (needed with the embedded refunds)' });
    }
  });

/** The Dispute fields a dispute note carries; only `id` is required (the rest is shown when present). */
const DisputeSchema = z.looseObject({
  id,
  payment_intent: z.string().nullish(),
  charge: z.unknown().optional(),
  amount: amount.optional(),
  currency: currency.optional(),
  reason: z.string().nullish(),
  status: z.string().nullish(),
});

/** A webhook's Event envelope. */
export const EventSchema = z.looseObject({
  id,
  object: z.literal('event', { error: missingOr("'event'") }),
  type: z.string({ error: missingOr('a string') }).min(1, 'is empty'),
  created: z.number().optional(),
  data: z.looseObject({ object: z.record(z.string(), z.unknown(), { error: missingOr('an object') }) }, { error: missingOr('an object') }),
});

/** A list or search answer. */
export const ListSchema = z.looseObject({ data: z.array(z.unknown(), { error: missingOr('a list') }), has_more: z.boolean({ error: missingOr('a boolean') }) });

/** A parse outcome: the value, or one `field problem` line per problem. */
export type Read<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Parses `value` with `schema`, naming each unusable field (`amount_received is missing`). */
export function read<T>(schema: z.ZodType, value: unknown, prefix = ''): Read<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data as T };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${prefix}${issue.path.join('.') || '(object)'} ${issue.message}`) };
}

/** Reads a PaymentIntent. */
export const readPaymentIntent = (value: unknown, prefix?: string) => read<StripePaymentIntent>(PaymentIntentSchema, value, prefix);
/** Reads a Refund. */
export const readRefund = (value: unknown, prefix?: string) => read<StripeRefund>(RefundSchema, value, prefix);
/** Reads a Charge (as `charge.refunded` needs it). */
export const readCharge = (value: unknown, prefix?: string) => read<StripeCharge>(ChargeSchema, value, prefix);
/** Reads a Dispute. */
export const readDispute = (value: unknown, prefix?: string) => read<StripeDispute>(DisputeSchema, value, prefix);

/** A string metadata value, or null (metadata is signed with the Event, but may hold anything). */
export function metadataValue(object: Record<string, unknown>, key: string): string | null {
  const meta = object.metadata;
  if (typeof meta !== 'object' || meta === null) return null;
  const value = (meta as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * The error for a 2xx answer Tender cannot read. After a call that moves money, Stripe may have acted,
 * so the outcome is unknown (the engine leaves the payment to the reconciler); after a read it is a
 * plain `gateway_error`.
 */
export function unusableAnswer(operation: string, problems: readonly string[], mutating: boolean): TenderError {
  const message = `Stripe ${operation} answered with an object Tender cannot read: ${problems.join('; ')}`;
  return new TenderError({
    type: 'gateway_error',
    code: mutating ? GATEWAY_OUTCOME_UNKNOWN : 'invalid_gateway_response',
    message,
    details: { problems: [...problems], ...(mutating ? { requestSent: true } : {}) },
  });
}
