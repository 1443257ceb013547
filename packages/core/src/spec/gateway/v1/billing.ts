/**
 * Gateway spec v1, billing part: customers, saved payment methods, and subscriptions with their
 * invoices. All optional: a gateway declares `capabilities.customers`, `savedMethods` or
 * `subscriptions` and implements the matching member of {@link GatewayV1}; the engine refuses the
 * call with a typed 400 on a gateway that does not.
 *
 * Everything a gateway returns here comes from the gateway's authenticated API (a response to a call
 * Tender made), never from a browser or an unsigned payload.
 *
 * @module
 */
import type { InvoiceStatus, SavedCardDetails, SubscriptionStatus } from '../../../billing';
import type { Money } from '../../../money';
import type { GatewayCallContext } from './operations';

/** Input of {@link GatewayCustomersV1.create}. */
export interface GatewayCustomerInput {
  merchantId: string;
  userId: string;
  email?: string;
  name?: string;
}

/** The gateway's customers. */
export interface GatewayCustomersV1 {
  /**
   * Creates the gateway's customer object for a user. `ctx.idempotencyKey` is derived from
   * (merchant, user), so two first uses at once make one customer.
   */
  create(input: GatewayCustomerInput, ctx: GatewayCallContext): Promise<{ gatewayCustomerId: string }>;
}

/** A payment method as the gateway stores it: its token and display data only. */
export interface GatewaySavedMethod {
  token: string;
  /** `card`, `paypal`... */
  type: string;
  card: SavedCardDetails | null;
  walletEmail: string | null;
}

/** Saved payment methods at the gateway. */
export interface GatewaySavedMethodsV1 {
  /**
   * Saves a token the browser collected (Stripe: a `pm_...` from Elements, confirmed on a SetupIntent
   * with `usage=off_session`) on the customer for later, merchant-initiated charges.
   * @throws TenderError a card error when the gateway declines to save it (e.g. authentication failed).
   */
  save(input: { gatewayCustomerId: string; token: string }, ctx: GatewayCallContext): Promise<GatewaySavedMethod>;
  /** Detaches the method from the customer (it cannot be charged afterwards). */
  remove(input: { gatewayCustomerId: string; token: string }, ctx: GatewayCallContext): Promise<void>;
  /** Makes the method the customer's default at the gateway (what its billing charges for invoices). */
  setDefault(input: { gatewayCustomerId: string; token: string }, ctx: GatewayCallContext): Promise<void>;
}

/** A subscription as the gateway reports it. */
export interface GatewaySubscriptionResult {
  gatewayReference: string;
  gatewayCustomerId: string;
  status: SubscriptionStatus;
  priceId: string;
  quantity: number;
  /** One period's price, when known. */
  amount: Money | null;
  interval: string | null;
  intervalCount: number | null;
  /** The token of the method charged for renewals, if the subscription names one. */
  defaultPaymentMethod: string | null;
  trialStart: string | null;
  trialEnd: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: string | null;
  endedAt: string | null;
  latestInvoiceReference: string | null;
  /**
   * The metadata stored on the gateway's object. Tender writes `tender_subscription_id`,
   * `tender_merchant_id` and `tender_user_id` at creation, so a subscription reported before its
   * create call returned is still bound to the right record.
   */
  metadata: Record<string, string>;
  createdAt: string;
}

/** An invoice as the gateway reports it. */
export interface GatewayInvoiceResult {
  gatewayReference: string;
  gatewayCustomerId: string;
  /** The gateway's subscription id, when the invoice belongs to one. */
  subscriptionReference: string | null;
  status: InvoiceStatus;
  amountDue: Money;
  amountPaid: Money;
  amountRemaining: Money;
  billingReason: string | null;
  number: string | null;
  hostedInvoiceUrl: string | null;
  periodStart: string | null;
  periodEnd: string | null;
  attemptCount: number;
  nextPaymentAttempt: string | null;
  paidAt: string | null;
  /** The gateway's id of the payment that paid it (Stripe `pi_...`), once paid. */
  paymentReference: string | null;
  /** The payment method token charged, when the gateway says. */
  paymentMethod: string | null;
  createdAt: string;
}

/** Input of {@link GatewaySubscriptionsV1.create}. */
export interface GatewaySubscriptionCreateInput {
  /** Tender's id for the subscription (stored in the gateway's metadata). */
  subscriptionId: string;
  merchantId: string;
  userId: string;
  gatewayCustomerId: string;
  priceId: string;
  quantity: number;
  /** The token to charge; absent: the customer's default at the gateway. */
  paymentMethod: string | null;
  /** Free trial days before the first charge. */
  trialDays: number | null;
  metadata: Record<string, string>;
}

/** Subscriptions run by the gateway's billing engine, and their invoices. */
export interface GatewaySubscriptionsV1 {
  create(input: GatewaySubscriptionCreateInput, ctx: GatewayCallContext): Promise<GatewaySubscriptionResult>;
  retrieve(input: { gatewayReference: string }, ctx: GatewayCallContext): Promise<GatewaySubscriptionResult>;
  /** Cancels now, or at the end of the current period (`atPeriodEnd`). */
  cancel(input: { gatewayReference: string; atPeriodEnd: boolean }, ctx: GatewayCallContext): Promise<GatewaySubscriptionResult>;
  retrieveInvoice(input: { gatewayReference: string }, ctx: GatewayCallContext): Promise<GatewayInvoiceResult>;
  /** The subscription's invoices, newest first (at most `limit`). */
  listInvoices(input: { subscriptionReference: string; limit: number }, ctx: GatewayCallContext): Promise<GatewayInvoiceResult[]>;
}
