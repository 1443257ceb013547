/**
 * The published form of an outbox event (version 1): what merchant webhooks, the broker relay and a
 * Debezium pipeline carry. Written with the event, in its transaction, so every channel sends the
 * same bytes' worth of facts, whenever it sends them.
 *
 * @module
 */
import type { OutboxEvent } from '../spec/store/v1/index';

/** The envelope's version: bumped only for a change a consumer could break on (fields are only ever added). */
export const EVENT_VERSION = 1;

/** Version 1 of a published event. `data` is the resource after the change. */
export interface EventEnvelope {
  id: string;
  object: 'event';
  version: typeof EVENT_VERSION;
  /** e.g. `payment.captured`, `refund.succeeded`, `payment.cancel_requested`. */
  type: string;
  created_at: string;
  merchant_id: string;
  payment_id: string | null;
  refund_id: string | null;
  data: Record<string, unknown>;
}

/**
 * Makes an event's published payload from the event as the engine wrote it; the default wraps the
 * engine's own snapshot, a server passes one that presents `data` as its API does.
 */
export type EventPayloadEncoder = (event: Omit<OutboxEvent, 'payload'>) => Record<string, unknown>;

/** The version 1 envelope of `event`, with `data` (default: the engine's snapshot). */
export function eventEnvelope(event: Omit<OutboxEvent, 'payload'>, data: Record<string, unknown> = event.data): EventEnvelope {
  return {
    id: event.id,
    object: 'event',
    version: EVENT_VERSION,
    type: event.type,
    created_at: event.createdAt,
    merchant_id: event.merchantId,
    payment_id: event.paymentId,
    refund_id: event.refundId,
    data,
  };
}

/** The default {@link EventPayloadEncoder}. */
export const defaultEventPayload: EventPayloadEncoder = (event) => eventEnvelope(event) as unknown as Record<string, unknown>;
