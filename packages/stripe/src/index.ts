/**
 * `@tender/stripe`: the Stripe gateway for Tender, speaking Stripe's REST API directly (no `stripe`
 * npm package) through core's HTTP transport. The fake Stripe for tests lives in
 * `@tender/stripe/sandbox`.
 *
 * @packageDocumentation
 */
export { createStripeGateway, type StripeGateway } from './stripe-gateway';
export { stripeIdempotencyKey, createStripeRequester, type StripeRequester, type StripeRequesterOptions } from './stripe-requests';
export { stripeSettlements, stripeSettlementLine, stripeLineType, type StripeSettlementsOptions } from './settlements';
export * from './config';
export { encodeForm, flattenForm, encodeFormComponent, type FormValue } from './form-encoding';
export { toStripeAmount, fromStripeAmount, stripeDecimals, STRIPE_ZERO_DECIMAL, STRIPE_THREE_DECIMAL } from './amounts';
export { STRIPE_CURRENCIES, STRIPE_PAYMENT_METHODS, STRIPE_MAX_AMOUNT, stripeMaxAmount, stripeMaxAmountMinor } from './currencies';
export {
  verifyStripeSignature,
  signStripePayload,
  computeStripeSignature,
  type StripeSignatureErrorCode,
  type VerifyStripeSignatureOptions,
  type SignStripePayloadOptions,
} from './signature';
export {
  paymentIntentToResult,
  refundToResult,
  stripeErrorToTenderError,
  eventToWebhookEvents,
  failureFromStripeError,
  SUBSCRIPTION_EVENTS,
  INVOICE_EVENTS,
} from './transformers';
export { paymentMethodToSaved, subscriptionToResult, invoiceToResult } from './billing-transformers';
export { stripeMetadata, STRIPE_METADATA_MAX_KEYS, STRIPE_METADATA_MAX_KEY_LENGTH, STRIPE_METADATA_MAX_VALUE_LENGTH } from './metadata';
export type * from './stripe-types';
export {
  createStripeBilling,
  type StripeBilling,
  type StripeBillingOptions,
  type StripeBillingCallOptions,
  type StripeBillingPage,
  type StripeBillingListOptions,
  type StripeSubscriptionListStatus,
} from './stripe-billing';
export {
  StripeCustomerSchema,
  StripeDeletedSchema,
  StripePaymentMethodSchema,
  StripeSetupIntentSchema,
  StripeProductSchema,
  StripePriceSchema,
  StripeSubscriptionSchema,
  StripeInvoiceSchema,
  SETUP_INTENT_STATUSES,
  SUBSCRIPTION_STATUSES,
  INVOICE_STATUSES,
  type StripeBillingCustomer,
  type StripeBillingDeleted,
  type StripeBillingPaymentMethod,
  type StripeBillingSetupIntent,
  type StripeBillingProduct,
  type StripeBillingPrice,
  type StripeBillingSubscription,
  type StripeBillingInvoice,
} from './stripe-billing-schemas';
