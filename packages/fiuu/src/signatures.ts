/**
 * Fiuu hash formulas, as pure functions. Every formula is plain string concatenation (no
 * separators) hashed with md5 and written as lower-case hex, exactly as the Fiuu API Spec v13.86
 * gives it (github.com/FiuuPayment/Documentation-Fiuu_API_Spec: vcode, skey, requery, refund and
 * capture sections). Inputs are the raw strings
 * that travel on the wire: never re-format an amount or a date before hashing it.
 *
 * @module
 */
import { hmacSha256, md5Hex as md5, timingSafeEqualString } from '@tender/core';

const LOWER_HEX = /^[0-9a-f]+$/;

/**
 * Constant-time comparison of an expected lower-case hex digest with one received. Upper-case hex
 * is rejected, as Fiuu itself rejects it (spec issue 22), so a tampered case never verifies.
 */
export function hexEquals(expected: string, received: unknown): boolean {
  if (typeof received !== 'string' || received.length !== expected.length || !LOWER_HEX.test(received)) return false;
  return timingSafeEqualString(expected, received);
}

/** Payment-request `vcode` (hosted page) and seamless `mpsvcode`: `md5(amount + merchantID + orderid + verify_key [+ currency])`. */
export function vcode(input: { amount: string; merchantId: string; orderId: string; verifyKey: string; currency?: string | undefined }): string {
  return md5(input.amount + input.merchantId + input.orderId + input.verifyKey + (input.currency ?? ''));
}

/** Fields of a payment result (return URL, notification, callback) that the `skey` covers. */
export interface PaymentSkeyFields {
  tranID: string;
  orderid: string;
  status: string;
  domain: string;
  amount: string;
  currency: string;
  paydate: string;
  appcode: string;
}

/**
 * Payment-result `skey`: `pre = md5(tranID + orderid + status + domain + amount + currency)`, then
 * `md5(paydate + domain + pre + appcode + key)`. The key is the Secret Key (the Verify Key on
 * legacy accounts).
 */
export function paymentSkey(fields: PaymentSkeyFields, key: string): string {
  const pre = md5(fields.tranID + fields.orderid + fields.status + fields.domain + fields.amount + fields.currency);
  return md5(fields.paydate + fields.domain + pre + fields.appcode + key);
}

/** Requery request `skey` for `gate-query` and `q_by_tid`: `md5(txID + domain + verify_key + amount)`. */
export function requeryByTidSkey(input: { txID: string; domain: string; verifyKey: string; amount: string }): string {
  return md5(input.txID + input.domain + input.verifyKey + input.amount);
}

/** Requery request `skey` for `q_by_oid`: `md5(oID + domain + verify_key + amount)`. */
export function requeryByOidSkey(input: { oID: string; domain: string; verifyKey: string; amount: string }): string {
  return md5(input.oID + input.domain + input.verifyKey + input.amount);
}

/** Requery response `VrfKey`: `md5(Amount + secret_key + Domain + TranID|OrderID + StatCode)`. */
export function requeryVrfKey(input: { amount: string; secretKey: string; domain: string; id: string; statCode: string }): string {
  return md5(input.amount + input.secretKey + input.domain + input.id + input.statCode);
}

/** Capture request `skey`: `md5(tranID + amount + domain + verify_key)`. */
export function captureSkey(input: { tranID: string; amount: string; domain: string; verifyKey: string }): string {
  return md5(input.tranID + input.amount + input.domain + input.verifyKey);
}

/** Capture and reversal response `VrfKey`: `md5(secret_key + Domain + TranID + StatCode)`. */
export function statusVrfKey(input: { secretKey: string; domain: string; tranID: string; statCode: string }): string {
  return md5(input.secretKey + input.domain + input.tranID + input.statCode);
}

/** Reversal request `skey`: `md5(txnID + domain + secret_key)` (the Secret Key, per the spec; Postman's verify key is wrong). */
export function reversalSkey(input: { txnID: string; domain: string; secretKey: string }): string {
  return md5(input.txnID + input.domain + input.secretKey);
}

/** Refund request fields covered by its `Signature`. */
export interface RefundSignatureFields {
  RefundType: string;
  MerchantID: string;
  RefID: string;
  TxnID: string;
  Amount: string;
}

/** Refund request `Signature`: `md5(RefundType + MerchantID + RefID + TxnID + Amount + secret_key)`. */
export function refundSignature(fields: RefundSignatureFields, secretKey: string): string {
  return md5(fields.RefundType + fields.MerchantID + fields.RefID + fields.TxnID + fields.Amount + secretKey);
}

/** Refund response `Signature`: `md5(RefundType + MerchantID + RefID + RefundID + TxnID + Amount + Status + secret_key)`. */
export function refundResponseSignature(fields: RefundSignatureFields & { RefundID: string; Status: string }, secretKey: string): string {
  return md5(fields.RefundType + fields.MerchantID + fields.RefID + fields.RefundID + fields.TxnID + fields.Amount + fields.Status + secretKey);
}

/** Refund status inquiry by transaction: `md5(TxnID + MerchantID + verify_key)`. */
export function refundInquiryByTxnSignature(input: { txnID: string; merchantId: string; verifyKey: string }): string {
  return md5(input.txnID + input.merchantId + input.verifyKey);
}

/** Refund status inquiry by refund reference: `md5(RefID + MerchantID + verify_key)`. */
export function refundInquiryByRefIdSignature(input: { refID: string; merchantId: string; verifyKey: string }): string {
  return md5(input.refID + input.merchantId + input.verifyKey);
}

/** Channel Status API `skey`: `HMAC-SHA256(datetime + merchantID, key = verify_key)`. */
export function channelStatusSkey(input: { datetime: string; merchantId: string; verifyKey: string }): string {
  return hmacSha256(input.verifyKey, input.datetime + input.merchantId);
}

/**
 * Settlement report (`API/settlement/report.php`, and `report_refund.php`) `token`:
 * `md5(merchant_id + verify_key + date)`, `date` exactly as sent (`YYYY-MM-DD`). The key was the secret key
 * before the spec's v13.47 correction (Fiuu API Spec v13.86, settlement report section).
 */
export function settlementReportToken(input: { merchantId: string; verifyKey: string; date: string }): string {
  return md5(input.merchantId + input.verifyKey + input.date);
}
