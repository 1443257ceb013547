/**
 * `tender.customers`: the merchant's users as gateway customers, created on first use.
 *
 * A first use asks the gateway to create the customer with an idempotency key derived from
 * (merchant, user, gateway), then stores the mapping with insert-or-get. Two first uses at once, in
 * one process or several, therefore make one gateway customer (the gateway answers the second call
 * with the first one's customer) and one mapping (the second insert gets the first one's row).
 *
 * @module
 */
import type { GatewayCustomer } from '../../billing';
import { derivedKey } from './keys';
import { merchantOf, type BillingHost } from './host';
import { optionalEmail, optionalId, optionalText, requireObject, requiredId } from './inputs';
import { billingGateway } from './select-gateway';
import type { BillingCallOptions, CustomerOperations } from './types';

/** A validated `ensure` input. */
interface EnsureRequest {
  merchantId: string;
  userId: string;
  gateway: string;
  email: string | null;
  name: string | null;
}

/** `tender.customers.ensure`; see {@link CustomerOperations.ensure}. */
export async function ensureCustomer(
  host: BillingHost,
  input: Parameters<CustomerOperations['ensure']>[0],
  options: BillingCallOptions = {},
): Promise<GatewayCustomer> {
  requireObject(input);
  const userId = requiredId(input.userId, 'user_id');
  const gatewayId = optionalId(input.gateway, 'gateway');
  const email = optionalEmail(input.email);
  const name = optionalText(input.name, 'name', 256);
  const gateway = billingGateway(host.ctx, 'customers', gatewayId);
  return customerFor(host, { merchantId: merchantOf(host, options), userId, gateway: gateway.id, email, name });
}

/**
 * The user's customer at `request.gateway` (already validated and known to support customers),
 * created on first use. Concurrent callers in this process share one creation.
 * @internal
 */
export async function customerFor(host: BillingHost, request: EnsureRequest): Promise<GatewayCustomer> {
  const { ctx } = host;
  const stored = await ctx.store.getGatewayCustomer(request.merchantId, request.userId, request.gateway);
  if (stored) return stored;
  const slot = `${request.merchantId}\u0000${request.userId}\u0000${request.gateway}`;
  const running = host.ensuring.get(slot);
  if (running) return running;
  const work = createCustomer(host, request).finally(() => host.ensuring.delete(slot));
  host.ensuring.set(slot, work);
  return work;
}

async function createCustomer(host: BillingHost, request: EnsureRequest): Promise<GatewayCustomer> {
  const { ctx } = host;
  const gateway = billingGateway(ctx, 'customers', request.gateway);
  const { gatewayCustomerId } = await gateway.customers.create(
    {
      merchantId: request.merchantId,
      userId: request.userId,
      ...(request.email !== null ? { email: request.email } : {}),
      ...(request.name !== null ? { name: request.name } : {}),
    },
    { idempotencyKey: derivedKey('customer', request.merchantId, request.userId, request.gateway), now: ctx.clock.now() },
  );
  const { customer } = await ctx.store.transaction((tx) =>
    tx.insertGatewayCustomer({
      merchantId: request.merchantId,
      userId: request.userId,
      gateway: request.gateway,
      gatewayCustomerId,
      createdAt: ctx.clock.now().toISOString(),
    }),
  );
  return customer;
}
