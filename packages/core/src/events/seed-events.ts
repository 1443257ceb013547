/**
 * The order service's event names and fields (`payment.successful`, `payment.failed`,
 * `payment.refunded`, camelCase, as in the order service's Kafka events), made from Tender's
 * outbox events for consumers written against that contract. Amounts are decimal strings in major
 * units (never floats) with the currency beside them.
 *
 * @module
 */
import type { Payment, Refund } from '../payment';
import type { OutboxRow, StoreReader } from '../spec/store/v1/index';

/** `payment.successful`: the payment was captured (money taken). */
export interface PaymentSuccessfulEvent {
  eventId: string;
  paymentId: string;
  orderId: string | null;
  amount: string;
  currency: string;
  paymentMethod: string | null;
  /** The gateway's transaction reference. */
  transactionId: string | null;
  timestamp: string;
}

/** `payment.failed`: the payment failed or expired unpaid (no money taken). */
export interface PaymentFailedEvent {
  eventId: string;
  paymentId: string;
  orderId: string | null;
  /** The failure code (`card_declined`, `expired`...), never a customer's data. */
  reason: string;
  /** How many earlier payments of the same order there were (0 for the first attempt). */
  retryAttempt: number;
  timestamp: string;
}

/** `payment.refunded`: a refund succeeded. */
export interface PaymentRefundedEvent {
  eventId: string;
  paymentId: string;
  refundId: string;
  amount: string;
  currency: string;
  timestamp: string;
}

/** One event of the order-service event contract (`EVENT_FORMAT=seed`) and its name. */
export type SeedEvent =
  | { type: 'payment.successful'; body: PaymentSuccessfulEvent }
  | { type: 'payment.failed'; body: PaymentFailedEvent }
  | { type: 'payment.refunded'; body: PaymentRefundedEvent };

/** The order-service contract's event types (the JSON schemas are named after them). */
export const SEED_EVENT_TYPES = ['payment.successful', 'payment.failed', 'payment.refunded'] as const;

/**
 * The order-service contract's event for an outbox row, or null for a change that contract has no name for (a
 * payment created, authorised, a dispute note...). `reader` looks up the order's earlier attempts.
 */
export async function seedEventOf(row: OutboxRow, reader: Pick<StoreReader, 'listPayments'>): Promise<SeedEvent | null> {
  if (row.type === 'payment.captured') {
    const p = row.data as unknown as Payment;
    return {
      type: 'payment.successful',
      body: {
        eventId: row.id,
        paymentId: p.id,
        orderId: p.orderId,
        amount: p.amount,
        currency: p.currency,
        paymentMethod: p.paymentMethod,
        transactionId: p.gatewayReference,
        timestamp: row.createdAt,
      },
    };
  }
  if (row.type === 'payment.failed' || row.type === 'payment.expired') {
    const p = row.data as unknown as Payment;
    return {
      type: 'payment.failed',
      body: {
        eventId: row.id,
        paymentId: p.id,
        orderId: p.orderId,
        reason: row.type === 'payment.expired' ? 'expired' : (p.failure?.code ?? 'failed'),
        retryAttempt: await earlierAttempts(p, reader),
        timestamp: row.createdAt,
      },
    };
  }
  if (row.type === 'refund.succeeded') {
    const r = row.data as unknown as Refund;
    return {
      type: 'payment.refunded',
      body: { eventId: row.id, paymentId: r.paymentId, refundId: r.id, amount: r.amount, currency: r.currency, timestamp: row.createdAt },
    };
  }
  return null;
}

const ATTEMPTS_SCANNED = 100;

async function earlierAttempts(p: Payment, reader: Pick<StoreReader, 'listPayments'>): Promise<number> {
  if (!p.orderId) return 0;
  const attempts = await reader.listPayments({ merchantId: p.merchantId, orderId: p.orderId, limit: ATTEMPTS_SCANNED });
  return attempts.filter((a) => a.id !== p.id && (a.createdAt < p.createdAt || (a.createdAt === p.createdAt && a.id < p.id))).length;
}
