/**
 * A typed client for the Stripe Billing calls Tender makes: Customers, SetupIntents (save a card),
 * PaymentMethods, off-session PaymentIntents on a saved card, Products and Prices, Subscriptions and
 * Invoices (https://docs.stripe.com/api). Requests go form-encoded through core's HTTP transport, like
 * the gateway's; every answer is checked against the schemas of `stripe-billing-schemas.ts`, and
 * Stripe's error answers become `TenderError`s the same way the gateway maps them. It calls Stripe
 * only: nothing here knows about Tender's payments engine.
 *
 * @module
 */
import type { Money } from '@tender/core';
import { toStripeAmount } from './amounts';
import type { StripeGatewayOptions } from './config';
import type { FormValue } from './form-encoding';
import { read, readPaymentIntent, unusableAnswer } from './schemas';
import {
  StripeCustomerSchema,
  StripeDeletedSchema,
  StripeInvoiceSchema,
  StripePaymentMethodSchema,
  StripePriceSchema,
  StripeProductSchema,
  StripeSetupIntentSchema,
  StripeSubscriptionSchema,
  type StripeBillingCustomer,
  type StripeBillingDeleted,
  type StripeBillingInvoice,
  type StripeBillingPaymentMethod,
  type StripeBillingPrice,
  type StripeBillingProduct,
  type StripeBillingSetupIntent,
  type StripeBillingSubscription,
} from './stripe-billing-schemas';
import { createStripeRequester, type StripeMethod, type StripeRequester } from './stripe-requests';
import type { StripeErrorObject, StripePaymentIntent } from './stripe-types';
import { stripeErrorToTenderError } from './transformers';
import type { z } from 'zod';

/** Options of {@link createStripeBilling}: the gateway's connection settings. */
export type StripeBillingOptions = Pick<StripeGatewayOptions, 'secretKey' | 'baseUrl' | 'apiVersion' | 'transport' | 'timeoutMs'>;

/** Per-call options. */
export interface StripeBillingCallOptions {
  /** Sent as `Idempotency-Key` on POSTs (hashed when longer than Stripe allows), so a retry never acts twice. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** A page of a list. */
export interface StripeBillingPage<T> {
  data: T[];
  hasMore: boolean;
}

/** Cursor parameters of a list call. */
export interface StripeBillingListOptions {
  /** 1–100; Stripe's default is 10. */
  limit?: number;
  /** The last id of the previous page. */
  startingAfter?: string;
}

/** Subscription statuses a list may filter on (`all` includes canceled ones, which are left out by default). */
export type StripeSubscriptionListStatus = StripeBillingSubscription['status'] | 'all' | 'ended';

/** The Stripe Billing client; see {@link createStripeBilling}. */
export interface StripeBilling {
  readonly customers: {
    /** `POST /v1/customers`; `testClock` puts the customer on a test clock (test mode only). */
    create(input: { email?: string; name?: string; description?: string; metadata?: Record<string, string>; testClock?: string }, call?: StripeBillingCallOptions): Promise<StripeBillingCustomer>;
    retrieve(id: string, call?: StripeBillingCallOptions): Promise<StripeBillingCustomer>;
    /** `POST /v1/customers/:id`; `defaultPaymentMethod: null` clears `invoice_settings.default_payment_method`. */
    update(id: string, input: { email?: string | null; name?: string | null; metadata?: Record<string, string>; defaultPaymentMethod?: string | null }, call?: StripeBillingCallOptions): Promise<StripeBillingCustomer>;
    list(input?: StripeBillingListOptions & { email?: string }, call?: StripeBillingCallOptions): Promise<StripeBillingPage<StripeBillingCustomer>>;
    del(id: string, call?: StripeBillingCallOptions): Promise<StripeBillingDeleted>;
  };
  readonly setupIntents: {
    /** `POST /v1/setup_intents` (`usage` defaults to `off_session`, Stripe's default); `confirm` with a `paymentMethod` saves it at once. */
    create(
      input: { customer: string; paymentMethod?: string; confirm?: boolean; usage?: 'off_session' | 'on_session'; returnUrl?: string; metadata?: Record<string, string> },
      call?: StripeBillingCallOptions,
    ): Promise<StripeBillingSetupIntent>;
    confirm(id: string, input?: { paymentMethod?: string; returnUrl?: string }, call?: StripeBillingCallOptions): Promise<StripeBillingSetupIntent>;
    retrieve(id: string, call?: StripeBillingCallOptions): Promise<StripeBillingSetupIntent>;
  };
  readonly paymentMethods: {
    retrieve(id: string, call?: StripeBillingCallOptions): Promise<StripeBillingPaymentMethod>;
    /** `POST /v1/payment_methods/:id/attach`. Stripe prefers a SetupIntent for cards used later. */
    attach(id: string, customer: string, call?: StripeBillingCallOptions): Promise<StripeBillingPaymentMethod>;
    /** `POST /v1/payment_methods/:id/detach`: permanent; the PaymentMethod cannot be used again. */
    detach(id: string, call?: StripeBillingCallOptions): Promise<StripeBillingPaymentMethod>;
    list(customer: string, input?: StripeBillingListOptions & { type?: string }, call?: StripeBillingCallOptions): Promise<StripeBillingPage<StripeBillingPaymentMethod>>;
  };
  readonly paymentIntents: {
    /**
     * A merchant-initiated charge of a saved PaymentMethod (`off_session=true&confirm=true`). A card
     * that needs authentication is declined: the `TenderError` (`gateway_error`) carries Stripe's
     * `authentication_required` code in `details`, and the customer must come back on-session.
     */
    chargeOffSession(
      input: { customer: string; paymentMethod: string; amount: Money; description?: string; metadata?: Record<string, string> },
      call?: StripeBillingCallOptions,
    ): Promise<StripePaymentIntent>;
  };
  readonly products: {
    create(input: { name: string; description?: string; metadata?: Record<string, string> }, call?: StripeBillingCallOptions): Promise<StripeBillingProduct>;
    retrieve(id: string, call?: StripeBillingCallOptions): Promise<StripeBillingProduct>;
  };
  readonly prices: {
    /** `POST /v1/prices`: a per-unit recurring price of `unitAmount` every `intervalCount` `interval`s. */
    create(
      input: { product: string; unitAmount: Money; interval: 'day' | 'week' | 'month' | 'year'; intervalCount?: number; nickname?: string; metadata?: Record<string, string> },
      call?: StripeBillingCallOptions,
    ): Promise<StripeBillingPrice>;
    retrieve(id: string, call?: StripeBillingCallOptions): Promise<StripeBillingPrice>;
  };
  readonly subscriptions: {
    /** `POST /v1/subscriptions` for one price (`quantity` 1 unless given). */
    create(
      input: {
        customer: string;
        price: string;
        quantity?: number;
        trialPeriodDays?: number;
        defaultPaymentMethod?: string;
        paymentBehavior?: 'allow_incomplete' | 'default_incomplete' | 'error_if_incomplete';
        cancelAtPeriodEnd?: boolean;
        metadata?: Record<string, string>;
      },
      call?: StripeBillingCallOptions,
    ): Promise<StripeBillingSubscription>;
    retrieve(id: string, call?: StripeBillingCallOptions): Promise<StripeBillingSubscription>;
    list(input?: StripeBillingListOptions & { customer?: string; status?: StripeSubscriptionListStatus }, call?: StripeBillingCallOptions): Promise<StripeBillingPage<StripeBillingSubscription>>;
    /** `POST /v1/subscriptions/:id`: cancel at period end (or not), change the default PaymentMethod, metadata. */
    update(id: string, input: { cancelAtPeriodEnd?: boolean; defaultPaymentMethod?: string | null; metadata?: Record<string, string> }, call?: StripeBillingCallOptions): Promise<StripeBillingSubscription>;
    /** `DELETE /v1/subscriptions/:id`: canceled now. */
    cancel(id: string, call?: StripeBillingCallOptions): Promise<StripeBillingSubscription>;
  };
  readonly invoices: {
    /**
     * `GET /v1/invoices/:id` with `payments` included and each one's PaymentIntent expanded, so a paid
     * invoice names the PaymentIntent that paid it and the PaymentMethod charged.
     */
    retrieve(id: string, call?: StripeBillingCallOptions): Promise<StripeBillingInvoice>;
    /** `GET /v1/invoices`, newest first, each with its `payments` and their PaymentIntents, as `retrieve`. */
    list(input?: StripeBillingListOptions & { customer?: string; subscription?: string; status?: NonNullable<StripeBillingInvoice['status']> }, call?: StripeBillingCallOptions): Promise<StripeBillingPage<StripeBillingInvoice>>;
    /** `POST /v1/invoices/:id/pay`, with `paymentMethod` or the default; a decline is a `TenderError` like a payment's. */
    pay(id: string, input?: { paymentMethod?: string }, call?: StripeBillingCallOptions): Promise<StripeBillingInvoice>;
  };
  /** Releases the transport's pooled connections when this client created it. */
  close(): Promise<void>;
}

type Method = StripeMethod;
type Params = Record<string, FormValue>;

/**
 * Creates the Stripe Billing client over the same connection settings as the gateway.
 * @example
 * const billing = createStripeBilling({ secretKey: process.env.STRIPE_SECRET_KEY! });
 * const customer = await billing.customers.create({ email: 'ada@example.com' });
 * const setup = await billing.setupIntents.create({ customer: customer.id, paymentMethod: 'pm_card_visa', confirm: true });
 */
export function createStripeBilling(options: StripeBillingOptions): StripeBilling {
  return stripeBillingOver(createStripeRequester(options));
}

/**
 * The Billing calls over an existing requester: the gateway's customers, saved methods and
 * subscriptions use them through its own requester (one transport, one circuit), and
 * {@link createStripeBilling} over a requester of its own. `close` closes the requester.
 */
export function stripeBillingOver(requester: StripeRequester): StripeBilling {

  async function call(method: Method, path: string, params: Params | undefined, operation: string, callOptions: StripeBillingCallOptions = {}): Promise<unknown> {
    const response = await requester.send(method, path, params, { operation, ...callOptions });
    const json = response.json;
    if (response.status >= 200 && response.status < 300) return json;
    const stripeError = (json as { error?: StripeErrorObject } | null)?.error;
    const error = stripeErrorToTenderError(stripeError, { status: response.status, headers: response.headers, mutating: method !== 'GET', operation });
    // A declined off-session charge or setup names the intent it left behind, for the customer's return on-session.
    const intent = (stripeError as { payment_intent?: { id?: unknown }; setup_intent?: { id?: unknown } } | undefined) ?? {};
    if (error.details && typeof intent.payment_intent?.id === 'string') error.details.paymentIntentId = intent.payment_intent.id;
    if (error.details && typeof intent.setup_intent?.id === 'string') error.details.setupIntentId = intent.setup_intent.id;
    throw error;
  }

  /** Calls and reads the answer with `schema`, naming what is unusable. */
  async function object<S extends z.ZodType>(schema: S, method: Method, path: string, params: Params | undefined, operation: string, options?: StripeBillingCallOptions): Promise<z.infer<S>> {
    const parsed = read<z.infer<S>>(schema, await call(method, path, params, operation, options));
    if (!parsed.ok) throw unusableAnswer(operation, parsed.problems, method !== 'GET');
    return parsed.value;
  }

  async function page<S extends z.ZodType>(schema: S, path: string, params: Params, operation: string, options?: StripeBillingCallOptions): Promise<StripeBillingPage<z.infer<S>>> {
    const json = (await call('GET', path, params, operation, options)) as { data?: unknown; has_more?: unknown } | null;
    if (!json || !Array.isArray(json.data) || typeof json.has_more !== 'boolean') throw unusableAnswer(operation, ['data or has_more is missing'], false);
    const data = json.data.map((item, i) => {
      const parsed = read<z.infer<S>>(schema, item, `data.${i}.`);
      if (!parsed.ok) throw unusableAnswer(operation, parsed.problems, false);
      return parsed.value;
    });
    return { data, hasMore: json.has_more };
  }

  const cursor = (input: StripeBillingListOptions = {}): Params => ({ limit: input.limit, starting_after: input.startingAfter });
  const segment = (id: string) => encodeURIComponent(id);

  return {
    customers: {
      create: (input, options) =>
        object(StripeCustomerSchema, 'POST', 'customers', { email: input.email, name: input.name, description: input.description, metadata: input.metadata, test_clock: input.testClock }, 'create_customer', options),
      retrieve: (id, options) => object(StripeCustomerSchema, 'GET', `customers/${segment(id)}`, undefined, 'retrieve_customer', options),
      update: (id, input, options) =>
        object(
          StripeCustomerSchema,
          'POST',
          `customers/${segment(id)}`,
          {
            email: input.email,
            name: input.name,
            metadata: input.metadata,
            ...(input.defaultPaymentMethod !== undefined ? { invoice_settings: { default_payment_method: input.defaultPaymentMethod ?? '' } } : {}),
          },
          'update_customer',
          options,
        ),
      list: (input = {}, options) => page(StripeCustomerSchema, 'customers', { ...cursor(input), email: input.email }, 'list_customers', options),
      del: (id, options) => object(StripeDeletedSchema, 'DELETE', `customers/${segment(id)}`, undefined, 'delete_customer', options),
    },
    setupIntents: {
      create: (input, options) =>
        object(
          StripeSetupIntentSchema,
          'POST',
          'setup_intents',
          {
            customer: input.customer,
            payment_method: input.paymentMethod,
            confirm: input.confirm,
            usage: input.usage,
            return_url: input.returnUrl,
            metadata: input.metadata,
            allowed_payment_method_types: ['card'],
          },
          'create_setup_intent',
          options,
        ),
      confirm: (id, input = {}, options) =>
        object(StripeSetupIntentSchema, 'POST', `setup_intents/${segment(id)}/confirm`, { payment_method: input.paymentMethod, return_url: input.returnUrl }, 'confirm_setup_intent', options),
      retrieve: (id, options) => object(StripeSetupIntentSchema, 'GET', `setup_intents/${segment(id)}`, undefined, 'retrieve_setup_intent', options),
    },
    paymentMethods: {
      retrieve: (id, options) => object(StripePaymentMethodSchema, 'GET', `payment_methods/${segment(id)}`, undefined, 'retrieve_payment_method', options),
      attach: (id, customer, options) => object(StripePaymentMethodSchema, 'POST', `payment_methods/${segment(id)}/attach`, { customer }, 'attach_payment_method', options),
      detach: (id, options) => object(StripePaymentMethodSchema, 'POST', `payment_methods/${segment(id)}/detach`, undefined, 'detach_payment_method', options),
      list: (customer, input = {}, options) => page(StripePaymentMethodSchema, 'payment_methods', { ...cursor(input), customer, type: input.type }, 'list_payment_methods', options),
    },
    paymentIntents: {
      async chargeOffSession(input, options) {
        const operation = 'charge_off_session';
        const json = await call(
          'POST',
          'payment_intents',
          {
            amount: toStripeAmount(input.amount),
            currency: input.amount.currency.toLowerCase(),
            customer: input.customer,
            payment_method: input.paymentMethod,
            allowed_payment_method_types: ['card'],
            off_session: true,
            confirm: true,
            description: input.description,
            metadata: input.metadata,
          },
          operation,
          options,
        );
        const parsed = readPaymentIntent(json);
        if (!parsed.ok) throw unusableAnswer(operation, parsed.problems, true);
        return parsed.value;
      },
    },
    products: {
      create: (input, options) => object(StripeProductSchema, 'POST', 'products', { name: input.name, description: input.description, metadata: input.metadata }, 'create_product', options),
      retrieve: (id, options) => object(StripeProductSchema, 'GET', `products/${segment(id)}`, undefined, 'retrieve_product', options),
    },
    prices: {
      create: (input, options) =>
        object(
          StripePriceSchema,
          'POST',
          'prices',
          {
            product: input.product,
            currency: input.unitAmount.currency.toLowerCase(),
            unit_amount: toStripeAmount(input.unitAmount),
            recurring: { interval: input.interval, interval_count: input.intervalCount },
            nickname: input.nickname,
            metadata: input.metadata,
          },
          'create_price',
          options,
        ),
      retrieve: (id, options) => object(StripePriceSchema, 'GET', `prices/${segment(id)}`, undefined, 'retrieve_price', options),
    },
    subscriptions: {
      create: (input, options) =>
        object(
          StripeSubscriptionSchema,
          'POST',
          'subscriptions',
          {
            customer: input.customer,
            items: [{ price: input.price, quantity: input.quantity }],
            trial_period_days: input.trialPeriodDays,
            default_payment_method: input.defaultPaymentMethod,
            payment_behavior: input.paymentBehavior,
            cancel_at_period_end: input.cancelAtPeriodEnd,
            metadata: input.metadata,
          },
          'create_subscription',
          options,
        ),
      retrieve: (id, options) => object(StripeSubscriptionSchema, 'GET', `subscriptions/${segment(id)}`, undefined, 'retrieve_subscription', options),
      list: (input = {}, options) => page(StripeSubscriptionSchema, 'subscriptions', { ...cursor(input), customer: input.customer, status: input.status }, 'list_subscriptions', options),
      update: (id, input, options) =>
        object(
          StripeSubscriptionSchema,
          'POST',
          `subscriptions/${segment(id)}`,
          {
            cancel_at_period_end: input.cancelAtPeriodEnd,
            ...(input.defaultPaymentMethod !== undefined ? { default_payment_method: input.defaultPaymentMethod ?? '' } : {}),
            metadata: input.metadata,
          },
          'update_subscription',
          options,
        ),
      cancel: (id, options) => object(StripeSubscriptionSchema, 'DELETE', `subscriptions/${segment(id)}`, undefined, 'cancel_subscription', options),
    },
    invoices: {
      // `payments` (the InvoicePayments naming each PaymentIntent) is includable, not sent by default,
      // and each PaymentIntent is expanded for the PaymentMethod it charged (3 levels of Stripe's 4):
      // https://docs.stripe.com/api/invoices/object#invoice_object-payments, https://docs.stripe.com/api/expanding_objects.
      retrieve: (id, options) =>
        object(StripeInvoiceSchema, 'GET', `invoices/${segment(id)}`, { expand: ['payments', 'payments.data.payment.payment_intent'] }, 'retrieve_invoice', options),
      list: (input = {}, options) =>
        page(
          StripeInvoiceSchema,
          'invoices',
          { ...cursor(input), customer: input.customer, subscription: input.subscription, status: input.status, expand: ['data.payments', 'data.payments.data.payment.payment_intent'] },
          'list_invoices',
          options,
        ),
      pay: (id, input = {}, options) => object(StripeInvoiceSchema, 'POST', `invoices/${segment(id)}/pay`, { payment_method: input.paymentMethod }, 'pay_invoice', options),
    },
    async close() {
      await requester.close();
    },
  };
}
