/**
 * Phases 2 and 3 of starting a payment at its gateway, shared by create and by the authorize of a
 * payment created with `confirm: false`: the gateway's `createPayment` call (failing over while the
 * request certainly never left), applying its answer, completing the idempotency key, and settling a
 * cancel requested while the call ran. The call is registered in `inFlight` meanwhile, so a cancel in
 * this process waits for its answer.
 *
 * @module
 */
import { TenderError, toTenderError } from '../../errors';
import type { Payment } from '../../payment';
import type { GatewayCreatePaymentInput, GatewayPaymentResult, GatewayV1 } from '../../spec/gateway/v1/index';
import type { IdempotencyRecord } from '../../spec/store/v1/index';
import { gatewayOf } from '../context';
import type { RequestOptions } from '../inputs';
import { CANCEL_REQUESTED, UnitOfWork } from '../unit-of-work';
import { causeOf, complete, neverSent, outcomeUnknown, type PaymentsHost } from './steps';
import { CONFIRMED, UNCONFIRMED, type UnconfirmedMark } from './unconfirmed';

/** How a start differs between create and authorize. */
export interface StartMode {
  /** The status stored with the response for replays (201 for a create, 200 for an authorize). */
  status: number;
  /**
   * A request that certainly never left: the payment fails (create: a retry makes a new payment), or
   * (authorize) goes back to unconfirmed, with this mark, so the authorize can be retried.
   */
  unsent: { kind: 'fail' } | { kind: 'unconfirm'; mark: UnconfirmedMark };
}

/**
 * Starts `payment` at the gateway (the first of `candidates`, or the payment's own gateway when
 * `resumed`) with `request`, applies the answer, and settles a cancel requested meanwhile.
 */
export async function startAtGateway(
  ops: PaymentsHost,
  first: { record: IdempotencyRecord | null; resumed: boolean },
  payment: Payment,
  candidates: readonly GatewayV1[],
  request: GatewayCreatePaymentInput,
  options: RequestOptions,
  mode: StartMode,
): Promise<Payment> {
  const running = (async () => {
    const started = await callAndApply(ops, first, payment, candidates, request, options, mode);
    if (!(CANCEL_REQUESTED in started.gatewayData)) return started;
    // A cancel arrived while the gateway call ran: complete it against the gateway's answer.
    try {
      return await ops.settleRequestedCancel(started);
    } catch (error) {
      ops.ctx.logger.error({ paymentId: started.id, status: started.status, error: String(error) }, 'completing a requested cancel failed; the payment keeps the request for the reconciler');
      return (await ops.ctx.store.getPayment(started.id)) ?? started;
    }
  })();
  // Stored as it is: the cancel that waits on it ignores its outcome, and this call awaits it.
  ops.inFlight.set(payment.id, running);
  try {
    return await running;
  } finally {
    ops.inFlight.delete(payment.id);
  }
}

/** Phases 2 and 3. */
async function callAndApply(
  ops: PaymentsHost,
  first: { record: IdempotencyRecord | null; resumed: boolean },
  payment: Payment,
  candidates: readonly GatewayV1[],
  request: GatewayCreatePaymentInput,
  options: RequestOptions,
  mode: StartMode,
): Promise<Payment> {
  const merchantId = request.merchantId;
  const { record } = first;
  // Phase 2: the gateway call. Fail over only while the request certainly never left.
  const order = first.resumed ? [gatewayOf(ops.ctx, payment.gateway)] : candidates;
  let outcome: { gateway: GatewayV1; result: GatewayPaymentResult } | { gateway: GatewayV1; error: unknown } | undefined;
  for (const gateway of order) {
    try {
      const result = await gateway.createPayment(request, { idempotencyKey: `${payment.id}/create`, now: ops.ctx.clock.now() });
      outcome = { gateway, result };
      break;
    } catch (error) {
      outcome = { gateway, error };
      if (!neverSent(error)) break;
      ops.ctx.logger.warn({ paymentId: payment.id, gateway: gateway.id }, 'gateway unavailable before sending; trying the next eligible gateway');
    }
  }

  // Phase 3: apply the answer.
  const done = await UnitOfWork.runOn(ops.ctx, payment, async (unit, stored) => {
    let current = stored;
    if (current.gateway !== outcome!.gateway.id) {
      current = await unit.writePayment(current, { ...current, gateway: outcome!.gateway.id }, causeOf(options, 'failover'));
    }
    let thrown: TenderError | null = null;
    if ('result' in outcome!) {
      current = await unit.applyGatewayResult(current, outcome.result, causeOf(options, 'gateway response'), { direct: true });
    } else if (neverSent(outcome!.error) && mode.unsent.kind === 'unconfirm' && current.status === 'PENDING' && !(CANCEL_REQUESTED in current.gatewayData)) {
      // Nothing reached the gateway: the payment is unconfirmed again and the key freed, so the
      // authorize can simply be retried.
      thrown = toTenderError(outcome!.error);
      const gatewayData: Record<string, unknown> = { ...current.gatewayData, [UNCONFIRMED]: mode.unsent.mark };
      delete gatewayData[CONFIRMED];
      current = await unit.writePayment(current, { ...current, gatewayData }, causeOf(options, `authorize not sent: ${thrown.code}`));
      if (record) await unit.tx.deleteIdempotencyRecord(merchantId, record.key);
      return { current, thrown };
    } else if (neverSent(outcome!.error) || (TenderError.isInstance(outcome!.error) && outcome!.error.type === 'invalid_request_error')) {
      thrown = toTenderError(outcome!.error);
      current = await unit.writePayment(
        current,
        { ...current, status: 'FAILED', failure: { code: thrown.code, message: thrown.message } },
        causeOf(options, thrown.type === 'gateway_unavailable' ? 'no gateway reachable' : 'gateway rejected the request'),
      );
      if (record) await unit.tx.deleteIdempotencyRecord(merchantId, record.key);
      return { current, thrown };
    } else if (outcomeUnknown(outcome!.error)) {
      ops.ctx.logger.warn({ paymentId: current.id, error: String(outcome!.error) }, 'gateway outcome unknown; left PROCESSING for the reconciler');
      current = await unit.writePayment(current, { ...current, status: 'PROCESSING' }, causeOf(options, 'gateway outcome unknown'));
    } else {
      const error = toTenderError(outcome!.error);
      current = await unit.writePayment(
        current,
        { ...current, status: 'FAILED', failure: { code: error.code, message: error.message } },
        causeOf(options, 'gateway error'),
      );
    }
    await complete(unit, record, { status: mode.status, body: current }, { type: 'payment', id: current.id });
    return { current, thrown };
  });
  if (done.thrown) throw done.thrown;
  return done.current;
}
