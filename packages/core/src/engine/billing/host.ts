/**
 * What the billing modules share: the engine context, and the calls running in this process that
 * concurrent callers join instead of repeating.
 *
 * @module
 */
import type { GatewayCustomer } from '../../billing';
import type { EngineContext } from '../context';
import type { ChangeCause } from '../unit-of-work';
import type { Page } from '../payments/reads';
import type { BillingCallOptions } from './types';

/** @internal */
export interface BillingHost {
  ctx: EngineContext;
  /** First-use customer creations in flight, by (merchant, user, gateway). */
  ensuring: Map<string, Promise<GatewayCustomer>>;
}

/** @internal A new host over `ctx`. */
export function billingHost(ctx: EngineContext): BillingHost {
  return { ctx, ensuring: new Map() };
}

/** The merchant a call acts for. */
export function merchantOf(host: BillingHost, options?: { merchantId?: string }): string {
  return options?.merchantId ?? host.ctx.defaultMerchantId;
}

/** Who made a change through the API, and why (the audit trail's actor and reason). */
export function apiCause(options: BillingCallOptions | undefined, reason: string): ChangeCause {
  return { actor: options?.actor ?? 'api', reason };
}

/** A page of `limit` from `rows` read with `limit + 1` (the extra row says there is more). */
export function pageOf<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const data = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { data, hasMore, nextCursor: hasMore ? data[data.length - 1]!.id : null };
}
