/**
 * Gateway spec v1: the inputs and results of the payment operations (create, capture, cancel, refund, retrieve).
 *
 * @module
 */
import type { Money } from '../../../money';
import type { CaptureMethod, Customer, FailureReason, NextAction, PaymentStatus, RefundStatus } from '../../../payment';

/** Per-call context handed to every gateway method. */
export interface GatewayCallContext {
  /**
   * Idempotency key derived from the caller's key and the operation (stable across retries and
   * crash recovery). Forward it (Stripe `Idempotency-Key`, PayPal `PayPal-Request-Id`).
   */
  idempotencyKey: string;
  /** Aborted when the caller gives up. */
  signal?: AbortSignal;
  /** The current time, from the engine's clock. */
  now: Date;
}

/** Input of {@link GatewayV1.createPayment}. */
export interface GatewayCreatePaymentInput {
  /** Tender's payment id; use it as the provider's merchant reference when there is no order id. */
  paymentId: string;
  merchantId: string;
  /** The merchant's order reference, if any. */
  orderId: string | null;
  amount: Money;
  captureMethod: CaptureMethod;
  paymentMethod: string | null;
  description: string | null;
  customer: Customer;
  returnUrl: string | null;
  notifyUrl: string | null;
  metadata: Record<string, string>;
  /**
   * Set when the payment charges a saved payment method (`paymentMethod` is then its token): the
   * gateway's customer it is saved on, and whether the customer is absent (a merchant-initiated
   * charge, Stripe `off_session=true`). Only for gateways that declare `savedMethods`.
   */
  savedMethod?: { gatewayCustomerId: string; offSession: boolean } | null;
  /**
   * `required` when the risk engine asks for a step-up: the gateway requests 3-D Secure
   * authentication where it can (Stripe `payment_method_options[card][request_three_d_secure]=any`,
   * https://docs.stripe.com/api/payment_intents/create#create_payment_intent-payment_method_options-card-request_three_d_secure),
   * so a card that would otherwise succeed answers `REQUIRES_ACTION`. A gateway without 3-D Secure
   * (or a method it does not apply to: FPX, UPI) ignores it.
   */
  threeDSecure?: 'required' | null;
}

/** A provider's view of a payment, normalised. */
export interface GatewayPaymentResult {
  status: Exclude<PaymentStatus, 'PARTIALLY_REFUNDED' | 'REFUNDED'> | 'PARTIALLY_REFUNDED' | 'REFUNDED';
  /** The provider's id for the payment, once known. */
  gatewayReference?: string | null;
  /** Amount the provider reports as captured, when it says. */
  amountCaptured?: Money;
  /** Amount the provider reports as authorised/charged, used to check integrity. */
  amount?: Money;
  nextAction?: NextAction | null;
  failure?: FailureReason | null;
  /** Non-secret provider data worth keeping on the payment (merged into `gatewayData`). */
  gatewayData?: Record<string, unknown>;
  /** Refunds the provider knows of (so refunds made in its dashboard sync into Tender). */
  refunds?: readonly GatewayRefundResult[];
}

/** Input of {@link GatewayV1.capture}. */
export interface GatewayCaptureInput {
  paymentId: string;
  gatewayReference: string;
  /** Amount to capture (may be less than authorised when `partialCapture`). */
  amount: Money;
  /** The authorised amount. */
  authorizedAmount: Money;
  gatewayData: Record<string, unknown>;
}

/** Input of {@link GatewayV1.cancel}. */
export interface GatewayCancelInput {
  paymentId: string;
  gatewayReference: string | null;
  amount: Money;
  gatewayData: Record<string, unknown>;
}

/** Input of {@link GatewayV1.refund}. */
export interface GatewayRefundInput {
  refundId: string;
  paymentId: string;
  gatewayReference: string;
  amount: Money;
  /** Captured amount of the payment; a refund equal to it is a full refund. */
  capturedAmount: Money;
  reason: string | null;
  gatewayData: Record<string, unknown>;
}

/** A provider's view of a refund. */
export interface GatewayRefundResult {
  status: RefundStatus;
  gatewayReference: string | null;
  amount: Money;
  failure?: FailureReason | null;
  /** Tender's refund id when the provider echoes it back (metadata, reference number). */
  refundId?: string | null;
}

/** Input of {@link GatewayV1.retrieve}. */
export interface GatewayRetrieveInput {
  paymentId: string;
  orderId: string | null;
  gatewayReference: string | null;
  amount: Money;
  gatewayData: Record<string, unknown>;
}
