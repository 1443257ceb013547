/**
 * `@tender/paypal/sandbox`: a fake PayPal on loopback speaking PayPal's REST protocol (OAuth 2.0,
 * Orders v2, Payments v2, `PayPal-Request-Id` replay, `PayPal-Mock-Response` negative testing, business
 * errors), a buyer-approval page, and webhooks signed offline with a certificate it issues at start.
 * Give the gateway `baseUrl: sandbox.url` and `certTrust: sandbox.certTrust`.
 *
 * @packageDocumentation
 */
export { startPayPalSandbox, type PayPalSandbox, type PayPalSandboxOptions, type HttpFault, type RequestRecord } from './server';
export { SandboxAccount, SandboxError, DEFAULT_RETENTION, type SandboxRetention, type Amount } from './state';
export { WebhookSender, type SandboxWebhookConfig, type WebhookFaults, type DeliveryRecord, type SandboxEvent, type SigningMaterial } from './webhook-sender';
export { createSandboxCertificates, type SandboxCertificates, type SandboxKeyPair, type SandboxCertificateOptions } from './certs';
export { approveOrder } from './customer';
export type { SandboxReportingControls, SandboxReportingOptions } from './reporting';
