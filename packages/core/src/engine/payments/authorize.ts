/**
 * Authorize: the second step of a payment created with `confirm: false` (seed 004's create, then
 * authorize, then capture). Phase 1 drops the payment's unconfirmed mark and records the intent on
 * the key; phases 2 and 3 are create's (`start.ts`): the gateway's `createPayment` with the payment's
 * own gateway key, so a retry or a crash recovery never charges twice, and the answer applied as a
 * create's would be. Once the mark is gone the payment is an ordinary `PENDING` one whose call may be
 * at the gateway: the reconciler requeries it after a crash.
 *
 * @module
 */
import { stateConflict } from '../../errors';
import { paymentAmount, type Payment } from '../../payment';
import type { GatewayCreatePaymentInput } from '../../spec/gateway/v1/index';
import { gatewayOf, type EngineContext } from '../context';
import type { RequestOptions } from '../inputs';
import { UnitOfWork } from '../unit-of-work';
import { savedMethodOfPayment, type SavedCharge } from './saved-method';
import { stepUpOf } from './risk';
import { startAtGateway } from './start';
import { causeOf, checkKey, claimOrReplay, complete, ensureCanSend, fingerprintOf, knownPayment, markRecovery, merchantOf, replay, type Phase1, type PaymentsHost } from './steps';
import { CONFIRMED, confirmedMark, isUnconfirmed, unconfirmedMark, withoutUnconfirmed, type UnconfirmedMark } from './unconfirmed';

/**
 * Recovery point of a key whose authorize (or review approval) has dropped the mark and may have
 * called the gateway.
 */
export const AUTHORIZE_STARTED = 'authorize_started';

/**
 * What a crashed authorize (or approval) resends: the same request again (a gateway refuses a key
 * reused with other parameters), with the method as stored even if removed since, since the
 * gateway decides what it did.
 */
export async function resumeCrashed(unit: UnitOfWork, ctx: EngineContext, payment: Payment): Promise<{ saved: SavedCharge | null; mark: UnconfirmedMark }> {
  const saved = payment.status === 'PENDING' ? await savedMethodOfPayment(unit.tx, ctx, payment, { includeRemoved: true }) : null;
  return { saved, mark: { offSession: confirmedMark(payment)?.offSession ?? null } };
}

/**
 * Starts at its gateway a payment created with `confirm: false` and answers it as the gateway left
 * it (`AUTHORIZED` for manual capture, `CAPTURED`, `REQUIRES_ACTION`, `FAILED`...). With an
 * idempotency key, a repeat answers the same payment without a second gateway call.
 * @throws TenderError 404 for another merchant's payment, or (param `payment_method`) when the saved
 * method it charges was removed meanwhile; 409 `state_error` `payment_already_confirmed` for a payment
 * that is not an unconfirmed `PENDING` one (created confirmed, authorised already, or cancelled).
 */
export async function authorizePayment(ops: PaymentsHost, id: string, options: RequestOptions = {}): Promise<Payment> {
  const merchantId = merchantOf(ops.ctx, options);
  checkKey(options);
  const fingerprint = fingerprintOf(options, 'payments.authorize', id, {});
  const known = await knownPayment(ops.ctx, id, merchantId);
  // Refused before anything is written while the gateway would certainly not send.
  if (isUnconfirmed(known)) ensureCanSend(gatewayOf(ops.ctx, known.gateway));
  type Go = { payment: Payment; resumed: boolean; saved: SavedCharge | null; mark: UnconfirmedMark };
  const first = await UnitOfWork.runOn(ops.ctx, known, (unit, stored) => claimOrReplay<Go>(ops.ctx, unit, { merchantId, options, fingerprint }, async ({ record, takeover }): Promise<Phase1<Go>> => {
    let payment = stored;
    if (takeover && record?.recoveryPoint === AUTHORIZE_STARTED && !isUnconfirmed(payment)) {
      // A crashed authorize: its call may have reached the gateway, whose key answers it again.
      const { saved, mark } = await resumeCrashed(unit, ops.ctx, payment);
      return { kind: 'go', record, payment, resumed: true, saved, mark };
    }
    if (!isUnconfirmed(payment)) {
      throw stateConflict('payment_already_confirmed', `Only a payment created with confirm=false and not authorised yet can be authorised; this one is ${payment.status}`, { status: payment.status });
    }
    const mark = unconfirmedMark(payment);
    // Read in this transaction: a method removed before it commits is refused, and nothing changes.
    const saved = await savedMethodOfPayment(unit.tx, ops.ctx, payment);
    payment = await unit.writePayment(
      payment,
      { ...payment, gatewayData: { ...withoutUnconfirmed(payment.gatewayData), [CONFIRMED]: { at: unit.now, offSession: mark.offSession } } },
      causeOf(options, 'authorize requested'),
    );
    const updated = await markRecovery(unit, record, { type: 'payment', id: payment.id }, AUTHORIZE_STARTED);
    return { kind: 'go', record: updated, payment, resumed: false, saved, mark };
  }));
  if (first.kind === 'replay') return replay<Payment>(first.response, options);
  const { record, payment, saved, mark } = first;
  if (first.resumed && payment.status !== 'PENDING') {
    // The crashed attempt got past the gateway call; what we have is the answer.
    return UnitOfWork.run(ops.ctx, async (unit) => {
      const current = (await unit.tx.lockPayment(payment.id))!;
      await complete(unit, record, { status: 200, body: current }, { type: 'payment', id: current.id });
      return current;
    });
  }
  const gateway = gatewayOf(ops.ctx, payment.gateway);
  return startAtGateway(ops, first, payment, [gateway], requestOf(payment, saved, mark), options, { status: 200, unsent: { kind: 'unconfirm', mark } });
}

/**
 * The gateway request of a stored payment: as its create would have sent it, with 3-D Secure asked
 * for when its risk decision was a step-up.
 */
export function requestOf(payment: Payment, saved: SavedCharge | null, mark: UnconfirmedMark): GatewayCreatePaymentInput {
  const request: GatewayCreatePaymentInput = {
    paymentId: payment.id,
    merchantId: payment.merchantId,
    orderId: payment.orderId,
    amount: paymentAmount(payment),
    captureMethod: payment.captureMethod,
    paymentMethod: payment.paymentMethod,
    description: payment.description,
    customer: payment.customer,
    returnUrl: payment.returnUrl,
    notifyUrl: payment.notifyUrl,
    metadata: payment.metadata,
  };
  if (saved) request.savedMethod = { gatewayCustomerId: saved.gatewayCustomerId, offSession: mark.offSession ?? true };
  if (stepUpOf(payment)) request.threeDSecure = 'required';
  return request;
}
