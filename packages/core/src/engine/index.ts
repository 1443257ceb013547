export { createTender, type Tender, type TenderOptions, type TenderEventListener } from './create-tender';
export type { CreatePaymentInput, CaptureInput, RefundInput, RequestOptions } from './inputs';
export { validateMetadata } from './inputs';
export type { ListPaymentsOptions, Page, PaymentOperations } from './payments';
export type { RoutingRule } from './routing';
export type { ReconcileOptions, ReconcileReport } from './reconciler';
export type { WebhookHandled } from './webhooks';
export { canonicalJson, requestFingerprint, type IdempotencyOptions } from './idempotency';
export { createOutboxDispatcher, backoffDelay, type OutboxDispatcher, type OutboxDispatcherOptions } from './outbox-dispatcher';
