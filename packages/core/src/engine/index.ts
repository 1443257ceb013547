export { createTender, type Tender, type TenderOptions, type TenderEventListener } from './create-tender';
export type { CreatePaymentInput, CaptureInput, RefundInput, RequestOptions } from './inputs';
export { validateMetadata } from './inputs';
export { CANCEL_REQUESTED } from './unit-of-work';
export type { ListPaymentsOptions, Page, PaymentOperations } from './payments/index';
export type { RoutingRule } from './routing';
export type { ReconcileOptions, ReconcileReport } from './reconciler';
export type { WebhookHandled, WebhookOutcome } from './webhooks';
export type {
  BillingCallOptions,
  BillingListOptions,
  CustomerOperations,
  SavePaymentMethodInput,
  PaymentMethodOperations,
  CreateSubscriptionInput,
  SubscriptionOperations,
  InvoiceOperations,
} from './billing/types';
export { canonicalJson, requestFingerprint, type IdempotencyOptions } from './idempotency';
export { createOutboxDispatcher, backoffDelay, type OutboxDispatcher, type OutboxDispatcherOptions } from './outbox-dispatcher';
export type { DisputeOperations, ListDisputesInput } from './disputes/index';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions, type RelayOutcome } from './outbox-relay';
export type { SettlementOperations, SettlementReportKey, SettlementScopeOptions, GetSettlementOptions } from './settlements/types';
export { SETTLEMENT_MISMATCH_EVENT, formatMinor } from './settlements/index';
export type {
  AnalyticsOperations,
  AnalyticsScopeOptions,
  DisputeFigures,
  PaymentAnalytics,
  PaymentAnalyticsFigures,
  PaymentAnalyticsGroup,
  PaymentAnalyticsInput,
  Rate,
} from './analytics/types';
export { MAX_ANALYTICS_DAYS } from './analytics/window';
