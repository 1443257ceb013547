/**
 * Refund: checks the amount against what is left to refund under the payment's lock, inserts the
 * refund `PENDING`, calls the gateway, and applies its report; the payment's refunded total is
 * recomputed in each transaction.
 *
 * @module
 */
import { TenderError, invalidRequest, stateConflict, toTenderError } from '../../errors';
import { newId } from '../../ids';
import { paymentAmount, refundAmount, type Payment, type Refund } from '../../payment';
import type { GatewayRefundResult, GatewayV1 } from '../../spec/gateway/v1/index';
import { gatewayOf } from '../context';
import { optionalAmount, optionalReason, validateMetadata, type RefundInput, type RequestOptions } from '../inputs';
import { UnitOfWork } from '../unit-of-work';
import { causeOf, checkKey, claimOrReplay, complete, ensureCanSend, fingerprintOf, knownPayment, lockOwned, markRecovery, merchantOf, neverSent, outcomeUnknown, replay, type Phase1, type PaymentsHost } from './steps';

/** Refunds part or all of a captured payment. The sum of non-failed refunds never exceeds the capture. */
export async function refundPayment(ops: PaymentsHost, id: string, raw: RefundInput = {}, options: RequestOptions = {}): Promise<Refund> {
  const merchantId = merchantOf(ops.ctx, options);
  checkKey(options);
  const fingerprint = fingerprintOf(options, 'payments.refund', id, raw);
  const reason = optionalReason(raw.reason);
  const metadata = validateMetadata(raw.metadata);
  const known = await knownPayment(ops.ctx, id, merchantId);
  ensureCanSend(gatewayOf(ops.ctx, known.gateway));
  type Go = { payment: Payment; refund: Refund; gateway: GatewayV1 };
  const first = await UnitOfWork.run(ops.ctx, (unit) => claimOrReplay<Go>(ops.ctx, unit, { merchantId, options, fingerprint }, async ({ record, takeover }): Promise<Phase1<Go>> => {
    let payment = await lockOwned(unit, id, merchantId);
    const gateway = gatewayOf(ops.ctx, payment.gateway);
    if (takeover && record?.resourceType === 'refund' && record.resourceId) {
      const refund = await unit.tx.getRefund(record.resourceId);
      if (refund) return { kind: 'go', record, payment, refund, gateway };
    }
    if (payment.status === 'REFUNDED') throw stateConflict('charge_already_refunded', 'This payment has already been fully refunded');
    if (payment.status !== 'CAPTURED' && payment.status !== 'PARTIALLY_REFUNDED') {
      throw stateConflict('payment_not_refundable', `Only a captured payment can be refunded; this one is ${payment.status}`, { status: payment.status });
    }
    const captured = paymentAmount(payment, 'amountCaptured');
    const remaining = captured.subtract(paymentAmount(payment, 'amountRefunded'));
    const amount = optionalAmount(raw.amount, payment.currency) ?? remaining;
    if (amount.greaterThan(remaining)) {
      throw invalidRequest('amount_too_large', `Refund of ${amount} ${payment.currency} exceeds the ${remaining} ${payment.currency} left to refund`, 'amount');
    }
    if (amount.lessThan(captured) && !gateway.capabilities.partialRefund) {
      throw invalidRequest('partial_refund_not_supported', `Gateway '${gateway.id}' cannot refund part of a payment`, 'amount');
    }
    const refund: Refund = {
      id: newId('re'),
      merchantId,
      paymentId: payment.id,
      status: 'PENDING',
      amount: amount.toString(),
      currency: payment.currency,
      reason,
      gatewayReference: null,
      failure: null,
      metadata,
      createdAt: unit.now,
      updatedAt: unit.now,
    };
    await unit.insertRefund(refund, causeOf(options, 'refund requested'));
    payment = await unit.recomputeRefunded(payment, causeOf(options, 'refund requested'));
    const updated = await markRecovery(unit, record, { type: 'refund', id: refund.id }, 'refund_created');
    return { kind: 'go', record: updated, payment, refund, gateway };
  }));
  if (first.kind === 'replay') return replay<Refund>(first.response, options);
  const { payment, refund, gateway, record } = first;
  if (refund.status !== 'PENDING') {
    return UnitOfWork.run(ops.ctx, async (unit) => {
      await complete(unit, record, { status: 201, body: refund }, { type: 'refund', id: refund.id });
      return refund;
    });
  }

  let result: GatewayRefundResult | undefined;
  let failure: unknown;
  try {
    result = await gateway.refund(
      {
        refundId: refund.id,
        paymentId: payment.id,
        gatewayReference: payment.gatewayReference ?? '',
        amount: refundAmount(refund),
        capturedAmount: paymentAmount(payment, 'amountCaptured'),
        reason: refund.reason,
        gatewayData: payment.gatewayData,
      },
      { idempotencyKey: `${refund.id}/refund`, now: ops.ctx.clock.now() },
    );
  } catch (error) {
    failure = error;
  }

  return UnitOfWork.run(ops.ctx, async (unit) => {
    const current = (await unit.tx.lockPayment(payment.id))!;
    let stored = (await unit.tx.getRefund(refund.id))!;
    const cause = causeOf(options, 'refund response');
    let notSent: TenderError | null = null;
    if (result) {
      stored = await unit.applyRefundReport(stored, result, cause);
    } else if (outcomeUnknown(failure)) {
      ops.ctx.logger.warn({ refundId: refund.id, error: String(failure) }, 'refund outcome unknown; left PENDING for the reconciler');
    } else {
      const error = toTenderError(failure);
      stored = await unit.applyRefundReport(stored, { status: 'FAILED', gatewayReference: null, amount: refundAmount(stored), failure: { code: error.code, message: error.message } }, cause);
      // Certainly never sent (the gateway went unavailable after the check above): the attempt stays
      // on the trail as FAILED, but the key is freed and the error says "retry", so a retry with the
      // same key refunds afresh rather than replaying this failure.
      if (neverSent(failure)) notSent = error;
    }
    await unit.recomputeRefunded(current, cause);
    if (notSent) {
      if (record) await unit.tx.deleteIdempotencyRecord(record.merchantId, record.key);
      return { refund: stored, error: notSent };
    }
    await complete(unit, record, { status: 201, body: stored }, { type: 'refund', id: stored.id });
    return { refund: stored, error: null };
  }).then(({ refund: done, error }) => {
    if (error) throw error;
    return done;
  });
}
