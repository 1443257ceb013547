/**
 * The steps every payment operation shares, in the order they run: claim the idempotency key (or
 * replay its stored response), record the intent, and complete the key with the response once the
 * gateway has answered; plus the phase 3 of capture and cancel, which differ only in the marker they
 * leave on the payment while the gateway call runs. See `./index.ts` for the three phases.
 *
 * @module
 */
import { TenderError, notFound, toTenderError } from '../../errors';
import type { Payment, PaymentStatus, Refund } from '../../payment';
import { GATEWAY_OUTCOME_UNKNOWN, type GatewayPaymentResult, type GatewayV1 } from '../../spec/gateway/v1/index';
import type { IdempotencyRecord, StoredResponse } from '../../spec/store/v1/index';
import type { EngineContext } from '../context';
import { claimKey, requestFingerprint, validateIdempotencyKey } from '../idempotency';
import type { RefundInput, RequestOptions } from '../inputs';
import type { RoutingRule } from '../routing';
import { CANCEL_REQUESTED, UnitOfWork, type ChangeCause } from '../unit-of-work';

/** What phase 1 of an operation decided: replay a stored response, or go on with the claimed record. */
export type Phase1<T> = { kind: 'replay'; response: StoredResponse } | ({ kind: 'go'; record: IdempotencyRecord | null } & T);

/** Decides whether a thrown gateway error means "maybe done" (keep for the reconciler). */
export function outcomeUnknown(error: unknown): boolean {
  return !TenderError.isInstance(error) || error.code === GATEWAY_OUTCOME_UNKNOWN || error.type === 'api_error';
}

/** True when the request certainly never reached the gateway. */
export function neverSent(error: unknown): boolean {
  return TenderError.isInstance(error) && error.type === 'gateway_unavailable' && error.details?.requestSent === false;
}

/** Without {@link CANCEL_REQUESTED}: what a cancel writes once it acts on the request. */
export function withoutCancelRequest(gatewayData: Record<string, unknown>): Record<string, unknown> {
  if (!(CANCEL_REQUESTED in gatewayData)) return gatewayData;
  const rest = { ...gatewayData };
  delete rest[CANCEL_REQUESTED];
  return rest;
}

/**
 * The error for a call that would certainly not be sent now (the gateway's circuit is open): nothing
 * is stored for it, so a retry with the same idempotency key runs afresh.
 */
export function unavailable(gateway: GatewayV1): TenderError {
  return new TenderError({
    type: 'gateway_unavailable',
    code: 'circuit_open',
    message: `${gateway.id} is unavailable right now; nothing was sent, retry later`,
    retryable: true,
    retryAfterSeconds: 5,
    details: { gateway: gateway.id, requestSent: false },
  });
}

/** Refuses before anything is stored when the gateway would certainly not send now. */
export function ensureCanSend(gateway: GatewayV1): void {
  if (gateway.canSend && !gateway.canSend()) throw unavailable(gateway);
}

/** Answers a retry with the stored response of its key: the body, or the stored error thrown again. */
export function replay<T>(response: StoredResponse, options: RequestOptions): T {
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

/** The merchant an operation acts for: the caller's, or the engine's default. */
export function merchantOf(ctx: EngineContext, options: RequestOptions | undefined): string {
  return options?.merchantId ?? ctx.defaultMerchantId;
}

/** Who caused a change, and why (the audit trail's actor and reason). */
export function causeOf(options: RequestOptions | undefined, reason: string): ChangeCause {
  return { actor: options?.actor ?? 'api', reason };
}

/** Refuses a malformed idempotency key before anything else runs. */
export function checkKey(options: RequestOptions): void {
  if (options.idempotencyKey !== undefined) validateIdempotencyKey(options.idempotencyKey);
}

/** The request's fingerprint under its key (empty without a key: nothing to compare it with). */
export function fingerprintOf(options: RequestOptions, operation: string, target: string | null, body: unknown): string {
  return options.idempotencyKey === undefined ? '' : requestFingerprint(operation, target, body);
}

/**
 * The merchant's payment before the operation's first transaction (404 otherwise): as this engine
 * last committed it when it still holds that copy (the unit run on it checks the version), else read.
 */
export async function knownPayment(ctx: EngineContext, id: string, merchantId: string): Promise<Payment> {
  const known = ctx.recent.get(id, merchantId) ?? (await ctx.store.getPayment(id, merchantId));
  if (!known) throw notFound('payment', id);
  return known;
}

/** Locks the merchant's payment in `unit` (404 for another merchant's). */
export async function lockOwned(unit: UnitOfWork, id: string, merchantId: string): Promise<Payment> {
  const payment = await unit.tx.lockPayment(id);
  if (!payment || payment.merchantId !== merchantId) throw notFound('payment', id);
  return payment;
}

/** Claims the request's idempotency key in `unit`; null without a key. */
export async function claim(
  ctx: EngineContext,
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
    retentionMs: ctx.retentionMs,
    leaseMs: ctx.leaseMs,
  });
}

/** The claimed key handed to an operation's phase 1: its record (null without a key), and whether it was taken over from a crashed attempt. */
export interface ClaimedKey {
  record: IdempotencyRecord | null;
  takeover: boolean;
}

/**
 * Phase 1's opening, shared by capture, cancel and refund: claims the key in `unit`; a completed key
 * answers with its stored response (replay), anything else goes on to `decide`.
 */
export async function claimOrReplay<T>(
  ctx: EngineContext,
  unit: UnitOfWork,
  key: { merchantId: string; options: RequestOptions; fingerprint: string },
  decide: (claimed: ClaimedKey) => Promise<Phase1<T>>,
): Promise<Phase1<T>> {
  const claimed = await claim(ctx, unit, key.merchantId, key.options, key.fingerprint);
  if (claimed?.kind === 'replay') return claimed;
  return decide({ record: claimed?.record ?? null, takeover: claimed?.kind === 'takeover' });
}

/** Records on the key which resource it is for and how far the operation got (its recovery point). */
export async function markRecovery(
  unit: UnitOfWork,
  record: IdempotencyRecord | null,
  resource: { type: 'payment' | 'refund'; id: string },
  recoveryPoint: string,
): Promise<IdempotencyRecord | null> {
  if (!record) return null;
  const updated = { ...record, resourceType: resource.type, resourceId: resource.id, recoveryPoint };
  await unit.tx.updateIdempotencyRecord(updated);
  return updated;
}

/** Completes the key with the operation's response, which a retry then replays. */
export async function complete(unit: UnitOfWork, record: IdempotencyRecord | null, response: StoredResponse, resource?: { type: 'payment' | 'refund'; id: string }): Promise<void> {
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

/** Phase 3 of capture and cancel. */
export async function finishPending(
  ctx: EngineContext,
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
  const done = await UnitOfWork.runOn(ctx, payment, async (unit, stored) => {
    let current = stored;
    const clean = (p: Payment): Payment => {
      const gatewayData = { ...p.gatewayData };
      delete gatewayData[marker];
      return { ...p, gatewayData };
    };
    let error: TenderError | null = null;
    if (result) {
      current = await unit.applyGatewayResult(current, result, causeOf(options, `${operation} response`), { edit: clean, direct: true });
    } else if (neverSent(failure)) {
      // Certainly never reached the gateway: undone, and the key freed, so a retry runs afresh
      // instead of replaying a failure that said "retry".
      error = toTenderError(failure);
      if (current.status === 'PROCESSING') {
        current = await unit.writePayment(current, clean({ ...current, status: revertTo }), causeOf(options, `${operation} not sent: ${error.code}`));
      }
      if (record) await unit.tx.deleteIdempotencyRecord(record.merchantId, record.key);
      return { current, error };
    } else if (outcomeUnknown(failure)) {
      ctx.logger.warn({ paymentId, error: String(failure) }, `${operation} outcome unknown; left PROCESSING for the reconciler`);
    } else {
      error = toTenderError(failure);
      if (current.status === 'PROCESSING') {
        current = await unit.writePayment(current, clean({ ...current, status: revertTo }), causeOf(options, `${operation} failed: ${error.code}`));
      }
    }
    const response: StoredResponse = error ? { status: error.status, body: error.toJSON() } : { status: 200, body: current };
    await complete(unit, record, response, { type: 'payment', id: current.id });
    return { current, error };
  });
  if (done.error) throw done.error;
  return done.current;
}

/**
 * What the operation modules reach of `PaymentOperations`: the engine, the routing rules, the creates
 * in flight in this process (a cancel waits for them), and the operations that call one another (a
 * create settles a cancel requested meanwhile, which cancels or refunds).
 */
export interface PaymentsHost {
  readonly ctx: EngineContext;
  readonly routing: readonly RoutingRule[];
  readonly inFlight: Map<string, Promise<unknown>>;
  cancel(id: string, options?: RequestOptions): Promise<Payment>;
  refund(id: string, raw?: RefundInput, options?: RequestOptions): Promise<Refund>;
  settleRequestedCancel(payment: Payment): Promise<Payment>;
}
