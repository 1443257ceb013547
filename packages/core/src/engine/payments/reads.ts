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
import { instantOf } from '../analytics/window';
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
  /** Only payments through this gateway (`Payment.gateway`, e.g. `stripe`). */
  gateway?: string;
  /** Only payments created at or after this instant: a date (`YYYY-MM-DD`, 00:00 UTC) or an ISO 8601 instant with a zone. */
  createdFrom?: string;
  /** Only payments created before this instant (exclusive), in the same forms as `createdFrom`. */
  createdBefore?: string;
}

/** A page of results. */
export interface Page<T> {
  data: T[];
  hasMore: boolean;
  /** Pass as `startingAfter` to get the next page. */
  nextCursor: string | null;
}

/**
 * The gateway and creation-window filters of a payment list, checked.
 * @throws TenderError 400 `parameter_invalid` for an empty gateway, a malformed bound, or `createdBefore` not after `createdFrom`.
 */
function createdFilters(options: ListPaymentsOptions): { gateway?: string; createdFrom?: string; createdBefore?: string } {
  const out: { gateway?: string; createdFrom?: string; createdBefore?: string } = {};
  if (options.gateway !== undefined) {
    if (typeof options.gateway !== 'string' || !/^[a-z0-9_-]{1,64}$/i.test(options.gateway)) throw invalidRequest('parameter_invalid', 'gateway must be a gateway name', 'gateway');
    out.gateway = options.gateway;
  }
  const from = options.createdFrom === undefined ? undefined : instantOf(options.createdFrom, 'created_from');
  const before = options.createdBefore === undefined ? undefined : instantOf(options.createdBefore, 'created_before');
  if (from !== undefined && before !== undefined && before <= from) throw invalidRequest('parameter_invalid', 'created_before must be after created_from (created_before is exclusive)', 'created_before');
  if (from !== undefined) out.createdFrom = new Date(from).toISOString();
  if (before !== undefined) out.createdBefore = new Date(before).toISOString();
  return out;
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
    ...createdFilters(options),
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
