/**
 * Lenient schemas (zod) for the Stripe Billing objects Tender reads: Customers, PaymentMethods,
 * SetupIntents, Products, Prices, Subscriptions and Invoices. As in `schemas.ts`, each names only the
 * fields Tender uses, lets every other field through, and says which field is missing or malformed.
 * Shapes follow the current API (https://docs.stripe.com/api/customers/object,
 * https://docs.stripe.com/api/setup_intents/object, https://docs.stripe.com/api/subscriptions/object,
 * https://docs.stripe.com/api/invoices/object): a subscription's period is on its items, an invoice
 * names its subscription under `parent.subscription_details` and its PaymentIntents under `payments`.
 *
 * @module
 */
import { z } from 'zod';

const text = z.string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'is not a string') });
const id = text.min(1, 'is empty');
const seconds = z.number({ error: (issue) => (issue.input === undefined ? 'is missing' : 'is not a number') }).int('is not an integer');
const amount = seconds.min(0, 'is negative');
const metadata = z.record(z.string(), z.string()).nullish();
/** An expandable reference: the id, or the object with its id. */
const ref = z.union([z.string(), z.looseObject({ id })]).transform((v) => (typeof v === 'string' ? v : v.id));
const nullableRef = ref.nullable();

/** `Customer`. */
export const StripeCustomerSchema = z.looseObject({
  id,
  object: z.literal('customer'),
  email: z.string().nullable(),
  name: z.string().nullish(),
  metadata,
  test_clock: nullableRef.optional(),
  invoice_settings: z.looseObject({ default_payment_method: nullableRef }),
});

/** `{ id, object, deleted: true }` of a deleted object. */
export const StripeDeletedSchema = z.looseObject({ id, object: text, deleted: z.literal(true) });

/** `PaymentMethod` (cards: brand, last 4, expiry). */
export const StripePaymentMethodSchema = z.looseObject({
  id,
  object: z.literal('payment_method'),
  type: text,
  customer: nullableRef,
  card: z.looseObject({ brand: text, last4: text, exp_month: seconds, exp_year: seconds, funding: z.string().nullish(), country: z.string().nullish() }).nullish(),
  metadata,
});

/** `SetupIntent` statuses (https://docs.stripe.com/api/setup_intents/object#setup_intent_object-status). */
export const SETUP_INTENT_STATUSES = ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'canceled', 'succeeded'] as const;

/** `SetupIntent`. */
export const StripeSetupIntentSchema = z.looseObject({
  id,
  object: z.literal('setup_intent'),
  status: z.enum(SETUP_INTENT_STATUSES),
  customer: nullableRef,
  payment_method: nullableRef,
  usage: text,
  client_secret: z.string().nullable(),
  next_action: z.record(z.string(), z.unknown()).nullable(),
  last_setup_error: z.looseObject({ code: z.string().nullish(), decline_code: z.string().nullish(), message: z.string().nullish(), type: z.string().nullish() }).nullable(),
});

/** `Product`. */
export const StripeProductSchema = z.looseObject({ id, object: z.literal('product'), name: text, active: z.boolean(), metadata });

/** `Price`: `recurring` null for one-time prices. */
export const StripePriceSchema = z.looseObject({
  id,
  object: z.literal('price'),
  active: z.boolean(),
  currency: text,
  unit_amount: amount.nullable(),
  product: ref,
  type: z.enum(['one_time', 'recurring']),
  recurring: z.looseObject({ interval: z.enum(['day', 'week', 'month', 'year']), interval_count: seconds }).nullable(),
});

/** `Subscription` statuses (https://docs.stripe.com/api/subscriptions/object#subscription_object-status). */
export const SUBSCRIPTION_STATUSES = ['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'] as const;

/** `Subscription`, with its items (and their current period). */
export const StripeSubscriptionSchema = z.looseObject({
  id,
  object: z.literal('subscription'),
  status: z.enum(SUBSCRIPTION_STATUSES),
  customer: ref,
  created: seconds,
  currency: text,
  cancel_at_period_end: z.boolean(),
  cancel_at: seconds.nullable(),
  canceled_at: seconds.nullable(),
  ended_at: seconds.nullable(),
  trial_start: seconds.nullable(),
  trial_end: seconds.nullable(),
  default_payment_method: nullableRef,
  latest_invoice: nullableRef,
  metadata,
  items: z.looseObject({
    data: z.array(
      z.looseObject({
        id,
        quantity: seconds.optional(),
        current_period_start: seconds,
        current_period_end: seconds,
        price: z.looseObject({
          id,
          unit_amount: amount.nullable(),
          currency: text,
          recurring: z.looseObject({ interval: text, interval_count: seconds }).nullish(),
        }),
      }),
    ),
  }),
});

/** `Invoice` statuses (https://docs.stripe.com/api/invoices/object#invoice_object-status). */
export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void'] as const;

/** `Invoice`. */
export const StripeInvoiceSchema = z.looseObject({
  id,
  object: z.literal('invoice'),
  status: z.enum(INVOICE_STATUSES).nullable(),
  customer: nullableRef,
  currency: text,
  created: seconds,
  amount_due: amount,
  amount_paid: amount,
  amount_remaining: amount,
  attempt_count: seconds,
  billing_reason: z.string().nullable(),
  next_payment_attempt: seconds.nullable(),
  hosted_invoice_url: z.string().nullish(),
  number: z.string().nullable(),
  period_start: seconds.nullish(),
  period_end: seconds.nullish(),
  default_payment_method: nullableRef.optional(),
  status_transitions: z.looseObject({ paid_at: seconds.nullish() }).optional(),
  parent: z.looseObject({ subscription_details: z.looseObject({ subscription: nullableRef }).nullish() }).nullable(),
  // Each InvoicePayment's PaymentIntent: its id, or the PaymentIntent when expanded
  // (`payments.data.payment.payment_intent`), which names the PaymentMethod charged.
  payments: z
    .looseObject({
      data: z.array(
        z.looseObject({
          status: text,
          payment: z.looseObject({ payment_intent: z.union([id, z.looseObject({ id, payment_method: nullableRef.optional() })]).nullish() }),
        }),
      ),
    })
    .optional(),
});

/** A Stripe Customer as Tender reads it. */
export type StripeBillingCustomer = z.infer<typeof StripeCustomerSchema>;
/** A deleted object. */
export type StripeBillingDeleted = z.infer<typeof StripeDeletedSchema>;
/** A Stripe PaymentMethod as Tender reads it. */
export type StripeBillingPaymentMethod = z.infer<typeof StripePaymentMethodSchema>;
/** A Stripe SetupIntent as Tender reads it. */
export type StripeBillingSetupIntent = z.infer<typeof StripeSetupIntentSchema>;
/** A Stripe Product as Tender reads it. */
export type StripeBillingProduct = z.infer<typeof StripeProductSchema>;
/** A Stripe Price as Tender reads it. */
export type StripeBillingPrice = z.infer<typeof StripePriceSchema>;
/** A Stripe Subscription as Tender reads it. */
export type StripeBillingSubscription = z.infer<typeof StripeSubscriptionSchema>;
/** A Stripe Invoice as Tender reads it. */
export type StripeBillingInvoice = z.infer<typeof StripeInvoiceSchema>;
