/**
 * Which gateway a billing call goes to: the one named, or the first configured gateway declaring the
 * capability. A gateway without it is a 400 naming `gateway`, before anything is stored or sent.
 *
 * @module
 */
import { invalidRequest } from '../../errors';
import type { GatewayCustomersV1, GatewaySavedMethodsV1, GatewaySubscriptionsV1, GatewayV1 } from '../../spec/gateway/v1/index';
import { gatewayOf, type EngineContext } from '../context';

/** The optional billing capabilities of the gateway spec. */
export type BillingCapability = 'customers' | 'savedMethods' | 'subscriptions';

/** A gateway known to implement `customers` and, for `C`, that capability's member too. */
export type BillingGateway<C extends BillingCapability> = GatewayV1 & { readonly customers: GatewayCustomersV1 } & {
  readonly [K in C]: { customers: GatewayCustomersV1; savedMethods: GatewaySavedMethodsV1; subscriptions: GatewaySubscriptionsV1 }[K];
};

const CODE: Record<BillingCapability, string> = {
  customers: 'customers_not_supported',
  savedMethods: 'saved_methods_not_supported',
  subscriptions: 'subscriptions_not_supported',
};

const WHAT: Record<BillingCapability, string> = {
  customers: 'customers',
  savedMethods: 'saved payment methods',
  subscriptions: 'subscriptions',
};

/**
 * True when the gateway declares the capability and implements it. Saved methods and subscriptions
 * live on a gateway customer, so they need `customers` as well (the spec says so).
 */
function supports(gateway: GatewayV1, capability: BillingCapability): boolean {
  if (!gateway.capabilities.customers || !gateway.customers) return false;
  return capability === 'customers' || (gateway.capabilities[capability] === true && gateway[capability] !== undefined);
}

/**
 * The gateway for a billing call: `id` when given (404 when not configured, 400 when it lacks the
 * capability), else the first configured gateway that has it (400 when none does).
 * @throws TenderError 400 `customers_not_supported` / `saved_methods_not_supported` /
 * `subscriptions_not_supported` (param `gateway`); 404 for an unknown gateway.
 */
export function billingGateway<C extends BillingCapability>(ctx: EngineContext, capability: C, id?: string | null): BillingGateway<C> {
  if (id !== undefined && id !== null) {
    const gateway = gatewayOf(ctx, id);
    if (!supports(gateway, capability)) throw invalidRequest(CODE[capability], `Gateway '${gateway.id}' does not support ${WHAT[capability]}`, 'gateway');
    return gateway as BillingGateway<C>;
  }
  for (const gateway of ctx.gateways.values()) if (supports(gateway, capability)) return gateway as BillingGateway<C>;
  throw invalidRequest(CODE[capability], `No configured gateway supports ${WHAT[capability]}`, 'gateway');
}
