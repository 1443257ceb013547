/**
 * `@tender/upi/sandbox`: a fake Razorpay on loopback speaking Razorpay's REST wire protocol (Basic
 * auth, JSON, its error envelope) for UPI: orders, S2S UPI intent and collect payments, VPA
 * validation, capture, refunds with `X-Refund-Idempotency`, signed webhooks with fault injection,
 * payment expiry and a "UPI app" page to approve or decline. The official `razorpay` npm SDK drives it
 * when its axios instance is pointed at the sandbox: `rzp.api.rq.defaults.baseURL = sandbox.url`.
 *
 * @packageDocumentation
 */
export { startRazorpaySandbox, type RazorpaySandbox, type RazorpaySandboxOptions, type SandboxDelays, type HttpFault } from './server';
export { SandboxAccount, RazorpaySandboxError, type SandboxRetention, type SandboxOrder, type SandboxPayment, type SandboxRefund } from './account';
export { WebhookSender, type SandboxWebhookConfig, type WebhookFaults, type DeliveryRecord, type SandboxEvent } from './webhook-sender';
export type { SandboxReconItem, SandboxSettlementControls, SandboxSettlementOptions } from './settlements';
