/**
 * Billing records: the merchant's users as gateway customers, their saved payment methods, and the
 * subscriptions and invoices a gateway's billing engine (Stripe Billing) runs for them. Tender does not
 * bill by itself: prices, trials, proration and retries are the gateway's; these records mirror what
 * the gateway reports, through webhooks and requeries, with the same rules as payments (inbox dedup,
 * out-of-order delivery, only what the gateway signed or answered over its authenticated API counts).
 *
 * Amounts are decimal strings in major units, as on payments.
 *
 * @module
 */

/**
 * Subscription statuses: Stripe Billing's own names (https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses),
 * kept as the gateway spells them because the gateway decides them. The transition table is in
 * `state-machine.ts`.
 */
export const SUBSCRIPTION_STATUSES = ['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'] as const;

/** One of {@link SUBSCRIPTION_STATUSES}. */
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** Invoice statuses (https://docs.stripe.com/invoicing/overview#invoice-statuses). */
export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void'] as const;

/** One of {@link INVOICE_STATUSES}. */
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/**
 * The merchant's own user (`userId`: any string the merchant uses) mapped to one gateway's customer
 * object. Created on first use; one per (merchant, user, gateway).
 */
export interface GatewayCustomer {
  merchantId: string;
  /** The merchant's id for the user (`user_id` on the REST API). */
  userId: string;
  gateway: string;
  /** The gateway's id (Stripe `cus_...`). */
  gatewayCustomerId: string;
  createdAt: string;
}

/** What a saved card shows: never the number or the CVV. */
export interface SavedCardDetails {
  /** `visa`, `mastercard`, `amex`... as the gateway names it. */
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  /** `credit`, `debit`, `prepaid`, `unknown`, when the gateway says. */
  funding?: string | null;
  /** Issuing country (ISO 3166-1 alpha-2), when the gateway says. */
  country?: string | null;
}

/**
 * A payment method saved at a gateway for later use: only the gateway's token (`pm_...`, a PayPal
 * vault id, a Fiuu token) and what a customer needs to recognise it. One default per user; removal is
 * a soft delete (`deletedAt`), so payments made with it still name it.
 */
export interface SavedPaymentMethod {
  /** Tender's id (`spm_...`). */
  id: string;
  merchantId: string;
  userId: string;
  gateway: string;
  /** The gateway's token for the method. */
  token: string;
  /** `card`, `paypal`, `wallet`... */
  type: string;
  card: SavedCardDetails | null;
  /** A wallet's account email (PayPal). Personal data: masked in logs, encrypted with field encryption. */
  walletEmail: string | null;
  isDefault: boolean;
  createdAt: string;
  updatedAt: string;
  /** Set when removed; a removed method is never the default and cannot be charged. */
  deletedAt: string | null;
}

/** A subscription run by the gateway's billing engine, mirrored. */
export interface Subscription {
  /** Tender's id (`sub_...` is Stripe's; Tender's is `subs_...`). */
  id: string;
  merchantId: string;
  userId: string;
  gateway: string;
  /** The gateway's id (Stripe `sub_...`). */
  gatewayReference: string;
  gatewayCustomerId: string;
  status: SubscriptionStatus;
  /** The gateway's price id (Stripe `price_...`). */
  priceId: string;
  quantity: number;
  /** What one period costs (major units), when the gateway says. */
  amount: string | null;
  currency: string | null;
  /** `day`, `week`, `month`, `year`. */
  interval: string | null;
  intervalCount: number | null;
  /** The saved method charged for renewals (Tender's id), when known. */
  paymentMethodId: string | null;
  trialStart: string | null;
  trialEnd: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  /** Ends at the end of the current period instead of renewing. */
  cancelAtPeriodEnd: boolean;
  canceledAt: string | null;
  endedAt: string | null;
  /** The gateway's id of the newest invoice. */
  latestInvoiceReference: string | null;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  /**
   * When the gateway state now stored was read (the start of the requery that read it). A read that
   * started earlier is older news and is not applied over it: two requeries may finish out of order.
   */
  syncedAt: string;
  /** Incremented on every write. */
  version: number;
}

/** An invoice of a subscription, mirrored from the gateway. */
export interface Invoice {
  /** Tender's id (`inv_...`). */
  id: string;
  merchantId: string;
  userId: string;
  gateway: string;
  /** The gateway's id (Stripe `in_...`). */
  gatewayReference: string;
  /** Tender's subscription id, when the invoice belongs to one. */
  subscriptionId: string | null;
  status: InvoiceStatus;
  currency: string;
  amountDue: string;
  amountPaid: string;
  amountRemaining: string;
  /** `subscription_create`, `subscription_cycle`... */
  billingReason: string | null;
  number: string | null;
  hostedInvoiceUrl: string | null;
  periodStart: string | null;
  periodEnd: string | null;
  /** Payment attempts the gateway made. */
  attemptCount: number;
  nextPaymentAttempt: string | null;
  /** The Tender payment recording the money taken, once paid. */
  paymentId: string | null;
  paidAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** See {@link Subscription.syncedAt}. */
  syncedAt: string;
  version: number;
}

/** One entry of a subscription's or invoice's audit trail. */
export interface BillingTransition {
  id: string;
  merchantId: string;
  resourceType: 'subscription' | 'invoice';
  resourceId: string;
  from: string | null;
  to: string;
  reason: string;
  actor: string;
  at: string;
}
