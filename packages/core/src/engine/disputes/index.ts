/**
 * `tender.disputes`: reading the disputes recorded from the gateways' webhooks (see `apply.ts` for
 * how they are recorded). Every read is scoped to one merchant: another merchant's dispute is a 404.
 *
 * @module
 */
import type { Dispute, DisputeStatus, DisputeTransition } from '../../dispute';
import { DISPUTE_STATUSES } from '../../dispute';
import { invalidRequest, notFound } from '../../errors';
import type { EngineContext } from '../context';
import type { Page } from '../payments/reads';
import { optionalId, pageLimit } from '../billing/inputs';

export { applyDisputeReport, type DisputeReportSource } from './apply';

/** Options of {@link DisputeOperations.list}. */
export interface ListDisputesInput {
  merchantId?: string;
  /** Only this payment's disputes. */
  paymentId?: string;
  status?: DisputeStatus;
  /** 1–100, default 20. */
  limit?: number;
  /** The id of the last dispute of the previous page. */
  startingAfter?: string;
}

/** The engine's dispute reads. */
export interface DisputeOperations {
  /** A dispute by id; 404 `resource_missing` for an unknown id or another merchant's. */
  get(id: string, options?: { merchantId?: string }): Promise<Dispute>;
  /** The merchant's disputes, newest opened first, a page at a time. 400 for a bad limit, status or cursor. */
  list(input?: ListDisputesInput): Promise<Page<Dispute>>;
  /** A payment's disputes, newest opened first; 404 for another merchant's payment. */
  listForPayment(paymentId: string, options?: { merchantId?: string }): Promise<Dispute[]>;
  /** A dispute's audit trail, oldest first; 404 as {@link DisputeOperations.get}. */
  transitions(id: string, options?: { merchantId?: string }): Promise<DisputeTransition[]>;
}

/** @internal */
export function createDisputeOperations(ctx: EngineContext): DisputeOperations {
  const merchant = (o?: { merchantId?: string }) => o?.merchantId ?? ctx.defaultMerchantId;
  const get = async (id: string, o?: { merchantId?: string }): Promise<Dispute> => {
    const dispute = typeof id === 'string' ? await ctx.store.getDispute(id, merchant(o)) : null;
    if (!dispute) throw notFound('dispute', String(id));
    return dispute;
  };
  return {
    get,
    async list(input = {}) {
      const limit = pageLimit(input.limit);
      const status = input.status;
      if (status !== undefined && !DISPUTE_STATUSES.includes(status)) {
        throw invalidRequest('invalid_status', `status must be one of ${DISPUTE_STATUSES.join(', ')}`, 'status');
      }
      const paymentId = optionalId(input.paymentId, 'payment_id') ?? undefined;
      const startingAfter = optionalId(input.startingAfter, 'starting_after') ?? undefined;
      const rows = await ctx.store.listDisputes({ merchantId: merchant(input), paymentId, status, limit: limit + 1, startingAfter });
      const data = rows.slice(0, limit);
      const hasMore = rows.length > limit;
      return { data, hasMore, nextCursor: hasMore ? data[data.length - 1]!.id : null };
    },
    async listForPayment(paymentId, o) {
      const payment = typeof paymentId === 'string' ? await ctx.store.getPayment(paymentId, merchant(o)) : null;
      if (!payment) throw notFound('payment', String(paymentId));
      return ctx.store.listDisputes({ merchantId: payment.merchantId, paymentId: payment.id });
    },
    async transitions(id, o) {
      const dispute = await get(id, o);
      return ctx.store.listDisputeTransitions(dispute.id);
    },
  };
}
