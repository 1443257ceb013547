/**
 * Create: routes the payment to the first eligible gateway that would accept it, inserts it (with a
 * new idempotency key, in the same statement batch), calls the gateway, failing over while the
 * request certainly never left, and applies the answer; a cancel requested meanwhile is settled
 * against that answer (phases 2 and 3 in `start.ts`, shared with authorize).
 *
 * A payment may charge a saved method (`saved-method.ts`), resolved and checked before anything is
 * stored; with `confirm: false` it is stored `PENDING` and unconfirmed, and no gateway is called
 * until `tender.payments.authorize` (`authorize.ts`).
 *
 * @module
 */
import { TenderError } from '../../errors';
import { newId } from '../../ids';
import { Money } from '../../money';
import type { Payment } from '../../payment';
import type { GatewayCreatePaymentInput } from '../../spec/gateway/v1/index';
import type { IdempotencyRecord } from '../../spec/store/v1/index';
import { newKeyRecord } from '../idempotency';
import { validateCreate, type CreatePaymentInput, type RequestOptions } from '../inputs';
import { selectGateways } from '../routing';
import { UnitOfWork } from '../unit-of-work';
import { applyStop, assessCreate, describe, stopsCreate, withRisk, type ReviewHold } from './risk';
import { isSavedMethodId, savedMethodById, savedMethodByToken } from './saved-method';
import { startAtGateway } from './start';
import { causeOf, checkKey, claimOrReplay, complete, fingerprintOf, markRecovery, merchantOf, replay, unavailable, type Phase1, type PaymentsHost } from './steps';
import { UNCONFIRMED, isUnconfirmed, type UnconfirmedMark } from './unconfirmed';

/** Creates a payment and starts it at a gateway. */
export async function createPayment(ops: PaymentsHost, raw: CreatePaymentInput, options: RequestOptions = {}): Promise<Payment> {
  const merchantId = merchantOf(ops.ctx, options);
  checkKey(options);
  const input = validateCreate(raw);
  // A saved method named by its id decides the gateway and the token; one named by its token (with
  // the user) is found on the routed gateways. Either is read and checked before anything is stored;
  // a payment naming neither awaits nothing here (the common path stays as short as it was).
  const byId = isSavedMethodId(input.paymentMethod) ? await savedMethodById(ops.ctx, merchantId, input) : null;
  const routed = selectGateways(ops.ctx.gateways, ops.routing, {
    gateway: byId ? byId.method.gateway : input.gateway,
    amount: input.amount,
    paymentMethod: byId ? byId.method.token : input.paymentMethod,
    captureMethod: input.captureMethod,
  });
  const saved = byId ?? (input.userId !== null ? await savedMethodByToken(ops.ctx, merchantId, input, routed) : null);
  // A saved method is charged on its own gateway only: its token means nothing to another.
  const eligible = saved ? routed.filter((g) => g.id === saved.method.gateway) : routed;
  const userId = saved ? saved.method.userId : input.userId;
  const paymentMethod = saved ? saved.method.token : input.paymentMethod;
  // The id is chosen now so each gateway can check the payment exactly as it will be sent.
  const paymentId = newId('pay');
  const draft: GatewayCreatePaymentInput = {
    paymentId,
    merchantId,
    orderId: input.orderId,
    amount: input.amount,
    captureMethod: input.captureMethod,
    paymentMethod,
    description: input.description,
    customer: input.customer,
    returnUrl: input.returnUrl,
    notifyUrl: input.notifyUrl,
    metadata: input.metadata,
  };
  if (saved) draft.savedMethod = { gatewayCustomerId: saved.gatewayCustomerId, offSession: input.offSession ?? true };
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
  // Gateways that would certainly not send now are skipped; with none left nothing is stored. An
  // unconfirmed payment sends nothing now: its authorize checks again.
  const candidates = input.confirm ? acceptable.filter((g) => !g.canSend || g.canSend()) : acceptable;
  if (candidates.length === 0) throw unavailable(acceptable[0]!);
  const mark: UnconfirmedMark | null = input.confirm ? null : { offSession: input.offSession };
  // The risk signals describe the caller (its address, its device), not what it asks for: a retry
  // of the same request from another address (a proxy, a mobile network) is the same request.
  const { risk: _signals, ...request } = raw;
  const fingerprint = fingerprintOf(options, 'payments.create', null, request);
  // The risk stage: after validation and routing, before anything is stored or sent (`risk.ts`).
  const assessment = await assessCreate(ops.ctx, ops.ctx.risk, merchantId, input, raw.risk, draft, candidates[0]!.id, userId, options);
  const stop = stopsCreate(assessment) ? assessment : null;
  const hold: ReviewHold = { confirm: input.confirm, offSession: input.offSession };
  if (assessment?.action === 'step_up') draft.threeDSecure = 'required';

  // One id for both paths below: the first attempt's unit rolled back whole when it falls through.
  const build = (now: string): Payment => ({
    id: paymentId,
    merchantId,
    orderId: input.orderId,
    userId,
    savedPaymentMethodId: saved ? saved.method.id : null,
    status: 'PENDING',
    amount: input.amount.toString(),
    currency: input.amount.currency,
    amountCaptured: Money.zero(input.amount.currency).toString(),
    amountRefunded: Money.zero(input.amount.currency).toString(),
    captureMethod: input.captureMethod,
    gateway: candidates[0]!.id,
    gatewayReference: null,
    paymentMethod,
    description: input.description,
    customer: input.customer,
    returnUrl: input.returnUrl,
    notifyUrl: input.notifyUrl,
    metadata: input.metadata,
    nextAction: null,
    failure: null,
    gatewayData: withRisk(mark ? { [UNCONFIRMED]: mark } : {}, assessment),
    createdAt: now,
    updatedAt: now,
    version: 1,
  });
  const created = causeOf(options, assessment && !stop ? `payment created; ${describe(assessment)}` : 'payment created');

  // A new key (the usual case) is inserted with the payment, so phase 1 is all writes (one statement
  // for a SQL store); only a key that exists goes through the claim below (replay, 409, 422, takeover).
  type Go = { payment: Payment; resumed: boolean };
  let first: Phase1<Go> | null = null;
  try {
    first = await UnitOfWork.run(ops.ctx, async (unit) => {
      const payment = build(unit.now);
      const fresh = options.idempotencyKey === undefined ? null : newKeyRecord(ops.ctx, merchantId, options.idempotencyKey, fingerprint, new Date(unit.now), payment.id);
      // An unconfirmed payment is done once stored: its key is completed in the same write.
      const record = fresh && mark && !stop ? completedRecord(fresh, payment) : fresh;
      if (record) await unit.tx.insertIdempotencyRecord(record);
      await unit.insertPayment(payment, created);
      if (stop) {
        // Blocked or held: done without a gateway call, the key completed with the answer.
        const stopped = await applyStop(unit, payment, stop, hold, created);
        await complete(unit, record, { status: 201, body: stopped }, { type: 'payment', id: stopped.id });
        return { kind: 'go' as const, record, payment: stopped, resumed: false };
      }
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
    if (stop) {
      const stopped = await applyStop(unit, payment, stop, hold, created);
      await complete(unit, record, { status: 201, body: stopped }, { type: 'payment', id: stopped.id });
      return { kind: 'go', record, payment: stopped, resumed: false };
    }
    if (mark) {
      await complete(unit, record, { status: 201, body: payment }, { type: 'payment', id: payment.id });
      return { kind: 'go', record, payment, resumed: false };
    }
    const updated = await markRecovery(unit, record, { type: 'payment', id: payment.id }, 'payment_created');
    return { kind: 'go', record: updated, payment, resumed: false };
  }));
  if (first.kind === 'replay') return replay<Payment>(first.response, options);

  const { record } = first;
  const payment = first.payment;
  if ((mark || stop) && !first.resumed) return payment;
  if (first.resumed && (payment.status !== 'PENDING' || isUnconfirmed(payment))) {
    // The crashed attempt got past the gateway call; what we have is the answer.
    return UnitOfWork.run(ops.ctx, async (unit) => {
      const current = (await unit.tx.lockPayment(payment.id))!;
      await complete(unit, record, { status: 201, body: current }, { type: 'payment', id: current.id });
      return current;
    });
  }

  // A resumed attempt carries the same request (same key, same fingerprint), for its own payment.
  return startAtGateway(ops, first, payment, candidates, { ...draft, paymentId: payment.id }, options, { status: 201, unsent: { kind: 'fail' } });
}

/** `record` completed with the created payment as its response. */
function completedRecord(record: IdempotencyRecord, payment: Payment): IdempotencyRecord {
  return { ...record, state: 'completed', lockedUntil: null, recoveryPoint: 'finished', response: { status: 201, body: payment } };
}
