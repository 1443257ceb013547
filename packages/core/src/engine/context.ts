/**
 * What every engine module shares: the store, the clock, the logger, the gateways and the in-process
 * event listeners.
 *
 * @module
 */
import type { Clock } from '../clock';
import { notFound } from '../errors';
import type { Logger } from '../logger';
import type { GatewayV1 } from '../spec/gateway/v1/index';
import type { OutboxEvent, Store } from '../spec/store/v1/index';
import type { Payment } from '../payment';
import type { EventPayloadEncoder } from '../events/envelope';
import type { RecentPayments } from './recent-payments';
import type { RiskEngine } from '../risk/types';

/** @internal */
export interface EngineContext {
  store: Store;
  clock: Clock;
  logger: Logger;
  gateways: ReadonlyMap<string, GatewayV1>;
  retentionMs: number;
  leaseMs: number;
  defaultMerchantId: string;
  /** Makes each outbox event's published payload when it is written. */
  eventPayload: EventPayloadEncoder;
  /** The payments this engine committed last, so an operation on one needs no read first. */
  recent: RecentPayments;
  /** Called with events after their transaction committed. */
  publish(events: readonly OutboxEvent[]): void;
  /**
   * Voids or refunds a payment marked `cancelRequested` once its outcome is known (set by
   * `createTender`); webhook handling and the reconciler call it after their change committed.
   */
  settleRequestedCancel(payment: Payment): Promise<unknown>;
  /** The risk engine every create goes through (`createTender({ risk })`), if any. */
  risk?: RiskEngine;
}

/** @internal */
export function gatewayOf(ctx: EngineContext, id: string): GatewayV1 {
  const gateway = ctx.gateways.get(id);
  if (!gateway) throw notFound('gateway', id);
  return gateway;
}

/** @internal */
export function nowIso(ctx: EngineContext): string {
  return ctx.clock.now().toISOString();
}
