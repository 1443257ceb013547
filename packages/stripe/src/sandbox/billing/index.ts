/**
 * The sandbox's Stripe Billing: routes for Customers, PaymentMethods, SetupIntents, Products, Prices,
 * Subscriptions, Invoices and test clocks over the {@link BillingState}, and the link that lets the
 * payment side charge saved PaymentMethods (off-session PaymentIntents, invoice payments).
 *
 * @module
 */
import { missing, type RequestInfo, type SandboxAccount } from '../api';
import { list } from '../list';
import { createCustomer, deleteCustomer, listCustomers, retrieveCustomer, updateCustomer } from './customers';
import { listInvoices, onPaymentIntentEvent, payInvoice, retrieveInvoice } from './invoices';
import {
  attachPaymentMethod,
  createPaymentMethod,
  detachPaymentMethod,
  listPaymentMethods,
  materializePaymentMethod,
  retrievePaymentMethod,
  updatePaymentMethod,
} from './payment-methods';
import { createPrice, createProduct, listPrices, retrievePrice, retrieveProduct, updateProduct } from './prices';
import { cancelSetupIntent, completeSetupAuthentication, confirmSetupIntent, createSetupIntent, listSetupIntents, retrieveSetupIntent } from './setup-intents';
import { BillingState, type SandboxBillingOptions, type StripeObject } from './state';
import { cancelSubscription, createSubscription, listSubscriptions, retrieveSubscription, updateSubscription } from './subscriptions';
import { advanceTestClock, createTestClock, deleteTestClock, listTestClocks, retrieveTestClock } from './test-clocks';

export { BillingState, type SandboxBillingOptions, type StripeObject } from './state';

type Params = Record<string, unknown>;

/** Answer of {@link SandboxBilling.route} for a path that is not billing's. */
export const NOT_BILLING: unique symbol = Symbol('not a billing route');

/** Stripe Billing in the sandbox, next to its {@link SandboxAccount}. */
export class SandboxBilling {
  readonly state: BillingState;

  constructor(account: SandboxAccount, baseUrl: () => string, options: SandboxBillingOptions = {}, retainedObjects?: number) {
    const state = new BillingState(account, baseUrl, options, retainedObjects);
    this.state = state;
    account.directory = {
      resolve(id) {
        if (!state.paymentMethods.has(id) && !id.startsWith('tok_')) return undefined;
        const pm = materializePaymentMethod(state, id);
        const saved = state.savedCards.get(pm.id)!;
        if (saved.detached) return undefined;
        return { id: pm.id, method: { card: state.cardOf(pm.id)!, customer: pm.customer as string | null, setUp: saved.setUp } };
      },
      hasCustomer: (id) => state.customers.has(id),
      timeOf: (customer) => state.timeOf(customer),
    };
    account.onEvent((event) => onPaymentIntentEvent(state, event));
  }

  /** Finishes a SetupIntent's 3-D Secure challenge (the sandbox's bank page calls this). */
  completeSetupAuthentication(id: string, outcome: 'approve' | 'decline'): StripeObject {
    return completeSetupAuthentication(this.state, id, outcome);
  }

  /** Serves `method parts` if it is a billing endpoint, else answers {@link NOT_BILLING}. */
  route(method: string, parts: string[], params: Params, info: RequestInfo): unknown {
    const s = this.state;
    const [, resource, id, action, extra] = parts;
    const page = <T extends { id: string }>(items: T[], url: string) => list(items, params, url);
    switch (resource) {
      case 'customers':
        if (method === 'POST' && !id) return createCustomer(s, params, info);
        if (method === 'GET' && !id) return page(listCustomers(s, params), '/v1/customers');
        if (method === 'GET' && id && !action) return retrieveCustomer(s, id);
        if (method === 'POST' && id && !action) return updateCustomer(s, id, params, info);
        if (method === 'DELETE' && id && !action) return deleteCustomer(s, id, info, (sub) => void cancelSubscription(s, sub, info));
        if (method === 'GET' && id && action === 'payment_methods' && !extra) return page(listPaymentMethods(s, id, params), `/v1/customers/${id}/payment_methods`);
        if (method === 'GET' && id && action === 'payment_methods' && extra) {
          const pm = retrievePaymentMethod(s, extra);
          if (pm.customer !== id) throw missing('PaymentMethod', extra, 'payment_method', 'path');
          return pm;
        }
        break;
      case 'payment_methods':
        if (method === 'POST' && !id) return createPaymentMethod(s, params);
        if (method === 'GET' && !id) return page(listPaymentMethods(s, typeof params.customer === 'string' ? params.customer : undefined, params), '/v1/payment_methods');
        if (method === 'GET' && id && !action) return retrievePaymentMethod(s, id);
        if (method === 'POST' && id && !action) return updatePaymentMethod(s, id, params, info);
        if (method === 'POST' && id && action === 'attach') return attachPaymentMethod(s, id, typeof params.customer === 'string' ? params.customer : undefined, info);
        if (method === 'POST' && id && action === 'detach') return detachPaymentMethod(s, id, info);
        break;
      case 'setup_intents':
        if (method === 'POST' && !id) return createSetupIntent(s, params, info);
        if (method === 'GET' && !id) return page(listSetupIntents(s, params), '/v1/setup_intents');
        if (method === 'GET' && id && !action) return retrieveSetupIntent(s, id);
        if (method === 'POST' && id && action === 'confirm') return confirmSetupIntent(s, id, params, info);
        if (method === 'POST' && id && action === 'cancel') return cancelSetupIntent(s, id, params, info);
        break;
      case 'products':
        if (method === 'POST' && !id) return createProduct(s, params, info);
        if (method === 'GET' && !id) return page([...s.products.values()].reverse(), '/v1/products');
        if (method === 'GET' && id && !action) return retrieveProduct(s, id);
        if (method === 'POST' && id && !action) return updateProduct(s, id, params, info);
        break;
      case 'prices':
        if (method === 'POST' && !id) return createPrice(s, params, info);
        if (method === 'GET' && !id) return page(listPrices(s, params), '/v1/prices');
        if (method === 'GET' && id && !action) return retrievePrice(s, id);
        break;
      case 'subscriptions':
        if (method === 'POST' && !id) return createSubscription(s, params, info);
        if (method === 'GET' && !id) return page(listSubscriptions(s, params), '/v1/subscriptions');
        if (method === 'GET' && id && !action) return retrieveSubscription(s, id);
        if (method === 'POST' && id && !action) return updateSubscription(s, id, params, info);
        if (method === 'DELETE' && id && !action) return cancelSubscription(s, id, info);
        break;
      case 'invoices':
        if (method === 'GET' && !id) return page(listInvoices(s, params), '/v1/invoices');
        if (method === 'GET' && id && !action) return retrieveInvoice(s, id);
        if (method === 'GET' && id && action === 'lines') return page((retrieveInvoice(s, id).lines as { data: StripeObject[] }).data, `/v1/invoices/${id}/lines`);
        if (method === 'POST' && id && action === 'pay') return payInvoice(s, id, params, info);
        break;
      case 'test_helpers': {
        if (id !== 'test_clocks') break;
        const [clock, clockAction] = [action, extra];
        if (method === 'POST' && !clock) return createTestClock(s, params, info);
        if (method === 'GET' && !clock) return page(listTestClocks(s), '/v1/test_helpers/test_clocks');
        if (method === 'GET' && clock && !clockAction) return retrieveTestClock(s, clock);
        if (method === 'DELETE' && clock && !clockAction) return deleteTestClock(s, clock, info);
        if (method === 'POST' && clock && clockAction === 'advance') return advanceTestClock(s, clock, params, info);
        break;
      }
    }
    return NOT_BILLING;
  }
}
