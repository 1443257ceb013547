/**
 * Examples of the OpenAPI document: one sample of each resource, from which every success response's
 * example is made, and the request bodies' examples. The document's test validates each example
 * against the schema it illustrates, so a sample that drifts from its schema fails there.
 *
 * @module
 */

import { DISPUTE_RESPONSE_EXAMPLES } from './openapi-dispute-examples';

type Json = Record<string, unknown>;

/** Named examples of an OpenAPI media type. */
export type Examples = Record<string, { summary: string; value: unknown }>;

const CREATED = '2026-03-14T09:26:53.589Z';
const UPDATED = '2026-03-14T09:27:41.102Z';
const PAYMENT_ID = 'pay_7QmZ2xV9kR4tN1sA';

/** A captured FPX payment through Fiuu (the `Payment` schema). */
export const SAMPLE_PAYMENT: Json = {
  id: PAYMENT_ID,
  object: 'payment',
  status: 'CAPTURED',
  amount: '25.00',
  amount_minor: 2500,
  currency: 'MYR',
  gateway: 'fiuu',
  gateway_reference: '30918472',
  order_id: 'ORD-1001',
  payment_method: 'FPX',
  capture_method: 'automatic',
  amount_captured: '25.00',
  amount_refunded: '0.00',
  description: 'Order ORD-1001',
  bill_name: 'Aisyah Rahman',
  bill_email: 'aisyah@example.com',
  bill_mobile: null,
  return_url: 'https://shop.example.com/orders/ORD-1001',
  notify_url: null,
  next_action: null,
  failure: null,
  cancellation_requested_at: null,
  metadata: { cart: 'c-8812' },
  user_id: null,
  saved_payment_method_id: null,
  risk: null,
  created_at: CREATED,
  updated_at: UPDATED,
  payment_id: PAYMENT_ID,
};

/** The same payment just created: waiting for the customer at Fiuu's page. */
export const SAMPLE_PAYMENT_REQUIRES_ACTION: Json = {
  ...SAMPLE_PAYMENT,
  status: 'REQUIRES_ACTION',
  gateway_reference: null,
  amount_captured: '0.00',
  next_action: { type: 'redirect', url: 'https://pay.fiuu.com/RMS/pay/tender_demo/index.php', method: 'POST', fields: { amount: '25.00', orderid: PAYMENT_ID, cur: 'MYR', vcode: '3f0c5b1e9a7d4c2b8e6f1a0d9c8b7a65' } },
  updated_at: CREATED,
};

/** A partial refund of {@link SAMPLE_PAYMENT} (the `Refund` schema). */
export const SAMPLE_REFUND: Json = {
  id: 're_3HkP8wY2mL6qT0vB',
  object: 'refund',
  payment_id: PAYMENT_ID,
  status: 'SUCCEEDED',
  amount: '5.00',
  amount_minor: 500,
  currency: 'MYR',
  reason: 'One item returned',
  gateway_reference: '30918472-R1',
  failure: null,
  metadata: { rma: 'RMA-77' },
  created_at: '2026-03-15T11:02:10.004Z',
  updated_at: '2026-03-15T11:02:12.517Z',
};

/** The audit trail of {@link SAMPLE_PAYMENT} (`Transition`s, oldest first). */
export const SAMPLE_TRANSITIONS: Json[] = [
  { id: 'tr_01JPA6V0S9', refund_id: null, from: null, to: 'PENDING', reason: 'created', actor: 'api', at: CREATED },
  { id: 'tr_01JPA6V1B2', refund_id: null, from: 'PENDING', to: 'REQUIRES_ACTION', reason: 'gateway.create', actor: 'gateway:fiuu', at: CREATED },
  { id: 'tr_01JPA6W7K4', refund_id: null, from: 'REQUIRES_ACTION', to: 'CAPTURED', reason: 'webhook: status 00', actor: 'webhook:fiuu', at: UPDATED },
];

/** A merchant webhook endpoint; `secret` is in the answer to its creation only. */
export const SAMPLE_WEBHOOK_ENDPOINT: Json = {
  id: 'we_5TfR9cN2xQ8mK1pZ',
  object: 'webhook_endpoint',
  url: 'https://shop.example.com/hooks/tender',
  events: ['payment.*', 'refund.succeeded'],
  description: 'Order service',
  created_at: CREATED,
};

/** The `payment.captured` event of {@link SAMPLE_PAYMENT} with its delivery state (the `Event` schema). */
export const SAMPLE_EVENT: Json = {
  id: 'evt_9XcV2bN7mQ4wR6tY',
  object: 'event',
  version: 1,
  type: 'payment.captured',
  created_at: UPDATED,
  merchant_id: 'merchant_demo',
  payment_id: PAYMENT_ID,
  refund_id: null,
  data: SAMPLE_PAYMENT,
  delivery: { status: 'delivered', attempts: 1, next_attempt_at: UPDATED, last_error: null, delivered_at: '2026-03-14T09:27:41.460Z' },
  relay: { status: 'published', attempts: 1, next_attempt_at: UPDATED, last_error: null, published_at: '2026-03-14T09:27:41.233Z' },
};

const USER_ID = 'user_123';
const METHOD_ID = 'spm_4NbW8rT1xK6qZ2mH';
const SUBSCRIPTION_ID = 'subs_8JpQ3vL5nR7wX0cE';
const INVOICE_ID = 'inv_2GhT6yM9kS1dF4bA';
const TRIAL_END = '2026-03-28T09:26:53.000Z';

/** A Visa card a user saved through Stripe Elements (the `PaymentMethod` schema). */
export const SAMPLE_PAYMENT_METHOD: Json = {
  id: METHOD_ID,
  object: 'payment_method',
  user_id: USER_ID,
  gateway: 'stripe',
  gateway_token: 'pm_1OaXbQ2eZvKYlo2C5dF8gH3j',
  type: 'card',
  card: { brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2030, funding: 'credit', country: 'US' },
  wallet_email: null,
  is_default: true,
  deleted: false,
  created_at: CREATED,
  updated_at: CREATED,
};

/** A USD card payment charged off session to {@link SAMPLE_PAYMENT_METHOD}. */
export const SAMPLE_SAVED_METHOD_PAYMENT: Json = {
  ...SAMPLE_PAYMENT,
  id: 'pay_5LcR1nW8tY3qK6vD',
  payment_id: 'pay_5LcR1nW8tY3qK6vD',
  amount: '10.00',
  amount_minor: 1000,
  currency: 'USD',
  gateway: 'stripe',
  gateway_reference: 'pi_3OaXcR2eZvKYlo2C1kLm4nPq',
  order_id: 'ORD-2001',
  payment_method: METHOD_ID,
  amount_captured: '10.00',
  description: 'Product purchase',
  bill_name: null,
  bill_email: null,
  return_url: null,
  metadata: { user_id: USER_ID },
  user_id: USER_ID,
  saved_payment_method_id: METHOD_ID,
};

/** A monthly subscription in its 14-day trial (the `Subscription` schema). */
export const SAMPLE_SUBSCRIPTION: Json = {
  id: SUBSCRIPTION_ID,
  object: 'subscription',
  user_id: USER_ID,
  gateway: 'stripe',
  gateway_reference: 'sub_1OaXdS2eZvKYlo2CqRs5tUvW',
  status: 'trialing',
  price_id: 'price_1OaXaP2eZvKYlo2CmNo7pQrS',
  quantity: 1,
  amount: '10.00',
  amount_minor: 1000,
  currency: 'USD',
  interval: 'month',
  interval_count: 1,
  payment_method_id: METHOD_ID,
  trial_start: CREATED,
  trial_end: TRIAL_END,
  current_period_start: CREATED,
  current_period_end: TRIAL_END,
  cancel_at_period_end: false,
  canceled_at: null,
  ended_at: null,
  latest_invoice: 'in_1OaXdS2eZvKYlo2CxYz0aBcD',
  metadata: { plan: 'pro' },
  created_at: CREATED,
  updated_at: CREATED,
};

/** The invoice that ended the trial, paid (the `Invoice` schema). */
export const SAMPLE_INVOICE: Json = {
  id: INVOICE_ID,
  object: 'invoice',
  user_id: USER_ID,
  subscription_id: SUBSCRIPTION_ID,
  gateway: 'stripe',
  gateway_reference: 'in_1OgYeT2eZvKYlo2CeFg1hIjK',
  status: 'paid',
  currency: 'USD',
  amount_due: '10.00',
  amount_due_minor: 1000,
  amount_paid: '10.00',
  amount_paid_minor: 1000,
  amount_remaining: '0.00',
  amount_remaining_minor: 0,
  billing_reason: 'subscription_cycle',
  number: 'A1B2C3D4-0002',
  hosted_invoice_url: 'https://invoice.stripe.com/i/acct_1OaXaP2eZvKYlo2C/test_YWNjdF8x',
  period_start: CREATED,
  period_end: TRIAL_END,
  attempt_count: 1,
  next_payment_attempt: null,
  payment_id: 'pay_9WeR4tY7uI0oP3aS',
  paid_at: '2026-03-28T10:27:01.000Z',
  created_at: '2026-03-28T09:26:53.000Z',
  updated_at: '2026-03-28T10:27:01.000Z',
};

/** A subscription's audit trail (`BillingTransition`s, oldest first). */
export const SAMPLE_SUBSCRIPTION_TRANSITIONS: Json[] = [
  { id: 'btr_01JPA6V0S9', resource_type: 'subscription', resource_id: SUBSCRIPTION_ID, from: null, to: 'trialing', reason: 'created', actor: 'api', at: CREATED },
  { id: 'btr_01JQF2K7M3', resource_type: 'subscription', resource_id: SUBSCRIPTION_ID, from: 'trialing', to: 'active', reason: 'stripe webhook evt_1OgYeT2eZvKYlo2C', actor: 'webhook', at: '2026-03-28T10:27:02.000Z' },
];

/** An invoice's audit trail. */
export const SAMPLE_INVOICE_TRANSITIONS: Json[] = [
  { id: 'btr_01JQF2A1B2', resource_type: 'invoice', resource_id: INVOICE_ID, from: null, to: 'open', reason: 'stripe webhook evt_1OgYdR2eZvKYlo2C', actor: 'webhook', at: '2026-03-28T09:27:00.000Z' },
  { id: 'btr_01JQF2K7M2', resource_type: 'invoice', resource_id: INVOICE_ID, from: 'open', to: 'paid', reason: 'stripe webhook evt_1OgYeT2eZvKYlo2C', actor: 'webhook', at: '2026-03-28T10:27:01.000Z' },
];

const list = (data: unknown[], nextCursor: string | null = null): Json => ({ object: 'list', data, has_more: nextCursor !== null, next_cursor: nextCursor });
const one = (summary: string, value: unknown): Examples => ({ example: { summary, value } });

/** A card payment the risk checks held for review (nothing sent to the gateway yet). */
const SAMPLE_HELD_PAYMENT: Json = {
  ...SAMPLE_PAYMENT,
  status: 'REQUIRES_REVIEW',
  amount: '600.00',
  amount_minor: 60000,
  currency: 'USD',
  gateway: 'stripe',
  gateway_reference: null,
  payment_method: 'pm_card_visa',
  amount_captured: '0.00',
  risk: { score: 60, level: 'high', action: 'review', rules: [{ id: 'big-usd', type: 'amount_above', score: 60, reason: 'amount 600.00 USD above 500.00' }], evaluated_at: CREATED },
  updated_at: CREATED,
};

/** Examples of each success response, by operationId and status. */
export const RESPONSE_EXAMPLES: Record<string, Record<string, Examples>> = {
  ...DISPUTE_RESPONSE_EXAMPLES,
  createPayment: { '201': one('An FPX payment waiting for the customer', SAMPLE_PAYMENT_REQUIRES_ACTION) },
  listPayments: { '200': one('A page with more after it', list([SAMPLE_PAYMENT], PAYMENT_ID)) },
  listRiskReviews: { '200': one('One payment waiting for a decision', list([SAMPLE_HELD_PAYMENT])) },
  reviewPayment: { '200': one('Approved: sent to the gateway and captured', { ...SAMPLE_HELD_PAYMENT, status: 'CAPTURED', gateway_reference: 'pi_3QxR2v', amount_captured: '600.00', updated_at: UPDATED }) },
  getPayment: { '200': one('A captured payment', SAMPLE_PAYMENT) },
  getPaymentStatus: { '200': one('A captured payment', SAMPLE_PAYMENT) },
  capturePayment: { '200': one('The payment, captured', { ...SAMPLE_PAYMENT, capture_method: 'manual' }) },
  cancelPayment: { '200': one('The payment, cancelled', { ...SAMPLE_PAYMENT, status: 'CANCELLED', capture_method: 'manual', amount_captured: '0.00', gateway_reference: '30918472' }) },
  refundPayment: { '201': one('A partial refund', SAMPLE_REFUND) },
  listPaymentRefunds: { '200': one("The payment's refunds", list([SAMPLE_REFUND])) },
  getRefund: { '200': one('A refund', SAMPLE_REFUND) },
  createRefund: { '201': one('A partial refund', SAMPLE_REFUND) },
  listUserPayments: { '200': one("A user's payments", list([SAMPLE_SAVED_METHOD_PAYMENT])) },
  authorizePayment: {
    '200': one('Sent to the gateway: authorised, to capture later', {
      ...SAMPLE_SAVED_METHOD_PAYMENT,
      status: 'AUTHORIZED',
      capture_method: 'manual',
      amount_captured: '0.00',
      payment_method: 'pm_1OaXbQ2eZvKYlo2C5dF8gH3j',
      saved_payment_method_id: null,
    }),
  },
  savePaymentMethod: { '201': one("A card saved as the user's default", SAMPLE_PAYMENT_METHOD) },
  tokenizePaymentMethod: { '201': one("A card saved as the user's default", SAMPLE_PAYMENT_METHOD) },
  listPaymentMethods: { '200': one('One saved card', list([SAMPLE_PAYMENT_METHOD])) },
  listUserPaymentMethods: { '200': one("The user's saved card", list([SAMPLE_PAYMENT_METHOD])) },
  getPaymentMethod: { '200': one('A saved card', SAMPLE_PAYMENT_METHOD) },
  setDefaultPaymentMethod: { '200': one("The user's default now", SAMPLE_PAYMENT_METHOD) },
  deletePaymentMethod: { '200': one('Removed', { ...SAMPLE_PAYMENT_METHOD, is_default: false, deleted: true, updated_at: UPDATED }) },
  createSubscription: { '201': one('A 14-day trial of a monthly price', SAMPLE_SUBSCRIPTION) },
  getSubscription: { '200': one('A subscription in its trial', SAMPLE_SUBSCRIPTION) },
  listUserSubscriptions: { '200': one("The user's subscriptions", list([SAMPLE_SUBSCRIPTION])) },
  cancelSubscription: {
    '200': one('Cancelled at the end of the period (`at_period_end=true`)', { ...SAMPLE_SUBSCRIPTION, cancel_at_period_end: true, updated_at: UPDATED }),
  },
  listSubscriptionTransitions: { '200': one('Trial, then paid', list(SAMPLE_SUBSCRIPTION_TRANSITIONS)) },
  listSubscriptionInvoices: { '200': one("The subscription's invoices", list([SAMPLE_INVOICE])) },
  getInvoice: { '200': one('A paid invoice', SAMPLE_INVOICE) },
  listUserInvoices: { '200': one("The user's invoices", list([SAMPLE_INVOICE])) },
  listInvoiceTransitions: { '200': one('Finalized, then paid', list(SAMPLE_INVOICE_TRANSITIONS)) },
  createWebhook: { '201': one('The endpoint with its signing secret (shown this once)', { ...SAMPLE_WEBHOOK_ENDPOINT, secret: 'whsec_4c1f0e9b7a2d48e6b3f5a9c0d7e2b1f8' }) },
  listPaymentTransitions: { '200': one('Created, sent to Fiuu, paid', list(SAMPLE_TRANSITIONS)) },
  createWebhookEndpoint: { '201': one('The endpoint with its signing secret (shown this once)', { ...SAMPLE_WEBHOOK_ENDPOINT, secret: 'whsec_4c1f0e9b7a2d48e6b3f5a9c0d7e2b1f8' }) },
  listWebhookEndpoints: { '200': one('One endpoint (no secret)', list([SAMPLE_WEBHOOK_ENDPOINT])) },
  getWebhookEndpoint: { '200': one('An endpoint (no secret)', SAMPLE_WEBHOOK_ENDPOINT) },
  deleteWebhookEndpoint: { '200': one('Deleted', { id: SAMPLE_WEBHOOK_ENDPOINT.id, object: 'webhook_endpoint', deleted: true }) },
  listEvents: { '200': one('A page of events with their delivery state', list([SAMPLE_EVENT], null)) },
  getEvent: { '200': one('A delivered payment.captured event', SAMPLE_EVENT) },
  redeliverEvent: { '202': one('Queued for delivery again', { id: SAMPLE_EVENT.id, object: 'event', delivery: { status: 'pending' } }) },
  createStaticUpiLink: {
    '201': one('A link for 499.00 INR', {
      object: 'upi_static_link',
      payment_url: 'upi://pay?pa=shop@okaxis&pn=Example%20Shop&am=499.00&cu=INR&tr=ORD1003&tn=Order%20ORD-1003',
      qr_code: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      qr_svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 33 33"><path d="M4 4h7v7H4z"/></svg>',
      verifiable: false,
      warning: 'No PSP sees a static link: nothing confirms that it was paid, and no payment is recorded. Reconcile by the reference (tr) against your bank statement; use a UPI payment (POST /api/v1/payments) when it must be confirmed.',
    }),
  },
  getHealth: { '200': one('Up', { status: 'ok', uptime_seconds: 86_412 }) },
  getReadiness: {
    '200': one('Ready', {
      status: 'ready',
      timestamp: UPDATED,
      checks: { database: { status: 'healthy', latency_ms: 2 }, redis: { status: 'healthy', latency_ms: 1 }, gateways: { fiuu: { status: 'healthy', circuit: 'closed' }, stripe: { status: 'healthy', circuit: 'closed' } } },
    }),
    '503': one('The database is unreachable', {
      status: 'not_ready',
      timestamp: UPDATED,
      checks: { database: { status: 'unhealthy', latency_ms: 2000, error: 'timeout' }, gateways: { fiuu: { status: 'healthy', circuit: 'closed' } } },
    }),
  },
  getSeamlessConfig: {
    '200': one('Static configuration (no amount)', { status: true, gateway: 'fiuu', mpsmerchantid: 'tender_demo', mpschannel: 'fpx', mpscurrency: 'MYR' }),
    '201': one('The Fiuu payment it started for the order', {
      status: true,
      mpsmerchantid: 'tender_demo',
      mpschannel: 'fpx',
      mpsamount: '25.00',
      mpsorderid: PAYMENT_ID,
      mpscurrency: 'MYR',
      mpsbill_name: 'Aisyah Rahman',
      mpsbill_email: 'aisyah@example.com',
      mpsvcode: '3f0c5b1e9a7d4c2b8e6f1a0d9c8b7a65',
      tender: { paymentId: PAYMENT_ID, paymentUrl: 'https://pay.fiuu.com/RMS/pay/tender_demo/index.php', fields: { amount: '25.00', orderid: PAYMENT_ID, cur: 'MYR', vcode: '3f0c5b1e9a7d4c2b8e6f1a0d9c8b7a65' } },
    }),
  },
};

/** Request examples of each operation that takes a body, by operationId. */
export const REQUEST_EXAMPLES: Record<string, Examples> = {
  reviewPayment: {
    approve: { summary: 'Approve: the payment goes on to its gateway', value: { decision: 'approve', reason: 'Known customer, confirmed by phone' } },
    decline: { summary: 'Decline: the payment fails (risk_declined)', value: { decision: 'decline', reason: 'Card reported stolen' } },
  },
  createPayment: {
    fpx: {
      summary: 'An FPX payment through Fiuu',
      value: { order_id: 'ORD-1001', amount: '25.00', currency: 'MYR', payment_method: 'FPX', bill_name: 'Aisyah Rahman', bill_email: 'aisyah@example.com', bill_description: 'Order ORD-1001', return_url: 'https://shop.example.com/orders/ORD-1001', metadata: { cart: 'c-8812' } },
    },
    manualCapture: { summary: 'A card payment to capture later', value: { order_id: 'ORD-1002', amount: '120.00', currency: 'MYR', gateway: 'stripe', payment_method: 'card', capture_method: 'manual' } },
    minorUnits: { summary: 'The amount in minor units (2500 sen = 25.00 MYR)', value: { order_id: 'ORD-1004', amount_minor: 2500, currency: 'MYR', payment_method: 'FPX' } },
    upiCollect: { summary: 'A UPI collect request in paise', value: { order_id: 'ORD-1003', amount_paisa: 49900, currency: 'INR', gateway: 'upi', payment_details: { vpa: 'payer@bank' } } },
    savedMethod: {
      summary: "Seed 003's payment for a user, charging a saved card off session ($10.00: amount_minor, since amount is major units)",
      value: { user_id: 'user_123', amount_minor: 1000, currency: 'USD', description: 'Product purchase', payment_method: METHOD_ID },
    },
    twoStep: { summary: 'Create without sending it to the gateway, to authorize later', value: { order_id: 'ORD-2002', amount: '120.00', currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_visa', capture_method: 'manual', confirm: false } },
  },
  createRefund: {
    seed: { summary: "Seed 003's refund: $5.00 of a payment (amount_minor; amount is major units)", value: { transaction_id: 'pay_5LcR1nW8tY3qK6vD', amount_minor: 500, reason: 'requested_by_customer' } },
    full: { summary: 'Refund everything not yet refunded', value: { payment_id: 'pay_5LcR1nW8tY3qK6vD' } },
  },
  authorizePayment: { send: { summary: 'Send it to the gateway (the body takes no fields)', value: {} } },
  savePaymentMethod: {
    card: { summary: "A card token from Stripe Elements, the user's default", value: { user_id: 'user_123', payment_method: 'pm_card_visa', gateway: 'stripe', set_default: true } },
  },
  tokenizePaymentMethod: {
    token: { summary: 'A gateway token (card data is refused)', value: { user_id: 'user_123', payment_method: 'pm_card_visa' } },
  },
  setDefaultPaymentMethod: { default: { summary: 'The body takes no fields', value: {} } },
  createSubscription: {
    trial: { summary: "Seed 003's subscription: a 14-day trial, then the price monthly", value: { user_id: 'user_123', price_id: 'price_1OaXaP2eZvKYlo2CmNo7pQrS', payment_method: 'pm_card_visa', trial_days: 14 } },
    savedMethod: { summary: 'Charging a saved method, two seats', value: { user_id: 'user_123', price_id: 'price_1OaXaP2eZvKYlo2CmNo7pQrS', payment_method: METHOD_ID, quantity: 2, metadata: { plan: 'pro' } } },
  },
  cancelSubscription: {
    now: { summary: 'Cancel now', value: {} },
    atPeriodEnd: { summary: 'At the end of the current period', value: { at_period_end: true } },
  },
  createWebhook: {
    seed: { summary: "Seed 001's endpoint with its own secret", value: { url: 'https://merchant.com/webhook', events: ['payment.success', 'payment.failed', 'refund.processed'], secret: 'webhook_secret_key' } },
  },
  capturePayment: {
    full: { summary: 'Capture the whole authorised amount', value: {} },
    partial: { summary: 'Capture part of it', value: { amount: '80.00' } },
    minorUnits: { summary: 'Capture part of it, in minor units (8000 = 80.00)', value: { amount_minor: 8000 } },
  },
  cancelPayment: { void: { summary: 'Void the authorisation (the body takes no fields)', value: {} } },
  refundPayment: {
    full: { summary: 'Refund everything not yet refunded', value: {} },
    partial: { summary: 'A partial refund with a reason', value: { amount: '5.00', reason: 'One item returned', metadata: { rma: 'RMA-77' } } },
    minorUnits: { summary: 'A partial refund in minor units (500 = 5.00)', value: { amount_minor: 500, reason: 'One item returned' } },
    paise: { summary: 'The same in the UPI seed\'s name (amount_paisa)', value: { amount_paisa: 500, reason: 'One item returned' } },
  },
  createWebhookEndpoint: {
    payments: { summary: 'Payment and refund events, secret generated', value: { url: 'https://shop.example.com/hooks/tender', events: ['payment.*', 'refund.succeeded'], description: 'Order service' } },
    ownSecret: { summary: 'Every event, signed with your own secret', value: { url: 'https://shop.example.com/hooks/all', secret: 'a-long-random-secret-of-yours' } },
  },
  createStaticUpiLink: {
    amount: { summary: 'A link for 499.00 INR for an order', value: { amount_paisa: 49900, reference: 'ORD1003', note: 'Order ORD-1003' } },
    counter: { summary: 'A counter QR: the payer types the amount', value: { note: 'Example Shop' } },
  },
};
