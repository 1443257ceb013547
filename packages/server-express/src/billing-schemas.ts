/**
 * Request and response schemas (zod 4) of the billing routes: saved payment methods, subscriptions
 * and invoices of the merchant's users. Like `schemas.ts`, the router validates with them and
 * `/openapi.json` is generated from them. Prices, trials and retries are the gateway's (Stripe
 * Billing): these bodies carry only what Tender passes on.
 *
 * @module
 */
import { INVOICE_STATUSES, SUBSCRIPTION_STATUSES } from '@tender/core';
import { z } from 'zod';
import { PageQuery, apiSchemas } from './schemas';

const text = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

/**
 * The merchant's id for one of its users (`user_id`): any id of the merchant's own system, such as a
 * UUID or `user_123`, 1-255 printable characters (the engine's rule). The same rule in a body and in
 * a path (`/users/{user_id}/...`, percent-encoded there).
 */
export const USER_ID_PATTERN = /^[^\u0000-\u001f\u007f-\u009f]{1,255}$/;

/** A `user_id` in a body. */
export const UserIdSchema = z
  .string()
  .regex(USER_ID_PATTERN, 'must be 1-255 printable characters')
  .describe("Your id for the user (any id of your own system, e.g. a UUID): Tender maps it to the gateway's customer, created on first use");

/** A gateway token or a saved method's id, never card data. */
const PaymentMethodRef = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be a gateway token (pm_...) or a saved method id (spm_...)');

const MetadataSchema = z.record(text(40), text(500)).describe('Up to 50 string pairs, returned as given');

/**
 * `POST /api/v1/payment-methods` (and `POST /api/v1/payment-methods/tokenize`): saves a token the
 * browser collected with the gateway's hosted fields.
 */
export const SavePaymentMethodBody = z
  .strictObject({
    user_id: UserIdSchema,
    payment_method: PaymentMethodRef.describe("The gateway's token from its hosted fields (Stripe Elements: `pm_...`); never card data"),
    gateway: text(32).nullish().describe('The gateway the token is from; default: the first gateway that saves methods'),
    set_default: z.boolean().nullish().describe("Make it the user's default (the user's first method always is)"),
  })
  .describe('Card numbers and CVVs are refused (400 `raw_card_data_not_allowed`); unknown fields with 400 `unknown_parameter`')
  .register(apiSchemas, { id: 'SavePaymentMethod' });

/** `POST /api/v1/subscriptions`. */
export const CreateSubscriptionBody = z
  .strictObject({
    user_id: UserIdSchema,
    price_id: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, "must be the gateway's price id").describe("The gateway's price (Stripe `price_...`): amount, currency and interval are the price's"),
    payment_method: PaymentMethodRef.nullish().describe("A saved method's id (`spm_...`) or a gateway token (`pm_...`, saved first); absent: the user's default saved method"),
    trial_days: z.number().int().min(0).max(730).nullish().describe('Free trial days before the first charge (0-730)'),
    quantity: z.number().int().min(1).max(10_000).nullish().describe('Default 1'),
    gateway: text(32).nullish().describe('Default: the first gateway that runs subscriptions'),
    metadata: MetadataSchema.nullish(),
  })
  .register(apiSchemas, { id: 'CreateSubscription' });

/** `DELETE /api/v1/subscriptions/:id` body (the same field may be sent as a query parameter). */
export const CancelSubscriptionBody = z
  .strictObject({ at_period_end: z.boolean().nullish().describe('Cancel at the end of the current period instead of now (default false)') })
  .register(apiSchemas, { id: 'CancelSubscription' });

/** `DELETE /api/v1/subscriptions/:id` query. */
export const CancelSubscriptionQuery = z.object({
  at_period_end: z.enum(['true', 'false']).optional().describe('Cancel at the end of the current period instead of now (default false)'),
});

/** `POST /api/v1/payment-methods/:id/default` takes no fields. */
export const NoFieldsBody = z.strictObject({}).register(apiSchemas, { id: 'NoFields' });

/** `POST /api/v1/payments/:id/authorize` takes no fields. */
export const AuthorizeBody = z.strictObject({}).register(apiSchemas, { id: 'AuthorizePayment' });

/** `GET /api/v1/payment-methods` query. */
export const ListPaymentMethodsQuery = PageQuery.extend({ user_id: z.string().regex(USER_ID_PATTERN, 'must be a user id').optional().describe("Only this user's methods") });

/** `GET /api/v1/users/:user_id/subscriptions` query. */
export const ListSubscriptionsQuery = PageQuery.extend({ status: z.enum(SUBSCRIPTION_STATUSES).optional() });

// ---- Responses (documentation only; serialize-billing.ts produces these shapes) ----

const timestamp = z.string().describe('ISO-8601, UTC');
const nullableTimestamp = z.string().nullable().describe('ISO-8601, UTC');

/** A saved payment method as the API returns it. */
export const PaymentMethodSchema = z
  .object({
    id: z.string().describe("Tender's id (`spm_...`)"),
    object: z.literal('payment_method'),
    user_id: z.string(),
    gateway: z.string(),
    gateway_token: z.string().describe("The gateway's token (Stripe `pm_...`); not a secret: the gateway gave it to the browser"),
    type: z.string().describe('card, paypal, wallet...'),
    card: z
      .object({ brand: z.string(), last4: z.string(), exp_month: z.number().int(), exp_year: z.number().int(), funding: z.string().nullable(), country: z.string().nullable() })
      .nullable()
      .describe('What the card shows; never its number or CVV'),
    wallet_email: z.string().nullable().describe("A wallet's account email (PayPal)"),
    is_default: z.boolean(),
    deleted: z.boolean(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .register(apiSchemas, { id: 'PaymentMethod' });

/** A subscription as the API returns it (a mirror of the gateway's). */
export const SubscriptionSchema = z
  .object({
    id: z.string().describe("Tender's id"),
    object: z.literal('subscription'),
    user_id: z.string(),
    gateway: z.string(),
    gateway_reference: z.string().describe("The gateway's id (Stripe `sub_...`)"),
    status: z.enum(SUBSCRIPTION_STATUSES).describe("The gateway's status, as it names it"),
    price_id: z.string(),
    quantity: z.number().int(),
    amount: z.string().nullable().describe('What one period costs, major units'),
    amount_minor: z.number().int().nullable(),
    currency: z.string().nullable(),
    interval: z.string().nullable().describe('day, week, month, year'),
    interval_count: z.number().int().nullable(),
    payment_method_id: z.string().nullable().describe('The saved method charged for renewals (`spm_...`)'),
    trial_start: nullableTimestamp,
    trial_end: nullableTimestamp,
    current_period_start: nullableTimestamp,
    current_period_end: nullableTimestamp,
    cancel_at_period_end: z.boolean(),
    canceled_at: nullableTimestamp,
    ended_at: nullableTimestamp,
    latest_invoice: z.string().nullable().describe("The gateway's id of the newest invoice (Stripe `in_...`)"),
    metadata: z.record(z.string(), z.string()),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .register(apiSchemas, { id: 'Subscription' });

/** An invoice as the API returns it (a mirror of the gateway's). */
export const InvoiceSchema = z
  .object({
    id: z.string().describe("Tender's id (`inv_...`)"),
    object: z.literal('invoice'),
    user_id: z.string(),
    subscription_id: z.string().nullable(),
    gateway: z.string(),
    gateway_reference: z.string().describe("The gateway's id (Stripe `in_...`)"),
    status: z.enum(INVOICE_STATUSES),
    currency: z.string(),
    amount_due: z.string(),
    amount_due_minor: z.number().int(),
    amount_paid: z.string(),
    amount_paid_minor: z.number().int(),
    amount_remaining: z.string(),
    amount_remaining_minor: z.number().int(),
    billing_reason: z.string().nullable().describe('subscription_create, subscription_cycle...'),
    number: z.string().nullable(),
    hosted_invoice_url: z.string().nullable(),
    period_start: nullableTimestamp,
    period_end: nullableTimestamp,
    attempt_count: z.number().int(),
    next_payment_attempt: nullableTimestamp,
    payment_id: z.string().nullable().describe('The Tender payment recording the money taken, once paid'),
    paid_at: nullableTimestamp,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .register(apiSchemas, { id: 'Invoice' });

/** An entry of a subscription's or invoice's audit trail. */
export const BillingTransitionSchema = z
  .object({
    id: z.string(),
    resource_type: z.enum(['subscription', 'invoice']),
    resource_id: z.string(),
    from: z.string().nullable(),
    to: z.string(),
    reason: z.string(),
    actor: z.string(),
    at: timestamp,
  })
  .register(apiSchemas, { id: 'BillingTransition' });

