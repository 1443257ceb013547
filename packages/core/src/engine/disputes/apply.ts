/**
 * Recording a dispute the gateway reported, inside the unit of work that holds its payment locked
 * and the webhook's inbox record:
 *
 * - **Bound by what the gateway signed.** The payment was found through the event's signed target
 *   fields; the dispute is found by (gateway, the gateway's dispute id). A stored dispute of another
 *   payment, or a report in another currency than the payment's, changes nothing (noted on the
 *   payment's trail).
 * - **Older news loses.** A report the gateway made before the stored one (`reportedAt` <
 *   `syncedAt`, the signed event times), or in the same instant with a status less far along, is not
 *   applied: a `won` followed by a late `under_review` stays `won` ({@link isStaleDisputeReport}).
 * - **The table decides.** A move `DISPUTE_TRANSITIONS` forbids (out of a closed status) is logged
 *   and not applied.
 * - **Audited and published.** Each status is appended to the dispute's own trail
 *   (`listDisputeTransitions`) and, without changing the payment's status, to the payment's trail so
 *   its timeline shows the dispute; `dispute.created`, `dispute.updated` or `dispute.closed` goes to
 *   the outbox in the same transaction.
 * - **Money.** The payment keeps its status (`CAPTURED` stays `CAPTURED`): the gateway still reports
 *   the charge succeeded; what is held or lost is the dispute's `amount` (see `dispute.ts`).
 *
 * @module
 */
import { isClosedDisputeStatus, type Dispute, type DisputeStatus } from '../../dispute';
import { newId } from '../../ids';
import type { Payment } from '../../payment';
import type { GatewayDisputeReport } from '../../spec/gateway/v1/index';
import { canTransitionDispute, isStaleDisputeReport } from '../../state-machine';
import type { ChangeCause, UnitOfWork } from '../unit-of-work';

/** What a dispute event carries besides the report. */
export interface DisputeReportSource {
  gateway: string;
  /** The gateway's event type (`charge.dispute.created`). */
  type: string;
  cause: ChangeCause;
}

/** The record's fields as the gateway reports them. */
function reportedFields(report: GatewayDisputeReport): Pick<Dispute, 'gatewayStatus' | 'status' | 'amount' | 'currency' | 'reason' | 'evidenceDueBy'> {
  return {
    status: report.status,
    gatewayStatus: report.gatewayStatus,
    amount: report.amount.toString(),
    currency: report.amount.currency,
    reason: report.reason,
    evidenceDueBy: report.evidenceDueBy,
  };
}

async function audit(unit: UnitOfWork, payment: Payment, dispute: Dispute, from: DisputeStatus | null, source: DisputeReportSource): Promise<void> {
  await unit.tx.appendDisputeTransition({
    id: newId('tr'),
    merchantId: dispute.merchantId,
    disputeId: dispute.id,
    paymentId: dispute.paymentId,
    from,
    to: dispute.status,
    reason: `${source.type}: ${source.cause.reason}`,
    actor: source.cause.actor,
    at: unit.now,
  });
  // The payment's own trail shows the dispute too (its status unchanged), for its timeline.
  await unit.tx.appendTransition({
    id: newId('tr'),
    merchantId: payment.merchantId,
    paymentId: payment.id,
    refundId: null,
    from: payment.status,
    to: payment.status,
    reason: `${source.type} (dispute ${dispute.id} ${from ?? 'opened'} -> ${dispute.status}, ${dispute.amount} ${dispute.currency}): ${source.cause.reason}`,
    actor: source.cause.actor,
    at: unit.now,
  });
}

/**
 * Applies one dispute report to `payment` (locked in `unit`). Returns the dispute after it, or null
 * when the report does not fit the payment and was only noted.
 */
export async function applyDisputeReport(unit: UnitOfWork, payment: Payment, report: GatewayDisputeReport, source: DisputeReportSource): Promise<Dispute | null> {
  const { logger } = unit.ctx;
  if (report.amount.currency !== payment.currency) {
    await unit.note(payment, 'dispute_mismatch', source.cause, { disputeReference: report.gatewayReference, reportedCurrency: report.amount.currency });
    return null;
  }
  const found = await unit.tx.findDisputeByGatewayReference(source.gateway, report.gatewayReference);
  if (!found) {
    const closed = isClosedDisputeStatus(report.status);
    const dispute: Dispute = {
      id: newId('dp'),
      merchantId: payment.merchantId,
      paymentId: payment.id,
      gateway: source.gateway,
      gatewayReference: report.gatewayReference,
      ...reportedFields(report),
      openedAt: report.openedAt ?? report.reportedAt,
      closedAt: closed ? unit.now : null,
      createdAt: unit.now,
      updatedAt: unit.now,
      syncedAt: report.reportedAt,
      version: 1,
    };
    await unit.tx.insertDispute(dispute);
    await audit(unit, payment, dispute, null, source);
    await unit.emitEvent('dispute.created', dispute.merchantId, dispute);
    if (closed) await unit.emitEvent('dispute.closed', dispute.merchantId, dispute);
    return dispute;
  }
  if (found.paymentId !== payment.id) {
    logger.error({ disputeId: found.id, paymentId: payment.id, storedPaymentId: found.paymentId }, 'dispute report names another payment than the one its dispute is stored with; not applied');
    await unit.note(payment, 'dispute_mismatch', source.cause, { disputeReference: report.gatewayReference, disputeId: found.id });
    return null;
  }
  const stored = (await unit.tx.lockDispute(found.id)) ?? found;
  if (isStaleDisputeReport(stored, report)) {
    logger.debug({ disputeId: stored.id, syncedAt: stored.syncedAt, reportedAt: report.reportedAt, reported: report.status }, 'dispute report older than the stored state; not applied');
    return stored;
  }
  if (report.status !== stored.status && !canTransitionDispute(stored.status, report.status)) {
    logger.warn({ disputeId: stored.id, from: stored.status, to: report.status }, 'dispute report not allowed by the transition table; not applied');
    return stored;
  }
  const fields = reportedFields(report);
  const changed = (Object.keys(fields) as Array<keyof typeof fields>).some((key) => fields[key] !== stored[key]);
  const closes = !isClosedDisputeStatus(stored.status) && isClosedDisputeStatus(report.status);
  const next: Dispute = {
    ...stored,
    ...fields,
    closedAt: closes ? unit.now : stored.closedAt,
    updatedAt: changed ? unit.now : stored.updatedAt,
    syncedAt: report.reportedAt,
    version: stored.version + 1,
  };
  await unit.tx.updateDispute(next);
  if (report.status !== stored.status) await audit(unit, payment, next, stored.status, source);
  if (closes) await unit.emitEvent('dispute.closed', next.merchantId, next);
  else if (changed) await unit.emitEvent('dispute.updated', next.merchantId, next);
  return next;
}
