/**
 * PaymentMethods (https://docs.stripe.com/api/payment_methods): cards made from Stripe's test ids
 * (`pm_card_visa`) or test tokens (`tok_visa`), attach to / detach from a Customer, list, retrieve.
 * As on Stripe, using a test id where a saved PaymentMethod is expected makes a new PaymentMethod
 * (`pm_...`) each time; a detached PaymentMethod can never pay or be attached again.
 *
 * @module
 */
import { applyMetadata, missing, str, stripeId, type RequestInfo } from '../api';
import { TEST_CARDS, testCardIdOfToken } from '../test-cards';
import { invalidRequest, type BillingState, type StripeObject } from './state';

type Params = Record<string, unknown>;

/** A new card PaymentMethod from a test id (`pm_card_visa`). */
function newCardPaymentMethod(state: BillingState, testCard: string, params: Params = {}): StripeObject {
  const card = TEST_CARDS[testCard]!;
  const id = stripeId('pm');
  const billing = (params.billing_details as Params | undefined) ?? {};
  const text = (v: unknown) => (typeof v === 'string' && v ? v : null);
  const pm: StripeObject = {
    id,
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email: text(billing.email),
      name: text(billing.name),
      phone: text(billing.phone),
      tax_id: null,
    },
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'unchecked' },
      country: 'US',
      display_brand: card.brand,
      exp_month: 12,
      exp_year: 2034,
      fingerprint: stripeId('x', 16).slice(2),
      funding: card.brand === 'visa' && testCard.endsWith('debit') ? 'debit' : 'credit',
      generated_from: null,
      last4: card.last4,
      networks: { available: [card.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: Math.floor(Date.now() / 1000),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: applyMetadata({}, params.metadata),
    type: 'card',
  };
  state.savedCards.set(id, { testCard, setUp: false, detached: false });
  state.keep(state.paymentMethods, pm, (gone) => state.savedCards.delete(gone));
  return pm;
}

/**
 * The PaymentMethod an id names where a saved one is needed: a saved `pm_...` as is, a test id
 * (`pm_card_visa`) or token (`tok_visa`) as a new PaymentMethod.
 */
export function materializePaymentMethod(state: BillingState, id: string, param = 'payment_method'): StripeObject {
  const saved = state.paymentMethods.get(id);
  if (saved) return saved;
  const testCard = TEST_CARDS[id] ? id : testCardIdOfToken(id);
  if (!testCard) throw missing('PaymentMethod', id, param);
  return newCardPaymentMethod(state, testCard);
}

/** `POST /v1/payment_methods` with `type=card` and `card[token]=tok_...` (or a test id in `payment_method`). */
export function createPaymentMethod(state: BillingState, params: Params): StripeObject {
  const type = str(params, 'type') ?? 'card';
  if (type !== 'card') throw invalidRequest(`The sandbox supports PaymentMethods of type card only, not ${type}.`, 'type');
  const card = params.card as Params | undefined;
  const source = (typeof card?.token === 'string' ? card.token : undefined) ?? str(params, 'payment_method');
  if (!source) {
    throw invalidRequest('Sending card numbers directly to the Stripe API is not allowed here; pass card[token] with a test token such as tok_visa (https://docs.stripe.com/testing).', 'card');
  }
  const testCard = TEST_CARDS[source] ? source : testCardIdOfToken(source);
  if (!testCard) throw missing('token', source, 'card[token]');
  return newCardPaymentMethod(state, testCard, params);
}

/** `GET /v1/payment_methods/:id` (test ids answer as a fresh PaymentMethod, as Stripe's do). */
export function retrievePaymentMethod(state: BillingState, id: string): StripeObject {
  return materializePaymentMethod(state, id, 'id');
}

/** `POST /v1/payment_methods/:id`: `metadata`, `billing_details[name|email|phone]`. */
export function updatePaymentMethod(state: BillingState, id: string, params: Params, request: RequestInfo): StripeObject {
  const pm = state.paymentMethods.get(id);
  if (!pm) throw missing('PaymentMethod', id, 'id');
  if (!pm.customer) throw invalidRequest('You must save this PaymentMethod to a customer before you can update it.', undefined, 'payment_method_unexpected_state');
  if (params.metadata !== undefined) pm.metadata = applyMetadata((pm.metadata as Record<string, string>) ?? {}, params.metadata);
  const billing = params.billing_details as Params | undefined;
  if (billing) {
    const current = pm.billing_details as Params;
    pm.billing_details = { ...current, ...Object.fromEntries(['email', 'name', 'phone'].filter((k) => typeof billing[k] === 'string').map((k) => [k, (billing[k] as string) || null])) };
  }
  state.emit('payment_method.updated', pm, request);
  return pm;
}

/** `POST /v1/payment_methods/:id/attach`. */
export function attachPaymentMethod(state: BillingState, id: string, customer: string | undefined, request: RequestInfo | null): StripeObject {
  if (!customer) throw invalidRequest('Missing required param: customer.', 'customer', 'parameter_missing');
  state.customer(customer);
  const pm = materializePaymentMethod(state, id);
  const saved = state.savedCards.get(pm.id)!;
  if (saved.detached) {
    throw invalidRequest('This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.', undefined, 'payment_method_unexpected_state');
  }
  if (pm.customer === customer) return pm;
  if (pm.customer) throw invalidRequest('The payment method you provided has already been attached to a customer.', undefined, 'payment_method_unexpected_state');
  pm.customer = customer;
  pm.created = state.timeOf(customer);
  state.emit('payment_method.attached', pm, request);
  return pm;
}

/** `POST /v1/payment_methods/:id/detach`: also clears it as its Customer's default. */
export function detachPaymentMethod(state: BillingState, id: string, request: RequestInfo | null): StripeObject {
  const pm = state.paymentMethods.get(id);
  if (!pm) throw missing('PaymentMethod', id, 'id');
  const customerId = pm.customer as string | null;
  if (!customerId) throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', undefined, 'payment_method_unexpected_state');
  pm.customer = null;
  state.savedCards.get(id)!.detached = true;
  const customer = state.customers.get(customerId);
  const settings = customer?.invoice_settings as Params | undefined;
  if (customer && settings?.default_payment_method === id) {
    customer.invoice_settings = { ...settings, default_payment_method: null };
    state.emit('customer.updated', customer, request, { invoice_settings: settings });
  }
  state.emit('payment_method.detached', pm, request, { customer: customerId });
  return pm;
}

/** `GET /v1/payment_methods?customer=` and `GET /v1/customers/:id/payment_methods`: newest first, optionally by `type`. */
export function listPaymentMethods(state: BillingState, customer: string | undefined, params: Params): StripeObject[] {
  if (customer) state.customer(customer);
  const type = str(params, 'type');
  return [...state.paymentMethods.values()].filter((pm) => (customer ? pm.customer === customer : pm.customer !== null) && (!type || pm.type === type)).reverse();
}
