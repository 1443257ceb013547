/**
 * The subset of Stripe's JSON objects Tender reads and the sandbox writes (API version pinned in
 * `config.ts`). Field names are Stripe's; see https://docs.stripe.com/api.
 *
 * @module
 */

/** `PaymentIntent.status`. */
export type StripePaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

/** Stripe's error object (the value of `{"error": ...}`). */
export interface StripeErrorObject {
  type: string;
  code?: string;
  decline_code?: string;
  message?: string;
  param?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: StripePaymentIntent;
  payment_method?: { id: string; type?: string } | null;
  request_log_url?: string;
}

/** A PaymentIntent. */
export interface StripePaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  status: StripePaymentIntentStatus;
  capture_method: 'automatic' | 'automatic_async' | 'manual';
  client_secret: string | null;
  confirmation_method?: string;
  created: number;
  canceled_at: number | null;
  cancellation_reason: string | null;
  description: string | null;
  last_payment_error: StripeErrorObject | null;
  latest_charge: string | null;
  livemode: boolean;
  metadata: Record<string, string>;
  next_action: Record<string, unknown> | null;
  payment_method: string | null;
  payment_method_types: string[];
  [key: string]: unknown;
}

/** `Refund.status`. */
export type StripeRefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

/** A Refund. */
export interface StripeRefund {
  id: string;
  object: 'refund';
  amount: number;
  currency: string;
  charge: string | null;
  payment_intent: string | null;
  created: number;
  metadata: Record<string, string>;
  reason: string | null;
  status: StripeRefundStatus;
  failure_reason?: string | null;
  [key: string]: unknown;
}

/** A Charge (only what `charge.refunded` / `charge.dispute.*` mapping needs). */
export interface StripeCharge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  currency: string;
  captured: boolean;
  refunded: boolean;
  paid: boolean;
  status: 'succeeded' | 'pending' | 'failed';
  payment_intent: string | null;
  metadata: Record<string, string>;
  refunds?: { object: 'list'; data: StripeRefund[]; has_more: boolean; url: string } | null;
  [key: string]: unknown;
}

/** A Dispute. */
export interface StripeDispute {
  id: string;
  object: 'dispute';
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string | null;
  reason: string;
  status: string;
  created: number;
  [key: string]: unknown;
}

/** An Event as delivered to a webhook endpoint. */
export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string | null;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null } | null;
  type: string;
}

/** A list response. */
export interface StripeList<T> {
  object: 'list' | 'search_result';
  data: T[];
  has_more: boolean;
  url: string;
}
