/**
 * Payment operations: create, capture, cancel, refund, and reads. Each money-moving operation runs in
 * three phases (Brandur's atomic phases): (1) one transaction claims the idempotency key and records
 * the intent before any gateway is called; (2) the gateway call, outside any transaction, with a key
 * derived from the record so a repeat never charges twice; (3) one transaction applies the answer and
 * stores the response for replays. A crash between (2) and (3) leaves the payment `PROCESSING` or
 * `PENDING` for the reconciler, or for a retry that takes the key over after its lease.
 *
 * @module
 */
import { TenderError, invalidRequest, notFound, stateConflict, toTenderError } from '../errors';
import { newId } from '../ids';
import { Money } from '../money';
import { paymentAmount, refundAmount, type Payment, type PaymentStatus, type Refund } from '../payment';
import { GATEWAY_OUTCOME_UNKNOWN, type GatewayCreatePaymentInput, type GatewayPaymentResult, type GatewayRefundResult, type GatewayV1 } from '../spec/gateway/v1/index';
import type { IdempotencyRecord, StoredResponse } from '../spec/store/v1/index';
import { gatewayOf, type EngineContext } from './context';
import { claimKey, newKeyRecord, requestFingerprint, validateIdempotencyKey } from './idempotency';
import { optionalAmount, optionalReason, validateCreate, validateMetadata, type CaptureInput, type CreatePaymentInput, type RefundInput, type RequestOptions } from './inputs';
import { selectGateways, type RoutingRule } from './routing';
import { requeryPayment } from './requery';
import { CANCEL_REQUESTED, UnitOfWork, type ChangeCause } from './unit-of-work';
import { GATEWAY_PAYMENT_NOT_FOUND } from '../spec/gateway/v1/index';

/** Options of `tender.payments.list`. */
export interface ListPaymentsOptions {
  merchantId?: string;
  /** 1-100, default 20. */
  limit?: number;
  /** Cursor: the id of the last payment of the previous page. */
  startingAfter?: string;
  orderId?: string;
  status?: PaymentStatus;
}

/** A page of results. */
export interface Page<T> {
  data: T[];
  hasMore: boolean;
  /** Pass as `startingAfter` to get the next page. */
  nextCursor: string | null;
}

type Phase1<T> = { kind: 'replay'; response: StoredResponse } | ({ kind: 'go'; record: IdempotencyRecord | null } & T);

/** Decides whether a thrown gateway error means "maybe done" (keep for the reconciler). */
function outcomeUnknown(error: unknown): boolean {
  return !TenderError.isInstance(error) || error.code === GATEWAY_OUTCOME_UNKNOWN || error.type === 'api_error';
}

/** True when the request certainly never reached the gateway. */
function neverSent(error: unknown): boolean {
  return TenderError.isInstance(error) && error.type === 'gateway_unavailable' && error.details?.requestSent === false;
}

/** Without {@link CANCEL_REQUESTED}: what a cancel writes once it acts on the request. */
function withoutCancelRequest(gatewayData: Record<string, unknown>): Record<string, unknown> {
  if (!(CANCEL_REQUESTED in gatewayData)) return gatewayData;
  const rest = { ...gatewayData };
  delete rest[CANCEL_REQUESTED];
  return rest;
}

/**
 * The error for a call that would certainly not be sent now (the gateway's circuit is open): nothing
 * is stored for it, so a retry with the same idempotency key runs afresh.
 */
function unavailable(gateway: GatewayV1): TenderError {
  return new TenderError({
    type: 'gateway_unavailable',
    code: 'circuit_open',
    message: `${gateway.id} is unavailable right now; nothing was sent, retry later`,
    retryable: true,
    retryAfterSeconds: 5,
    details: { gateway: gateway.id, requestSent: false },
  });
}

function ensureCanSend(gateway: GatewayV1): void {
  if (gateway.canSend && !gateway.canSend()) throw unavailable(gateway);
}

function replay<T>(response: StoredResponse, options: RequestOptions): T {
  options.onReplay?.();
  if (response.status >= 400) {
    const body = (response.body as { error?: { type?: string; code?: string; message?: string; param?: string } }).error ?? {};
    throw new TenderError({
      type: (body.type as TenderError['type']) ?? 'api_error',
      code: body.code ?? 'replayed_error',
      message: body.message ?? 'Replayed error',
      status: response.status,
      ...(body.param ? { param: body.param } : {}),
    });
  }
  // The store hands out copies, so the stored body can be returned as it is.
  return response.body as T;
}

/** @internal */
export class PaymentOperations {
  /** Creates whose gateway call is running in this process, by payment id (a cancel waits for them). */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** Syncs running in this process, by payment id: concurrent callers share one requery. */
  private readonly syncing = new Map<string, Promise<Payment>>();
  /** When each payment was last synced (ms), bounded: at most one requery per payment per interval. */
  private readonly lastSync = new Map<string, number>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly routing: readonly RoutingRule[],
  ) {}

  private merchant(options: RequestOptions | undefined): string {
    return options?.merchantId ?? this.ctx.defaultMerchantId;
  }

  private cause(options: RequestOptions | undefined, reason: string): ChangeCause {
    return { actor: options?.actor ?? 'api', reason };
  }

  private async claim(
    unit: UnitOfWork,
    merchantId: string,
    options: RequestOptions,
    fingerprint: string,
  ): Promise<{ kind: 'replay'; response: StoredResponse } | { kind: 'new' | 'takeover'; record: IdempotencyRecord } | null> {
    if (options.idempotencyKey === undefined) return null;
    return claimKey(unit.tx, {
      merchantId,
      key: options.idempotencyKey,
      fingerprint,
      now: new Date(unit.now),
      retentionMs: this.ctx.retentionMs,
      leaseMs: this.ctx.leaseMs,
    });
  }

  private async complete(unit: UnitOfWork, record: IdempotencyRecord | null, response: StoredResponse, resource?: { type: 'payment' | 'refund'; id: string }): Promise<void> {
    if (!record) return;
    // Keys overridden in place: a conditional spread here is a slow path in V8 on this hot path.
    await unit.tx.updateIdempotencyRecord({
      ...record,
      state: 'completed',
      lockedUntil: null,
      recoveryPoint: 'finished',
      // Stores copy what they keep; the engine never mutates a record after writing it.
      response,
      resourceType: resource ? resource.type : record.resourceType,
      resourceId: resource ? resource.id : record.resourceId,
    });
  }

  private checkKey(options: RequestOptions): void {
    if (options.idempotencyKey !== undefined) validateIdempotencyKey(options.idempotencyKey);
  }

  private async lockOwned(unit: UnitOfWork, id: string, merchantId: string): Promise<Payment> {
    const payment = await unit.tx.lockPayment(id);
    if (!payment || payment.merchantId !== merchantId) throw notFound('payment', id);
    return payment;
  }

  /** Creates a payment and starts it at a gateway. */
  async create(raw: CreatePaymentInput, options: RequestOptions = {}): Promise<Payment> {
    const merchantId = this.merchant(options);
    this.checkKey(options);
    const input = validateCreate(raw);
    const eligible = selectGateways(this.ctx.gateways, this.routing, {
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
    const fingerprint = options.idempotencyKey === undefined ? '' : requestFingerprint('payments.create', null, raw);

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
    const created = this.cause(options, 'payment created');

    // A new key (the usual case) is inserted with the payment, so phase 1 is all writes (one statement
    // for a SQL store); only a key that exists goes through the claim below (replay, 409, 422, takeover).
    let first: Phase1<{ payment: Payment; resumed: boolean }> | null = null;
    try {
      first = await UnitOfWork.run(this.ctx, async (unit) => {
        const payment = build(unit.now);
        const record = options.idempotencyKey === undefined ? null : newKeyRecord(this.ctx, merchantId, options.idempotencyKey, fingerprint, new Date(unit.now), payment.id);
        if (record) await unit.tx.insertIdempotencyRecord(record);
        await unit.insertPayment(payment, created);
        return { kind: 'go' as const, record, payment, resumed: false };
      });
    } catch (error) {
      if (!TenderError.isInstance(error) || error.code !== 'duplicate_idempotency_key') throw error;
    }
    first ??= await UnitOfWork.run(this.ctx, async (unit): Promise<Phase1<{ payment: Payment; resumed: boolean }>> => {
      const claim = await this.claim(unit, merchantId, options, fingerprint);
      if (claim?.kind === 'replay') return claim;
      const record = claim?.record ?? null;
      if (claim?.kind === 'takeover' && record?.resourceId) {
        const existing = await unit.tx.lockPayment(record.resourceId);
        if (existing) return { kind: 'go', record, payment: existing, resumed: true };
      }
      const payment = build(unit.now);
      await unit.insertPayment(payment, created);
      const updated = record ? { ...record, resourceType: 'payment' as const, resourceId: payment.id, recoveryPoint: 'payment_created' } : null;
      if (updated) await unit.tx.updateIdempotencyRecord(updated);
      return { kind: 'go', record: updated, payment, resumed: false };
    });
    if (first.kind === 'replay') return replay<Payment>(first.response, options);

    const { record } = first;
    const payment = first.payment;
    if (first.resumed && payment.status !== 'PENDING') {
      // The crashed attempt got past the gateway call; what we have is the answer.
      return UnitOfWork.run(this.ctx, async (unit) => {
        const current = (await unit.tx.lockPayment(payment.id))!;
        await this.complete(unit, record, { status: 201, body: current }, { type: 'payment', id: current.id });
        return current;
      });
    }

    const running = (async () => {
      // A resumed attempt carries the same request (same key, same fingerprint), for its own payment.
      const created = await this.finishCreate(first, payment, candidates, { ...draft, paymentId: payment.id }, options);
      if (!(CANCEL_REQUESTED in created.gatewayData)) return created;
      // A cancel arrived while the gateway call ran: complete it against the gateway's answer.
      try {
        return await this.settleRequestedCancel(created);
      } catch (error) {
        this.ctx.logger.error({ paymentId: created.id, status: created.status, error: String(error) }, 'completing a requested cancel failed; the payment keeps the request for the reconciler');
        return (await this.ctx.store.getPayment(created.id)) ?? created;
      }
    })();
    // Stored as it is: the cancel that waits on it ignores its outcome, and this create awaits it.
    this.inFlight.set(payment.id, running);
    try {
      return await running;
    } finally {
      this.inFlight.delete(payment.id);
    }
  }

  /** Phases 2 and 3 of create. */
  private async finishCreate(
    first: { record: IdempotencyRecord | null; resumed: boolean },
    payment: Payment,
    candidates: readonly GatewayV1[],
    request: GatewayCreatePaymentInput,
    options: RequestOptions,
  ): Promise<Payment> {
    const merchantId = request.merchantId;
    const { record } = first;
    // Phase 2: the gateway call. Fail over only while the request certainly never left.
    const order = first.resumed ? [gatewayOf(this.ctx, payment.gateway)] : candidates;
    let outcome: { gateway: GatewayV1; result: GatewayPaymentResult } | { gateway: GatewayV1; error: unknown } | undefined;
    for (const gateway of order) {
      try {
        const result = await gateway.createPayment(
          request,
          { idempotencyKey: `${payment.id}/create`, now: this.ctx.clock.now() },
        );
        outcome = { gateway, result };
        break;
      } catch (error) {
        outcome = { gateway, error };
        if (!neverSent(error)) break;
        this.ctx.logger.warn({ paymentId: payment.id, gateway: gateway.id }, 'gateway unavailable before sending; trying the next eligible gateway');
      }
    }

    // Phase 3: apply the answer.
    const done = await UnitOfWork.runOn(this.ctx, payment, async (unit, stored) => {
      let current = stored;
      if (current.gateway !== outcome!.gateway.id) {
        current = await unit.writePayment(current, { ...current, gateway: outcome!.gateway.id }, this.cause(options, 'failover'));
      }
      let thrown: TenderError | null = null;
      if ('result' in outcome!) {
        current = await unit.applyGatewayResult(current, outcome.result, this.cause(options, 'gateway response'), { direct: true });
      } else if (neverSent(outcome!.error) || (TenderError.isInstance(outcome!.error) && outcome!.error.type === 'invalid_request_error')) {
        thrown = toTenderError(outcome!.error);
        current = await unit.writePayment(
          current,
          { ...current, status: 'FAILED', failure: { code: thrown.code, message: thrown.message } },
          this.cause(options, thrown.type === 'gateway_unavailable' ? 'no gateway reachable' : 'gateway rejected the request'),
        );
        if (record) await unit.tx.deleteIdempotencyRecord(merchantId, record.key);
        return { current, thrown };
      } else if (outcomeUnknown(outcome!.error)) {
        this.ctx.logger.warn({ paymentId: current.id, error: String(outcome!.error) }, 'gateway outcome unknown; left PROCESSING for the reconciler');
        current = await unit.writePayment(current, { ...current, status: 'PROCESSING' }, this.cause(options, 'gateway outcome unknown'));
      } else {
        const error = toTenderError(outcome!.error);
        current = await unit.writePayment(
          current,
          { ...current, status: 'FAILED', failure: { code: error.code, message: error.message } },
          this.cause(options, 'gateway error'),
        );
      }
      await this.complete(unit, record, { status: 201, body: current }, { type: 'payment', id: current.id });
      return { current, thrown };
    });
    if (done.thrown) throw done.thrown;
    return done.current;
  }

  /**
   * Completes a cancel the merchant asked for while the payment's outcome was open (or a payment paid
   * after it was cancelled): voids what is authorised or awaiting the customer, refunds what was
   * captured, and drops the request once nothing is held. Internal idempotency keys make it safe to
   * run from the create that was in flight and from the reconciler alike.
   * @internal
   */
  async settleRequestedCancel(payment: Payment): Promise<Payment> {
    const options: RequestOptions = { merchantId: payment.merchantId, actor: 'system' };
    switch (payment.status) {
      case 'PENDING':
      case 'PROCESSING':
        return payment;
      case 'REQUIRES_ACTION':
      case 'AUTHORIZED':
        return this.cancel(payment.id, { ...options, idempotencyKey: `tender:requested-cancel:${payment.id}` });
      case 'CAPTURED':
      case 'PARTIALLY_REFUNDED':
        await this.refund(payment.id, { reason: 'cancelled' }, { ...options, idempotencyKey: `tender:requested-cancel-refund:${payment.id}` });
        break;
      default:
        break;
    }
    return UnitOfWork.run(this.ctx, async (unit) => {
      const current = (await unit.tx.lockPayment(payment.id))!;
      if (!(CANCEL_REQUESTED in current.gatewayData)) return current;
      return unit.writePayment(current, { ...current, gatewayData: withoutCancelRequest(current.gatewayData) }, this.cause(options, 'requested cancel settled'));
    });
  }

  /** A payment by id (404 for another merchant's payment). */
  async get(id: string, options: { merchantId?: string } = {}): Promise<Payment> {
    const payment = await this.ctx.store.getPayment(id, this.merchant(options));
    if (!payment) throw notFound('payment', id);
    return payment;
  }

  /**
   * Asks the gateway for the payment's current state now and applies it, as the reconciler would:
   * for a buyer back from an approval page (PayPal's return URL), or a status poll that should not
   * wait for the next reconciliation run. Only the gateway's own answer (`retrieve`) can change the
   * payment, so a caller that is not trusted (a browser) can trigger it but never decide it. Payments
   * that are not open (`PENDING`, `PROCESSING`, `REQUIRES_ACTION`) are answered as stored. Concurrent
   * calls share one requery, and a payment is requeried at most once per `minIntervalMs` (default
   * 2 s); in between the stored payment is answered. A failed requery is logged and the stored payment
   * answered: the reconciler tries again.
   */
  async sync(id: string, options: { merchantId?: string; minIntervalMs?: number } = {}): Promise<Payment> {
    const payment = await this.get(id, options);
    if (payment.status !== 'PENDING' && payment.status !== 'PROCESSING' && payment.status !== 'REQUIRES_ACTION') return payment;
    // A create still at the gateway in this process answers for itself in a moment.
    if (this.inFlight.has(id)) return payment;
    const running = this.syncing.get(id);
    if (running) return running;
    const now = this.ctx.clock.now().getTime();
    const last = this.lastSync.get(id);
    if (last !== undefined && now - last < (options.minIntervalMs ?? 2000)) return payment;
    this.lastSync.delete(id);
    this.lastSync.set(id, now);
    if (this.lastSync.size > 10_000) this.lastSync.delete(this.lastSync.keys().next().value!);
    const work = this.requeryAndApply(payment).finally(() => this.syncing.delete(id));
    this.syncing.set(id, work);
    return work;
  }

  private async requeryAndApply(payment: Payment): Promise<Payment> {
    const gateway = this.ctx.gateways.get(payment.gateway);
    if (!gateway) return payment;
    let result: GatewayPaymentResult;
    try {
      result = await requeryPayment(this.ctx, gateway, payment);
    } catch (error) {
      if (!TenderError.isInstance(error) || error.code !== GATEWAY_PAYMENT_NOT_FOUND) {
        this.ctx.logger.warn({ paymentId: payment.id, error: String(error) }, 'sync: the requery failed; the reconciler tries again');
      }
      return payment;
    }
    const after = await UnitOfWork.run(this.ctx, async (unit) => {
      const current = await unit.tx.lockPayment(payment.id);
      if (!current) return payment;
      return unit.applyGatewayResult(current, result, { actor: 'reconciler', reason: 'sync: requery' });
    });
    if (CANCEL_REQUESTED in after.gatewayData && after.status !== 'PENDING' && after.status !== 'PROCESSING') await this.ctx.settleRequestedCancel(after);
    return after;
  }

  /** Payments of a merchant, newest first, with cursor pagination. */
  async list(options: ListPaymentsOptions = {}): Promise<Page<Payment>> {
    const limit = options.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidRequest('invalid_limit', 'limit must be an integer from 1 to 100', 'limit');
    const rows = await this.ctx.store.listPayments({
      merchantId: this.merchant(options),
      limit: limit + 1,
      ...(options.startingAfter ? { startingAfter: options.startingAfter } : {}),
      ...(options.orderId ? { orderId: options.orderId } : {}),
      ...(options.status ? { status: options.status } : {}),
    });
    const data = rows.slice(0, limit);
    const hasMore = rows.length > limit;
    return { data, hasMore, nextCursor: hasMore ? data[data.length - 1]!.id : null };
  }

  /** Captures an authorised payment, in full or (where the gateway allows) in part. */
  async capture(id: string, raw: CaptureInput = {}, options: RequestOptions = {}): Promise<Payment> {
    const merchantId = this.merchant(options);
    this.checkKey(options);
    const fingerprint = options.idempotencyKey === undefined ? '' : requestFingerprint('payments.capture', id, raw);
    const known = await this.ctx.store.getPayment(id, merchantId);
    if (!known) throw notFound('payment', id);
    ensureCanSend(gatewayOf(this.ctx, known.gateway));
    const first = await UnitOfWork.runOn(this.ctx, known, async (unit, stored): Promise<Phase1<{ payment: Payment; amount: Money; gateway: GatewayV1 }>> => {
      const claim = await this.claim(unit, merchantId, options, fingerprint);
      if (claim?.kind === 'replay') return claim;
      const record = claim?.record ?? null;
      let payment = stored;
      const gateway = gatewayOf(this.ctx, payment.gateway);
      const pending = payment.gatewayData.pendingCapture as string | undefined;
      if (claim?.kind === 'takeover' && payment.status === 'PROCESSING' && pending) {
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
        this.cause(options, 'capture requested'),
      );
      if (record) await unit.tx.updateIdempotencyRecord({ ...record, resourceType: 'payment', resourceId: payment.id, recoveryPoint: 'capture_started' });
      return { kind: 'go', record, payment, amount, gateway };
    });
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
        { idempotencyKey: `${payment.id}/capture`, now: this.ctx.clock.now() },
      );
    } catch (error) {
      failure = error;
    }
    return this.finishPending(payment, record, options, result, failure, 'AUTHORIZED', 'capture');
  }

  /** Cancels (voids) a payment that has not been captured. */
  async cancel(id: string, options: RequestOptions = {}): Promise<Payment> {
    const merchantId = this.merchant(options);
    this.checkKey(options);
    const fingerprint = options.idempotencyKey === undefined ? '' : requestFingerprint('payments.cancel', id, {});
    const known = await this.ctx.store.getPayment(id, merchantId);
    if (!known) throw notFound('payment', id);
    if (known.status === 'AUTHORIZED') ensureCanSend(gatewayOf(this.ctx, known.gateway));
    const first = await UnitOfWork.runOn(this.ctx, known, async (unit, stored): Promise<Phase1<{ payment: Payment; previous: PaymentStatus; gateway: GatewayV1 | null; local: boolean; requested?: boolean }>> => {
      const claim = await this.claim(unit, merchantId, options, fingerprint);
      if (claim?.kind === 'replay') return claim;
      const record = claim?.record ?? null;
      let payment = stored;
      const gateway = gatewayOf(this.ctx, payment.gateway);
      const pendingFrom = payment.gatewayData.pendingCancelFrom as PaymentStatus | undefined;
      if (claim?.kind === 'takeover' && payment.status === 'PROCESSING' && pendingFrom) {
        return { kind: 'go', record, payment, previous: pendingFrom, gateway, local: false };
      }
      const cancellable: PaymentStatus[] = ['PENDING', 'REQUIRES_ACTION', 'AUTHORIZED'];
      if (!cancellable.includes(payment.status)) {
        throw stateConflict('payment_not_cancellable', `A ${payment.status} payment cannot be cancelled`, { status: payment.status });
      }
      const canCallGateway = gateway.capabilities.cancel && gateway.cancel !== undefined;
      if (!canCallGateway && payment.status === 'AUTHORIZED') {
        throw invalidRequest('cancel_not_supported', `Gateway '${gateway.id}' cannot void an authorisation`, 'id');
      }
      if (payment.status === 'PENDING') {
        // The create's gateway call may be running (here or in another process) or may have crashed:
        // what the gateway holds is not known yet, so the payment cannot say CANCELLED. The request is
        // recorded; the create (or the reconciler) voids or refunds once the gateway has answered.
        if (!(CANCEL_REQUESTED in payment.gatewayData)) {
          payment = await unit.writePayment(payment, { ...payment, gatewayData: { ...payment.gatewayData, [CANCEL_REQUESTED]: unit.now } }, this.cause(options, 'cancel requested'));
          await unit.note(payment, 'cancel_requested', this.cause(options, 'waiting for the gateway to answer the create'));
        }
        return { kind: 'go', record, payment, previous: payment.status, gateway: null, local: true, requested: true };
      }
      if (!canCallGateway) {
        // Nothing to undo at the gateway: the customer never completed the hosted step.
        payment = await unit.writePayment(payment, { ...payment, status: 'CANCELLED', nextAction: null, gatewayData: withoutCancelRequest(payment.gatewayData) }, this.cause(options, 'cancelled'));
        await this.complete(unit, record, { status: 200, body: payment }, { type: 'payment', id: payment.id });
        return { kind: 'go', record, payment, previous: payment.status, gateway: null, local: true };
      }
      ensureCanSend(gateway);
      const previous = payment.status;
      payment = await unit.writePayment(
        payment,
        { ...payment, status: 'PROCESSING', gatewayData: { ...withoutCancelRequest(payment.gatewayData), pendingCancelFrom: previous } },
        this.cause(options, 'cancel requested'),
      );
      if (record) await unit.tx.updateIdempotencyRecord({ ...record, resourceType: 'payment', resourceId: payment.id, recoveryPoint: 'cancel_started' });
      return { kind: 'go', record, payment, previous, gateway, local: false };
    });
    if (first.kind === 'replay') return replay<Payment>(first.response, options);
    if (first.requested) return this.awaitRequestedCancel(first.payment, first.record, options);
    if (first.local) return first.payment;
    const { payment, gateway, previous, record } = first;
    let result: GatewayPaymentResult | undefined;
    let failure: unknown;
    try {
      result = await gateway!.cancel!(
        { paymentId: payment.id, gatewayReference: payment.gatewayReference, amount: paymentAmount(payment), gatewayData: payment.gatewayData },
        { idempotencyKey: `${payment.id}/cancel`, now: this.ctx.clock.now() },
      );
    } catch (error) {
      failure = error;
    }
    return this.finishPending(payment, record, options, result, failure, previous, 'cancel');
  }

  /**
   * After a cancel was recorded on a `PENDING` payment: when its create runs in this process, waits for
   * it (the create settles the cancel once the gateway has answered) and answers with the result;
   * otherwise answers with the payment as it is, still `PENDING` with the request recorded.
   */
  private async awaitRequestedCancel(payment: Payment, record: IdempotencyRecord | null, options: RequestOptions): Promise<Payment> {
    await this.inFlight.get(payment.id)?.catch(() => undefined);
    const current = (await this.ctx.store.getPayment(payment.id)) ?? payment;
    if (record) {
      await UnitOfWork.run(this.ctx, (unit) => this.complete(unit, record, { status: 200, body: current }, { type: 'payment', id: current.id }));
    }
    return current;
  }

  /** Phase 3 of capture and cancel. */
  private async finishPending(
    payment: Payment,
    record: IdempotencyRecord | null,
    options: RequestOptions,
    result: GatewayPaymentResult | undefined,
    failure: unknown,
    revertTo: PaymentStatus,
    operation: 'capture' | 'cancel',
  ): Promise<Payment> {
    const marker = operation === 'capture' ? 'pendingCapture' : 'pendingCancelFrom';
    const paymentId = payment.id;
    const done = await UnitOfWork.runOn(this.ctx, payment, async (unit, stored) => {
      let current = stored;
      const clean = (p: Payment): Payment => {
        const gatewayData = { ...p.gatewayData };
        delete gatewayData[marker];
        return { ...p, gatewayData };
      };
      let error: TenderError | null = null;
      if (result) {
        current = await unit.applyGatewayResult(current, result, this.cause(options, `${operation} response`), { edit: clean, direct: true });
      } else if (neverSent(failure)) {
        // Certainly never reached the gateway: undone, and the key freed, so a retry runs afresh
        // instead of replaying a failure that said "retry".
        error = toTenderError(failure);
        if (current.status === 'PROCESSING') {
          current = await unit.writePayment(current, clean({ ...current, status: revertTo }), this.cause(options, `${operation} not sent: ${error.code}`));
        }
        if (record) await unit.tx.deleteIdempotencyRecord(record.merchantId, record.key);
        return { current, error };
      } else if (outcomeUnknown(failure)) {
        this.ctx.logger.warn({ paymentId, error: String(failure) }, `${operation} outcome unknown; left PROCESSING for the reconciler`);
      } else {
        error = toTenderError(failure);
        if (current.status === 'PROCESSING') {
          current = await unit.writePayment(current, clean({ ...current, status: revertTo }), this.cause(options, `${operation} failed: ${error.code}`));
        }
      }
      const response: StoredResponse = error ? { status: error.status, body: error.toJSON() } : { status: 200, body: current };
      await this.complete(unit, record, response, { type: 'payment', id: current.id });
      return { current, error };
    });
    if (done.error) throw done.error;
    return done.current;
  }

  /** Refunds part or all of a captured payment. The sum of non-failed refunds never exceeds the capture. */
  async refund(id: string, raw: RefundInput = {}, options: RequestOptions = {}): Promise<Refund> {
    const merchantId = this.merchant(options);
    this.checkKey(options);
    const fingerprint = options.idempotencyKey === undefined ? '' : requestFingerprint('payments.refund', id, raw);
    const reason = optionalReason(raw.reason);
    const metadata = validateMetadata(raw.metadata);
    const known = await this.ctx.store.getPayment(id, merchantId);
    if (!known) throw notFound('payment', id);
    ensureCanSend(gatewayOf(this.ctx, known.gateway));
    const first = await UnitOfWork.run(this.ctx, async (unit): Promise<Phase1<{ payment: Payment; refund: Refund; gateway: GatewayV1 }>> => {
      const claim = await this.claim(unit, merchantId, options, fingerprint);
      if (claim?.kind === 'replay') return claim;
      const record = claim?.record ?? null;
      let payment = await this.lockOwned(unit, id, merchantId);
      const gateway = gatewayOf(this.ctx, payment.gateway);
      if (claim?.kind === 'takeover' && record?.resourceType === 'refund' && record.resourceId) {
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
      await unit.insertRefund(refund, this.cause(options, 'refund requested'));
      payment = await unit.recomputeRefunded(payment, this.cause(options, 'refund requested'));
      const updated = record ? { ...record, resourceType: 'refund' as const, resourceId: refund.id, recoveryPoint: 'refund_created' } : null;
      if (updated) await unit.tx.updateIdempotencyRecord(updated);
      return { kind: 'go', record: updated, payment, refund, gateway };
    });
    if (first.kind === 'replay') return replay<Refund>(first.response, options);
    const { payment, refund, gateway, record } = first;
    if (refund.status !== 'PENDING') {
      return UnitOfWork.run(this.ctx, async (unit) => {
        await this.complete(unit, record, { status: 201, body: refund }, { type: 'refund', id: refund.id });
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
        { idempotencyKey: `${refund.id}/refund`, now: this.ctx.clock.now() },
      );
    } catch (error) {
      failure = error;
    }

    return UnitOfWork.run(this.ctx, async (unit) => {
      const current = (await unit.tx.lockPayment(payment.id))!;
      let stored = (await unit.tx.getRefund(refund.id))!;
      const cause = this.cause(options, 'refund response');
      let notSent: TenderError | null = null;
      if (result) {
        stored = await unit.applyRefundReport(stored, result, cause);
      } else if (outcomeUnknown(failure)) {
        this.ctx.logger.warn({ refundId: refund.id, error: String(failure) }, 'refund outcome unknown; left PENDING for the reconciler');
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
      await this.complete(unit, record, { status: 201, body: stored }, { type: 'refund', id: stored.id });
      return { refund: stored, error: null };
    }).then(({ refund: done, error }) => {
      if (error) throw error;
      return done;
    });
  }
}
