/**
 * The three result endpoints (Fiuu API Spec v13.86 p.50–58): return URL (browser-borne, no `nbcb`), notification
 * URL (`nbcb=2`, acknowledged by posting the fields back with `treq=1`) and callback URL
 * (`nbcb=1`, acknowledged with the body `CBTOKEN:MPSTATOK`). All carry the same fields and `skey`.
 *
 * What the `skey` signs, and so what may bind a result to a payment: `tranID`, `orderid`, `status`,
 * `domain`, `amount`, `currency`, `paydate` and `appcode` (Fiuu API Spec v13.86 p.19–20, "skey").
 * Everything else is unsigned: `extraP` (and the `metadata` it echoes, which the customer's browser
 * posted in the hosted form), `channel`, `error_code`/`error_desc` and `nbcb`. Unsigned data never
 * finds a payment, never confirms one and never decides what a result means.
 *
 * Sale or authorisation. A `00` is a sale (`tcctype=SALS`, the default) or only an authorisation
 * (`tcctype=AUTH`, "pre-auth", captured later with the Capture API and released by the bank if it never
 * is: Fiuu API Spec v13.86 p.38–41 request fields, p.95 Capture). Nothing signed in the result says which:
 * `tcctype` is not in the result, and the hosted form's `vcode` covers only amount, merchant id, order
 * id (and the currency with the extended format; p.17–18), so the customer's browser can add
 * `tcctype=AUTH` to a form we sent as a sale. Reading the stored capture method alone would then record
 * money Fiuu only holds as CAPTURED. Fiuu's requery answers `StatName` `authorized` or `captured` /
 * `settled` (p.67, "StatName"), from our server to Fiuu's API, so that answer is what decides. Hence:
 *
 * - A `00` whose `channel` can carry a pre-authorisation (the card channels, `preAuth` in channels.ts),
 *   or names no channel we know, becomes two events: a `payment` event that binds the signed `tranID`
 *   and claims only what is certain (`PROCESSING`, or `AUTHORIZED` for a manual-capture payment, which
 *   asked for `tcctype=AUTH`), then a `requery` event, on which the engine calls `retrieve` (`q_by_tid`
 *   for that `tranID`, p.71) and applies Fiuu's answer. The notification and the callback share
 *   both event ids, so one result costs one requery.
 * - A `00` whose `channel` names a channel without pre-authorisation (FPX, e-wallets, QR; p.24–37) is a
 *   sale and applies at once, with no call, when the payment was also created for such a channel. That
 *   `channel` is unsigned, though: a copy of a card result re-posted with `channel=fpx` would pass. When
 *   the stored payment asked for a card, or named no channel, the claim is not believed: the payment
 *   goes to `PROCESSING`, which the reconciler requeries (and Fiuu's own notification, naming the card
 *   channel, still carries its requery event).
 *
 * @module
 */
import { isCurrency, TenderError } from '@tender/core';
import type { CaptureMethod, GatewayPaymentResult, Money, Payment, PaymentStatus, WebhookEvent, WebhookRequest } from '@tender/core';
import { z } from 'zod';
import { findChannel, normaliseChannel, RAW_CHANNEL_PREFIX, resolveChannel } from './channels';
import type { ResolvedFiuuConfig } from './config';
import { skeyKey } from './config';
import { hexEquals, paymentSkey } from './signatures';
import { failureFrom, parseAmount, parseExtraP, parseForm, paymentStatusFromCode } from './transformers';

/** Which endpoint a result arrived on. */
export type FiuuResultKind = 'return' | 'notification' | 'callback';

/** The body Fiuu expects from a callback URL (Fiuu API Spec v13.86 p.56, p.58; no space despite the TL;DR table). */
export const CALLBACK_ACK = 'CBTOKEN:MPSTATOK';

/**
 * Metadata key this package sends in Fiuu's `metadata` field. Fiuu echoes it in `extraP`, unsigned, so
 * it is only ever a hint that narrows among payments the signed `tranID`/`orderid` already match.
 */
export const METADATA_PAYMENT_ID = 'tender_payment_id';
/**
 * Metadata key marking a pre-authorisation in the hosted form. Echoed unsigned, it is used only for the
 * return page's display; what a `00` means for a payment comes from the stored payment's capture method.
 */
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

/**
 * Decodes a result request and tells the endpoint apart: `query.kind` wins, else `nbcb` (1 callback,
 * 2 notification, absent return; Fiuu API Spec v13.86 p.54, p.57).
 *
 * `nbcb` is not signed, so anyone holding a result (the customer's browser gets the return-URL copy)
 * can present it as a notification. That gives them nothing a genuine notification would not: the
 * `skey` covers every field that binds the result or decides its meaning (tranID, orderid, status,
 * amount, currency), the event id is `tranID:status` (so it deduplicates with Fiuu's own notification
 * of the same outcome), an older outcome never moves a payment backwards, and whether a `00` took the
 * money comes from the stored payment and, where a pre-authorisation was possible, Fiuu's requery. A
 * result that names itself a return (no `nbcb`, or `query.kind=return`) only ever becomes a note: Fiuu
 * advises not to rely on the browser-borne return for the order status
 * (Fiuu's "Cheatsheet & Best Practices", Tip #2, github.com/FiuuPayment/Cheatsheet-BestPractices-Fiuu_API).
 */
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
  if (!m) return undefined;
  const date = new Date(`${m[1]}T${m[2]}+08:00`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Unsigned data a result echoes back (from `extraP.metadata`): hints and display, never binding. */
export interface FiuuResultHint {
  /** The Tender payment id the hosted form carried. */
  paymentId: string | null;
  /** The form marked itself a pre-authorisation. */
  manualCapture: boolean;
}

/** A normalised view of a verified result. */
export interface FiuuResult {
  kind: FiuuResultKind;
  /** Signed. */
  tranID: string;
  /** Signed: the payment's order id, or its Tender id when it had none. */
  orderId: string;
  /** Unsigned echoes; see {@link FiuuResultHint}. */
  hint: FiuuResultHint;
  /** Signed: `00`, `11` or `22`. */
  statusCode: string;
  /** True for the DuitNow QR account-enquiry notification (status `22`), which is not a payment. */
  accountEnquiry: boolean;
  /** Unsigned: the `channel` as received (`''` when absent). */
  channel: string;
  extraP: Record<string, unknown> | null;
  /** The result read as a sale (a `00` is `CAPTURED`). */
  result: GatewayPaymentResult;
  /**
   * The result for a payment with the given capture method: a `00` is `AUTHORIZED` for a manual-capture
   * (pre-authorised, `tcctype=AUTH`) payment and `CAPTURED` otherwise. This is the reading the return
   * page shows; what the engine applies is stricter (see {@link eventsFor}): a card `00` is settled by
   * Fiuu's requery.
   */
  resultFor(captureMethod: CaptureMethod): GatewayPaymentResult;
  occurredAt: string | undefined;
}

function metadataOf(extraP: Record<string, unknown> | null): Record<string, unknown> {
  const raw = extraP?.metadata;
  if (typeof raw === 'string') return parseExtraP(raw) ?? {};
  return typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
}

const knownCurrency = (code: string): boolean => isCurrency(code.toUpperCase());

/**
 * The signed fields a result must carry to be used, in the formats of the spec: `status` `00`/`11`/`22`
 * (p.43), `amount` a decimal with at most 2 decimals (p.43 "2 decimal points numeric value"; an
 * integer is accepted too), `currency` a known ISO 4217 code. Lenient: other fields pass through.
 */
const ResultFields = z.looseObject({
  tranID: z.string({ error: 'is missing' }).min(1, 'is empty').max(40, 'is longer than 40 characters'),
  orderid: z.string({ error: 'is missing' }).min(1, 'is empty').max(40, 'is longer than 40 characters'),
  status: z.enum(['00', '11', '22'], { error: (issue) => (issue.input === undefined ? 'is missing' : `'${String(issue.input)}' is not 00, 11 or 22`) }),
  amount: z.string({ error: 'is missing' }).regex(/^[0-9]+(\.[0-9]{1,2})?$/, 'is not a decimal amount with at most 2 decimals'),
  currency: z.string({ error: 'is missing' }).refine((c) => /^[A-Za-z]{3}$/.test(c) && knownCurrency(c), 'is not a known ISO 4217 code'),
});

/** The problems of a failed parse, one `field problem` line each. */
function problems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(body)'} ${issue.message}`);
}

/**
 * Interprets verified result fields.
 * @throws TenderError 400 `invalid_webhook_payload` naming each unusable field (a malformed amount,
 *   an unknown currency or status), never a bare TypeError.
 */
export function interpretResult(body: FiuuResultBody): FiuuResult {
  const f = body.fields;
  const parsed = ResultFields.safeParse(f);
  if (!parsed.success) {
    const list = problems(parsed.error);
    throw new TenderError({
      type: 'invalid_request_error',
      code: 'invalid_webhook_payload',
      message: `Fiuu result is not usable: ${list.join('; ')}`,
      param: String(parsed.error.issues[0]?.path[0] ?? 'body'),
      details: { problems: list },
    });
  }
  const signed = parsed.data;
  const extraP = parseExtraP(f.extraP);
  const metadata = metadataOf(extraP);
  // The DuitNow QR account enquiry is a status-22 notification (Fiuu API Spec v13.86 p.128). Its marker sits in the
  // unsigned extraP, so a signed 00 or 11 is a payment outcome whatever extraP says.
  const accountEnquiry = signed.status === '22' && String(extraP?.account_enquiry ?? '').toLowerCase() === 'true';
  let amount: Money;
  try {
    amount = parseAmount(signed.amount, signed.currency.toUpperCase());
  } catch (error) {
    if (!TenderError.isInstance(error)) throw error;
    throw new TenderError({ type: 'invalid_request_error', code: 'invalid_webhook_payload', message: `Fiuu result is not usable: amount ${error.message}`, param: 'amount' });
  }
  const channel = f.channel ?? '';
  const gatewayData: Record<string, unknown> = {
    tranID: signed.tranID,
    channel,
    channelMethod: normaliseChannel(channel),
    paydate: f.paydate,
    fiuuStatus: signed.status,
  };
  if (f.appcode) gatewayData.appcode = f.appcode;
  for (const key of ['ccbrand', 'cclast4', 'cctype', 'fpx_txn_id']) if (extraP?.[key] !== undefined) gatewayData[key] = extraP[key];
  const resultFor = (captureMethod: CaptureMethod): GatewayPaymentResult => {
    const status = paymentStatusFromCode(signed.status, captureMethod === 'manual');
    const result: GatewayPaymentResult = { status, gatewayReference: signed.tranID, amount, gatewayData: { ...gatewayData } };
    // Only a sale has taken the money; an authorisation is captured later with the Capture API.
    if (status === 'CAPTURED') result.amountCaptured = amount;
    if (status === 'FAILED') result.failure = failureFrom(f.error_code, f.error_desc, signed.status);
    return result;
  };
  const hintedId = metadata[METADATA_PAYMENT_ID];
  return {
    kind: body.kind,
    tranID: signed.tranID,
    orderId: signed.orderid,
    hint: { paymentId: typeof hintedId === 'string' && hintedId ? hintedId : null, manualCapture: metadata[METADATA_CAPTURE] === 'manual' },
    statusCode: signed.status,
    accountEnquiry,
    channel,
    extraP,
    result: resultFor('automatic'),
    resultFor,
    occurredAt: paydateToIso(f.paydate),
  };
}

/**
 * Whether a Fiuu channel can carry a pre-authorisation (`tcctype=AUTH`: the card channels, `preAuth`
 * in the catalogue): `true` or `false` for a channel the catalogue knows, under any name Fiuu sends
 * back; `null` for an empty, raw or unknown name, which may be a card channel.
 */
export function channelCanPreAuth(name: string | null | undefined): boolean | null {
  const method = normaliseChannel(name);
  if (!method) return null;
  return findChannel(method)?.preAuth === true;
}

/** The same for the channel the stored payment was created for (`paymentMethod`); `null` when it named none or a raw one. */
function requestedCanPreAuth(payment: Readonly<Payment>): boolean | null {
  const method = payment.paymentMethod;
  if (!method || method.toUpperCase().startsWith(RAW_CHANNEL_PREFIX)) return null;
  try {
    return resolveChannel(method, payment.currency).preAuth === true;
  } catch {
    return null;
  }
}

/** Statuses of a payment whose outcome is still open; only these are moved to an unconfirmed status. */
const OPEN = new Set<PaymentStatus>(['PENDING', 'REQUIRES_ACTION', 'PROCESSING']);

/**
 * A verified `00` claiming `status` and no captured money: the signed `tranID` and amount (which the
 * engine checks against the payment) and the gateway data, as a `00` read as an authorisation has them.
 */
function unconfirmed(result: FiuuResult, status: PaymentStatus): GatewayPaymentResult {
  return { ...result.resultFor('manual'), status };
}

/**
 * The normalised events for a verified result. They bind through signed fields only:
 * `gatewayReference` is the signed `tranID`, `orderId` the signed `orderid`; the payment id echoed in
 * the unsigned `extraP` goes in `hint`, where it can only choose among payments those already match.
 * A payment event carries `resultFor`, so what a result means comes from the stored payment and from
 * Fiuu, never from what the form echoed.
 *
 * The payment event's id is `tranID:status`, so the notification and the callback of one outcome (and
 * Fiuu's retries, and a re-posted copy) deduplicate to one event, while a later outcome (pending, then
 * success) is a new one. Return-URL results become a `note`: the browser carried them, so they are
 * recorded but never move the payment (Fiuu's "Cheatsheet & Best Practices", Tip #2).
 *
 * A `00` that may be an authorisation is followed by a `requery` event (`tranID:00:requery`); see the
 * module comment for why, and which `00`s those are.
 */
export function eventsFor(result: FiuuResult): WebhookEvent[] {
  if (result.accountEnquiry) {
    return [{ kind: 'ignored', eventId: `fiuu:${result.tranID}:account_enquiry:${String(result.extraP?.enquirydate ?? '')}`, reason: 'DuitNow QR account enquiry (not a payment)' }];
  }
  const target = { gatewayReference: result.tranID, orderId: result.orderId, hint: { paymentId: result.hint.paymentId } };
  if (result.kind === 'return') {
    return [
      {
        kind: 'note',
        eventId: `fiuu:${result.tranID}:${result.statusCode}:return`,
        ...target,
        type: 'fiuu.return_url',
        data: { fiuuStatus: result.statusCode, tranID: result.tranID },
      },
    ];
  }
  const eventId = `fiuu:${result.tranID}:${result.statusCode}`;
  const occurredAt = result.occurredAt ? { occurredAt: result.occurredAt } : {};
  if (result.statusCode !== '00') {
    return [{ kind: 'payment', eventId, ...target, result: result.result, resultFor: (payment) => result.resultFor(payment.captureMethod), ...occurredAt }];
  }
  if (channelCanPreAuth(result.channel) !== false) {
    // Sale or authorisation: only Fiuu's requery says. Until then the payment is bound to this tranID
    // and claims what a 00 certainly is: an authorisation where one was asked for, else an outcome
    // being confirmed. A payment already past its open states keeps its status for the requery to move.
    const bind = (payment: Readonly<Payment>): GatewayPaymentResult =>
      unconfirmed(result, !OPEN.has(payment.status) ? payment.status : payment.captureMethod === 'manual' ? 'AUTHORIZED' : 'PROCESSING');
    return [
      { kind: 'payment', eventId, ...target, result: unconfirmed(result, 'PROCESSING'), resultFor: bind, ...occurredAt },
      { kind: 'requery', eventId: `${eventId}:requery`, ...target, reason: 'a 00 on a channel that can pre-authorise: sale or authorisation is what the requery StatName says' },
    ];
  }
  // The unsigned channel says no pre-authorisation was possible. Believed only when the payment was
  // created for such a channel too; otherwise PROCESSING, for the reconciler's requery. A first 00 on
  // a payment already closed here (expired, cancelled: a late payment) is recorded as before.
  const resultFor = (payment: Readonly<Payment>): GatewayPaymentResult =>
    requestedCanPreAuth(payment) === false || !OPEN.has(payment.status) ? result.resultFor(payment.captureMethod) : unconfirmed(result, 'PROCESSING');
  return [{ kind: 'payment', eventId, ...target, result: result.result, resultFor, ...occurredAt }];
}

/**
 * The first of {@link eventsFor}: the payment event alone, without the requery that may follow it.
 * @deprecated Use `eventsFor`; a card `00` needs its requery event to be settled.
 */
export function eventFor(result: FiuuResult): WebhookEvent {
  return eventsFor(result)[0]!;
}
