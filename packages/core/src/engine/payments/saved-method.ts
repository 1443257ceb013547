/**
 * Charging a saved payment method: which of the merchant's saved methods a create names (its Tender
 * id `spm_...`, or its gateway token together with the user's id), and what the gateway needs to
 * charge it (the token, the user's customer at the gateway). Everything is read and checked before
 * the payment is stored, so a request that names a method it may not charge changes nothing.
 *
 * A merchant-initiated charge of a saved card is Stripe's `off_session=true` on a PaymentIntent with
 * the `customer` the method is attached to (https://docs.stripe.com/payments/save-and-reuse#charge-saved-payment-method).
 *
 * @module
 */
import type { SavedPaymentMethod } from '../../billing';
import { TenderError, invalidRequest, stateConflict } from '../../errors';
import type { GatewayV1 } from '../../spec/gateway/v1/index';
import type { BillingReader } from '../../spec/store/v1/index';
import type { EngineContext } from '../context';
import type { ValidCreate } from '../inputs';

/** Prefix of Tender's saved payment method ids. */
const SAVED_METHOD_PREFIX = 'spm_';

/** A saved method a payment charges, and the gateway customer it is saved on. */
export interface SavedCharge {
  method: SavedPaymentMethod;
  gatewayCustomerId: string;
}

/** True when `paymentMethod` names a saved method by Tender's id. */
export function isSavedMethodId(paymentMethod: string | null): paymentMethod is string {
  return paymentMethod !== null && paymentMethod.startsWith(SAVED_METHOD_PREFIX);
}

/** 404 for a saved method that is unknown, removed, or another merchant's (all look the same). */
export function savedMethodNotFound(id: string): TenderError {
  return new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such payment method: '${id}'`, param: 'payment_method' });
}

function userMismatch(): TenderError {
  return invalidRequest('saved_method_user_mismatch', 'The saved payment method belongs to another user than user_id', 'payment_method');
}

/**
 * Checks that `method` can be charged on its gateway and finds its gateway customer.
 * @throws TenderError 400 `saved_methods_not_supported` when its gateway (no longer) declares the capability.
 */
async function chargeable(reader: BillingReader, ctx: EngineContext, method: SavedPaymentMethod): Promise<SavedCharge> {
  const gateway = ctx.gateways.get(method.gateway);
  if (!gateway || !gateway.capabilities.savedMethods) {
    throw invalidRequest('saved_methods_not_supported', `Gateway '${method.gateway}' cannot charge saved payment methods`, 'payment_method');
  }
  const customer = await reader.getGatewayCustomer(method.merchantId, method.userId, method.gateway);
  // A method is saved on its user's customer, which is stored first; a method without one is not chargeable.
  if (!customer) throw stateConflict('gateway_customer_missing', `The saved payment method's user has no customer at ${method.gateway}`);
  return { method, gatewayCustomerId: customer.gatewayCustomerId };
}

/**
 * The saved method a create names by Tender's id (`paymentMethod: "spm_..."`), or null when it names
 * none. Its user must be `userId` when given; its gateway is the payment's.
 * @throws TenderError 404 `resource_missing` (param `payment_method`) for an unknown, removed or another
 * merchant's method; 400 `saved_method_user_mismatch`, `saved_method_gateway_mismatch` (another explicit
 * `gateway`), `saved_methods_not_supported`.
 */
export async function savedMethodById(ctx: EngineContext, merchantId: string, input: ValidCreate): Promise<SavedCharge | null> {
  if (!isSavedMethodId(input.paymentMethod)) return null;
  const method = await ctx.store.getSavedPaymentMethod(input.paymentMethod, merchantId);
  if (!method || method.merchantId !== merchantId || method.deletedAt !== null) throw savedMethodNotFound(input.paymentMethod);
  if (input.userId !== null && input.userId !== method.userId) throw userMismatch();
  if (input.gateway !== null && input.gateway !== method.gateway) {
    throw invalidRequest('saved_method_gateway_mismatch', `The saved payment method is saved at '${method.gateway}', not '${input.gateway}'`, 'gateway');
  }
  return chargeable(ctx.store, ctx, method);
}

/**
 * The saved method a create names by its gateway token together with `userId`: the first of the routed
 * gateways (in order) that charges saved methods and has the token saved for the merchant. Null when the
 * request has no `userId` or the token is saved nowhere (it is then charged as a plain token).
 * @throws TenderError 400 `saved_method_user_mismatch` when the token is saved for another user.
 */
export async function savedMethodByToken(ctx: EngineContext, merchantId: string, input: ValidCreate, gateways: readonly GatewayV1[]): Promise<SavedCharge | null> {
  if (input.userId === null || input.paymentMethod === null) return null;
  for (const gateway of gateways) {
    if (!gateway.capabilities.savedMethods) continue;
    const method = await ctx.store.findSavedPaymentMethodByToken(merchantId, gateway.id, input.paymentMethod);
    if (!method || method.deletedAt !== null) continue;
    if (method.userId !== input.userId) throw userMismatch();
    return chargeable(ctx.store, ctx, method);
  }
  return null;
}

/**
 * The saved method of a stored payment (`savedPaymentMethodId`), read in `reader` (a transaction) for
 * its authorize: null for a payment without one. `includeRemoved`: a method removed since is still
 * answered (an authorize resumed after a crash repeats the request it may already have sent).
 * @throws TenderError 404 when the method was removed since the payment was created (unless `includeRemoved`).
 */
export async function savedMethodOfPayment(
  reader: BillingReader,
  ctx: EngineContext,
  payment: { merchantId: string; savedPaymentMethodId?: string | null },
  options: { includeRemoved?: boolean } = {},
): Promise<SavedCharge | null> {
  const id = payment.savedPaymentMethodId;
  if (!id) return null;
  const method = await reader.getSavedPaymentMethod(id, payment.merchantId);
  if (!method || (method.deletedAt !== null && !options.includeRemoved)) throw savedMethodNotFound(id);
  return chargeable(reader, ctx, method);
}
