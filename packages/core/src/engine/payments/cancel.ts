/**
 * Cancel: voids an authorisation at the gateway (phase 3 shared with capture: `finishPending`),
 * cancels locally what the gateway never held (an unconfirmed payment, a hosted step never completed), and records a cancel asked while the create is still
 * at the gateway, which the create (or the reconciler) settles once the gateway has answered.
 *
 * @module
 */
import { invalidRequest, stateConflict } from '../../errors';
import { paymentAmount, type Payment, type PaymentStatus } from '../../payment';
import type { GatewayPaymentResult, GatewayV1 } from '../../spec/gateway/v1/index';
import type { IdempotencyRecord } from '../../spec/store/v1/index';
import { gatewayOf } from '../context';
import type { RequestOptions } from '../inputs';
import { CANCEL_REQUESTED, UnitOfWork } from '../unit-of-work';
import { causeOf, checkKey, claimOrReplay, complete, ensureCanSend, finishPending, fingerprintOf, knownPayment, markRecovery, merchantOf, replay, withoutCancelRequest, type Phase1, type PaymentsHost } from './steps';
import { REVIEW_HOLD } from './risk';
import { isUnconfirmed, withoutUnconfirmed } from './unconfirmed';

/** Cancels (voids) a payment that has not been captured. */
export async function cancelPayment(ops: PaymentsHost, id: string, options: RequestOptions = {}): Promise<Payment> {
  const merchantId = merchantOf(ops.ctx, options);
  checkKey(options);
  const fingerprint = fingerprintOf(options, 'payments.cancel', id, {});
  const known = await knownPayment(ops.ctx, id, merchantId);
  if (known.status === 'AUTHORIZED') ensureCanSend(gatewayOf(ops.ctx, known.gateway));
  type Go = { payment: Payment; previous: PaymentStatus; gateway: GatewayV1 | null; local: boolean; requested?: boolean };
  const first = await UnitOfWork.runOn(ops.ctx, known, (unit, stored) => claimOrReplay<Go>(ops.ctx, unit, { merchantId, options, fingerprint }, async ({ record, takeover }): Promise<Phase1<Go>> => {
    let payment = stored;
    const gateway = gatewayOf(ops.ctx, payment.gateway);
    const pendingFrom = payment.gatewayData.pendingCancelFrom as PaymentStatus | undefined;
    if (takeover && payment.status === 'PROCESSING' && pendingFrom) {
      return { kind: 'go', record, payment, previous: pendingFrom, gateway, local: false };
    }
    const cancellable: PaymentStatus[] = ['PENDING', 'REQUIRES_REVIEW', 'REQUIRES_ACTION', 'AUTHORIZED'];
    if (!cancellable.includes(payment.status)) {
      throw stateConflict('payment_not_cancellable', `A ${payment.status} payment cannot be cancelled`, { status: payment.status });
    }
    const canCallGateway = gateway.capabilities.cancel && gateway.cancel !== undefined;
    if (!canCallGateway && payment.status === 'AUTHORIZED') {
      throw invalidRequest('cancel_not_supported', `Gateway '${gateway.id}' cannot void an authorisation`, 'id');
    }
    if (isUnconfirmed(payment) || payment.status === 'REQUIRES_REVIEW') {
      // Created with confirm=false, or held for review, and never sent: no gateway holds anything.
      const gatewayData = withoutUnconfirmed(withoutCancelRequest(payment.gatewayData));
      delete gatewayData[REVIEW_HOLD];
      payment = await unit.writePayment(
        payment,
        { ...payment, status: 'CANCELLED', gatewayData },
        causeOf(options, payment.status === 'REQUIRES_REVIEW' ? 'cancelled while held for review' : 'cancelled before it was authorised'),
      );
      await complete(unit, record, { status: 200, body: payment }, { type: 'payment', id: payment.id });
      return { kind: 'go', record, payment, previous: 'PENDING', gateway: null, local: true };
    }
    if (payment.status === 'PENDING') {
      // The create's gateway call may be running (here or in another process) or may have crashed:
      // what the gateway holds is not known yet, so the payment cannot say CANCELLED. The request is
      // recorded; the create (or the reconciler) voids or refunds once the gateway has answered.
      if (!(CANCEL_REQUESTED in payment.gatewayData)) {
        payment = await unit.writePayment(payment, { ...payment, gatewayData: { ...payment.gatewayData, [CANCEL_REQUESTED]: unit.now } }, causeOf(options, 'cancel requested'));
        await unit.note(payment, 'cancel_requested', causeOf(options, 'waiting for the gateway to answer the create'));
      }
      return { kind: 'go', record, payment, previous: payment.status, gateway: null, local: true, requested: true };
    }
    if (!canCallGateway) {
      // Nothing to undo at the gateway: the customer never completed the hosted step.
      payment = await unit.writePayment(payment, { ...payment, status: 'CANCELLED', nextAction: null, gatewayData: withoutCancelRequest(payment.gatewayData) }, causeOf(options, 'cancelled'));
      await complete(unit, record, { status: 200, body: payment }, { type: 'payment', id: payment.id });
      return { kind: 'go', record, payment, previous: payment.status, gateway: null, local: true };
    }
    ensureCanSend(gateway);
    const previous = payment.status;
    payment = await unit.writePayment(
      payment,
      { ...payment, status: 'PROCESSING', gatewayData: { ...withoutCancelRequest(payment.gatewayData), pendingCancelFrom: previous } },
      causeOf(options, 'cancel requested'),
    );
    await markRecovery(unit, record, { type: 'payment', id: payment.id }, 'cancel_started');
    return { kind: 'go', record, payment, previous, gateway, local: false };
  }));
  if (first.kind === 'replay') return replay<Payment>(first.response, options);
  if (first.requested) return awaitRequestedCancel(ops, first.payment, first.record);
  if (first.local) return first.payment;
  const { payment, gateway, previous, record } = first;
  let result: GatewayPaymentResult | undefined;
  let failure: unknown;
  try {
    result = await gateway!.cancel!(
      { paymentId: payment.id, gatewayReference: payment.gatewayReference, amount: paymentAmount(payment), gatewayData: payment.gatewayData },
      { idempotencyKey: `${payment.id}/cancel`, now: ops.ctx.clock.now() },
    );
  } catch (error) {
    failure = error;
  }
  return finishPending(ops.ctx, payment, record, options, result, failure, previous, 'cancel');
}

/**
 * After a cancel was recorded on a `PENDING` payment: when its create runs in this process, waits for
 * it (the create settles the cancel once the gateway has answered) and answers with the result;
 * otherwise answers with the payment as it is, still `PENDING` with the request recorded.
 */
async function awaitRequestedCancel(ops: PaymentsHost, payment: Payment, record: IdempotencyRecord | null): Promise<Payment> {
  await ops.inFlight.get(payment.id)?.catch(() => undefined);
  const current = (await ops.ctx.store.getPayment(payment.id)) ?? payment;
  if (record) {
    await UnitOfWork.run(ops.ctx, (unit) => complete(unit, record, { status: 200, body: current }, { type: 'payment', id: current.id }));
  }
  return current;
}

/**
 * Completes a cancel the merchant asked for while the payment's outcome was open (or a payment paid
 * after it was cancelled): voids what is authorised or awaiting the customer, refunds what was
 * captured, and drops the request once nothing is held. Internal idempotency keys make it safe to
 * run from the create that was in flight and from the reconciler alike.
 * @internal
 */
export async function settleRequestedCancel(ops: PaymentsHost, payment: Payment): Promise<Payment> {
  const options: RequestOptions = { merchantId: payment.merchantId, actor: 'system' };
  switch (payment.status) {
    case 'PENDING':
    case 'PROCESSING':
      return payment;
    case 'REQUIRES_ACTION':
    case 'AUTHORIZED':
      return ops.cancel(payment.id, { ...options, idempotencyKey: `tender:requested-cancel:${payment.id}` });
    case 'CAPTURED':
    case 'PARTIALLY_REFUNDED':
      await ops.refund(payment.id, { reason: 'cancelled' }, { ...options, idempotencyKey: `tender:requested-cancel-refund:${payment.id}` });
      break;
    default:
      break;
  }
  return UnitOfWork.run(ops.ctx, async (unit) => {
    const current = (await unit.tx.lockPayment(payment.id))!;
    if (!(CANCEL_REQUESTED in current.gatewayData)) return current;
    return unit.writePayment(current, { ...current, gatewayData: withoutCancelRequest(current.gatewayData) }, causeOf(options, 'requested cancel settled'));
  });
}
