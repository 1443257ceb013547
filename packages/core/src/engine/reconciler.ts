/**
 * The reconciler: finds payments whose truth is unknown here (`PENDING` or `PROCESSING` after a crash
 * or an ambiguous gateway answer, `REQUIRES_ACTION` left by the customer, `PENDING` refunds) and asks
 * the gateway (`retrieve`, Fiuu's requery) what really happened. Payments created with `confirm: false`
 * and not authorised are `PENDING` too, but no gateway has heard of them: they are left alone, and an
 * authorised one's age counts from its authorize. Safe to run from several processes:
 * each update happens under the payment's row lock and through the transition table.
 *
 * @module
 */
import { setBounded } from '../bounded';
import { TenderError } from '../errors';
import { refundAmount, type Payment } from '../payment';
import { GATEWAY_PAYMENT_NOT_FOUND, type GatewayPaymentResult } from '../spec/gateway/v1/index';
import type { ReconcileQuery } from '../spec/store/v1/index';
import { type EngineContext } from './context';
import { isUnconfirmed, startedAt } from './payments/unconfirmed';
import { requeryPayment } from './requery';
import { CANCEL_REQUESTED, UnitOfWork, type ChangeCause } from './unit-of-work';

/** Reconciler settings. */
export interface ReconcileOptions {
  /** `PENDING`/`PROCESSING` payments and `PENDING` refunds untouched this long are requeried (default 30 s). */
  processingAfterMs?: number;
  /**
   * `REQUIRES_ACTION` payments older than this are requeried and, if still unpaid, expired (default 30 min).
   * A payment whose next action carries its own `expiresAt` (a UPI intent or collect request) is
   * requeried and expired once that time has passed, even when it is sooner.
   */
  requiresActionTtlMs?: number;
  /** At most this many payments per run (default 100). */
  batchSize?: number;
}

/** What one reconciliation run did. */
export interface ReconcileReport {
  checked: number;
  updated: number;
  expired: number;
  refundsChecked: number;
  /** Payments and refunds whose check failed this run; each is backed off and retried later. */
  errors: number;
  /** Payments left out of this run because a recent check of theirs failed. */
  backedOff: number;
}

/**
 * Per-process memory of payments whose check failed: each failure doubles the pause before the next
 * try (30 s, 1 min, ... up to 1 h), so one bad payment neither stops the batch nor is retried in a
 * tight loop. Bounded: the oldest entries are forgotten first.
 */
export class ReconcileBackoff {
  private readonly entries = new Map<string, { failures: number; until: number }>();

  /** True while `id` waits at `now`. */
  active(id: string, now: number): boolean {
    const entry = this.entries.get(id);
    return entry !== undefined && entry.until > now;
  }

  /** Records a failed check of `id` at `now`. */
  failed(id: string, now: number): void {
    const failures = (this.entries.get(id)?.failures ?? 0) + 1;
    this.entries.delete(id);
    setBounded(this.entries, id, { failures, until: now + Math.min(60 * 60_000, 30_000 * 2 ** (failures - 1)) }, 10_000);
  }

  /** Forgets `id` after a check that went through. */
  succeeded(id: string): void {
    this.entries.delete(id);
  }

  /** How many payments wait. */
  get size(): number {
    return this.entries.size;
  }
}

const MARKERS = ['pendingCapture', 'pendingCancelFrom'];
const OPEN = new Set(['PENDING', 'PROCESSING', 'REQUIRES_ACTION']);

/** @internal */
export async function reconcile(ctx: EngineContext, backoff: ReconcileBackoff, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const processingAfterMs = options.processingAfterMs ?? 30_000;
  const ttlMs = options.requiresActionTtlMs ?? 30 * 60_000;
  const batchSize = options.batchSize ?? 100;
  const now = ctx.clock.now();
  const report: ReconcileReport = { checked: 0, updated: 0, expired: 0, refundsChecked: 0, errors: 0, backedOff: 0 };
  const cause = { actor: 'reconciler' as const, reason: 'requery' };
  // Payments backing off still come first from the store (oldest first): ask for enough to fill a batch.
  const fetch = batchSize + Math.min(backoff.size, 10 * batchSize);
  const due = (rows: Payment[]): Payment[] => {
    const ready = rows.filter((p) => !backoff.active(p.id, now.getTime()));
    report.backedOff += rows.length - ready.length;
    return ready.slice(0, batchSize);
  };

  const stuck = await startedPayments(ctx, {
    statuses: ['PENDING', 'PROCESSING'],
    updatedBefore: new Date(now.getTime() - processingAfterMs + 1).toISOString(),
    limit: fetch,
  });
  const waiting = await ctx.store.listPaymentsToReconcile({
    statuses: ['REQUIRES_ACTION'],
    updatedBefore: new Date(now.getTime() - ttlMs + 1).toISOString(),
    limit: fetch,
  });

  // Payments with their own deadline are due when it has passed. Oldest first, so with one deadline
  // window per gateway the expired ones lead the list.
  const seen = new Set(waiting.map((p) => p.id));
  const deadlined = (
    await ctx.store.listPaymentsToReconcile({
      statuses: ['REQUIRES_ACTION'],
      updatedBefore: new Date(now.getTime() - processingAfterMs + 1).toISOString(),
      limit: fetch,
    })
  ).filter((p) => !seen.has(p.id) && deadlinePassed(p, now));

  for (const payment of [...due(stuck), ...due(waiting), ...due(deadlined)]) {
    report.checked++;
    try {
      const changed = await reconcilePayment(ctx, payment, now, ttlMs, cause);
      backoff.succeeded(payment.id);
      if (changed === 'updated') report.updated++;
      if (changed === 'expired') report.expired++;
    } catch (error) {
      // Errors are per payment: the batch goes on, and this payment waits before its next try.
      report.errors++;
      backoff.failed(payment.id, now.getTime());
      ctx.logger.warn({ paymentId: payment.id, error: String(error) }, 'reconciling a payment failed; backing off, the batch goes on');
    }
  }

  const refunds = await ctx.store.listPendingRefunds({ createdBefore: new Date(now.getTime() - processingAfterMs + 1).toISOString(), limit: batchSize });
  for (const refund of refunds) {
    report.refundsChecked++;
    try {
      const payment = await ctx.store.getPayment(refund.paymentId);
      const gateway = payment ? ctx.gateways.get(payment.gateway) : undefined;
      if (!payment || !gateway) continue;
      const reported = gateway.retrieveRefund
        ? [
            await gateway.retrieveRefund(
              { refundId: refund.id, paymentId: payment.id, gatewayReference: refund.gatewayReference, paymentGatewayReference: payment.gatewayReference, amount: refundAmount(refund) },
              { idempotencyKey: `${refund.id}/retrieve`, now: ctx.clock.now() },
            ),
          ].map((r) => ({ ...r, refundId: r.refundId ?? refund.id }))
        : ((await requeryPayment(ctx, gateway, payment)).refunds ?? []);
      await UnitOfWork.run(ctx, async (unit) => {
        const current = await unit.tx.lockPayment(payment.id);
        if (current) await unit.syncRefunds(current, reported, cause);
      });
    } catch (error) {
      report.errors++;
      ctx.logger.warn({ refundId: refund.id, error: String(error) }, 'refund requery failed; will try again');
    }
  }
  return report;
}

/** How many rows one run reads at most, as a multiple of its page, to see past unconfirmed payments. */
const UNCONFIRMED_SCAN_FACTOR = 20;

/**
 * The payments `query` selects, without unconfirmed ones (created with `confirm: false`, never sent:
 * nothing to ask a gateway). They are `PENDING` and never updated while they wait, so the oldest
 * rows may all be theirs: the read grows (up to {@link UNCONFIRMED_SCAN_FACTOR} pages) until it has a
 * page of others or has seen every row.
 */
async function startedPayments(ctx: EngineContext, query: ReconcileQuery): Promise<Payment[]> {
  const most = query.limit * UNCONFIRMED_SCAN_FACTOR;
  for (let limit = query.limit; ; limit = Math.min(limit * 4, most)) {
    const rows = await ctx.store.listPaymentsToReconcile({ ...query, limit });
    const started = rows.filter((p) => !isUnconfirmed(p));
    if (started.length >= query.limit || rows.length < limit || limit >= most) return started.slice(0, query.limit);
  }
}

/** True when the payment's next action has a deadline (`expiresAt`) and it is past. */
function deadlinePassed(payment: Payment, now: Date): boolean {
  const action = payment.nextAction;
  const expiresAt = action && 'expiresAt' in action ? action.expiresAt : undefined;
  if (!expiresAt) return false;
  const at = Date.parse(expiresAt);
  return Number.isFinite(at) && at <= now.getTime();
}

/** Requeries and resolves one payment; throws what fails, for the caller to count and back off. */
async function reconcilePayment(
  ctx: EngineContext,
  payment: Payment,
  now: Date,
  ttlMs: number,
  cause: ChangeCause,
): Promise<'skipped' | 'same' | 'updated' | 'expired'> {
  const gateway = ctx.gateways.get(payment.gateway);
  if (!gateway) return 'skipped';
  let result: GatewayPaymentResult | null = null;
  let missing = false;
  try {
    result = await requeryPayment(ctx, gateway, payment);
  } catch (error) {
    if (!TenderError.isInstance(error) || error.code !== GATEWAY_PAYMENT_NOT_FOUND) throw error;
    missing = true;
  }
  const expired = new Date(startedAt(payment)).getTime() <= now.getTime() - ttlMs || deadlinePassed(payment, now);
  const outcome = await UnitOfWork.run(ctx, async (unit) => {
    const current = await unit.tx.lockPayment(payment.id);
    // Someone else (a webhook, another reconciler) got there first.
    if (!current || current.version !== payment.version || isUnconfirmed(current)) return { changed: 'skipped' as const, next: current };
    let next: Payment = current;
    if (result) next = await unit.applyGatewayResult(current, result, cause);
    const pendingOperation = MARKERS.some((m) => m in next.gatewayData);
    const cancelRequested = CANCEL_REQUESTED in next.gatewayData;
    if (OPEN.has(next.status) && !pendingOperation && ((missing && cancelRequested) || expired)) {
      // The customer never finished (or the gateway never received it) within the time allowed, or the
      // merchant cancelled a payment the gateway never received: nothing is held anywhere.
      const gatewayData = { ...next.gatewayData };
      delete gatewayData[CANCEL_REQUESTED];
      const status = cancelRequested ? ('CANCELLED' as const) : ('EXPIRED' as const);
      next = await unit.writePayment(
        next,
        {
          ...next,
          status,
          gatewayData,
          nextAction: null,
          failure: cancelRequested ? null : { code: missing ? 'not_found_at_gateway' : 'expired', message: 'The payment was not completed in time' },
        },
        { ...cause, reason: cancelRequested ? 'cancelled; the gateway has no record of the payment' : missing ? 'gateway has no record of the payment' : 'not completed in time' },
      );
      return { changed: 'expired' as const, next };
    }
    if (next.status !== 'PROCESSING' && pendingOperation) {
      const gatewayData = { ...next.gatewayData };
      for (const m of MARKERS) delete gatewayData[m];
      next = await unit.writePayment(next, { ...next, gatewayData }, cause);
    }
    return { changed: next === current ? ('same' as const) : ('updated' as const), next };
  });
  if (outcome.next && CANCEL_REQUESTED in outcome.next.gatewayData && outcome.next.status !== 'PENDING' && outcome.next.status !== 'PROCESSING') {
    // The outcome the cancel waited for is known now: void or refund it.
    await ctx.settleRequestedCancel(outcome.next);
  }
  return outcome.changed;
}
