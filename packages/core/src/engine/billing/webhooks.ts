/**
 * Subscription and invoice webhooks (Stripe `customer.subscription.*`, `invoice.*`): the event only
 * says which object changed. The object is requeried over the gateway's authenticated API, outside
 * any transaction, and the answer is mirrored (`mirror.ts`) in one transaction together with the
 * event's inbox record. So nothing unsigned decides, a redelivery is a `duplicate`, and duplicated or
 * shuffled deliveries end in the same records as in-order ones: each apply reads the gateway's
 * current state, and an older read never overwrites a newer one.
 *
 * - A subscription not stored yet (its webhook beat the create call's answer, or it was made
 *   outside this engine) is bound only through the `tender_*` metadata on the requeried object; an
 *   object without it is `ignored` (recorded, logged).
 * - An invoice whose subscription is not stored yet has the subscription requeried and mirrored
 *   first, in the same transaction; an invoice of no Tender subscription is `ignored`.
 * - A requery that fails leaves the event `deferred` (not recorded), which the webhook handler turns
 *   into a retryable 503 so the gateway delivers it again; one the gateway answers with "no such
 *   object" is `ignored` (recorded), as no redelivery could find it.
 *
 * The inbox is checked when the event is recorded (after the requery): the store has no read of the
 * inbox alone, so a redelivery costs one requery and changes nothing.
 *
 * @module
 */
import type { Subscription } from '../../billing';
import { TenderError } from '../../errors';
import type { GatewayInvoiceResult, GatewaySubscriptionResult, WebhookEvent } from '../../spec/gateway/v1/index';
import type { EngineContext } from '../context';
import type { UnitOfWork } from '../unit-of-work';
import type { WebhookOutcome } from '../webhooks';
import { applyInvoice, applySubscription, runMirror, type ReportSource } from './mirror';
import { billingGateway, type BillingGateway } from './select-gateway';

type BillingEvent = Extract<WebhookEvent, { kind: 'subscription' | 'invoice' }>;

/** A requery's answer and when it started. */
interface Read<T> {
  result: T;
  readAt: string;
}

async function timed<T>(ctx: EngineContext, call: (now: Date) => Promise<T>): Promise<Read<T>> {
  const now = ctx.clock.now();
  return { result: await call(now), readAt: now.toISOString() };
}

/** True for a gateway's answer that the object does not exist (Stripe `resource_missing`). */
function gone(error: unknown): boolean {
  return TenderError.isInstance(error) && (error.type === 'not_found_error' || error.code === 'resource_missing');
}

/** @internal Applies one subscription or invoice event (see the module comment). */
export async function handleBillingEvent(ctx: EngineContext, gatewayId: string, event: BillingEvent): Promise<WebhookOutcome> {
  const record = (unit: UnitOfWork) => unit.tx.recordInboundEvent(gatewayId, event.eventId, unit.now);
  let gateway: BillingGateway<'subscriptions'>;
  try {
    gateway = billingGateway(ctx, 'subscriptions', gatewayId);
  } catch {
    // A gateway that reports billing events but runs no subscriptions here: nothing to mirror.
    ctx.logger.info({ gateway: gatewayId, eventId: event.eventId, type: event.type }, 'billing webhook from a gateway without subscriptions; ignored');
    return (await ctx.store.transaction((tx) => tx.recordInboundEvent(gatewayId, event.eventId, ctx.clock.now().toISOString()))) ? 'ignored' : 'duplicate';
  }
  const cause = { actor: 'webhook' as const, reason: `${gatewayId} webhook ${event.eventId} (${event.type})` };
  const source = (readAt: string): ReportSource => ({ gateway: gatewayId, readAt, cause });
  const defer = async (error: unknown): Promise<WebhookOutcome> => {
    if (gone(error)) {
      // The gateway's API says the object does not exist (a test clock deleted with its customers):
      // nothing will ever be there to mirror, so the event is done rather than retried for days.
      ctx.logger.info({ gateway: gatewayId, eventId: event.eventId, type: event.type }, 'billing webhook of an object the gateway no longer has; ignored');
      return (await ctx.store.transaction((tx) => tx.recordInboundEvent(gatewayId, event.eventId, ctx.clock.now().toISOString()))) ? 'ignored' : 'duplicate';
    }
    ctx.logger.warn({ gateway: gatewayId, eventId: event.eventId, type: event.type, error: String(error) }, 'billing webhook deferred: the requery failed');
    return 'deferred';
  };
  const retrieve = (reference: string) =>
    timed(ctx, (now) => gateway.subscriptions.retrieve({ gatewayReference: reference }, { idempotencyKey: `retrieve_subscription:${reference}`, now }));

  if (event.kind === 'subscription') {
    let read: Read<GatewaySubscriptionResult>;
    try {
      read = await retrieve(event.gatewayReference);
    } catch (error) {
      return defer(error);
    }
    return runMirror(ctx, async (unit) => {
      if (!(await record(unit))) return 'duplicate';
      const after = await applySubscription(unit, read.result, source(read.readAt), null);
      if (!after) ctx.logger.info({ gateway: gatewayId, eventId: event.eventId, gatewayReference: event.gatewayReference }, 'subscription webhook of no Tender subscription; ignored');
      return after ? 'applied' : 'ignored';
    });
  }

  let invoice: Read<GatewayInvoiceResult>;
  let subscriptionRead: Read<GatewaySubscriptionResult> | null = null;
  try {
    invoice = await timed(ctx, (now) => gateway.subscriptions.retrieveInvoice({ gatewayReference: event.gatewayReference }, { idempotencyKey: `retrieve_invoice:${event.gatewayReference}`, now }));
    const reference = invoice.result.subscriptionReference;
    if (reference && !(await ctx.store.findSubscriptionByGatewayReference(gatewayId, reference))) subscriptionRead = await retrieve(reference);
  } catch (error) {
    return defer(error);
  }
  const reference = invoice.result.subscriptionReference;
  return runMirror(ctx, async (unit) => {
    if (!(await record(unit))) return 'duplicate';
    let subscription: Subscription | null = null;
    if (reference) {
      const stored = await unit.tx.findSubscriptionByGatewayReference(gatewayId, reference);
      if (stored) subscription = (await unit.tx.lockSubscription(stored.id)) ?? stored;
      else if (subscriptionRead) subscription = await applySubscription(unit, subscriptionRead.result, source(subscriptionRead.readAt), null);
    }
    if (!subscription) {
      ctx.logger.info({ gateway: gatewayId, eventId: event.eventId, gatewayReference: event.gatewayReference }, 'invoice webhook of no Tender subscription; ignored');
      return 'ignored';
    }
    return (await applyInvoice(unit, invoice.result, source(invoice.readAt), subscription)) ? 'applied' : 'ignored';
  });
}
