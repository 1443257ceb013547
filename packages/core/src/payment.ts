/**
 * Payment and Refund records: what Tender stores and what callers get back.
 * Amounts are decimal strings in major units (exact, currency-scaled), never floats.
 *
 * @module
 */
import { Money } from './money';

/** Payment statuses (upper case, as order services commonly use them). The transition table lives in `state-machine.ts`. */
export const PAYMENT_STATUSES = [
  'PENDING',
  'REQUIRES_ACTION',
  'PROCESSING',
  'AUTHORIZED',
  'CAPTURED',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
  'FAILED',
  'CANCELLED',
  'EXPIRED',
  // Last, so the wire enums that number the statuses (gRPC's PaymentStatus) keep their numbers.
  /**
   * Held by the risk engine before any gateway call, until an admin approves it (it goes on to the
   * gateway as its create would have) or declines it (`FAILED`, `risk_declined`). Nothing was sent.
   */
  'REQUIRES_REVIEW',
] as const;

/** One of {@link PAYMENT_STATUSES}. */
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** Refund statuses. */
export const REFUND_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED'] as const;

/** One of {@link REFUND_STATUSES}. */
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** `automatic` charges at once; `manual` authorises now and captures later. */
export type CaptureMethod = 'automatic' | 'manual';

/** What the customer must do next while a payment is `REQUIRES_ACTION`. */
export type NextAction =
  /** Send the browser to `url` (GET), or POST `fields` to it when present. */
  | { type: 'redirect'; url: string; method?: 'GET' | 'POST'; fields?: Record<string, string> }
  /** Parameters for an in-page (seamless) checkout, e.g. Fiuu's `mps*` fields. */
  | { type: 'seamless'; gateway: string; params: Record<string, string> }
  /** A client secret for a gateway's own browser SDK (Stripe.js) and, if any, the SDK's action. */
  | { type: 'client_secret'; clientSecret: string; action?: Record<string, unknown> }
  /** A UPI intent link (`upi://pay?...`) and, optionally, a QR code image as a data URL. */
  | { type: 'upi_intent'; url: string; qrCode?: string; expiresAt?: string }
  /** A UPI collect request was sent to the payer's VPA: they approve it in their UPI app before `expiresAt`. */
  | { type: 'upi_collect'; vpa: string; expiresAt?: string }
  /** Anything else a gateway needs the client to know. */
  | { type: 'custom'; data: Record<string, unknown> };

/**
 * A UPI virtual payment address (`handle@psp`). NPCI publishes no grammar; this is the common
 * convention (one `@`, a handle of letters, digits, `.`, `_`, `-`, a PSP suffix of letters and digits).
 * A PSP's own VPA check (Razorpay's `payments/validate/vpa`) has the last word.
 */
export const UPI_VPA = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,255}@[a-zA-Z][a-zA-Z0-9]{1,63}$/;

/** Billing details. PII: masked in every log line. */
export interface Customer {
  name?: string;
  email?: string;
  phone?: string;
  /**
   * The payer's UPI virtual payment address (`name@bank`), for a UPI collect request: the payer's app
   * is asked to approve the payment. Personal data, masked in logs like an email.
   */
  vpa?: string;
}

/** Why a payment or refund failed, as the gateway told us. */
export interface FailureReason {
  code: string;
  message: string;
  /** Issuer decline code, when the gateway gives one (Stripe `decline_code`). */
  declineCode?: string;
}

/** A payment as stored and returned by the engine. */
export interface Payment {
  id: string;
  merchantId: string;
  /** The merchant's own order reference (Fiuu `orderid`). Unique per merchant when given. */
  orderId: string | null;
  /**
   * The merchant's user the payment belongs to (`user_id`), when given: the payer of a saved method
   * or an invoice. Absent (or null) on payments made without one; a store reads it back as null then.
   */
  userId?: string | null;
  /** The saved payment method charged (Tender's `spm_...` id), when one was; as `userId`, null from a store when not. */
  savedPaymentMethodId?: string | null;
  status: PaymentStatus;
  /** Major units, e.g. `"100.50"`. */
  amount: string;
  currency: string;
  /** Amount captured so far (major units). */
  amountCaptured: string;
  /** Sum of refunds that have not failed (pending + succeeded), major units. */
  amountRefunded: string;
  captureMethod: CaptureMethod;
  /** The gateway handling the payment (`fiuu`, `stripe`, ...). */
  gateway: string;
  /** The gateway's id for it (Fiuu `tranID`, Stripe PaymentIntent id); null until known. */
  gatewayReference: string | null;
  /** Our method name (`FPX`, `GRABPAY`, `card`, `upi`, or a Stripe `pm_...` id). */
  paymentMethod: string | null;
  description: string | null;
  customer: Customer;
  returnUrl: string | null;
  notifyUrl: string | null;
  metadata: Record<string, string>;
  nextAction: NextAction | null;
  failure: FailureReason | null;
  /** Gateway-specific data the gateway package wants kept (never secrets). */
  gatewayData: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  /** Incremented on every write; used for optimistic checks and ordering. */
  version: number;
}

/** A refund of (part of) a captured payment. */
export interface Refund {
  id: string;
  merchantId: string;
  paymentId: string;
  status: RefundStatus;
  amount: string;
  currency: string;
  reason: string | null;
  gatewayReference: string | null;
  failure: FailureReason | null;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

/** Who caused a transition. */
export type Actor = 'api' | 'webhook' | 'reconciler' | 'system' | (string & {});

/** One entry of the audit trail: every status change of a payment or refund. */
export interface Transition {
  id: string;
  merchantId: string;
  /** The payment the change belongs to (refund transitions too). */
  paymentId: string;
  /** Set for refund transitions. */
  refundId: string | null;
  from: string | null;
  to: string;
  reason: string;
  actor: Actor;
  at: string;
}

/** The amount fields of a {@link Payment}, each a decimal string in the payment's currency. */
export type PaymentAmountField = 'amount' | 'amountCaptured' | 'amountRefunded';

/**
 * An amount of a payment as {@link Money} in the payment's currency: `amount` (the default), or
 * `amountCaptured` / `amountRefunded`. Records keep amounts as decimal strings so they serialise
 * exactly; arithmetic and comparisons go through this instead of re-pairing string and currency.
 */
export function paymentAmount(payment: Pick<Payment, PaymentAmountField | 'currency'>, field: PaymentAmountField = 'amount'): Money {
  return Money.of(payment[field], payment.currency);
}

/** A refund's amount as {@link Money} in its currency (see {@link paymentAmount}). */
export function refundAmount(refund: Pick<Refund, 'amount' | 'currency'>): Money {
  return Money.of(refund.amount, refund.currency);
}
