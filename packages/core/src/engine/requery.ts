/**
 * Asking a gateway for a payment's current state (`retrieve`): the reconciler does it for payments
 * whose outcome is unknown here, and the webhook inbox does it for a verified event that cannot be
 * applied as it stands (it arrived before the event it depends on, or its payload is incomplete).
 *
 * @module
 */
import { paymentAmount, type Payment } from '../payment';
import type { GatewayPaymentResult, GatewayRetrieveInput, GatewayV1 } from '../spec/gateway/v1/index';
import type { EngineContext } from './context';

/** What `retrieve` is told about a stored payment. */
export function retrieveInput(payment: Payment): GatewayRetrieveInput {
  return {
    paymentId: payment.id,
    orderId: payment.orderId,
    gatewayReference: payment.gatewayReference,
    amount: paymentAmount(payment),
    gatewayData: payment.gatewayData,
  };
}

/** The gateway's current view of `payment`. Throws what the gateway throws. */
export function requeryPayment(ctx: EngineContext, gateway: GatewayV1, payment: Payment): Promise<GatewayPaymentResult> {
  return gateway.retrieve(retrieveInput(payment), { idempotencyKey: `${payment.id}/retrieve`, now: ctx.clock.now() });
}
