/**
 * Reads: a payment by id, a page of a merchant's payments (or of one of its users), and the requery
 * that `sync` applies (never for an unconfirmed payment: no gateway has heard of it).
 *
 * @module
 */
import { TenderError, invalidRequest, notFound } from '../../errors';
import type { Payment, PaymentStatus } from '../../payment';
import { GATEWAY_PAYMENT_NOT_FOUND, type GatewayPaymentResult } from '../../spec/gateway/v1/index';
import type { EngineContext } from '../context';
import { requeryPayment } from '../requery';
import { CANCEL_REQUESTED, UnitOfWork } from '../unit-of-work';
import { validateUserId } from '../inputs';
import { merchantOf } from './steps';
import { isUnconfirmed } from './unconfirmed';

/** Options of `tender.payments.list`. */
export interface ListPaymentsOptions {
  merchantId?: string;
  /** 1-100, default 20. */
  limit?: number;
  /** Cursor: the id of the last payment of the previous page. */
  startingAfter?: string;
  orderId?: string;
  status?: PaymentStatus;
  /** Only payments of this user ({@link Payment.userId}). */
  userId?: string;
}

/** A page of results. */
export interface Page<T> {
  data: T[];
  hasMore: boolean;
  /** Pass as `startingAfter` to get the next page. */
  nextCursor: string | null;
}

/** A payment by id (404 for another merchant's payment). */
export async function getPayment(ctx: EngineContext, id: string, options: { merchantId?: string } = {}): Promise<Payment> {
  const payment = await ctx.store.getPayment(id, merchantOf(ctx, options));
  if (!payment) throw notFound('payment', id);
  return payment;
}

/** Payments of a merchant, newest first, with cursor pagination. */
export async function listPayments(ctx: EngineContext, options: ListPaymentsOptions = {}): Promise<Page<Payment>> {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidRequest('invalid_limit', 'limit must be an integer from 1 to 100', 'limit');
  const rows = await ctx.store.listPayments({
    merchantId: merchantOf(ctx, options),
    limit: limit + 1,
    ...(options.startingAfter ? { startingAfter: options.startingAfter } : {}),
    ...(options.orderId ? { orderId: options.orderId } : {}),
    ...(options.status ? { status: options.status } : {}),
    ...(options.userId !== undefined ? { userId: validateUserId(options.userId) } : {}),
  });
  const data = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { data, hasMore, nextCursor: hasMore ? data[data.length - 1]!.id : null };
}

/** Requeries the payment at its gateway and applies the answer (a failed requery answers the payment as stored). */
export async function requeryAndApply(ctx: EngineContext, payment: Payment): Promise<Payment> {
  if (isUnconfirmed(payment)) return payment;
  const gateway = ctx.gateways.get(payment.gateway);
  if (!gateway) return payment;
  let result: GatewayPaymentResult;
  try {
    result = await requeryPayment(ctx, gateway, payment);
  } catch (error) {
    if (!TenderError.isInstance(error) || error.code !== GATEWAY_PAYMENT_NOT_FOUND) {
      ctx.logger.warn({ paymentId: payment.id, error: String(error) }, 'sync: the requery failed; the reconciler tries again');
    }
    return payment;
  }
  const after = await UnitOfWork.run(ctx, async (unit) => {
    const current = await unit.tx.lockPayment(payment.id);
    if (!current) return payment;
    return unit.applyGatewayResult(current, result, { actor: 'reconciler', reason: 'sync: requery' });
  });
  if (CANCEL_REQUESTED in after.gatewayData && after.status !== 'PENDING' && after.status !== 'PROCESSING') await ctx.settleRequestedCancel(after);
  return after;
}
