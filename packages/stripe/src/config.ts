/**
 * Configuration of the Stripe gateway and the wire constants it pins.
 *
 * @module
 */
import type { HttpTransport } from '@tender/core';

/** Stripe's API host (https://docs.stripe.com/api). */
export const STRIPE_DEFAULT_BASE_URL = 'https://api.stripe.com';

/**
 * The `Stripe-Version` every request pins. Response and webhook shapes follow this version, so
 * create webhook endpoints in the Stripe dashboard with the same pin. It is the version the gateway's
 * request fields (`payment_method_types`) and response schemas were written against; the `stripe`
 * npm client 23 pins a later one (2026-10-28.endive), where that request field is named
 * `allowed_payment_method_types`.
 */
export const STRIPE_API_VERSION = '2025-08-27.basil';

/** Stripe's default webhook timestamp tolerance in seconds (stripe-node `DEFAULT_TOLERANCE`). */
export const STRIPE_DEFAULT_TOLERANCE_SECONDS = 300;

/** Metadata key carrying Tender's payment id on PaymentIntents and Refunds, so webhooks map back. */
export const METADATA_PAYMENT_ID = 'tender_payment_id';
/** Metadata key carrying Tender's refund id; refunds without it were made elsewhere (dashboard). */
export const METADATA_REFUND_ID = 'tender_refund_id';
/** Metadata key carrying the merchant's order id. */
export const METADATA_ORDER_ID = 'tender_order_id';

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
}
