/**
 * The reconciler: finds payments whose truth is unknown here (`PENDING` or `PROCESSING` after a crash
 * or an ambiguous gateway answer, `REQUIRES_ACTION` left by the customer, `PENDING` refunds) and asks
 * the gateway (`retrieve`, Fiuu's requery) what really happened. Safe to run from several processes:
 * each update happens under the payment's row lock and through the transition table.
 *
 * @module
 */
import { TenderError } from '../errors';
import { Money } from '../money';
import type { Payment } from '../payment';
import { GATEWAY_PAYMENT_NOT_FOUND, type GatewayPaymentResult } from '../spec/gateway-v1';
import { type EngineContext } from './context';
import { UnitOfWork } from './unit-of-work';

/** Reconciler settings. */
export interface ReconcileOptions {
  /** `PENDING`/`PROCESSING` payments and `PENDING` refunds untouched this long are requeried (default 30 s). */
  processingAfterMs?: number;
  /** `REQUIRES_ACTION` payments older than this are requeried and, if still unpaid, expired (default 30 min). */
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
  errors: number;
}

const MARKERS = ['pendingCapture', 'pendingCancelFrom'];

/** @internal */
export async function reconcile(ctx: EngineContext, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const processingAfterMs = options.processingAfterMs ?? 30_000;
  const ttlMs = options.requiresActionTtlMs ?? 30 * 60_000;
  const batchSize = options.batchSize ?? 100;
  const now = ctx.clock.now();
  const report: ReconcileReport = { checked: 0, updated: 0, expired: 0, refundsChecked: 0, errors: 0 };
  const cause = { actor: 'reconciler' as const, reason: 'requery' };

  const stuck = await ctx.store.listPaymentsToReconcile({
    statuses: ['PENDING', 'PROCESSING'],
    updatedBefore: new Date(now.getTime() - processingAfterMs + 1).toISOString(),
    limit: batchSize,
  });
  const waiting = await ctx.store.listPaymentsToReconcile({
    statuses: ['REQUIRES_ACTION'],
    updatedBefore: new Date(now.getTime() - ttlMs + 1).toISOString(),
    limit: batchSize,
  });

  for (const payment of [...stuck, ...waiting]) {
    report.checked++;
    const gateway = ctx.gateways.get(payment.gateway);
    if (!gateway) continue;
    let result: GatewayPaymentResult | null = null;
    let missing = false;
    try {
      result = await gateway.retrieve(
        {
          paymentId: payment.id,
          orderId: payment.orderId,
          gatewayReference: payment.gatewayReference,
          amount: Money.of(payment.amount, payment.currency),
          gatewayData: payment.gatewayData,
        },
        { idempotencyKey: `${payment.id}/retrieve`, now: ctx.clock.now() },
      );
    } catch (error) {
      if (TenderError.isInstance(error) && error.code === GATEWAY_PAYMENT_NOT_FOUND) {
        missing = true;
      } else {
        report.errors++;
        ctx.logger.warn({ paymentId: payment.id, error: String(error) }, 'requery failed; will try again');
        continue;
      }
    }
    const expired = new Date(payment.createdAt).getTime() <= now.getTime() - ttlMs;
    const changed = await UnitOfWork.run(ctx, async (unit) => {
      const current = await unit.tx.lockPayment(payment.id);
      // Someone else (a webhook, another reconciler) got there first.
      if (!current || current.version !== payment.version) return 'skipped' as const;
      let next: Payment = current;
      if (result) next = await unit.applyGatewayResult(current, result, cause);
      const unresolved = next.status === 'PENDING' || next.status === 'PROCESSING' || next.status === 'REQUIRES_ACTION';
      if (unresolved && expired && !MARKERS.some((m) => m in next.gatewayData)) {
        // The customer never finished (or the gateway never received it) within the time allowed.
        next = await unit.writePayment(
          next,
          { ...next, status: 'EXPIRED', nextAction: null, failure: { code: missing ? 'not_found_at_gateway' : 'expired', message: 'The payment was not completed in time' } },
          { ...cause, reason: missing ? 'gateway has no record of the payment' : 'not completed in time' },
        );
        return 'expired' as const;
      }
      if (next.status !== 'PROCESSING' && MARKERS.some((m) => m in next.gatewayData)) {
        const gatewayData = { ...next.gatewayData };
        for (const m of MARKERS) delete gatewayData[m];
        next = await unit.writePayment(next, { ...next, gatewayData }, cause);
      }
      return next === current ? ('same' as const) : ('updated' as const);
    });
    if (changed === 'updated') report.updated++;
    if (changed === 'expired') report.expired++;
  }

  const refunds = await ctx.store.listPendingRefunds({ createdBefore: new Date(now.getTime() - processingAfterMs + 1).toISOString(), limit: batchSize });
  for (const refund of refunds) {
    report.refundsChecked++;
    const payment = await ctx.store.getPayment(refund.paymentId);
    const gateway = payment ? ctx.gateways.get(payment.gateway) : undefined;
    if (!payment || !gateway) continue;
    try {
      const reported = gateway.retrieveRefund
        ? [
            await gateway.retrieveRefund(
              { refundId: refund.id, paymentId: payment.id, gatewayReference: refund.gatewayReference, paymentGatewayReference: payment.gatewayReference, amount: Money.of(refund.amount, refund.currency) },
              { idempotencyKey: `${refund.id}/retrieve`, now: ctx.clock.now() },
            ),
          ].map((r) => ({ ...r, refundId: r.refundId ?? refund.id }))
        : ((
            await gateway.retrieve(
              { paymentId: payment.id, orderId: payment.orderId, gatewayReference: payment.gatewayReference, amount: Money.of(payment.amount, payment.currency), gatewayData: payment.gatewayData },
              { idempotencyKey: `${payment.id}/retrieve`, now: ctx.clock.now() },
            )
          ).refunds ?? []);
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
