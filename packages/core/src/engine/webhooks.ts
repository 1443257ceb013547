/**
 * Inbound webhooks: verify the signature on the raw bytes, turn the body into normalised events,
 * apply each new event in its own transaction together with its inbox record (so a duplicate is
 * recognised and a crash mid-way is retried by the provider), then acknowledge the way the gateway expects.
 *
 * @module
 */
import { TenderError } from '../errors';
import type { Payment } from '../payment';
import type { WebhookAcknowledgement, WebhookEvent, WebhookRequest } from '../spec/gateway-v1';
import type { StoreTx } from '../spec/store';
import { gatewayOf, type EngineContext } from './context';
import { UnitOfWork } from './unit-of-work';

/** What `tender.webhooks.handle` returns: the acknowledgement, plus what happened, for logs and metrics. */
export interface WebhookHandled extends WebhookAcknowledgement {
  /** Per event: applied, duplicate, ignored or unknown_payment. */
  outcomes: Array<{ eventId: string; outcome: 'applied' | 'duplicate' | 'ignored' | 'unknown_payment' }>;
}

async function findPayment(tx: StoreTx, gateway: string, event: Exclude<WebhookEvent, { kind: 'ignored' }>): Promise<Payment | null> {
  if (event.paymentId) {
    const byId = await tx.lockPayment(event.paymentId);
    if (byId && byId.gateway === gateway) return byId;
  }
  if (event.gatewayReference) {
    const byRef = await tx.findPaymentByGatewayReference(gateway, event.gatewayReference);
    if (byRef) return tx.lockPayment(byRef.id);
  }
  // The order id a gateway echoes is our payment id when the merchant gave none (Fiuu's orderid);
  // that finds the payment even when the report carries neither our metadata nor a known reference.
  if (event.orderId && event.orderId !== event.paymentId && event.orderId.startsWith('pay_')) {
    const byOrder = await tx.lockPayment(event.orderId);
    if (byOrder && byOrder.gateway === gateway && byOrder.orderId === null) return byOrder;
  }
  return null;
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
  const cause = { actor: 'webhook' as const, reason: `${gatewayId} webhook` };

  for (const event of parsed.events) {
    const outcome = await UnitOfWork.run(ctx, async (unit) => {
      const payment = event.kind === 'ignored' ? null : await findPayment(unit.tx, gatewayId, event);
      if (event.kind !== 'ignored' && !payment) {
        // Not recorded in the inbox: the gateway's retry may find the payment (a create still in flight).
        ctx.logger.warn({ gateway: gatewayId, eventId: event.eventId, gatewayReference: event.gatewayReference }, 'webhook for a payment Tender does not know');
        return 'unknown_payment' as const;
      }
      const fresh = await unit.tx.recordInboundEvent(gatewayId, event.eventId, unit.now);
      if (!fresh) return 'duplicate' as const;
      if (event.kind === 'ignored' || !payment) return 'ignored' as const;
      const eventCause = { ...cause, reason: `${cause.reason} ${event.eventId}` };
      if (event.kind === 'payment') {
        await unit.applyGatewayResult(payment, event.result, eventCause);
      } else if (event.kind === 'refund') {
        await unit.syncRefunds(payment, [event.refund], eventCause);
      } else {
        await unit.note(payment, event.type, eventCause, event.data);
      }
      return 'applied' as const;
    });
    outcomes.push({ eventId: event.eventId, outcome });
  }

  if (outcomes.some((o) => o.outcome === 'unknown_payment')) {
    // Answering with an error makes the gateway retry later instead of losing the event.
    throw new TenderError({
      type: 'not_found_error',
      code: 'unknown_payment',
      message: 'The webhook refers to a payment this server does not know (yet); retry later',
      retryable: true,
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
