/**
 * The published events' schemas (version 1), from the same zod schemas as the API's objects, so an
 * event's `data` is exactly what `GET /api/v1/payments/:id` (or the refund, subscription, invoice or
 * payment method route) returns. Emitted as
 * JSON Schema (draft 2020-12) per event type, in the docs and by {@link eventJsonSchemas}. Objects
 * allow properties beyond those listed (input-mode JSON Schema of non-strict zod objects): version 1
 * only ever gains fields.
 *
 * @module
 */
import { EVENT_VERSION, PAYMENT_STATUSES, REFUND_STATUSES, SEED_EVENT_TYPES } from '@tender/core';
import { z } from 'zod';
import { InvoiceSchema, PaymentMethodSchema, SubscriptionSchema } from './billing-schemas';
import { PaymentSchema, RefundSchema, apiSchemas } from './schemas';
import { SettlementMismatchData } from './openapi-settlements';
import { DisputeSchema } from './dispute-schemas';

/** A note on a payment that does not change its status: the payment, and what was noted. */
const PaymentNoteData = z
  .object({ payment: PaymentSchema })
  .catchall(z.unknown())
  .describe('The payment (unchanged) and the details of what was noted, e.g. reportedStatus, reportedAmount');

function envelope(type: string | null, data: z.ZodType, description: string) {
  return z
    .object({
      id: z.string().describe('Event id: the dedup key (Nats-Msg-Id, AMQP message-id, Debezium id header)'),
      object: z.literal('event'),
      version: z.literal(EVENT_VERSION),
      type: type ? z.literal(type) : z.string().regex(/^payment\.[a-z_.]+$/),
      created_at: z.string().describe('When the change was committed (ISO-8601, UTC)'),
      merchant_id: z.string(),
      payment_id: z.string().nullable(),
      refund_id: z.string().nullable(),
      data,
    })
    .describe(description);
}

const DeliveryState = z.object({
  status: z.enum(['pending', 'delivered', 'dead']),
  attempts: z.number().int(),
  next_attempt_at: z.string(),
  last_error: z.string().nullable(),
  delivered_at: z.string().nullable(),
});
const RelayState = z.object({
  status: z.enum(['pending', 'published', 'dead']),
  attempts: z.number().int(),
  next_attempt_at: z.string(),
  last_error: z.string().nullable(),
  published_at: z.string().nullable(),
});

/** `GET /api/v1/events/:id`: the published document plus its merchant webhook and broker relay delivery state. */
export const EventResourceSchema = envelope(null, z.union([PaymentSchema, RefundSchema, PaymentNoteData, SubscriptionSchema, InvoiceSchema, PaymentMethodSchema, SettlementMismatchData]), 'An event as published, with its delivery state')
  .extend({
    type: z.string().describe('payment.<status or note>, refund.<status>, subscription.*, invoice.* or payment_method.*'),
    delivery: DeliveryState.describe('Merchant webhook delivery'),
    relay: RelayState.describe('Broker relay (EVENT_BROKER_URL)'),
  })
  .register(apiSchemas, { id: 'Event' });

/**
 * The billing events: what changed on a subscription, an invoice or a saved payment method, with the
 * record after the change as `data` (their `payment_id` and `refund_id` are null). Subscription and
 * invoice events follow what the gateway's billing reported (Stripe `customer.subscription.*`,
 * `invoice.*`: https://docs.stripe.com/billing/subscriptions/webhooks).
 */
export const BILLING_EVENT_TYPES = {
  'subscription.created': 'A subscription was started at the gateway',
  'subscription.updated': 'A subscription changed (status, period, cancel_at_period_end...)',
  'subscription.canceled': 'A subscription ended (status canceled)',
  'invoice.created': "The gateway's billing made an invoice",
  'invoice.finalized': 'An invoice was finalized (status open): it is due',
  'invoice.paid': 'An invoice was paid (payment_id names the Tender payment of the money)',
  'invoice.payment_failed': 'A payment attempt of an invoice failed (the gateway retries on its schedule)',
  'invoice.voided': 'An invoice was voided',
  'invoice.updated': 'An invoice changed otherwise (amounts, attempts, next attempt)',
  'payment_method.saved': 'A payment method was saved for a user',
  'payment_method.removed': 'A saved payment method was removed (deleted: true)',
  'payment_method.default_changed': "A saved payment method became the user's default",
} as const;

/**
 * The dispute events: a dispute of a payment opened, changed or closed at the gateway (Stripe
 * `charge.dispute.*`, PayPal `CUSTOMER.DISPUTE.*`, Razorpay `payment.dispute.*`), with the dispute
 * after the change as `data` (the payment's status is unchanged).
 */
export const DISPUTE_EVENT_TYPES = {
  'dispute.created': 'A dispute (chargeback or inquiry) of a payment was opened at the gateway',
  'dispute.updated': 'A dispute changed (status, amount, evidence due date)',
  'dispute.closed': 'A dispute ended (won, lost, accepted, closed, warning_closed)',
} as const;

function billingData(type: string): z.ZodType {
  if (type.startsWith('subscription.')) return SubscriptionSchema;
  if (type.startsWith('invoice.')) return InvoiceSchema;
  return PaymentMethodSchema;
}

/** Notes the engine itself writes (gateways add their own, e.g. disputes: see `payment.note`). */
const ENGINE_NOTES = ['cancel_requested', 'stale_report_ignored', 'report_not_applied', 'amount_mismatch', 'reference_mismatch', 'reference_conflict'] as const;

/** The Tender-format (version 1) event types with a schema of their own, and the generic `payment.note`. */
export function tenderEventSchemas(): Record<string, z.ZodType> {
  const out: Record<string, z.ZodType> = {
    'payment.created': envelope('payment.created', PaymentSchema.extend({ status: z.literal('PENDING') }), 'A payment was created (status PENDING); data is the payment'),
  };
  for (const status of PAYMENT_STATUSES) {
    const type = `payment.${status.toLowerCase()}`;
    out[type] ??= envelope(type, PaymentSchema.extend({ status: z.literal(status) }), `The payment moved to ${status}; data is the payment after the change`);
  }
  for (const note of ENGINE_NOTES) {
    out[`payment.${note}`] = envelope(`payment.${note}`, PaymentNoteData, `Noted on the payment (${note}); its status did not change`);
  }
  out['payment.note'] = envelope(null, PaymentNoteData, 'Any other note on a payment (a gateway\'s dispute events and the like): payment.<name>');
  for (const status of REFUND_STATUSES) {
    const type = `refund.${status.toLowerCase()}`;
    out[type] = envelope(type, RefundSchema.extend({ status: z.literal(status) }), `A refund ${status === 'PENDING' ? 'was created' : `moved to ${status}`}; data is the refund`);
  }
  out['settlement.mismatch'] = envelope('settlement.mismatch', SettlementMismatchData, "A line of a gateway's settlement report disagrees with Tender's records (amount_mismatch, missing_in_tender, missing_at_gateway); once per reconciliation run and line");
  for (const [type, description] of Object.entries(DISPUTE_EVENT_TYPES)) out[type] = envelope(type, DisputeSchema, `${description}; data is the dispute after the change`);
  for (const [type, description] of Object.entries(BILLING_EVENT_TYPES)) {
    out[type] = envelope(type, billingData(type), `${description}; data is the ${type.slice(0, type.indexOf('.')).replace('_', ' ')} after the change`);
  }
  return out;
}

const decimal = z.string().regex(/^\d+(\.\d+)?$/).describe('Decimal string in major units, e.g. "100.50"');

/** The order-service event contract's types (`EVENT_FORMAT=seed`). */
export function seedEventSchemas(): Record<(typeof SEED_EVENT_TYPES)[number], z.ZodType> {
  const common = { eventId: z.string(), paymentId: z.string(), timestamp: z.string() };
  return {
    'payment.successful': z
      .object({
        ...common,
        orderId: z.string().nullable(),
        amount: decimal,
        currency: z.string().length(3),
        paymentMethod: z.string().nullable(),
        transactionId: z.string().nullable().describe("The gateway's transaction reference"),
      })
      .describe('The payment was captured'),
    'payment.failed': z
      .object({
        ...common,
        orderId: z.string().nullable(),
        reason: z.string().describe('Failure code (card_declined, expired, ...)'),
        retryAttempt: z.number().int().min(0).describe('Earlier payments of the same order'),
      })
      .describe('The payment failed or expired unpaid'),
    'payment.refunded': z
      .object({ ...common, refundId: z.string(), amount: decimal, currency: z.string().length(3) })
      .describe('A refund succeeded'),
  };
}

/** JSON Schema documents, by format and event type. */
export function eventJsonSchemas(): { tender: Record<string, unknown>; seed: Record<string, unknown> } {
  const emit = (schemas: Record<string, z.ZodType>, format: string) =>
    Object.fromEntries(
      Object.entries(schemas).map(([type, schema]) => [
        type,
        {
          ...(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
          $id: `urn:tender:events:${format}:${type}`,
          title: type,
        },
      ]),
    );
  return { tender: emit(tenderEventSchemas(), 'tender'), seed: emit(seedEventSchemas(), 'seed') };
}
