/**
 * Disputes (chargebacks, and the inquiries that may precede them): a customer asked their bank or
 * wallet to take back a payment. Tender records them from the gateways' signed webhooks (Stripe
 * `charge.dispute.*`, PayPal `CUSTOMER.DISPUTE.*`, Razorpay `payment.dispute.*`), each bound to the
 * payment the gateway signed it for, with a status normalised across gateways.
 *
 * A dispute never changes its payment's status: the payment stays `CAPTURED` (or partially
 * refunded...) because that is where the captured money went; what the dispute holds or takes back
 * is the dispute's `amount`, and a `lost` dispute says that amount is gone. Refund-like statuses on
 * the payment would disagree with the gateway's own records (Stripe keeps the charge `succeeded` and
 * sets `disputed: true`, https://docs.stripe.com/api/charges/object#charge_object-disputed).
 *
 * Amounts are decimal strings in major units, as on payments.
 *
 * @module
 */

/**
 * Dispute statuses, normalised across gateways. Stripe's own names
 * (https://docs.stripe.com/api/disputes/object#dispute_object-status), which the other gateways map
 * onto:
 * - `warning_needs_response`, `warning_under_review`, `warning_closed`: an inquiry (Stripe's
 *   "warning", PayPal's `INQUIRY` stage) that is not a chargeback yet; no money is held.
 * - `needs_response`: a chargeback waiting for the merchant's evidence (PayPal
 *   `WAITING_FOR_SELLER_RESPONSE` / `OPEN`, https://developer.paypal.com/docs/api/customer-disputes/v1/;
 *   Razorpay `open`, https://razorpay.com/docs/api/disputes/).
 * - `under_review`: evidence submitted, the network or the gateway decides (PayPal `UNDER_REVIEW`,
 *   `WAITING_FOR_BUYER_RESPONSE`; Razorpay `under_review`).
 * - `won`: decided for the merchant; held money comes back (PayPal `RESOLVED_SELLER_FAVOUR`).
 * - `lost`: decided for the customer; the amount is gone (PayPal `RESOLVED_BUYER_FAVOUR`).
 * - `accepted`: the merchant accepted the claim; the amount is gone (PayPal outcome `ACCEPTED`).
 *   Stripe reports an accepted dispute as `lost`, and so does Razorpay's accept call.
 * - `closed`: ended without a decision on the money (PayPal `CANCELED_BY_BUYER`, Razorpay `closed`,
 *   Stripe `prevented`).
 */
export const DISPUTE_STATUSES = [
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'won',
  'lost',
  'accepted',
  'closed',
] as const;

/** One of {@link DISPUTE_STATUSES}. */
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

/** Statuses that end a dispute (`dispute.closed` is published on reaching one). */
export const CLOSED_DISPUTE_STATUSES: readonly DisputeStatus[] = ['warning_closed', 'won', 'lost', 'accepted', 'closed'];

/** Statuses in which the dispute's amount is gone from the merchant for good. */
export const LOST_DISPUTE_STATUSES: readonly DisputeStatus[] = ['lost', 'accepted'];

/** True for a status that ends the dispute. */
export function isClosedDisputeStatus(status: DisputeStatus): boolean {
  return CLOSED_DISPUTE_STATUSES.includes(status);
}

/** A dispute of one payment, as the gateway last reported it. */
export interface Dispute {
  /** Tender's id (`dp_` and 28 base32 characters; a Stripe dispute id is `dp_` and 24 alphanumerics, never stored here). */
  id: string;
  merchantId: string;
  /** The disputed payment (bound through what the gateway signed). */
  paymentId: string;
  gateway: string;
  /** The gateway's dispute id (Stripe `dp_...`, PayPal `PP-D-...`, Razorpay `disp_...`). */
  gatewayReference: string;
  status: DisputeStatus;
  /** The gateway's own status (and stage or outcome), as it spelled it, for support. */
  gatewayStatus: string;
  /** The amount disputed: held from the merchant while open, gone when lost. Major units. */
  amount: string;
  currency: string;
  /** The gateway's reason code (`fraudulent`, `MERCHANDISE_OR_SERVICE_NOT_RECEIVED`, `chargeback`...). */
  reason: string | null;
  /** When the merchant's evidence is due, when the gateway says. */
  evidenceDueBy: string | null;
  /** When the gateway opened the dispute (its own time). */
  openedAt: string;
  /** When Tender first recorded it in a closed status. */
  closedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /**
   * The gateway's time of the report now stored (the signed event's creation time). A report the
   * gateway made earlier is older news and is not applied over it: webhooks arrive out of order.
   */
  syncedAt: string;
  /** Incremented on every write. */
  version: number;
}

/** One entry of a dispute's audit trail: a status change (from `null` when it was recorded). */
export interface DisputeTransition {
  id: string;
  merchantId: string;
  disputeId: string;
  paymentId: string;
  from: DisputeStatus | null;
  to: DisputeStatus;
  reason: string;
  actor: string;
  at: string;
}
