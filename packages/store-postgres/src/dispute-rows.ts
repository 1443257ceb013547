/**
 * Conversions between database rows and dispute records (migration 12's tables), with the rules of
 * `rows.ts`: new objects on every read, amounts as currency-scaled decimal strings checked before
 * they are written, timestamps as UTC ISO strings with ms.
 *
 * @module
 */
import type { Dispute, DisputeTransition } from '@tender/core';
import type { Row } from './driver';
import { amountParam, formatAmount, iso, isoOrNull } from './rows';

const str = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

export const DISPUTE_COLUMNS =
  'id, merchant_id, payment_id, gateway, gateway_reference, status, gateway_status, amount, currency, reason, evidence_due_by, opened_at, closed_at, created_at, updated_at, synced_at, version';

export function toDispute(r: Row): Dispute {
  const currency = String(r.currency);
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    paymentId: String(r.payment_id),
    gateway: String(r.gateway),
    gatewayReference: String(r.gateway_reference),
    status: r.status as Dispute['status'],
    gatewayStatus: String(r.gateway_status),
    amount: formatAmount(r.amount, currency),
    currency,
    reason: str(r.reason),
    evidenceDueBy: isoOrNull(r.evidence_due_by),
    openedAt: iso(r.opened_at),
    closedAt: isoOrNull(r.closed_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    syncedAt: iso(r.synced_at),
    version: Number(r.version),
  };
}

/** Parameters $1..$17 in {@link DISPUTE_COLUMNS} order. */
export function disputeParams(d: Dispute): unknown[] {
  return [
    d.id,
    d.merchantId,
    d.paymentId,
    d.gateway,
    d.gatewayReference,
    d.status,
    d.gatewayStatus,
    amountParam(d.amount, 'amount'),
    d.currency,
    d.reason,
    d.evidenceDueBy,
    d.openedAt,
    d.closedAt,
    d.createdAt,
    d.updatedAt,
    d.syncedAt,
    d.version,
  ];
}

export const DISPUTE_TRANSITION_COLUMNS = 'id, merchant_id, dispute_id, payment_id, from_status, to_status, reason, actor, at';

export function toDisputeTransition(r: Row): DisputeTransition {
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    disputeId: String(r.dispute_id),
    paymentId: String(r.payment_id),
    from: (str(r.from_status) as DisputeTransition['from']) ?? null,
    to: r.to_status as DisputeTransition['to'],
    reason: String(r.reason),
    actor: String(r.actor),
    at: iso(r.at),
  };
}

/** Parameters $1..$9 in {@link DISPUTE_TRANSITION_COLUMNS} order. */
export function disputeTransitionParams(t: DisputeTransition): unknown[] {
  return [t.id, t.merchantId, t.disputeId, t.paymentId, t.from, t.to, t.reason, t.actor, t.at];
}
