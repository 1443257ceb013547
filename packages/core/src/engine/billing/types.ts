/**
 * The engine's billing operations as callers see them: `tender.customers`, `tender.paymentMethods`,
 * `tender.subscriptions` and `tender.invoices`. Each takes the merchant in its options (default: the
 * engine's `defaultMerchantId`); another merchant's record is a 404, as for payments.
 *
 * @module
 */
import type { BillingTransition, GatewayCustomer, Invoice, SavedPaymentMethod, Subscription, SubscriptionStatus } from '../../billing';
import type { Page } from '../payments/reads';

/** Options every billing call takes. */
export interface BillingCallOptions {
  merchantId?: string;
  /**
   * Makes a creating call safe to repeat: forwarded (derived per operation) to the gateway, so a retry
   * after a lost answer acts once, and the record it made is returned again.
   */
  idempotencyKey?: string;
  /** Recorded on the audit trail (default `api`). */
  actor?: string;
}

/** Page options of the billing lists (newest first). */
export interface BillingListOptions {
  merchantId?: string;
  userId?: string;
  /** 1–100, default 20. */
  limit?: number;
  /** The last id of the previous page. */
  startingAfter?: string;
}

/** `tender.customers`. */
export interface CustomerOperations {
  /**
   * The user's customer at the gateway (default: the first gateway declaring `customers`), created on
   * first use, once even under concurrent first uses.
   * @throws TenderError 400 `customers_not_supported` for a gateway without the capability.
   */
  ensure(input: { userId: string; gateway?: string; email?: string; name?: string }, options?: BillingCallOptions): Promise<GatewayCustomer>;
}

/** Input of `tender.paymentMethods.save`. */
export interface SavePaymentMethodInput {
  userId: string;
  /** The gateway token the browser collected (Stripe `pm_...` from Elements). Never card data. */
  token: string;
  /** Default: the first gateway declaring `savedMethods`. */
  gateway?: string;
  /** Make it the user's default (the user's first method always is). */
  setDefault?: boolean;
}

/** `tender.paymentMethods`. */
export interface PaymentMethodOperations {
  /**
   * Saves the token on the user's gateway customer (created on first use) for later charges.
   * Saving a token already saved returns the stored method.
   * @throws TenderError 400 `saved_methods_not_supported`; a card error (402) when the gateway refuses it.
   */
  save(input: SavePaymentMethodInput, options?: BillingCallOptions): Promise<SavedPaymentMethod>;
  /** A method by id; removed ones are a 404. */
  get(id: string, options?: BillingCallOptions): Promise<SavedPaymentMethod>;
  /** The merchant's methods (or one user's), not removed, newest first. */
  list(options?: BillingListOptions): Promise<Page<SavedPaymentMethod>>;
  /** Makes it the user's only default, here and at the gateway. */
  setDefault(id: string, options?: BillingCallOptions): Promise<SavedPaymentMethod>;
  /** Detaches it at the gateway and removes it here (soft delete); it can no longer be charged. */
  remove(id: string, options?: BillingCallOptions): Promise<SavedPaymentMethod>;
}

/** Input of `tender.subscriptions.create`. */
export interface CreateSubscriptionInput {
  userId: string;
  /** The gateway's price (Stripe `price_...`). */
  priceId: string;
  /**
   * The method to charge: a saved method's id (`spm_...`) or a gateway token, which is saved first.
   * Absent: the user's default saved method.
   */
  paymentMethod?: string;
  /** Free trial days before the first charge (0–730). */
  trialDays?: number;
  /** Default 1. */
  quantity?: number;
  gateway?: string;
  metadata?: Record<string, string>;
}

/** `tender.subscriptions`. */
export interface SubscriptionOperations {
  /**
   * Asks the gateway's billing engine to start the subscription and stores its mirror (with the first
   * invoice, when the gateway made one).
   * @throws TenderError 400 `subscriptions_not_supported`; 404 for an unknown saved method; the
   * gateway's error for an unknown price or a declined first charge.
   */
  create(input: CreateSubscriptionInput, options?: BillingCallOptions): Promise<Subscription>;
  get(id: string, options?: BillingCallOptions): Promise<Subscription>;
  list(options?: BillingListOptions & { status?: SubscriptionStatus }): Promise<Page<Subscription>>;
  /** Cancels now, or at the end of the current period (`atPeriodEnd`); returns the mirror after it. */
  cancel(id: string, input?: { atPeriodEnd?: boolean }, options?: BillingCallOptions): Promise<Subscription>;
  /** Requeries the gateway and stores what it answers. */
  sync(id: string, options?: BillingCallOptions): Promise<Subscription>;
  /** The subscription's audit trail, oldest first. */
  transitions(id: string, options?: BillingCallOptions): Promise<BillingTransition[]>;
}

/** `tender.invoices`. */
export interface InvoiceOperations {
  get(id: string, options?: BillingCallOptions): Promise<Invoice>;
  /** Newest first; `subscriptionId` narrows to one subscription (404 when it is not the merchant's). */
  list(options?: BillingListOptions & { subscriptionId?: string }): Promise<Page<Invoice>>;
  transitions(id: string, options?: BillingCallOptions): Promise<BillingTransition[]>;
}
