/**
 * SetupIntents (https://docs.stripe.com/api/setup_intents): save a card for later. Confirming with a
 * test card succeeds (the PaymentMethod is attached to the SetupIntent's Customer), asks for 3-D Secure
 * (`requires_action`; the challenge is the sandbox's `/_sandbox/3ds/:id` page) or fails with the
 * card's decline (`setup_intent.setup_failed`, HTTP 402). `pm_card_chargeCustomerFail` saves fine and
 * declines only when charged, as on Stripe.
 *
 * @module
 */
import { applyMetadata, bool, enumOf, missing, SandboxError, str, stripeId, type RequestInfo } from '../api';
import type { StripeErrorObject } from '../../stripe-types';
import { attachPaymentMethod, materializePaymentMethod } from './payment-methods';
import { invalidRequest, type BillingState, type StripeObject } from './state';

type Params = Record<string, unknown>;

const DOC = 'https://stripe.com/docs/error-codes/';

/** `POST /v1/setup_intents`. */
export function createSetupIntent(state: BillingState, params: Params, request: RequestInfo): StripeObject {
  const customer = str(params, 'customer') || null;
  if (customer) state.customer(customer);
  const usage = enumOf(params, 'usage', ['off_session', 'on_session'] as const) ?? 'off_session';
  const allowed = params.allowed_payment_method_types;
  const types = allowed ?? params.payment_method_types;
  if (types !== undefined && (!Array.isArray(types) || types.some((t) => typeof t !== 'string'))) throw invalidRequest('Invalid array', allowed !== undefined ? 'allowed_payment_method_types' : 'payment_method_types');
  const paymentMethod = str(params, 'payment_method') || null;
  const id = stripeId('seti');
  const si: StripeObject = {
    id,
    object: 'setup_intent',
    allowed_payment_method_types: allowed !== undefined ? (allowed as string[]) : null,
    application: null,
    automatic_payment_methods: types ? null : { allow_redirects: 'always', enabled: true },
    cancellation_reason: null,
    client_secret: `${id}_secret_${stripeId('x', 25).slice(2)}`,
    created: state.timeOf(customer),
    customer,
    customer_account: null,
    description: str(params, 'description') || null,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: applyMetadata({}, params.metadata),
    next_action: null,
    on_behalf_of: null,
    payment_method: paymentMethod ? materializePaymentMethod(state, paymentMethod).id : null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: (types as string[] | undefined) ?? ['card'],
    single_use_mandate: null,
    status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
    usage,
  };
  state.keep(state.setupIntents, si);
  state.emit('setup_intent.created', si, request);
  if (bool(params, 'confirm')) return confirmSetupIntent(state, id, { ...params, payment_method: si.payment_method ?? undefined }, request);
  return si;
}

/** `GET /v1/setup_intents/:id`. */
export function retrieveSetupIntent(state: BillingState, id: string): StripeObject {
  const si = state.setupIntents.get(id);
  if (!si) throw missing('setup_intent', id, 'intent');
  return si;
}

/** `GET /v1/setup_intents`: newest first, optionally by `customer` or `payment_method`. */
export function listSetupIntents(state: BillingState, params: Params): StripeObject[] {
  const customer = str(params, 'customer');
  const pm = str(params, 'payment_method');
  return [...state.setupIntents.values()].filter((s) => (!customer || s.customer === customer) && (!pm || s.payment_method === pm)).reverse();
}

/** `POST /v1/setup_intents/:id/confirm`. */
export function confirmSetupIntent(state: BillingState, id: string, params: Params, request: RequestInfo | null): StripeObject {
  const si = retrieveSetupIntent(state, id);
  if (si.status !== 'requires_payment_method' && si.status !== 'requires_confirmation') {
    throw new SandboxError(400, {
      type: 'invalid_request_error',
      code: 'setup_intent_unexpected_state',
      doc_url: `${DOC}setup-intent-unexpected-state`,
      message: `You cannot confirm this SetupIntent because it has a status of ${String(si.status)}. Only a SetupIntent with one of the following statuses may be confirmed: requires_payment_method, requires_confirmation.`,
      ...{ setup_intent: structuredClone(si) },
    } as StripeErrorObject);
  }
  const requested = str(params, 'payment_method') || (si.payment_method as string | null);
  if (!requested) throw invalidRequest('You cannot confirm this SetupIntent because it\'s missing a payment method.', 'payment_method', 'setup_intent_unexpected_state');
  const pm = materializePaymentMethod(state, requested);
  si.payment_method = pm.id;
  si.last_setup_error = null;
  si.latest_attempt = stripeId('setatt');
  const card = state.cardOf(pm.id)!;
  if (card.threeDSecure) {
    const url = `${state.baseUrl()}/_sandbox/3ds/${si.id}`;
    const returnUrl = str(params, 'return_url');
    si.status = 'requires_action';
    si.next_action = returnUrl
      ? { type: 'redirect_to_url', redirect_to_url: { return_url: returnUrl, url } }
      : { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: url, source: stripeId('src') } };
    state.emit('setup_intent.requires_action', si, request);
    return si;
  }
  return finish(state, si, request);
}

/** Completes (or fails) a SetupIntent's 3-D Secure challenge, as the customer would on the bank's page. */
export function completeSetupAuthentication(state: BillingState, id: string, outcome: 'approve' | 'decline'): StripeObject {
  const si = retrieveSetupIntent(state, id);
  if (si.status !== 'requires_action') throw invalidRequest(`This SetupIntent is not waiting for authentication (status ${String(si.status)}).`, undefined, 'setup_intent_unexpected_state');
  si.next_action = null;
  if (outcome === 'decline') {
    si.status = 'requires_payment_method';
    si.last_setup_error = {
      type: 'invalid_request_error',
      code: 'setup_intent_authentication_failure',
      doc_url: `${DOC}setup-intent-authentication-failure`,
      message: 'The latest attempt to set up the payment method has failed because authentication failed.',
      payment_method: structuredClone(state.paymentMethods.get(String(si.payment_method))),
    };
    si.payment_method = null;
    state.emit('setup_intent.setup_failed', si, null);
    return si;
  }
  try {
    return finish(state, si, null);
  } catch (error) {
    if (error instanceof SandboxError) return si;
    throw error;
  }
}

/** `POST /v1/setup_intents/:id/cancel`. */
export function cancelSetupIntent(state: BillingState, id: string, params: Params, request: RequestInfo): StripeObject {
  const si = retrieveSetupIntent(state, id);
  if (si.status === 'succeeded' || si.status === 'canceled') {
    throw invalidRequest(`You cannot cancel this SetupIntent because it has a status of ${String(si.status)}.`, undefined, 'setup_intent_unexpected_state');
  }
  si.status = 'canceled';
  si.next_action = null;
  si.cancellation_reason = enumOf(params, 'cancellation_reason', ['abandoned', 'duplicate', 'requested_by_customer'] as const) ?? null;
  state.emit('setup_intent.canceled', si, request);
  return si;
}

/** The card's verdict once any challenge is through: saved and attached, or declined. */
function finish(state: BillingState, si: StripeObject, request: RequestInfo | null): StripeObject {
  const pmId = String(si.payment_method);
  const card = state.cardOf(pmId)!;
  if (card.decline && !card.savesDespiteDecline) {
    const error: StripeErrorObject = {
      type: 'card_error',
      code: card.decline.code,
      decline_code: card.decline.declineCode,
      message: card.decline.message,
      doc_url: `${DOC}${card.decline.code.replace(/_/g, '-')}`,
      payment_method: structuredClone(state.paymentMethods.get(pmId)),
    };
    si.status = 'requires_payment_method';
    si.last_setup_error = error;
    si.payment_method = null;
    state.emit('setup_intent.setup_failed', si, request);
    throw new SandboxError(402, { ...error, ...{ setup_intent: structuredClone(si) } } as StripeErrorObject, true);
  }
  if (si.customer) attachPaymentMethod(state, pmId, si.customer as string, request);
  const saved = state.savedCards.get(pmId);
  if (saved) saved.setUp = true;
  si.status = 'succeeded';
  state.emit('setup_intent.succeeded', si, request);
  return si;
}
