/**
 * Subscription and invoice webhooks: requery the object the event names and mirror the answer.
 *
 * @module
 */
import type { WebhookEvent } from '../../spec/gateway/v1/index';
import type { EngineContext } from '../context';
import type { WebhookOutcome } from '../webhooks';

/** @internal Applies one subscription or invoice event (see the module comment). */
export async function handleBillingEvent(
  ctx: EngineContext,
  gatewayId: string,
  event: Extract<WebhookEvent, { kind: 'subscription' | 'invoice' }>,
): Promise<WebhookOutcome> {
  // Placeholder until the billing engine lands: recorded as seen, changes nothing.
  return (await ctx.store.transaction((tx) => tx.recordInboundEvent(gatewayId, event.eventId, ctx.clock.now().toISOString()))) ? 'ignored' : 'duplicate';
}
