/**
 * The Stripe gateway's billing members (gateway spec v1 `customers`, `savedMethods`,
 * `subscriptions`), made of the Billing client's calls over the gateway's own requester: one
 * transport, one circuit, one way of sending and reading.
 *
 * @module
 */
import {
  TenderError,
  type GatewayCallContext,
  type GatewayCustomersV1,
  type GatewayInvoiceResult,
  type GatewaySavedMethodsV1,
  type GatewaySubscriptionsV1,
} from '@tender/core';
import { invoiceToResult, paymentMethodToSaved, subscriptionToResult } from './billing-transformers';
import { METADATA_MERCHANT_ID, METADATA_SUBSCRIPTION_ID, METADATA_USER_ID } from './config';
import { stripeMetadata } from './metadata';
import type { StripeBilling, StripeBillingCallOptions } from './stripe-billing';
import type { StripeBillingSetupIntent } from './stripe-billing-schemas';

/** What the members need besides the Billing calls. */
export interface StripeGatewayBillingOptions {
  /** Test mode: the test clock every created customer is attached to. */
  testClock?: string;
}

/** The three billing members of the Stripe gateway. */
export interface StripeGatewayBilling {
  customers: GatewayCustomersV1;
  savedMethods: GatewaySavedMethodsV1;
  subscriptions: GatewaySubscriptionsV1;
}

/** A POST's options: the engine's derived key, so a retried call never acts twice. */
const keyed = (ctx: GatewayCallContext): StripeBillingCallOptions => ({ idempotencyKey: ctx.idempotencyKey, ...(ctx.signal ? { signal: ctx.signal } : {}) });
/** A read's options. */
const reading = (ctx: GatewayCallContext): StripeBillingCallOptions => (ctx.signal ? { signal: ctx.signal } : {});

/**
 * The error for a SetupIntent that did not save the card: Tender confirms it server-side, so nobody
 * is there to authenticate (`requires_action`), and any other status than `succeeded` is a decline.
 * A card error (402) naming Stripe's code, like a declined payment's.
 */
function notSaved(si: StripeBillingSetupIntent): TenderError {
  const setupError = si.last_setup_error;
  const code = si.status === 'requires_action' ? 'authentication_required' : (setupError?.decline_code ?? setupError?.code ?? 'setup_failed');
  const message =
    si.status === 'requires_action'
      ? 'Stripe could not save the card: it needs the customer to authenticate (3-D Secure), and the card was confirmed server-side'
      : `Stripe could not save the card: ${setupError?.message ?? `the SetupIntent is ${si.status}`}`;
  return new TenderError({
    type: 'gateway_error',
    code,
    status: 402,
    message,
    details: { setupIntentId: si.id, setupIntentStatus: si.status, ...(setupError?.code ? { stripeCode: setupError.code } : {}) },
  });
}

/** Builds the members over `billing` (the Billing client over the gateway's requester). */
export function stripeGatewayBilling(billing: StripeBilling, options: StripeGatewayBillingOptions = {}): StripeGatewayBilling {
  const customers: GatewayCustomersV1 = {
    async create(input, ctx) {
      const customer = await billing.customers.create(
        {
          ...(input.email !== undefined ? { email: input.email } : {}),
          ...(input.name !== undefined ? { name: input.name } : {}),
          metadata: stripeMetadata({ [METADATA_MERCHANT_ID]: input.merchantId, [METADATA_USER_ID]: input.userId }, 'user_id'),
          ...(options.testClock ? { testClock: options.testClock } : {}),
        },
        keyed(ctx),
      );
      return { gatewayCustomerId: customer.id };
    },
  };

  const savedMethods: GatewaySavedMethodsV1 = {
    async save(input, ctx) {
      // A SetupIntent is Stripe's way to save a card for later off-session charges: it runs the
      // checks (and 3-D Secure) the card needs for that (https://docs.stripe.com/payments/save-and-reuse).
      // A decline answers 402, which the Billing client turns into the card error.
      const si = await billing.setupIntents.create({ customer: input.gatewayCustomerId, paymentMethod: input.token, confirm: true, usage: 'off_session' }, keyed(ctx));
      if (si.status !== 'succeeded' || !si.payment_method) throw notSaved(si);
      const pm = await billing.paymentMethods.retrieve(si.payment_method, reading(ctx));
      return paymentMethodToSaved(pm);
    },

    async remove(input, ctx) {
      const pm = await billing.paymentMethods.retrieve(input.token, reading(ctx));
      // Detached already (a retry after the first detach answered): nothing left to do.
      if (pm.customer === null) return;
      if (pm.customer !== input.gatewayCustomerId) {
        throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `Stripe PaymentMethod ${input.token} is not saved on customer ${input.gatewayCustomerId}` });
      }
      await billing.paymentMethods.detach(input.token, keyed(ctx));
    },

    async setDefault(input, ctx) {
      await billing.customers.update(input.gatewayCustomerId, { defaultPaymentMethod: input.token }, keyed(ctx));
    },
  };

  const subscriptions: GatewaySubscriptionsV1 = {
    async create(input, ctx) {
      const metadata = stripeMetadata({
        ...input.metadata,
        [METADATA_SUBSCRIPTION_ID]: input.subscriptionId,
        [METADATA_MERCHANT_ID]: input.merchantId,
        [METADATA_USER_ID]: input.userId,
      });
      const subscription = await billing.subscriptions.create(
        {
          customer: input.gatewayCustomerId,
          price: input.priceId,
          quantity: input.quantity,
          ...(input.trialDays !== null && input.trialDays > 0 ? { trialPeriodDays: input.trialDays } : {}),
          ...(input.paymentMethod ? { defaultPaymentMethod: input.paymentMethod } : {}),
          // Charges the saved card at once (or at the trial's end); a first invoice that cannot be
          // paid leaves the subscription `incomplete` instead of failing the call, so the record
          // mirrors what Stripe holds (https://docs.stripe.com/api/subscriptions/create#create_subscription-payment_behavior,
          // https://docs.stripe.com/billing/subscriptions/overview#payment-status).
          paymentBehavior: 'allow_incomplete',
          metadata,
        },
        keyed(ctx),
      );
      return subscriptionToResult(subscription, 'create_subscription', true);
    },

    async retrieve(input, ctx) {
      return subscriptionToResult(await billing.subscriptions.retrieve(input.gatewayReference, reading(ctx)), 'retrieve_subscription', false);
    },

    async cancel(input, ctx) {
      try {
        if (input.atPeriodEnd) {
          const updated = await billing.subscriptions.update(input.gatewayReference, { cancelAtPeriodEnd: true }, keyed(ctx));
          return subscriptionToResult(updated, 'update_subscription', true);
        }
        return subscriptionToResult(await billing.subscriptions.cancel(input.gatewayReference, reading(ctx)), 'cancel_subscription', true);
      } catch (error) {
        // Stripe refuses to cancel what has ended: a DELETE (no Idempotency-Key) retried after one
        // that canceled answers "No such subscription", and an update of a canceled subscription
        // "A canceled subscription can only update its cancellation_details and metadata" (a period
        // end that canceled it before its webhook arrived). What Stripe holds decides: ended
        // already is the answer the caller wanted.
        if (!(error instanceof TenderError) || error.details?.stripeStatus === undefined || (error.details.stripeStatus as number) >= 500) throw error;
        const current = await billing.subscriptions.retrieve(input.gatewayReference, reading(ctx));
        if (current.status !== 'canceled' && current.status !== 'incomplete_expired') throw error;
        return subscriptionToResult(current, 'retrieve_subscription', false);
      }
    },

    async retrieveInvoice(input, ctx) {
      return invoiceToResult(await billing.invoices.retrieve(input.gatewayReference, reading(ctx)), 'retrieve_invoice');
    },

    async listInvoices(input, ctx) {
      const wanted = Math.max(Math.trunc(input.limit), 1);
      const invoices: GatewayInvoiceResult[] = [];
      let startingAfter: string | undefined;
      // Stripe lists newest first, at most 100 a page.
      while (invoices.length < wanted) {
        const page = await billing.invoices.list(
          { subscription: input.subscriptionReference, limit: Math.min(wanted - invoices.length, 100), ...(startingAfter ? { startingAfter } : {}) },
          reading(ctx),
        );
        invoices.push(...page.data.map((invoice) => invoiceToResult(invoice, 'list_invoices')));
        if (!page.hasMore || page.data.length === 0) break;
        startingAfter = page.data[page.data.length - 1]!.id;
      }
      return invoices;
    },
  };

  return { customers, savedMethods, subscriptions };
}
