/**
 * `@tender/paypal`: the PayPal gateway for Tender, speaking PayPal's REST API directly (Orders v2,
 * Payments v2, OAuth 2.0, webhook signatures) through core's HTTP transport. A fake PayPal for tests and
 * demos lives in `@tender/paypal/sandbox`.
 *
 * @packageDocumentation
 */
export { createPayPalGateway, orderRequest, paypalRequestId, type PayPalGateway } from './paypal-gateway';
export { paypalSettlements, paypalSettlementLine, paypalLineType, type PayPalSettlementsDeps } from './settlements';
export * from './config';
export { toPayPalValue, toPayPalMoney, fromPayPalMoney, paypalDecimals, PAYPAL_ZERO_DECIMAL } from './amounts';
export { PAYPAL_CURRENCIES, PAYPAL_PAYMENT_METHODS, PAYPAL_MAX_VALUE, paypalMaxAmountMinor, paypalMaxAmountTable } from './currencies';
export {
  paypalCrc32,
  paypalSignedMessage,
  signPayPalWebhook,
  readTransmission,
  checkTransmissionTime,
  checkCertUrl,
  checkAuthAlgo,
  verifyCertificateChain,
  verifyCertificateChainWindow,
  type VerifiedPayPalCertificate,
  verifyTransmissionSignature,
  parsePemBundle,
  isPayPalSigningSubject,
  PAYPAL_WEBHOOK_HEADERS,
  type PayPalTransmission,
  type PayPalSignatureErrorCode,
} from './signature';
export { PAYPAL_KNOWN_INTERMEDIATES, DIGICERT_SHA2_EV_SERVER_CA } from './intermediates';
export {
  orderToResult,
  captureToResult,
  authorizationToResult,
  refundToResult,
  paypalErrorToTenderError,
  eventToWebhookEvents,
  approvalLink,
  failureFromIssue,
  issueOf,
  refundCaptureId,
  DECLINE_ISSUES,
  PAYPAL_EVENT_TYPES,
  type CaptureLookup,
  type ErrorContext,
} from './transformers';
export type { PayPalOrder, PayPalCapture, PayPalAuthorization, PayPalRefund, PayPalEvent, PayPalMoney, PayPalLink, PayPalErrorBody } from './schemas';
export { PayPalTokenSource } from './token';
