/**
 * `@tender/fiuu`: the Fiuu (ex-MOLPay / Razer Merchant Services) gateway for Tender. Follows the
 * Fiuu API Spec v13.86; see the package README for configuration and the points the spec leaves
 * uncertain.
 *
 * @packageDocumentation
 */
export { createFiuuGateway, seamlessConfigResponse } from './fiuu-gateway';
export type { FiuuGateway, FiuuGatewayOptions, FiuuHostedPayment, FiuuReturnHandling, SeamlessConfigResponse, SeamlessPaymentLike } from './fiuu-gateway';
export * from './config';
export { fiuuConfigFromEnv } from './env';
export * from './channels';
export * from './signatures';
export { fiuuSettlements, fiuuSettlementLine, FIUU_SETTLEMENT_REPORT_VERSION } from './settlements';
export type { FiuuSettlementsDeps } from './settlements';
export { formatAmount, parseAmount, paymentStatusFromCode, paymentStatusFromRequery, refundStatusFromFiuu, PAYMENT_ERROR_CODES, FIUU_MAX_AMOUNT, fiuuMaxAmountMinor } from './transformers';
export { CALLBACK_ACK, decodeResult, verifyResult, interpretResult, eventsFor, eventFor, channelCanPreAuth, paydateToIso, METADATA_PAYMENT_ID, METADATA_CAPTURE } from './webhooks';
export type { FiuuResult, FiuuResultBody, FiuuResultHint, FiuuResultKind } from './webhooks';
export { renderReturnPage, returnMessage } from './return-page';
export type { FiuuReturnMessage, ReturnPageOptions } from './return-page';
