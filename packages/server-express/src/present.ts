/**
 * The API shape of an outbox event's snapshot (the engine stores the record it changed).
 *
 * @module
 */
import { eventEnvelope, type Dispute, type EventPayloadEncoder, type Invoice, type OutboxRow, type Payment, type Refund, type SavedPaymentMethod, type Subscription } from '@tender/core';
import { invoiceJson, paymentMethodJson, subscriptionJson } from './serialize-billing';
import { paymentJson, refundJson } from './serialize';
import { settlementEventJson } from './routes/admin-settlements';
import { disputeJson } from './serialize-disputes';

/**
 * Event data as merchants receive it: the record the event is about (payment, refund, subscription,
 * invoice, saved payment method) in its API shape.
 */
export function presentEvent(row: Pick<OutboxRow, 'type' | 'data'>): Record<string, unknown> {
  try {
    if (row.type.startsWith('refund.')) return refundJson(row.data as unknown as Refund);
    if (row.type.startsWith('settlement.')) return settlementEventJson(row.data);
    if (row.type.startsWith('subscription.')) return subscriptionJson(row.data as unknown as Subscription);
    if (row.type.startsWith('invoice.')) return invoiceJson(row.data as unknown as Invoice);
    if (row.type.startsWith('dispute.')) return disputeJson(row.data as unknown as Dispute);
    if (row.type.startsWith('payment_method.')) return paymentMethodJson(row.data as unknown as SavedPaymentMethod);
    if ('payment' in row.data && typeof row.data.payment === 'object') {
      const { payment, ...rest } = row.data as { payment: Payment } & Record<string, unknown>;
      return { payment: paymentJson(payment), ...rest };
    }
    return paymentJson(row.data as unknown as Payment);
  } catch {
    return {};
  }
}

/**
 * The engine's payload encoder in the server: the version 1 envelope with `data` in the API's shape,
 * stored with each event, so merchant webhooks, the broker relay and a Debezium pipeline all carry
 * the same document.
 */
export const serverEventPayload: EventPayloadEncoder = (event) => eventEnvelope(event, presentEvent(event)) as unknown as Record<string, unknown>;

/**
 * The document the server publishes for an outbox row (merchant webhooks, the broker relay, `GET
 * /events/:id`). Made from the row's snapshot rather than read from its stored payload, so it is the
 * API's shape also for rows an embedding application's engine wrote with another encoder.
 */
export function publishedEvent(row: OutboxRow): Record<string, unknown> {
  return serverEventPayload(row);
}
