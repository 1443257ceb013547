/**
 * Plays the customer's part over HTTP, as a browser would: passes the 3-D Secure page, or (for a
 * PaymentIntent waiting for Stripe.js) confirms it with the publishable key and client secret.
 *
 * @module
 */
import type { StripePaymentIntent } from '../stripe-types';
import type { StripeSandbox } from './server';

/**
 * Completes the customer's step of a PaymentIntent in `sandbox`: `approve` authenticates (or pays
 * with `pm_card_visa`), `decline` fails authentication (or pays with `pm_card_chargeDeclined`).
 */
export async function completeCustomerAction(sandbox: StripeSandbox, paymentIntentId: string, outcome: 'approve' | 'decline'): Promise<void> {
  const auth = { authorization: `Bearer ${sandbox.publishableKey}` };
  // The browser got the client secret from the merchant's page; the harness reads it from the sandbox.
  const clientSecret = sandbox.account.paymentIntents.get(paymentIntentId)?.client_secret;
  if (!clientSecret) throw new Error(`Unknown PaymentIntent ${paymentIntentId}`);
  const lookup = await fetch(`${sandbox.url}/v1/payment_intents/${encodeURIComponent(paymentIntentId)}?${new URLSearchParams({ client_secret: clientSecret })}`, { headers: auth });
  const pi = (await lookup.json()) as StripePaymentIntent;
  if (!lookup.ok) throw new Error(`Sandbox lookup of ${paymentIntentId} failed: HTTP ${lookup.status}`);
  const next = pi.next_action as { redirect_to_url?: { url?: string }; use_stripe_sdk?: { stripe_js?: string } } | null;
  const challenge = next?.redirect_to_url?.url ?? next?.use_stripe_sdk?.stripe_js;
  if (pi.status === 'requires_action' && challenge) {
    const res = await fetch(challenge, { method: 'POST', body: new URLSearchParams({ result: outcome }), redirect: 'manual' });
    await res.arrayBuffer();
    if (res.status >= 400) throw new Error(`3-D Secure page answered HTTP ${res.status}`);
    return;
  }
  if (pi.status === 'requires_payment_method' || pi.status === 'requires_confirmation') {
    const res = await fetch(`${sandbox.url}/v1/payment_intents/${encodeURIComponent(paymentIntentId)}/confirm`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_secret: pi.client_secret ?? '', payment_method: outcome === 'approve' ? 'pm_card_visa' : 'pm_card_chargeDeclined' }),
    });
    await res.arrayBuffer();
    if (res.status !== 200 && res.status !== 402) throw new Error(`Sandbox confirm answered HTTP ${res.status}`);
    return;
  }
  throw new Error(`PaymentIntent ${paymentIntentId} has no customer step (status ${pi.status})`);
}
