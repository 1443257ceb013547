/**
 * Inbound webhooks: verify the signature on the raw bytes, turn the body into normalised events,
 * bind each event to its payment through the fields the gateway signed, apply each new event in its
 * own transaction together with its inbox record (so a duplicate is recognised and a crash mid-way is
 * retried by the provider), then acknowledge the way the gateway expects.
 *
 * Providers do not promise delivery order (Stripe: "Stripe doesn't guarantee the delivery of events in
 * the order that they're generated", https://docs.stripe.com/webhooks#event-ordering). An event that
 * cannot be applied yet (a refund of a payment not captured here, a verified but incomplete payload)
 * is never recorded as done: the payment is requeried and the gateway's current state applied first;
 * if that is not possible, the webhook is answered with a retryable 503 so the gateway delivers it again.
 *
 * @module
 */
import { TenderError } from '../errors';
import { paymentAmount, type Payment } from '../payment';
import { REFUNDABLE_PAYMENT_STATUSES } from '../state-machine';
import type { GatewayPaymentResult, WebhookAcknowledgement, WebhookEvent, WebhookRequest } from '../spec/gateway/v1/index';
import type { StoreTx } from '../spec/store/v1/index';
import { gatewayOf, type EngineContext } from './context';
import { handleBillingEvent } from './billing/webhooks';
import { applyDisputeReport } from './disputes/apply';
import { requeryPayment } from './requery';
import { CANCEL_REQUESTED, UnitOfWork, type ChangeCause } from './unit-of-work';

/** What happened to one event of a webhook. */
export type WebhookOutcome =
  /** Applied as received. */
  | 'applied'
  /** Applied after requerying the payment from the gateway (the event came early or incomplete). */
  | 'requeried'
  /** Already processed (a redelivery). */
  | 'duplicate'
  /** Verified but not about a payment. */
  | 'ignored'
  /** No payment matches what the gateway signed; not recorded, so a redelivery can still apply it. */
  | 'unknown_payment'
  /** Could not be applied yet and the requery failed; not recorded, so a redelivery can apply it. */
  | 'deferred';

/** What `tender.webhooks.handle` returns: the acknowledgement, plus what happened, for logs and metrics. */
export interface WebhookHandled extends WebhookAcknowledgement {
  outcomes: Array<{ eventId: string; outcome: WebhookOutcome }>;
}

type PaymentEvent = Exclude<WebhookEvent, { kind: 'ignored' | 'subscription' | 'invoice' }>;

/** Statuses of a payment still waiting for its outcome, preferred when several share an order id. */
const OPEN = new Set(['PENDING', 'REQUIRES_ACTION', 'PROCESSING']);

/**
 * The payment an event is about, locked, found only through what the gateway signed: our id, the
 * gateway's reference, or the merchant reference it echoes. Several payments can share a merchant
 * reference (attempts at one order, or two merchants on one gateway account); the unsigned hint may
 * choose among those, and otherwise the newest open one without another reference is taken.
 */
async function findPayment(tx: StoreTx, gateway: string, event: PaymentEvent): Promise<Payment | null> {
  if (event.paymentId) {
    const byId = await tx.lockPayment(event.paymentId);
    if (byId && byId.gateway === gateway) return byId;
  }
  if (event.gatewayReference) {
    const byRef = await tx.findPaymentByGatewayReference(gateway, event.gatewayReference);
    if (byRef) return tx.lockPayment(byRef.id);
  }
  if (event.orderId) {
    const candidates = (await tx.listPaymentsByGatewayOrder(gateway, event.orderId, 50)).filter(
      // A payment already tied to another transaction of the gateway is not this one.
      (p) => !p.gatewayReference || !event.gatewayReference || p.gatewayReference === event.gatewayReference,
    );
    const hinted = event.hint?.paymentId ? candidates.find((p) => p.id === event.hint!.paymentId) : undefined;
    const chosen = hinted ?? candidates.find((p) => OPEN.has(p.status) && !p.gatewayReference) ?? candidates[0];
    if (chosen) return tx.lockPayment(chosen.id);
  }
  return null;
}

/**
 * Why a refund report cannot be applied to `payment` as it stands, or null when it can: a refund we
 * do not know yet needs the payment captured here, and room for it under the captured amount (an
 * earlier refund's failure, not seen yet, may be what made that room).
 */
async function refundBlocked(tx: StoreTx, payment: Payment, event: Extract<WebhookEvent, { kind: 'refund' }>): Promise<string | null> {
  const report = event.refund;
  const refunds = await tx.listRefunds(payment.id);
  const known = refunds.some((r) => (report.refundId && r.id === report.refundId) || (report.gatewayReference && r.gatewayReference === report.gatewayReference));
  if (known) return null;
  const captured = REFUNDABLE_PAYMENT_STATUSES.includes(payment.status) || payment.status === 'REFUNDED';
  if (!captured) return `refund reported on a ${payment.status} payment`;
  if (report.status === 'FAILED') return null;
  const room = paymentAmount(payment, 'amountCaptured').subtract(paymentAmount(payment, 'amountRefunded'));
  return report.amount.greaterThan(room) ? 'refund reported beyond what is left to refund here' : null;
}

/**
 * Why a refund report disagrees with the payment it is bound to, or null: another currency, or a
 * reference to another of the gateway's transactions than the payment's own (a report naming our
 * payment in its signed metadata but refunding someone else's charge binds to neither).
 */
function refundMismatch(payment: Payment, event: Extract<WebhookEvent, { kind: 'refund' }>): { type: string; data: Record<string, unknown> } | null {
  if (event.refund.amount.currency !== payment.currency) {
    return { type: 'amount_mismatch', data: { reportedAmount: event.refund.amount.toString(), reportedCurrency: event.refund.amount.currency } };
  }
  if (event.gatewayReference && payment.gatewayReference && event.gatewayReference !== payment.gatewayReference) {
    return { type: 'reference_mismatch', data: { reportedReference: event.gatewayReference } };
  }
  return null;
}

/** Signals, inside a unit of work, that the event needs the payment requeried first (rolls the unit back). */
class NeedsRequery extends Error {
  constructor(
    readonly payment: Payment,
    readonly why: string,
  ) {
    super(why);
  }
}

/** Applies one bound, new event: the payment after it, or null when it cannot be applied yet. */
async function applyEvent(unit: UnitOfWork, payment: Payment, event: PaymentEvent, cause: ChangeCause): Promise<Payment | null> {
  if (event.kind === 'requery') return null;
  if (event.kind === 'refund') {
    const mismatch = refundMismatch(payment, event);
    if (mismatch) {
      // A signed report that contradicts the payment it names changes nothing (and is not retried).
      await unit.note(payment, mismatch.type, cause, mismatch.data);
      return payment;
    }
    if (await refundBlocked(unit.tx, payment, event)) return null;
    return unit.syncRefunds(payment, [event.refund], cause);
  }
  if (event.kind === 'payment') {
    const result: GatewayPaymentResult = event.resultFor ? event.resultFor(payment) : event.result;
    return unit.applyGatewayResult(payment, result, cause);
  }
  if (event.kind === 'dispute') {
    // A dispute is recorded beside the payment; the payment's status stays where the money is.
    await applyDisputeReport(unit, payment, event.dispute, { gateway: payment.gateway, type: event.type, cause });
    return payment;
  }
  await unit.note(payment, event.type, cause, event.data);
  return payment;
}

/** @internal */
export async function handleWebhook(ctx: EngineContext, gatewayId: string, request: WebhookRequest): Promise<WebhookHandled> {
  const gateway = gatewayOf(ctx, gatewayId);
  if (!(request.rawBody instanceof Uint8Array)) {
    throw new TenderError({ type: 'invalid_request_error', code: 'raw_body_required', message: 'Webhooks must be handled from the raw request bytes' });
  }
  await gateway.verifyWebhook(request, ctx.clock.now());
  const parsed = await gateway.parseWebhook(request);
  const outcomes: WebhookHandled['outcomes'] = [];

  for (const received of parsed.events) {
    if (received.kind === 'subscription' || received.kind === 'invoice') {
      outcomes.push({ eventId: received.eventId, outcome: await handleBillingEvent(ctx, gatewayId, received) });
      continue;
    }
    const event: PaymentEvent | Extract<WebhookEvent, { kind: 'ignored' }> = received;
    const cause = { actor: 'webhook' as const, reason: `${gatewayId} webhook ${event.eventId}` };
    let outcome: WebhookOutcome;
    let after: Payment | null = null;
    try {
      outcome = await UnitOfWork.run(ctx, async (unit) => {
        if (event.kind === 'ignored') {
          return (await unit.tx.recordInboundEvent(gatewayId, event.eventId, unit.now)) ? ('ignored' as const) : ('duplicate' as const);
        }
        const payment = await findPayment(unit.tx, gatewayId, event);
        if (!payment) {
          // Not recorded in the inbox: the gateway's retry may find the payment (a create still in flight).
          ctx.logger.warn({ gateway: gatewayId, eventId: event.eventId, gatewayReference: event.gatewayReference }, 'webhook for a payment Tender does not know');
          return 'unknown_payment' as const;
        }
        if (!(await unit.tx.recordInboundEvent(gatewayId, event.eventId, unit.now))) return 'duplicate' as const;
        after = await applyEvent(unit, payment, event, cause);
        if (!after) throw new NeedsRequery(payment, event.kind === 'requery' ? event.reason : 'event arrived before the state it depends on');
        return 'applied' as const;
      });
    } catch (error) {
      if (!(error instanceof NeedsRequery) || event.kind === 'ignored') throw error;
      after = null;
      const requeried = await requeryThenApply(ctx, gatewayId, error.payment, event, error.why, cause);
      outcome = requeried.outcome;
      after = requeried.payment;
    }
    outcomes.push({ eventId: event.eventId, outcome });
    if (after) await settleIfRequested(ctx, after);
  }

  const unknown = outcomes.some((o) => o.outcome === 'unknown_payment');
  if (unknown || outcomes.some((o) => o.outcome === 'deferred')) {
    // Answering with an error makes the gateway retry later instead of losing the event.
    throw unknown
      ? new TenderError({
          type: 'not_found_error',
          code: 'unknown_payment',
          message: 'The webhook refers to a payment this server does not know (yet); retry later',
          retryable: true,
        })
      : new TenderError({
          type: 'gateway_unavailable',
          code: 'webhook_deferred',
          message: 'The webhook cannot be applied yet; retry later',
          retryable: true,
          retryAfterSeconds: 60,
        });
  }
  if (parsed.afterAcknowledge) {
    // Runs after the events are safely stored; its failure must never fail or lose the webhook.
    parsed.afterAcknowledge().catch((error: unknown) => {
      ctx.logger.warn({ gateway: gatewayId, error: String(error) }, 'post-acknowledgement step failed');
    });
  }
  return { ...parsed.acknowledgement, outcomes };
}

/**
 * After an event was applied: a payment the merchant cancelled whose outcome is now known (or one
 * paid after it was cancelled) is voided or refunded. Its failure is logged, never fails the webhook.
 */
async function settleIfRequested(ctx: EngineContext, payment: Payment): Promise<void> {
  if (!(CANCEL_REQUESTED in payment.gatewayData) || payment.status === 'PENDING' || payment.status === 'PROCESSING') return;
  try {
    await ctx.settleRequestedCancel(payment);
  } catch (error) {
    ctx.logger.error({ paymentId: payment.id, status: payment.status, error: String(error) }, 'completing a requested cancel after a webhook failed');
  }
}

/**
 * Requeries the payment (outside any transaction), applies the gateway's current state, then the
 * event itself if it now fits; records the event as done only then.
 */
async function requeryThenApply(
  ctx: EngineContext,
  gatewayId: string,
  payment: Payment,
  event: PaymentEvent,
  why: string,
  cause: ChangeCause,
): Promise<{ outcome: WebhookOutcome; payment: Payment | null }> {
  const gateway = gatewayOf(ctx, gatewayId);
  let result: GatewayPaymentResult;
  try {
    result = await requeryPayment(ctx, gateway, payment);
  } catch (error) {
    ctx.logger.warn({ gateway: gatewayId, eventId: event.eventId, paymentId: payment.id, error: String(error) }, `webhook deferred (${why}); the requery failed`);
    return { outcome: 'deferred', payment: null };
  }
  try {
    return await UnitOfWork.run(ctx, async (unit) => {
      const locked = await unit.tx.lockPayment(payment.id);
      if (!locked) return { outcome: 'unknown_payment' as const, payment: null };
      const current = await unit.applyGatewayResult(locked, result, { ...cause, reason: `${cause.reason}: requery (${why})` });
      if (!(await unit.tx.recordInboundEvent(gatewayId, event.eventId, unit.now))) return { outcome: 'duplicate' as const, payment: current };
      const after = event.kind === 'requery' ? current : await applyEvent(unit, current, event, cause);
      if (!after) throw new NeedsRequery(current, why);
      return { outcome: 'requeried' as const, payment: after };
    });
  } catch (error) {
    if (!(error instanceof NeedsRequery)) throw error;
    // Rolled back whole, inbox record included, so the redelivery is applied in full.
    ctx.logger.warn({ gateway: gatewayId, eventId: event.eventId, paymentId: payment.id }, `webhook deferred (${why}); the gateway's current state does not allow it yet`);
    return { outcome: 'deferred', payment: null };
  }
}
