/**
 * The API shape of an outbox event's snapshot (the engine stores the record it changed).
 *
 * @module
 */
import type { OutboxRow, Payment, Refund } from '@tender/core';
import { paymentJson, refundJson } from './serialize';

/** Event data as merchants receive it: a payment or refund in its API shape. */
export function presentEvent(row: Pick<OutboxRow, 'type' | 'data'>): Record<string, unknown> {
  try {
    if (row.type.startsWith('refund.')) return refundJson(row.data as unknown as Refund);
    if ('payment' in row.data && typeof row.data.payment === 'object') {
      const { payment, ...rest } = row.data as { payment: Payment } & Record<string, unknown>;
      return { payment: paymentJson(payment), ...rest };
    }
    return paymentJson(row.data as unknown as Payment);
  } catch {
    return {};
  }
}
