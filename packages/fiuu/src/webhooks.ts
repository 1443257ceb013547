/**
 * The three result endpoints (research §4): return URL (browser-borne, no `nbcb`), notification
 * URL (`nbcb=2`, acknowledged by posting the fields back with `treq=1`) and callback URL
 * (`nbcb=1`, acknowledged with the body `CBTOKEN:MPSTATOK`). All carry the same fields and `skey`.
 *
 * @module
 */
import { TenderError } from '@tender/core';
import type { GatewayPaymentResult, WebhookEvent, WebhookRequest } from '@tender/core';
import { normaliseChannel } from './channels';
import type { ResolvedFiuuConfig } from './config';
import { skeyKey } from './config';
import { hexEquals, paymentSkey } from './signatures';
import { failureFrom, parseAmount, parseExtraP, parseForm, paymentStatusFromCode } from './transformers';

/** Which endpoint a result arrived on. */
export type FiuuResultKind = 'return' | 'notification' | 'callback';

/** The body Fiuu expects from a callback URL (SPEC p.56, p.58; no space despite the TL;DR table). */
export const CALLBACK_ACK = 'CBTOKEN:MPSTATOK';

/** Metadata keys this package sends in Fiuu's `metadata` field so results lead back to the payment. */
export const METADATA_PAYMENT_ID = 'tender_payment_id';
/** Marks a pre-authorisation, so a `00` result maps to AUTHORIZED rather than CAPTURED. */
export const METADATA_CAPTURE = 'tender_capture';

const REQUIRED = ['tranID', 'orderid', 'status', 'domain', 'amount', 'currency', 'paydate', 'skey'] as const;

/** A decoded result body. */
export interface FiuuResultBody {
  kind: FiuuResultKind;
  /** Fields as received (strings, not re-formatted). */
  fields: Record<string, string>;
  /** The same, in the order received (echoed unchanged for the IPN). */
  pairs: Array<[string, string]>;
}

/** Decodes a result request and tells the endpoint apart: `query.kind` wins, else `nbcb` (1 callback, 2 notification, absent return). */
export function decodeResult(request: WebhookRequest): FiuuResultBody {
  const { pairs, fields } = parseForm(request.rawBody);
  const hint = request.query?.kind;
  let kind: FiuuResultKind;
  if (hint === 'return' || hint === 'notification' || hint === 'callback') kind = hint;
  else if (fields.nbcb === '1') kind = 'callback';
  else if (fields.nbcb === '2') kind = 'notification';
  else kind = 'return';
  return { kind, fields, pairs };
}

function signatureError(code: string, message: string): TenderError {
  return new TenderError({ type: 'webhook_signature_error', code, message });
}

/**
 * Checks a result's `skey` (constant time, lower-case hex only) and that it is for our merchant.
 * @throws TenderError `webhook_signature_error` (`missing_field`, `unknown_merchant`, `invalid_signature`).
 */
export function verifyResult(fields: Record<string, string>, config: ResolvedFiuuConfig): void {
  for (const name of REQUIRED) {
    if (fields[name] === undefined) throw signatureError('missing_field', `Fiuu result lacks '${name}'`);
  }
  if (fields.domain !== config.merchantId) throw signatureError('unknown_merchant', `Fiuu result is for merchant '${fields.domain}', not ours`);
  const expected = paymentSkey(
    {
      tranID: fields.tranID!,
      orderid: fields.orderid!,
      status: fields.status!,
      domain: fields.domain!,
      amount: fields.amount!,
      currency: fields.currency!,
      paydate: fields.paydate!,
      appcode: fields.appcode ?? '',
    },
    skeyKey(config),
  );
  if (!hexEquals(expected, fields.skey)) throw signatureError('invalid_signature', 'Fiuu skey does not verify');
}

/** Converts Fiuu's `paydate` (`YYYY-MM-DD HH:mm:ss`, taken as GMT+8: the spec names no zone) to ISO-8601. */
export function paydateToIso(paydate: string | undefined): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(paydate ?? '');
  return m ? new Date(`${m[1]}T${m[2]}+08:00`).toISOString() : undefined;
}

/** A normalised view of a verified result. */
export interface FiuuResult {
  kind: FiuuResultKind;
  tranID: string;
  orderId: string;
  /** Tender payment id, from the echoed metadata when Fiuu returns it. */
  paymentId: string | null;
  statusCode: string;
  /** True for the DuitNow QR account-enquiry notification, which is not a payment. */
  accountEnquiry: boolean;
  extraP: Record<string, unknown> | null;
  result: GatewayPaymentResult;
  occurredAt: string | undefined;
}

function metadataOf(extraP: Record<string, unknown> | null): Record<string, unknown> {
  const raw = extraP?.metadata;
  if (typeof raw === 'string') return parseExtraP(raw) ?? {};
  return typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
}

/** Interprets verified result fields. */
export function interpretResult(body: FiuuResultBody): FiuuResult {
  const f = body.fields;
  const extraP = parseExtraP(f.extraP);
  const metadata = metadataOf(extraP);
  const accountEnquiry = String(extraP?.account_enquiry ?? '').toLowerCase() === 'true';
  const preAuth = metadata[METADATA_CAPTURE] === 'manual';
  const status = paymentStatusFromCode(f.status!, preAuth);
  const amount = parseAmount(f.amount!, f.currency!);
  const channel = f.channel ?? '';
  const gatewayData: Record<string, unknown> = {
    tranID: f.tranID,
    channel,
    channelMethod: normaliseChannel(channel),
    paydate: f.paydate,
    fiuuStatus: f.status,
  };
  if (f.appcode) gatewayData.appcode = f.appcode;
  for (const key of ['ccbrand', 'cclast4', 'cctype', 'fpx_txn_id']) if (extraP?.[key] !== undefined) gatewayData[key] = extraP[key];
  const result: GatewayPaymentResult = { status, gatewayReference: f.tranID!, amount, gatewayData };
  if (status === 'CAPTURED') result.amountCaptured = amount;
  if (status === 'FAILED') result.failure = failureFrom(f.error_code, f.error_desc, f.status!);
  const paymentId = typeof metadata[METADATA_PAYMENT_ID] === 'string' ? (metadata[METADATA_PAYMENT_ID] as string) : null;
  return {
    kind: body.kind,
    tranID: f.tranID!,
    orderId: f.orderid!,
    paymentId,
    statusCode: f.status!,
    accountEnquiry,
    extraP,
    result,
    occurredAt: paydateToIso(f.paydate),
  };
}

/**
 * The normalised event for a verified result. Its id is `tranID:status`, so the notification and
 * the callback of one outcome (and Fiuu's retries) deduplicate to one event, while a later
 * outcome (pending, then success) is a new one. Return-URL results become a `note`: the browser
 * carried them, so they are recorded but never move the payment on their own (CHEAT Tip #2).
 */
export function eventFor(result: FiuuResult): WebhookEvent {
  if (result.accountEnquiry) {
    return { kind: 'ignored', eventId: `fiuu:${result.tranID}:account_enquiry:${String(result.extraP?.enquirydate ?? '')}`, reason: 'DuitNow QR account enquiry (not a payment)' };
  }
  const ref = { paymentId: result.paymentId, gatewayReference: result.tranID, orderId: result.orderId };
  if (result.kind === 'return') {
    return {
      kind: 'note',
      eventId: `fiuu:${result.tranID}:${result.statusCode}:return`,
      ...ref,
      type: 'fiuu.return_url',
      data: { status: result.result.status, fiuuStatus: result.statusCode, tranID: result.tranID },
    };
  }
  return { kind: 'payment', eventId: `fiuu:${result.tranID}:${result.statusCode}`, ...ref, result: result.result, ...(result.occurredAt ? { occurredAt: result.occurredAt } : {}) };
}
