/**
 * `@tender/stripe/sandbox`: a fake Stripe on loopback speaking Stripe's REST wire protocol (form
 * bodies, JSON objects, error JSON, idempotency) with test cards, a 3-D Secure page and signed
 * webhooks with fault injection, and Stripe Billing: Customers, saved PaymentMethods, SetupIntents,
 * Products, Prices, Subscriptions, Invoices and test clocks that advance through trials, renewals,
 * failed payments and their retries. The official `stripe` npm client works against it unchanged:
 * `new Stripe(sandbox.secretKey, { host: sandbox.host, port: sandbox.port, protocol: 'http' })`.
 *
 * @packageDocumentation
 */
export { startStripeSandbox, type StripeSandbox, type StripeSandboxOptions, type HttpFault } from './server';
export { SandboxAccount, SandboxError, type SandboxRetention } from './api';
export { WebhookSender, type SandboxWebhookConfig, type WebhookFaults, type DeliveryRecord } from './webhook-sender';
export { completeCustomerAction } from './customer';
export { TEST_CARDS, type TestCard } from './test-cards';
export { SandboxBilling, BillingState, type SandboxBillingOptions, type StripeObject } from './billing';
export { sandboxStripeFee, type SandboxBalanceControls, type StripeBalanceTransaction } from './balance';
