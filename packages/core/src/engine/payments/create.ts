/**
 * Create: routes the payment to the first eligible gateway that would accept it, inserts it (with a
 * new idempotency key, in the same statement batch), calls the gateway, failing over while the
 * request certainly never left, and applies the answer; a cancel requested meanwhile is settled
 * against that answer.
 *
 * @module
 */
import { TenderError, toTenderError } from '../../errors';
import { newId } from '../../ids';
import { Money } from '../../money';
import type { Payment } from '../../payment';
import type { GatewayCreatePaymentInput, GatewayPaymentResult, GatewayV1 } from '../../spec/gateway/v1/index';
import type { IdempotencyRecord } from '../../spec/store/v1/index';
import { gatewayOf } from '../context';
import { newKeyRecord } from '../idempotency';
import { validateCreate, type CreatePaymentInput, type RequestOptions } from '../inputs';
import { selectGateways } from '../routing';
import { CANCEL_REQUESTED, UnitOfWork } from '../unit-of-work';
import { causeOf, checkKey, claimOrReplay, complete, fingerprintOf, markRecovery, merchantOf, neverSent, outcomeUnknown, replay, unavailable, type Phase1, type PaymentsHost } from './steps';

/** Creates a payment and starts it at a gateway. */
export async function createPayment(ops: PaymentsHost, raw: CreatePaymentInput, options: RequestOptions = {}): Promise<Payment> {
  const merchantId = merchantOf(ops.ctx, options);
  checkKey(options);
  const input = validateCreate(raw);
  const eligible = selectGateways(ops.ctx.gateways, ops.routing, {
    gateway: input.gateway,
    amount: input.amount,
    paymentMethod: input.paymentMethod,
    captureMethod: input.captureMethod,
  });
  // The id is chosen now so each gateway can check the payment exactly as it will be sent.
  const paymentId = newId('pay');
  const draft = {
    paymentId,
    merchantId,
    orderId: input.orderId,
    amount: input.amount,
    captureMethod: input.captureMethod,
    paymentMethod: input.paymentMethod,
    description: input.description,
    customer: input.customer,
    returnUrl: input.returnUrl,
    notifyUrl: input.notifyUrl,
    metadata: input.metadata,
  };
  // A gateway that would refuse the payment's fields is no candidate; when none is left, its error
  // is the answer and nothing is stored.
  let refusal: unknown = null;
  const acceptable = eligible.filter((g) => {
    try {
      g.validateCreate?.(draft);
      return true;
    } catch (error) {
      if (!TenderError.isInstance(error) || error.type !== 'invalid_request_error') throw error;
      refusal ??= error;
      return false;
    }
  });
  if (acceptable.length === 0) throw refusal;
  // Gateways that would certainly not send now are skipped; with none left nothing is stored.
  const candidates = acceptable.filter((g) => !g.canSend || g.canSend());
  if (candidates.length === 0) throw unavailable(acceptable[0]!);
  const fingerprint = fingerprintOf(options, 'payments.create', null, raw);

  // One id for both paths below: the first attempt's unit rolled back whole when it falls through.
  const build = (now: string): Payment => ({
    id: paymentId,
    merchantId,
    orderId: input.orderId,
    status: 'PENDING',
    amount: input.amount.toString(),
    currency: input.amount.currency,
    amountCaptured: Money.zero(input.amount.currency).toString(),
    amountRefunded: Money.zero(input.amount.currency).toString(),
    captureMethod: input.captureMethod,
    gateway: candidates[0]!.id,
    gatewayReference: null,
    paymentMethod: input.paymentMethod,
    description: input.description,
    customer: input.customer,
    returnUrl: input.returnUrl,
    notifyUrl: input.notifyUrl,
    metadata: input.metadata,
    nextAction: null,
    failure: null,
    gatewayData: {},
    createdAt: now,
    updatedAt: now,
    version: 1,
  });
  const created = causeOf(options, 'payment created');

  // A new key (the usual case) is inserted with the payment, so phase 1 is all writes (one statement
  // for a SQL store); only a key that exists goes through the claim below (replay, 409, 422, takeover).
  type Go = { payment: Payment; resumed: boolean };
  let first: Phase1<Go> | null = null;
  try {
    first = await UnitOfWork.run(ops.ctx, async (unit) => {
      const payment = build(unit.now);
      const record = options.idempotencyKey === undefined ? null : newKeyRecord(ops.ctx, merchantId, options.idempotencyKey, fingerprint, new Date(unit.now), payment.id);
      if (record) await unit.tx.insertIdempotencyRecord(record);
      await unit.insertPayment(payment, created);
      return { kind: 'go' as const, record, payment, resumed: false };
    });
  } catch (error) {
    if (!TenderError.isInstance(error) || error.code !== 'duplicate_idempotency_key') throw error;
  }
  first ??= await UnitOfWork.run(ops.ctx, (unit) => claimOrReplay<Go>(ops.ctx, unit, { merchantId, options, fingerprint }, async ({ record, takeover }): Promise<Phase1<Go>> => {
    if (takeover && record?.resourceId) {
      const existing = await unit.tx.lockPayment(record.resourceId);
      if (existing) return { kind: 'go', record, payment: existing, resumed: true };
    }
    const payment = build(unit.now);
    await unit.insertPayment(payment, created);
    const updated = await markRecovery(unit, record, { type: 'payment', id: payment.id }, 'payment_created');
    return { kind: 'go', record: updated, payment, resumed: false };
  }));
  if (first.kind === 'replay') return replay<Payment>(first.response, options);

  const { record } = first;
  const payment = first.payment;
  if (first.resumed && payment.status !== 'PENDING') {
    // The crashed attempt got past the gateway call; what we have is the answer.
    return UnitOfWork.run(ops.ctx, async (unit) => {
      const current = (await unit.tx.lockPayment(payment.id))!;
      await complete(unit, record, { status: 201, body: current }, { type: 'payment', id: current.id });
      return current;
    });
  }

  const running = (async () => {
    // A resumed attempt carries the same request (same key, same fingerprint), for its own payment.
    const created = await finishCreate(ops, first, payment, candidates, { ...draft, paymentId: payment.id }, options);
    if (!(CANCEL_REQUESTED in created.gatewayData)) return created;
    // A cancel arrived while the gateway call ran: complete it against the gateway's answer.
    try {
      return await ops.settleRequestedCancel(created);
    } catch (error) {
      ops.ctx.logger.error({ paymentId: created.id, status: created.status, error: String(error) }, 'completing a requested cancel failed; the payment keeps the request for the reconciler');
      return (await ops.ctx.store.getPayment(created.id)) ?? created;
    }
  })();
  // Stored as it is: the cancel that waits on it ignores its outcome, and this create awaits it.
  ops.inFlight.set(payment.id, running);
  try {
    return await running;
  } finally {
    ops.inFlight.delete(payment.id);
  }
}

/** Phases 2 and 3 of create. */
async function finishCreate(
  ops: PaymentsHost,
  first: { record: IdempotencyRecord | null; resumed: boolean },
  payment: Payment,
  candidates: readonly GatewayV1[],
  request: GatewayCreatePaymentInput,
  options: RequestOptions,
): Promise<Payment> {
  const merchantId = request.merchantId;
  const { record } = first;
  // Phase 2: the gateway call. Fail over only while the request certainly never left.
  const order = first.resumed ? [gatewayOf(ops.ctx, payment.gateway)] : candidates;
  let outcome: { gateway: GatewayV1; result: GatewayPaymentResult } | { gateway: GatewayV1; error: unknown } | undefined;
  for (const gateway of order) {
    try {
      const result = await gateway.createPayment(
        request,
        { idempotencyKey: `${payment.id}/create`, now: ops.ctx.clock.now() },
      );
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
    await complete(unit, record, { status: 201, body: current }, { type: 'payment', id: current.id });
    return { current, thrown };
  });
  if (done.thrown) throw done.thrown;
  return done.current;
}
