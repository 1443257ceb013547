/**
 * Customers (https://docs.stripe.com/api/customers): create, retrieve, update, list, delete, with
 * `invoice_settings.default_payment_method` (the PaymentMethod invoices charge when a subscription
 * names none) and `test_clock` (the customer's objects live on that clock's time).
 *
 * @module
 */
import { applyMetadata, str, stripeId, type RequestInfo } from '../api';
import { attachPaymentMethod } from './payment-methods';
import { changed, invalidRequest, type BillingState, type StripeObject } from './state';

type Params = Record<string, unknown>;

const nullable = (params: Params, key: string, current: unknown): unknown => {
  const v = str(params, key);
  return v === undefined ? current : v || null;
};

/** `POST /v1/customers`. */
export function createCustomer(state: BillingState, params: Params, request: RequestInfo): StripeObject {
  const clock = str(params, 'test_clock') || null;
  if (clock && !state.testClocks.has(clock)) throw invalidRequest(`No such test clock: '${clock}'`, 'test_clock', 'resource_missing');
  const id = stripeId('cus', 14);
  const customer: StripeObject = {
    id,
    object: 'customer',
    address: null,
    balance: 0,
    created: clock ? state.clockNow(clock) : Math.floor(Date.now() / 1000),
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: str(params, 'description') || null,
    discount: null,
    email: str(params, 'email') || null,
    invoice_prefix: stripeId('x', 8).slice(2).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: applyMetadata({}, params.metadata),
    name: str(params, 'name') || null,
    next_invoice_sequence: 1,
    phone: str(params, 'phone') || null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: clock,
  };
  state.keep(state.customers, customer);
  state.emit('customer.created', customer, request);
  const paymentMethod = str(params, 'payment_method');
  if (paymentMethod) attachPaymentMethod(state, paymentMethod, id, request);
  const defaultMethod = (params.invoice_settings as Params | undefined)?.default_payment_method;
  if (defaultMethod !== undefined) return updateCustomer(state, id, { invoice_settings: { default_payment_method: defaultMethod } }, request);
  return customer;
}

/** `GET /v1/customers/:id`: a deleted customer answers `{ id, object, deleted: true }`, as Stripe's does. */
export function retrieveCustomer(state: BillingState, id: string): StripeObject {
  return state.customer(id, 'id');
}

/** `POST /v1/customers/:id`. */
export function updateCustomer(state: BillingState, id: string, params: Params, request: RequestInfo): StripeObject {
  const customer = state.customer(id, 'id');
  const before = { ...customer };
  const next: StripeObject = { ...customer };
  next.email = nullable(params, 'email', customer.email);
  next.name = nullable(params, 'name', customer.name);
  next.phone = nullable(params, 'phone', customer.phone);
  next.description = nullable(params, 'description', customer.description);
  if (params.metadata !== undefined) next.metadata = applyMetadata(customer.metadata as Record<string, string>, params.metadata);
  const settings = params.invoice_settings;
  if (settings !== undefined) {
    if (typeof settings !== 'object' || settings === null) throw invalidRequest('Invalid object', 'invoice_settings');
    const method = (settings as Params).default_payment_method;
    if (method !== undefined) {
      if (typeof method !== 'string') throw invalidRequest('Invalid string', 'invoice_settings[default_payment_method]');
      if (method && state.paymentMethods.get(method)?.customer !== id) {
        throw invalidRequest(`No such PaymentMethod: '${method}'; It's possible this PaymentMethod exists on one of your connected accounts, in which case you should retry this request on that connected account. The PaymentMethod must be attached to the customer.`, 'invoice_settings[default_payment_method]', 'resource_missing');
      }
      next.invoice_settings = { ...(customer.invoice_settings as Params), default_payment_method: method || null };
    }
  }
  Object.assign(customer, next);
  const previous = changed(before, customer);
  if (previous) state.emit('customer.updated', customer, request, previous);
  return customer;
}

/** `GET /v1/customers`: newest first, optionally by `email` or `test_clock`. */
export function listCustomers(state: BillingState, params: Params): StripeObject[] {
  const email = str(params, 'email');
  const clock = str(params, 'test_clock');
  return [...state.customers.values()].filter((c) => (!email || c.email === email) && (!clock || c.test_clock === clock)).reverse();
}

/** `DELETE /v1/customers/:id`: the Customer goes; its subscriptions are canceled at once, as Stripe does. */
export function deleteCustomer(state: BillingState, id: string, request: RequestInfo | null, cancelSubscription: (subscription: string) => void): StripeObject {
  const customer = state.customer(id, 'id');
  for (const sub of state.subscriptions.values()) if (sub.customer === id && sub.status !== 'canceled' && sub.status !== 'incomplete_expired') cancelSubscription(sub.id);
  for (const pm of state.paymentMethods.values()) if (pm.customer === id) pm.customer = null;
  state.customers.delete(id);
  state.emit('customer.deleted', customer, request);
  return { id, object: 'customer', deleted: true };
}
