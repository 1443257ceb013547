/**
 * The engine's billing operations, assembled: `tender.customers`, `tender.paymentMethods`,
 * `tender.subscriptions` and `tender.invoices` (see `types.ts`), one module per concept.
 *
 * @module
 */
import type { EngineContext } from '../context';
import { ensureCustomer } from './customers';
import { billingHost } from './host';
import { getInvoice, invoiceTransitions, listInvoices } from './invoices';
import { getMethod, listMethods, removeMethod, saveMethod, setDefaultMethod } from './payment-methods';
import { cancelSubscription, createSubscription, getSubscription, listSubscriptions, subscriptionTransitions, syncSubscription } from './subscriptions';
import type { CustomerOperations, InvoiceOperations, PaymentMethodOperations, SubscriptionOperations } from './types';

export type * from './types';

/** @internal The four billing members of `Tender`, over one engine context. */
export function createBillingOperations(ctx: EngineContext): {
  customers: CustomerOperations;
  paymentMethods: PaymentMethodOperations;
  subscriptions: SubscriptionOperations;
  invoices: InvoiceOperations;
} {
  const host = billingHost(ctx);
  return {
    customers: { ensure: (input, options) => ensureCustomer(host, input, options) },
    paymentMethods: {
      save: (input, options) => saveMethod(host, input, options),
      get: (id, options) => getMethod(host, id, options),
      list: (options) => listMethods(host, options),
      setDefault: (id, options) => setDefaultMethod(host, id, options),
      remove: (id, options) => removeMethod(host, id, options),
    },
    subscriptions: {
      create: (input, options) => createSubscription(host, input, options),
      get: (id, options) => getSubscription(host, id, options),
      list: (options) => listSubscriptions(host, options),
      cancel: (id, input, options) => cancelSubscription(host, id, input, options),
      sync: (id, options) => syncSubscription(host, id, options),
      transitions: (id, options) => subscriptionTransitions(host, id, options),
    },
    invoices: {
      get: (id, options) => getInvoice(host, id, options),
      list: (options) => listInvoices(host, options),
      transitions: (id, options) => invoiceTransitions(host, id, options),
    },
  };
}
