/**
 * Configuration of the Stripe gateway and the wire constants it pins.
 *
 * @module
 */
import type { HttpTransport } from '@tender/core';

/** Stripe's API host (https://docs.stripe.com/api). */
export const STRIPE_DEFAULT_BASE_URL = 'https://api.stripe.com';

/**
 * The `Stripe-Version` every request pins: the version the installed official `stripe` npm client
 * (major 23) pins, so Tender and that client read and write the same shapes. Response and webhook
 * shapes follow this version, so create webhook endpoints in the Stripe dashboard with the same pin.
 * Request fields follow it too: a PaymentIntent's or SetupIntent's card-only restriction is sent as
 * `allowed_payment_method_types` (the `payment_method_types` of earlier versions), a subscription's
 * period is read from its items, an invoice's PaymentIntents from its `payments`
 * (https://docs.stripe.com/upgrades, https://docs.stripe.com/changelog).
 */
export const STRIPE_API_VERSION = '2026-10-28.endive';

/** Stripe's default webhook timestamp tolerance in seconds (stripe-node `DEFAULT_TOLERANCE`). */
export const STRIPE_DEFAULT_TOLERANCE_SECONDS = 300;

/** Metadata key carrying Tender's payment id on PaymentIntents and Refunds, so webhooks map back. */
export const METADATA_PAYMENT_ID = 'tender_payment_id';
/** Metadata key carrying Tender's refund id; refunds without it were made elsewhere (dashboard). */
export const METADATA_REFUND_ID = 'tender_refund_id';
/** Metadata key carrying the merchant's order id. */
export const METADATA_ORDER_ID = 'tender_order_id';
/** Metadata key carrying Tender's merchant id on Customers and Subscriptions. */
export const METADATA_MERCHANT_ID = 'tender_merchant_id';
/** Metadata key carrying the merchant's user id on Customers and Subscriptions. */
export const METADATA_USER_ID = 'tender_user_id';
/** Metadata key carrying Tender's subscription id on Subscriptions, so one reported early still binds. */
export const METADATA_SUBSCRIPTION_ID = 'tender_subscription_id';

/** Options of {@link createStripeGateway}. */
export interface StripeGatewayOptions {
  /** Secret API key (`sk_test_...` / `sk_live_...`). Never logged. */
  secretKey: string;
  /**
   * Webhook endpoint signing secret(s) (`whsec_...`). Several are accepted while a secret is being
   * rolled. Required for `verifyWebhook`.
   */
  webhookSecret?: string | readonly string[];
  /** API base URL; defaults to `https://api.stripe.com`. Point it at the sandbox in tests. */
  baseUrl?: string;
  /** `Stripe-Version` to pin; defaults to {@link STRIPE_API_VERSION}. */
  apiVersion?: string;
  /** Transport to send requests through; a default `createHttpTransport({ gateway: 'stripe' })` otherwise. */
  transport?: HttpTransport;
  /** Webhook timestamp tolerance in seconds; default 300. `0` disables the age check. */
  webhookToleranceSeconds?: number;
  /** Per-request timeout in ms passed to the transport (default: the transport's). */
  timeoutMs?: number;
  /** Publishable key (`pk_...`) handed to browsers by `clientConfig` for Stripe.js; not a secret. */
  publishableKey?: string;
  /**
   * Test mode only: a test clock id (`clock_...`). Every customer the gateway creates
   * (`customers.create`) is attached to it (`test_clock`), so its subscriptions and invoices run on the
   * clock's time and a test advances them by advancing the clock
   * (https://docs.stripe.com/billing/testing/test-clocks). Stripe refuses it with a live key.
   */
  testClock?: string;
}
