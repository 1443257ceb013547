/**
 * `@tender/upi`: UPI payments for Tender. The gateway (`createUpiGateway`, id `upi`) runs UPI intent
 * (a `upi://pay` link and QR code) and collect requests through Razorpay's S2S API; the NPCI link and
 * QR helpers work without any PSP. The fake Razorpay for tests lives in `@tender/upi/sandbox`.
 *
 * @packageDocumentation
 */
export { createUpiGateway, receiptOf, refundIdempotencyKey, toPaise, UPI_PAYMENT_METHODS, type UpiGateway } from './upi-gateway';
export * from './config';
export { razorpaySettlements, razorpaySettlementLine, razorpayLineType, type RazorpaySettlementsDeps } from './settlements';
export {
  buildUpiLink,
  parseUpiLink,
  createStaticUpiLink,
  encodeUpiValue,
  paiseToUpiAmount,
  upiAmountToPaise,
  isValidVpa,
  toUpiReference,
  UPI_NOTE_MAX,
  UPI_REF_MAX,
  type UpiLinkParams,
  type ParsedUpiLink,
  type StaticUpiLinkOptions,
} from './upi-link';
export { upiQrPngDataUrl, upiQrSvg, type UpiQrOptions } from './qr';
export {
  verifyRazorpayWebhookSignature,
  computeRazorpayWebhookSignature,
  verifyRazorpayPaymentSignature,
  computeRazorpayPaymentSignature,
  razorpayHmacHex,
  type RazorpaySignatureErrorCode,
} from './signature';
export {
  paymentToResult,
  refundToResult,
  razorpayErrorToTenderError,
  eventToWebhookEvents,
  eventIdOf,
  paymentGatewayData,
  failureOf,
  isAutoRefunded,
  maskVpa,
  PAYMENT_EVENTS,
  REFUND_EVENTS,
  type ErrorContext,
} from './transformers';
export type { RazorpayPayment, RazorpayOrder, RazorpayRefund, RazorpayErrorObject, RazorpayEvent } from './schemas';
