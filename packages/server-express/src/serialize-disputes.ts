/**
 * Dispute records -> API JSON (snake_case; amounts as major-unit strings plus integer minor units,
 * as payments are).
 *
 * @module
 */
import { Money, type Dispute, type DisputeTransition, type Payment } from '@tender/core';

/** The API shape of a dispute. */
export function disputeJson(d: Dispute): Record<string, unknown> {
  return {
    id: d.id,
    object: 'dispute',
    payment_id: d.paymentId,
    gateway: d.gateway,
    gateway_reference: d.gatewayReference,
    status: d.status,
    gateway_status: d.gatewayStatus,
    amount: d.amount,
    amount_minor: Money.of(d.amount, d.currency).toMinor(),
    currency: d.currency,
    reason: d.reason,
    evidence_due_by: d.evidenceDueBy,
    opened_at: d.openedAt,
    closed_at: d.closedAt,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}

/** The API shape of a dispute's audit-trail entry. */
export function disputeTransitionJson(t: DisputeTransition): Record<string, unknown> {
  return { id: t.id, object: 'dispute_transition', dispute_id: t.disputeId, payment_id: t.paymentId, from: t.from, to: t.to, reason: t.reason, actor: t.actor, at: t.at };
}

/** Disputes that hold or took money: open ones (held) and lost or accepted ones (gone); inquiries, won and closed ones hold nothing. */
const HOLDING = new Set<Dispute['status']>(['needs_response', 'under_review', 'lost', 'accepted']);

/** A payment's disputes as a list, with the amount they hold or took in the payment's currency. */
export function paymentDisputesJson(payment: Payment, disputes: readonly Dispute[]): Record<string, unknown> {
  let held = Money.zero(payment.currency);
  for (const d of disputes) if (HOLDING.has(d.status) && d.currency === payment.currency) held = held.add(Money.of(d.amount, d.currency));
  return {
    object: 'list',
    data: disputes.map(disputeJson),
    has_more: false,
    next_cursor: null,
    amount_disputed: held.toString(),
    amount_disputed_minor: held.toMinor(),
    currency: payment.currency,
  };
}
