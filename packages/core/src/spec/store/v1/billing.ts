/**
 * Store spec v1, billing part: gateway customers, saved payment methods, subscriptions, invoices and
 * their audit trail. Part of {@link StoreReader} and {@link StoreTx}, so a billing change commits in
 * one transaction with the payment, inbox record and outbox event it goes with.
 *
 * Every read that takes a `merchantId` returns only that merchant's record (null otherwise).
 *
 * @module
 */
import type { BillingTransition, GatewayCustomer, Invoice, SavedPaymentMethod, Subscription, SubscriptionStatus } from '../../../billing';

/** A page query over one merchant's billing records, newest first (by `createdAt`, then `id`). */
export interface BillingListQuery {
  merchantId: string;
  /** Only this user's records. */
  userId?: string;
  limit: number;
  /** Records created before this one (its id), newest first. */
  startingAfter?: string;
}

/** Options of {@link BillingReader.listSavedPaymentMethods}; removed methods are left out. */
export type ListSavedPaymentMethodsQuery = BillingListQuery;

/** Options of {@link BillingReader.listSubscriptions}. */
export interface ListSubscriptionsQuery extends BillingListQuery {
  status?: SubscriptionStatus;
}

/** Options of {@link BillingReader.listInvoices}. */
export interface ListInvoicesQuery extends BillingListQuery {
  /** Only this subscription's invoices (Tender's id). */
  subscriptionId?: string;
}

/** Billing reads, on the store and inside a transaction. */
export interface BillingReader {
  getGatewayCustomer(merchantId: string, userId: string, gateway: string): Promise<GatewayCustomer | null>;
  /** A saved method by id, removed ones included (their `deletedAt` is set). */
  getSavedPaymentMethod(id: string, merchantId?: string): Promise<SavedPaymentMethod | null>;
  /** The merchant's method with this gateway token, removed ones included. */
  findSavedPaymentMethodByToken(merchantId: string, gateway: string, token: string): Promise<SavedPaymentMethod | null>;
  /** Methods not removed, newest first. */
  listSavedPaymentMethods(query: ListSavedPaymentMethodsQuery): Promise<SavedPaymentMethod[]>;
  getSubscription(id: string, merchantId?: string): Promise<Subscription | null>;
  findSubscriptionByGatewayReference(gateway: string, gatewayReference: string): Promise<Subscription | null>;
  listSubscriptions(query: ListSubscriptionsQuery): Promise<Subscription[]>;
  getInvoice(id: string, merchantId?: string): Promise<Invoice | null>;
  findInvoiceByGatewayReference(gateway: string, gatewayReference: string): Promise<Invoice | null>;
  listInvoices(query: ListInvoicesQuery): Promise<Invoice[]>;
  /** The audit trail of a subscription or invoice, oldest first. */
  listBillingTransitions(resourceId: string): Promise<BillingTransition[]>;
}

/** Billing writes, inside a transaction. */
export interface BillingTx extends BillingReader {
  /**
   * Inserts the mapping unless (merchantId, userId, gateway) exists; returns the stored one either way
   * (`created` false when another caller's insert won).
   */
  insertGatewayCustomer(customer: GatewayCustomer): Promise<{ created: boolean; customer: GatewayCustomer }>;
  /**
   * Inserts a saved method. With `isDefault`, every other method of the user stops being the default
   * in the same transaction.
   * @throws TenderError `state_error`/`duplicate_saved_payment_method` when (merchantId, gateway, token) exists.
   */
  insertSavedPaymentMethod(method: SavedPaymentMethod): Promise<void>;
  /**
   * Makes the method the user's only default (`updatedAt` = `now` on what changed); returns it, or
   * null when it is unknown, removed, or another merchant's. Concurrent calls for one user end with
   * exactly one default: the last to commit.
   */
  setDefaultSavedPaymentMethod(merchantId: string, id: string, now: string): Promise<SavedPaymentMethod | null>;
  /**
   * Removes (soft-deletes) the method: `deletedAt` and `updatedAt` = `now`, no longer the default. Returns it as
   * removed, or null when unknown or another merchant's; removing twice returns the first removal.
   */
  removeSavedPaymentMethod(merchantId: string, id: string, now: string): Promise<SavedPaymentMethod | null>;
  /** Reads the subscription and holds it exclusively until the transaction ends. */
  lockSubscription(id: string): Promise<Subscription | null>;
  /**
   * @throws TenderError `state_error`/`duplicate_subscription` when the id exists;
   * `duplicate_gateway_reference` when (gateway, gatewayReference) exists.
   */
  insertSubscription(subscription: Subscription): Promise<void>;
  /**
   * Writes it if the stored version is `subscription.version - 1` (callers bump the version).
   * @throws TenderError `state_error`/`version_conflict` otherwise.
   */
  updateSubscription(subscription: Subscription): Promise<void>;
  lockInvoice(id: string): Promise<Invoice | null>;
  /** @throws as {@link BillingTx.insertSubscription} (`duplicate_invoice`, `duplicate_gateway_reference`). */
  insertInvoice(invoice: Invoice): Promise<void>;
  /** As {@link BillingTx.updateSubscription}. */
  updateInvoice(invoice: Invoice): Promise<void>;
  appendBillingTransition(transition: BillingTransition): Promise<void>;
}
