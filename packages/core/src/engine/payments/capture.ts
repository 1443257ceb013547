/**
 * Capture: marks the authorised payment `PROCESSING` with the amount asked (`pendingCapture`), calls
 * the gateway, and applies its answer (phase 3 shared with cancel: `finishPending`).
 *
 * @module
 */
import { invalidRequest, stateConflict } from '../../errors';
import { Money } from '../../money';
import { paymentAmount, type Payment } from '../../payment';
import type { GatewayPaymentResult, GatewayV1 } from '../../spec/gateway/v1/index';
import { gatewayOf } from '../context';
import { optionalAmount, type CaptureInput, type RequestOptions } from '../inputs';
import { UnitOfWork } from '../unit-of-work';
import { causeOf, checkKey, claimOrReplay, ensureCanSend, finishPending, fingerprintOf, knownPayment, markRecovery, merchantOf, replay, type Phase1, type PaymentsHost } from './steps';

/** Captures an authorised payment, in full or (where the gateway allows) in part. */
export async function capturePayment(ops: PaymentsHost, id: string, raw: CaptureInput = {}, options: RequestOptions = {}): Promise<Payment> {
  const merchantId = merchantOf(ops.ctx, options);
  checkKey(options);
  const fingerprint = fingerprintOf(options, 'payments.capture', id, raw);
  const known = await knownPayment(ops.ctx, id, merchantId);
  ensureCanSend(gatewayOf(ops.ctx, known.gateway));
  type Go = { payment: Payment; amount: Money; gateway: GatewayV1 };
  const first = await UnitOfWork.runOn(ops.ctx, known, (unit, stored) => claimOrReplay<Go>(ops.ctx, unit, { merchantId, options, fingerprint }, async ({ record, takeover }): Promise<Phase1<Go>> => {
    let payment = stored;
    const gateway = gatewayOf(ops.ctx, payment.gateway);
    const pending = payment.gatewayData.pendingCapture as string | undefined;
    if (takeover && payment.status === 'PROCESSING' && pending) {
      return { kind: 'go', record, payment, amount: Money.of(pending, payment.currency), gateway };
    }
    if (payment.status !== 'AUTHORIZED') {
      throw stateConflict('payment_not_capturable', `Only an AUTHORIZED payment can be captured; this one is ${payment.status}`, { status: payment.status });
    }
    if (!gateway.capture) throw invalidRequest('capture_not_supported', `Gateway '${gateway.id}' cannot capture`, 'id');
    const authorized = paymentAmount(payment);
    const amount = optionalAmount(raw.amount, payment.currency) ?? authorized;
    if (amount.greaterThan(authorized)) throw invalidRequest('amount_too_large', `Cannot capture more than the authorised ${authorized} ${payment.currency}`, 'amount');
    if (amount.lessThan(authorized) && !gateway.capabilities.partialCapture) {
      throw invalidRequest('partial_capture_not_supported', `Gateway '${gateway.id}' cannot capture part of a payment`, 'amount');
    }
    payment = await unit.writePayment(
      payment,
      { ...payment, status: 'PROCESSING', gatewayData: { ...payment.gatewayData, pendingCapture: amount.toString() } },
      causeOf(options, 'capture requested'),
    );
    await markRecovery(unit, record, { type: 'payment', id: payment.id }, 'capture_started');
    return { kind: 'go', record, payment, amount, gateway };
  }));
  if (first.kind === 'replay') return replay<Payment>(first.response, options);
  const { payment, amount, gateway, record } = first;

  let result: GatewayPaymentResult | undefined;
  let failure: unknown;
  try {
    result = await gateway.capture!(
      {
        paymentId: payment.id,
        gatewayReference: payment.gatewayReference ?? '',
        amount,
        authorizedAmount: paymentAmount(payment),
        gatewayData: payment.gatewayData,
      },
      { idempotencyKey: `${payment.id}/capture`, now: ops.ctx.clock.now() },
    );
  } catch (error) {
    failure = error;
  }
  return finishPending(ops.ctx, payment, record, options, result, failure, 'AUTHORIZED', 'capture');
}
