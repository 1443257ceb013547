/**
 * Response examples of the dispute routes (`routes/disputes.ts`), merged into `openapi-examples.ts`'s
 * `RESPONSE_EXAMPLES`: a Stripe chargeback answered and won.
 *
 * @module
 */
import type { Examples } from './openapi-examples';

const DISPUTE_ID = 'dp_01JQF7T0Z8M2V6X4C9B3N5K7QH2R';
const PAYMENT_ID = 'pay_7QmZ2xV9kR4tN1sA';

const SAMPLE_DISPUTE = {
  id: DISPUTE_ID,
  object: 'dispute',
  payment_id: PAYMENT_ID,
  gateway: 'stripe',
  gateway_reference: 'dp_1QyT4b2eZvKYlo2CwXe9hR3m',
  status: 'needs_response',
  gateway_status: 'needs_response',
  amount: '100.50',
  amount_minor: 10050,
  currency: 'USD',
  reason: 'fraudulent',
  evidence_due_by: '2026-03-25T23:59:59.000Z',
  opened_at: '2026-03-16T08:12:40.000Z',
  closed_at: null,
  created_at: '2026-03-16T08:12:41.207Z',
  updated_at: '2026-03-16T08:12:41.207Z',
};

const WON = { ...SAMPLE_DISPUTE, status: 'won', gateway_status: 'won', closed_at: '2026-04-02T10:05:12.311Z', updated_at: '2026-04-02T10:05:12.311Z' };

const transition = (id: string, from: string | null, to: string, event: string, at: string) => ({
  id,
  object: 'dispute_transition',
  dispute_id: DISPUTE_ID,
  payment_id: PAYMENT_ID,
  from,
  to,
  reason: `${event}: stripe webhook evt_1QyT4c2eZvKYlo2C`,
  actor: 'webhook',
  at,
});

const list = (data: unknown[]) => ({ object: 'list', data, has_more: false, next_cursor: null });
const one = (summary: string, value: unknown): Examples => ({ example: { summary, value } });

/** Examples by operationId and status. */
export const DISPUTE_RESPONSE_EXAMPLES: Record<string, Record<string, Examples>> = {
  listDisputes: { '200': one('One open chargeback', list([SAMPLE_DISPUTE])) },
  getDispute: { '200': one('A chargeback won', WON) },
  listDisputeTransitions: {
    '200': one(
      'Opened, evidence submitted, won',
      list([
        transition('tr_01JQF7T0ZA', null, 'needs_response', 'charge.dispute.created', '2026-03-16T08:12:41.207Z'),
        transition('tr_01JQG2B7QD', 'needs_response', 'under_review', 'charge.dispute.updated', '2026-03-18T14:40:03.550Z'),
        transition('tr_01JQY9D2HM', 'under_review', 'won', 'charge.dispute.closed', '2026-04-02T10:05:12.311Z'),
      ]),
    ),
  },
  listPaymentDisputes: { '200': one('An open chargeback holding the whole payment', { ...list([SAMPLE_DISPUTE]), amount_disputed: '100.50', amount_disputed_minor: 10050, currency: 'USD' }) },
};
