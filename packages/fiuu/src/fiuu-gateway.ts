/**
 * `createFiuuGateway`: the Fiuu implementation of Gateway spec v1. Every API call goes through the
 * injected {@link HttpTransport} (retries, circuit breaker, timeouts), every answer's signature is
 * checked before it is believed, and the verify key never leaves the server.
 *
 * @module
 */
import { createHttpTransport, GATEWAY_OUTCOME_UNKNOWN, GATEWAY_PAYMENT_NOT_FOUND, invalidRequest, Money, stateConflict, TenderError } from '@tender/core';
import type {
  CaptureMethod,
  ClientConfig,
  GatewayCallContext,
  GatewayCreatePaymentInput,
  GatewayPaymentResult,
  GatewayRefundResult,
  GatewayRetrieveInput,
  GatewayV1,
  HttpResponse,
  HttpTransport,
  ParsedWebhook,
  WebhookRequest,
} from '@tender/core';
import { FIUU_CHANNELS, resolveChannel, supportedCurrencies, supportedMethods, normaliseChannel } from './channels';
import type { FiuuChannel } from './channels';
import { endpoints, resolveFiuuConfig } from './config';
import type { FiuuConfig, ResolvedFiuuConfig } from './config';
import { RequeryPacer } from './rate-limit';
import { fiuuSettlements } from './settlements';
import { renderReturnPage, returnMessage } from './return-page';
import type { FiuuReturnMessage, ReturnPageOptions } from './return-page';
import {
  captureSkey,
  hexEquals,
  refundInquiryByRefIdSignature,
  refundResponseSignature,
  refundSignature,
  requeryByOidSkey,
  requeryByTidSkey,
  requeryVrfKey,
  reversalSkey,
  statusVrfKey,
  vcode,
} from './signatures';
import { z } from 'zod';
import { failureFrom, FIUU_MAX_AMOUNT, fiuuMaxAmountMinor, formatAmount, parseAmount, parseApiBody, paymentStatusFromRequery, refundStatusFromFiuu, str } from './transformers';
import { CALLBACK_ACK, decodeResult, eventsFor, interpretResult, METADATA_CAPTURE, METADATA_PAYMENT_ID, verifyResult } from './webhooks';

/** The hosted-payment form kept in `gatewayData.hostedPayment`: POST `fields` to `url` (in a pop-up or a redirect). */
export interface FiuuHostedPayment {
  url: string;
  method: 'POST';
  fields: Record<string, string>;
}

/** Options beyond the wire configuration. */
export interface FiuuGatewayOptions {
  /** Return page settings used when a return-URL result is acknowledged through `parseWebhook`. */
  returnPage?: ReturnPageOptions;
}

/** What {@link FiuuGateway.handleReturn} gives back. */
export interface FiuuReturnHandling {
  /** True when the result's skey verified and its fields are usable. */
  verified: boolean;
  message: FiuuReturnMessage;
  /** The page to answer the browser with (`text/html`). */
  html: string;
}

/** The Fiuu gateway: Gateway spec v1 plus Fiuu's return-URL helper. */
export interface FiuuGateway extends GatewayV1 {
  readonly id: 'fiuu';
  /** Throws the `invalid_request_error` `createPayment` would throw; no I/O. */
  validateCreate(input: GatewayCreatePaymentInput): void;
  /** Merchant ID and hosts (no keys). */
  readonly settings: { merchantId: string; sandbox: boolean; paymentHost: string; apiHost: string; pathPrefix: string };
  /**
   * Verifies a return-URL POST and renders the page that reports it to the checkout page. Never
   * throws for a bad signature: the page then reports `UNVERIFIED`.
   */
  handleReturn(request: WebhookRequest, page: ReturnPageOptions): FiuuReturnHandling;
  /** Closes the transport if this gateway created it. */
  close(): Promise<void>;
}

const ORDER_ID = /^[A-Za-z0-9_-]{1,40}$/;

function defaultTransport(config: ResolvedFiuuConfig): HttpTransport {
  return createHttpTransport({ gateway: 'fiuu', timeoutMs: config.timeoutMs, retry: { attempts: Math.max(1, Math.floor(config.retryAttempts)), baseDelayMs: config.retryDelayMs } });
}

function outcomeUnknown(operation: string, response: HttpResponse): TenderError {
  return new TenderError({
    type: 'gateway_error',
    code: GATEWAY_OUTCOME_UNKNOWN,
    message: `Fiuu ${operation} answered HTTP ${response.status}; the outcome is unknown`,
    retryable: true,
    details: { httpStatus: response.status },
  });
}

function gatewayError(code: string, message: string, retryable = false, details?: Record<string, unknown>): TenderError {
  return new TenderError({ type: 'gateway_error', code, message, retryable, ...(details ? { details } : {}) });
}

function badSignature(operation: string): TenderError {
  return gatewayError('invalid_response_signature', `Fiuu ${operation} answer failed its signature check`, false);
}

function body(response: HttpResponse, operation: string): Record<string, unknown> {
  try {
    return parseApiBody(response.text());
  } catch {
    throw gatewayError('invalid_response', `Fiuu ${operation} answered something that is neither JSON nor key=value text`);
  }
}

/** Requery codes meaning "no such transaction" (Fiuu API Spec v13.86 p.136): the customer never paid. */
const NOT_FOUND_CODES = new Set(['Q203', 'Q303', 'Q00005']);
const BUSY_CODES = new Set(['Q03', 'Q00007', 'Q00008', 'Q99']);
const CAPTURE_RETRYABLE = new Set(['15', '20', '99']);

/** A JSON or text field as text (Fiuu's JSON answers may carry numbers where the text mode has digits). */
const text = z.union([z.string(), z.number()], { error: 'is missing' }).transform(String);

/**
 * The requery answer fields Tender reads beyond the signed check (Fiuu API Spec v13.86 p.67–84): a decimal `Amount`
 * and, when present, a `Currency`. Lenient: everything else passes through.
 */
const RequeryAmounts = z.looseObject({
  Amount: text.pipe(z.string().regex(/^[0-9]+(\.[0-9]+)?$/, 'is not a decimal amount')),
  Currency: z.union([text.pipe(z.string().regex(/^[A-Za-z]{3}$/, 'is not an ISO 4217 code')), z.literal(''), z.null()]).optional(),
});

function unusableAnswer(operation: string, error: z.ZodError | TenderError): TenderError {
  const list = error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.') || '(body)'} ${i.message}`) : [error.message];
  return gatewayError('invalid_response', `Fiuu ${operation} answer is not usable: ${list.join('; ')}`, false, { problems: list });
}

/** The capture method stored at create (`gatewayData.captureMethod`), or null for payments made before it was kept. */
function storedCaptureMethod(gatewayData: Record<string, unknown>): CaptureMethod | null {
  const value = gatewayData.captureMethod;
  return value === 'manual' || value === 'automatic' ? value : null;
}

/**
 * Creates the Fiuu gateway.
 * @throws TenderError `invalid_gateway_config` naming the bad field.
 */
export function createFiuuGateway(input: FiuuConfig, options: FiuuGatewayOptions = {}): FiuuGateway {
  const config = resolveFiuuConfig(input);
  const urls = endpoints(config);
  const ownsTransport = input.transport === undefined;
  const transport = input.transport ?? defaultTransport(config);
  const pacer = new RequeryPacer(config.requeryMinIntervalMs, config.requeryPerSecond);
  const mid = config.merchantId;
  const maxAmount = fiuuMaxAmountMinor(supportedCurrencies());

  async function post(operation: string, url: string, form: Array<[string, string]>, ctx?: GatewayCallContext): Promise<HttpResponse> {
    return transport.request({ method: 'POST', url, form, idempotent: true, operation, ...(ctx?.signal ? { signal: ctx.signal } : {}) });
  }

  function hostedFields(payment: GatewayCreatePaymentInput, channel: FiuuChannel | null, orderid: string, amount: string): Array<[string, string]> {
    const currency = payment.amount.currency;
    const code = vcode({ amount, merchantId: mid, orderId: orderid, verifyKey: config.verifyKey, currency: config.extendedVcode ? currency : undefined });
    const fields: Array<[string, string]> = [
      ['merchant_id', mid],
      ['amount', amount],
      ['orderid', orderid],
      ['bill_name', payment.customer.name ?? 'guest'],
      ['bill_email', payment.customer.email ?? ''],
      ['bill_mobile', payment.customer.phone ?? ''],
      ['bill_desc', payment.description ?? `Order ${orderid}`],
    ];
    if (channel?.countries.length === 1) fields.push(['country', channel.countries[0]!]);
    if (config.currencyField !== 'cur') fields.push(['currency', currency]);
    if (config.currencyField !== 'currency') fields.push(['cur', currency]);
    if (channel) fields.push(['channel', channel.hosted]);
    fields.push(['vcode', code]);
    if (payment.returnUrl) fields.push(['returnurl', payment.returnUrl]);
    if (payment.notifyUrl) fields.push(['callbackurl', payment.notifyUrl]);
    if (config.langcode) fields.push(['langcode', config.langcode]);
    if (payment.captureMethod === 'manual') fields.push(['tcctype', 'AUTH']);
    const metadata: Record<string, string> = { [METADATA_PAYMENT_ID]: payment.paymentId };
    if (payment.captureMethod === 'manual') metadata[METADATA_CAPTURE] = 'manual';
    fields.push(['metadata', JSON.stringify(metadata)]);
    return fields;
  }

  function seamlessParams(fields: Record<string, string>, channel: FiuuChannel | null): Record<string, string> {
    const params: Record<string, string> = { mpsmerchantid: mid };
    if (channel) params.mpschannel = channel.seamless;
    const map: Array<[string, string]> = [
      ['amount', 'mpsamount'],
      ['orderid', 'mpsorderid'],
      ['bill_name', 'mpsbill_name'],
      ['bill_email', 'mpsbill_email'],
      ['bill_mobile', 'mpsbill_mobile'],
      ['bill_desc', 'mpsbill_desc'],
      ['country', 'mpscountry'],
      ['vcode', 'mpsvcode'],
      ['langcode', 'mpslangcode'],
      ['returnurl', 'mpsreturnurl'],
      ['tcctype', 'mpstcctype'],
    ];
    for (const [from, to] of map) if (fields[from] !== undefined) params[to] = fields[from]!;
    params.mpscurrency = fields.currency ?? fields.cur ?? '';
    params.mpsapiversion = config.seamlessVersion === 'latest' ? '3.28' : config.seamlessVersion;
    return params;
  }

  /**
   * Every check Fiuu's create makes before anything is sent, and what they resolve: the channel, the
   * merchant reference (`orderid`) and the amount as Fiuu writes it. `validateCreate` and `createPayment`
   * both call it, so what the engine is told before storing is what the create would refuse.
   * @throws TenderError `invalid_request_error` naming the field (`currency`, `payment_method`, `amount`,
   *   `capture_method`, `order_id`).
   */
  function checkCreate(payment: GatewayCreatePaymentInput): { channel: FiuuChannel | null; orderid: string; amount: string } {
    const currency = payment.amount.currency;
    const channel = payment.paymentMethod ? resolveChannel(payment.paymentMethod, currency) : null;
    if (!channel && !supportedCurrencies().includes(currency)) throw invalidRequest('currency_not_supported', `Fiuu does not take ${currency}`, 'currency');
    const amount = formatAmount(payment.amount);
    if (payment.amount.toMinorBigInt() > BigInt(maxAmount[currency] ?? maxAmount['*']!)) {
      throw invalidRequest('amount_too_large', `Fiuu takes at most ${FIUU_MAX_AMOUNT} ${currency}`, 'amount');
    }
    if (channel?.minAmount && payment.amount.lessThan(Money.of(channel.minAmount, currency))) {
      throw invalidRequest('amount_too_small', `${channel.method} needs at least ${channel.minAmount} ${currency}`, 'amount');
    }
    if (payment.captureMethod === 'manual' && !channel?.preAuth) {
      throw invalidRequest('capture_method_not_supported', 'Fiuu pre-authorisation (manual capture) needs a card payment method', 'capture_method');
    }
    const orderid = payment.orderId ?? payment.paymentId;
    if (!ORDER_ID.test(orderid)) throw invalidRequest('invalid_order_id', 'Fiuu order ids are 1-40 letters, digits, "_" or "-"', 'order_id');
    return { channel, orderid, amount };
  }

  /** Requeries being sent now, by pacing key and form: identical ones share the request. */
  const requeriesInFlight = new Map<string, Promise<HttpResponse>>();

  /**
   * Sends one paced requery. A caller asking exactly what another is asking right now (the
   * notification and the callback of one card result, handled at once, both requery it) shares that
   * request and its answer instead of queueing for the per-transaction slot (`requery.minIntervalMs`,
   * 5 s by default) and querying Fiuu twice. Calls with an abort signal neither share nor are shared,
   * so one caller's abort never fails another.
   */
  async function pacedRequery(key: string, url: string, form: Array<[string, string]>, ctx: GatewayCallContext): Promise<HttpResponse> {
    const send = async () => {
      await pacer.acquire(key, ctx.signal);
      return post('requery', url, form, ctx);
    };
    if (ctx.signal) return send();
    const id = `${key}\u0000${new URLSearchParams(form).toString()}`;
    const running = requeriesInFlight.get(id);
    if (running) return running;
    const request = send();
    requeriesInFlight.set(id, request);
    try {
      return await request;
    } finally {
      if (requeriesInFlight.get(id) === request) requeriesInFlight.delete(id);
    }
  }

  async function requery(inputR: GatewayRetrieveInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult> {
    const amount = formatAmount(inputR.amount);
    const currency = inputR.amount.currency;
    const tranID = inputR.gatewayReference;
    const orderid = (inputR.gatewayData.orderid as string | undefined) ?? inputR.orderId ?? inputR.paymentId;
    let response: HttpResponse;
    if (tranID) {
      response = await pacedRequery(`tid:${tranID}`, urls.qByTid, [
        ['amount', amount],
        ['txID', tranID],
        ['domain', mid],
        ['skey', requeryByTidSkey({ txID: tranID, domain: mid, verifyKey: config.verifyKey, amount })],
        ['type', '2'],
      ], ctx);
    } else {
      response = await pacedRequery(`oid:${orderid}`, urls.qByOid, [
        ['amount', amount],
        ['oID', orderid],
        ['domain', mid],
        ['skey', requeryByOidSkey({ oID: orderid, domain: mid, verifyKey: config.verifyKey, amount })],
        ['type', '2'],
      ], ctx);
    }
    if (response.status >= 500) throw gatewayError('gateway_unavailable_response', `Fiuu requery answered HTTP ${response.status}`, true);
    const r = body(response, 'requery');
    const statCode = str(r, 'StatCode');
    const errorCode = str(r, 'ErrorCode', 'error_code');
    if (!statCode) {
      if (NOT_FOUND_CODES.has(errorCode)) {
        throw new TenderError({ type: 'not_found_error', code: GATEWAY_PAYMENT_NOT_FOUND, message: `Fiuu has no record of ${tranID ? `transaction ${tranID}` : `order ${orderid}`} (${errorCode})` });
      }
      throw gatewayError('requery_failed', `Fiuu requery failed: ${errorCode || 'no StatCode'} ${str(r, 'ErrorDesc', 'error_desc')}`.trim(), BUSY_CODES.has(errorCode), { fiuuCode: errorCode });
    }
    const id = tranID ? str(r, 'TranID') : str(r, 'OrderID');
    const expected = requeryVrfKey({ amount: str(r, 'Amount'), secretKey: config.secretKey, domain: str(r, 'Domain'), id, statCode });
    if (!hexEquals(expected, r.VrfKey) || str(r, 'Domain') !== mid || (tranID ? id !== tranID : id !== orderid)) throw badSignature('requery');
    // StatName (Fiuu's own word: authorized, captured, settled) decides sale or authorisation, for an
    // automatic-capture payment too (the customer may have added tcctype=AUTH to its form; Fiuu API Spec v13.86 p.67).
    // Only without one does the capture method stored at create decide, never anything the customer echoed.
    const status = paymentStatusFromRequery(statCode, str(r, 'StatName'), storedCaptureMethod(inputR.gatewayData));
    const amounts = RequeryAmounts.safeParse(r);
    if (!amounts.success) throw unusableAnswer('requery', amounts.error);
    let reportedAmount: Money;
    try {
      reportedAmount = parseAmount(amounts.data.Amount, (amounts.data.Currency || currency).toUpperCase());
    } catch (error) {
      if (!TenderError.isInstance(error)) throw error;
      throw unusableAnswer('requery', error);
    }
    const reference = str(r, 'TranID') || tranID;
    const channel = str(r, 'Channel');
    const result: GatewayPaymentResult = {
      status,
      gatewayReference: reference || null,
      amount: reportedAmount,
      gatewayData: { tranID: reference, channel, channelMethod: normaliseChannel(channel), statName: str(r, 'StatName'), fiuuStatus: statCode },
    };
    if (status === 'CAPTURED') result.amountCaptured = reportedAmount;
    if (status === 'FAILED' || status === 'CANCELLED') result.failure = failureFrom(errorCode, str(r, 'ErrorDesc'), statCode);
    return result;
  }

  async function refundInquiry(refundId: string, amount: Money, ctx: GatewayCallContext): Promise<GatewayRefundResult> {
    const response = await post('refund_status', urls.refundByRefId, [
      ['RefID', refundId],
      ['MerchantID', mid],
      ['Signature', refundInquiryByRefIdSignature({ refID: refundId, merchantId: mid, verifyKey: config.verifyKey })],
    ], ctx);
    if (response.status >= 500) throw gatewayError('refund_status_failed', `Fiuu refund status answered HTTP ${response.status}`, true);
    const r = body(response, 'refund status');
    const error = str(r, 'error_code');
    if (error) throw gatewayError('refund_status_failed', `Fiuu refund status: ${error} ${str(r, 'error_desc')}`.trim(), error === 'INQ006', { fiuuCode: error });
    if (str(r, 'RefID') !== refundId) throw gatewayError('invalid_response', 'Fiuu refund status answered for another refund');
    return { status: refundStatusFromFiuu(str(r, 'Status')), gatewayReference: str(r, 'RefundID') || null, amount, refundId };
  }

  const gateway: FiuuGateway = {
    specVersion: 'v1',
    id: 'fiuu',
    settings: { merchantId: mid, sandbox: config.sandbox, paymentHost: config.paymentHost, apiHost: config.apiHost, pathPrefix: config.pathPrefix },
    capabilities: {
      paymentMethods: supportedMethods(),
      currencies: supportedCurrencies(),
      manualCapture: true,
      partialCapture: true,
      partialRefund: true,
      cancel: true,
      retrieve: true,
      settlements: true,
      maxAmountMinor: maxAmount,
    },
    settlements: fiuuSettlements({ merchantId: mid, verifyKey: config.verifyKey, url: urls.settlementReport, transport, pace: (key, signal) => pacer.acquire(key, signal) }),
    // The transport's own figures (an injected transport's too). Requery pacing waits happen before a
    // request is sent and are not counted.
    worstCaseCallMs: transport.worstCaseMs,
    canSend: () => transport.circuitState !== 'open',

    validateCreate(payment) {
      checkCreate(payment);
    },

    async createPayment(payment) {
      const { channel, orderid, amount } = checkCreate(payment);
      const pairs = hostedFields(payment, channel, orderid, amount);
      const fields = Object.fromEntries(pairs);
      const hostedPayment: FiuuHostedPayment = { url: urls.payment, method: 'POST', fields };
      return {
        status: 'REQUIRES_ACTION',
        gatewayReference: null,
        amount: payment.amount,
        nextAction: { type: 'seamless', gateway: 'fiuu', params: seamlessParams(fields, channel) },
        gatewayData: { orderid, channel: channel?.hosted ?? null, channelMethod: channel?.method ?? null, captureMethod: payment.captureMethod, hostedPayment },
      };
    },

    async capture(captureInput, ctx) {
      const amount = formatAmount(captureInput.amount);
      const tranID = captureInput.gatewayReference;
      const response = await post('capture', urls.capture, [
        ['domain', mid],
        ['tranID', tranID],
        ['amount', amount],
        ['RefID', ctx.idempotencyKey.slice(0, 100)],
        ['skey', captureSkey({ tranID, amount, domain: mid, verifyKey: config.verifyKey })],
      ], ctx);
      if (response.status >= 500) throw outcomeUnknown('capture', response);
      const r = body(response, 'capture');
      const statCode = str(r, 'StatCode');
      const signed = hexEquals(statusVrfKey({ secretKey: config.secretKey, domain: str(r, 'Domain'), tranID: str(r, 'TranID'), statCode }), r.VrfKey);
      if ((statCode === '00' || statCode === '24') && (!signed || str(r, 'TranID') !== tranID || str(r, 'Domain') !== mid)) throw badSignature('capture');
      switch (statCode) {
        case '00':
        case '24':
          return { status: 'CAPTURED', gatewayReference: tranID, amountCaptured: captureInput.amount, gatewayData: { capturedAt: str(r, 'StatDate'), partialCaptureTranID: str(r, 'PartialCaptureTranID') || null } };
        case '21':
          return { status: 'EXPIRED', gatewayReference: tranID, failure: { code: 'authorization_expired', message: 'Fiuu: the authorisation has expired' } };
        case '23':
          throw invalidRequest('partial_capture_not_allowed', 'Fiuu does not allow a partial capture on this channel', 'amount');
        case '25':
          throw invalidRequest('amount_too_large', 'Capture amount exceeds the capturable amount', 'amount');
        case '13':
          throw invalidRequest('capture_not_supported', 'Fiuu can capture card transactions only');
        case '17':
          throw gatewayError('transaction_not_found', `Fiuu does not know transaction ${tranID}`);
        default:
          throw gatewayError('capture_failed', `Fiuu capture failed with StatCode ${statCode || '(none)'}`, CAPTURE_RETRYABLE.has(statCode), { fiuuCode: statCode });
      }
    },

    async cancel(cancelInput, ctx) {
      // Nothing exists at Fiuu until the customer submits the payment page: dropping the form is the cancel.
      if (!cancelInput.gatewayReference) return { status: 'CANCELLED', gatewayReference: null };
      const txnID = cancelInput.gatewayReference;
      const response = await post('reversal', urls.reversal, [
        ['txnID', txnID],
        ['domain', mid],
        ['skey', reversalSkey({ txnID, domain: mid, secretKey: config.secretKey })],
      ], ctx);
      if (response.status >= 500) throw outcomeUnknown('reversal', response);
      const r = body(response, 'reversal');
      const statCode = str(r, 'StatCode');
      const reportedTran = str(r, 'TranID', 'TxnID');
      const signed = hexEquals(statusVrfKey({ secretKey: config.secretKey, domain: str(r, 'Domain'), tranID: reportedTran, statCode }), r.VrfKey);
      if (statCode === '00' || statCode === '22') {
        if (!signed || reportedTran !== txnID) throw badSignature('reversal');
        return { status: 'CANCELLED', gatewayReference: txnID, gatewayData: { reversalId: str(r, 'refundID', 'RefundID') || null } };
      }
      if (statCode === '21' || statCode === '13') throw stateConflict('cannot_cancel', `Fiuu cannot reverse transaction ${txnID} in its current state (StatCode ${statCode})`);
      throw gatewayError('reversal_failed', `Fiuu reversal failed with StatCode ${statCode || '(none)'}`, statCode === '15', { fiuuCode: statCode });
    },

    async refund(refundInput, ctx) {
      const fields = { RefundType: 'P', MerchantID: mid, RefID: refundInput.refundId, TxnID: refundInput.gatewayReference, Amount: formatAmount(refundInput.amount) };
      const response = await post('refund', urls.refund, [...Object.entries(fields), ['Signature', refundSignature(fields, config.secretKey)]] as Array<[string, string]>, ctx);
      if (response.status >= 500) throw outcomeUnknown('refund', response);
      const r = body(response, 'refund');
      const error = str(r, 'error_code');
      if (error) {
        switch (error) {
          case 'PR016':
            // The RefID was used already: our earlier attempt got through. Report that refund.
            return refundInquiry(refundInput.refundId, refundInput.amount, ctx);
          case 'PR011':
            throw invalidRequest('refund_amount_exceeds', 'Refund amount exceeds the refundable amount at Fiuu', 'amount');
          case 'PR010':
          case 'PR017':
          case 'PR019':
            throw stateConflict('refund_not_allowed', `Fiuu refused the refund: ${error} ${str(r, 'error_desc')}`.trim());
          case 'PR014':
            throw invalidRequest('refund_bank_details_required', 'Fiuu needs the beneficiary bank details to refund this channel');
          default:
            throw gatewayError('refund_failed', `Fiuu refund failed: ${error} ${str(r, 'error_desc')}`.trim(), error === 'PR015', { fiuuCode: error });
        }
      }
      const status = str(r, 'Status');
      const signedFields = { RefundType: str(r, 'RefundType'), MerchantID: str(r, 'MerchantID'), RefID: str(r, 'RefID'), RefundID: str(r, 'RefundID'), TxnID: str(r, 'TxnID'), Amount: str(r, 'Amount') };
      // A third-party mock signs the word "pending" as 22 (seen in public Fiuu mock servers): accept either spelling.
      const codeForWord: Record<string, string> = { pending: '22', success: '00', rejected: '11' };
      const candidates = [status, codeForWord[status.toLowerCase()]].filter((s): s is string => !!s);
      const signed = candidates.some((s) => hexEquals(refundResponseSignature({ ...signedFields, Status: s }, config.secretKey), r.Signature));
      if (!signed || signedFields.RefID !== refundInput.refundId || signedFields.MerchantID !== mid || signedFields.TxnID !== refundInput.gatewayReference) throw badSignature('refund');
      const refundStatus = refundStatusFromFiuu(status);
      return {
        status: refundStatus,
        gatewayReference: signedFields.RefundID || null,
        amount: refundInput.amount,
        refundId: refundInput.refundId,
        ...(refundStatus === 'FAILED' ? { failure: { code: 'refund_rejected', message: str(r, 'reason') || 'Fiuu rejected the refund' } } : {}),
      };
    },

    async retrieveRefund(refundInput, ctx) {
      return refundInquiry(refundInput.refundId, refundInput.amount, ctx);
    },

    retrieve: requery,

    verifyWebhook(request) {
      verifyResult(decodeResult(request).fields, config);
    },

    parseWebhook(request): ParsedWebhook {
      const decoded = decodeResult(request);
      const result = interpretResult(decoded);
      const events = eventsFor(result);
      if (decoded.kind === 'callback') {
        return { events, acknowledgement: { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: CALLBACK_ACK } };
      }
      const echo = (decoded.kind === 'notification' && config.notificationIpn) || (decoded.kind === 'return' && config.returnIpn);
      const afterAcknowledge = echo
        ? async () => {
            // Back-end IPN: every received field unchanged, plus treq=1 (Fiuu API Spec v13.86 p.50–58).
            const response = await post('ipn', urls.returnIpn, [...decoded.pairs.filter(([k]) => k !== 'treq'), ['treq', '1']]);
            if (response.status >= 300) throw gatewayError('ipn_failed', `Fiuu returnipn answered HTTP ${response.status}`, true);
          }
        : undefined;
      const acknowledgement =
        decoded.kind === 'return' && options.returnPage
          ? { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: renderReturnPage(returnMessage(result), options.returnPage) }
          : { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '' };
      return { events, acknowledgement, ...(afterAcknowledge ? { afterAcknowledge } : {}) };
    },

    clientConfig({ paymentMethod, currency } = {}): ClientConfig {
      const params: Record<string, unknown> = {
        merchantId: mid,
        sandbox: config.sandbox,
        paymentUrl: urls.payment,
        seamlessScriptUrl: urls.seamlessScript,
        seamlessVersion: config.seamlessVersion,
      };
      if (paymentMethod) {
        const channel = resolveChannel(paymentMethod, currency ?? FIUU_CHANNELS.find((c) => c.method === paymentMethod.toUpperCase())?.currencies[0] ?? 'MYR');
        params.channel = channel.hosted;
        params.mpschannel = channel.seamless;
        params.currency = currency ?? channel.currencies[0];
      }
      return { gateway: 'fiuu', params };
    },

    handleReturn(request, page) {
      const decoded = decodeResult({ ...request, query: { ...request.query, kind: 'return' } });
      let result: ReturnType<typeof interpretResult> | null = null;
      try {
        verifyResult(decoded.fields, config);
        result = interpretResult(decoded);
      } catch (error) {
        // A bad signature, or a signed result whose fields cannot be read: report UNVERIFIED.
        if (!TenderError.isInstance(error) || (error.type !== 'webhook_signature_error' && error.code !== 'invalid_webhook_payload')) throw error;
      }
      const message = returnMessage(result);
      return { verified: result !== null, message, html: renderReturnPage(message, page) };
    },

    async close() {
      if (ownsTransport) await transport.close();
    },
  };
  return gateway;
}

/** A payment as the engine returns it (only what {@link seamlessConfigResponse} reads). */
export interface SeamlessPaymentLike {
  id: string;
  status: string;
  nextAction: { type: string; params?: Record<string, string> } | null;
  gatewayData: Record<string, unknown>;
}

/** JSON the browser bundle (and Fiuu's official seamless plugin) reads from the merchant's server. */
export interface SeamlessConfigResponse extends Record<string, unknown> {
  status: boolean;
  tender?: { paymentId: string; paymentUrl: string; fields: Record<string, string> };
  error_code?: string;
  error_desc?: string;
}

/**
 * Builds the answer of `GET /api/v1/payments/seamless/config` from a Fiuu payment awaiting the
 * customer: `{ status: true, mps...: ... }` exactly as Fiuu's seamless plugin expects (SL-DEMO
 * `process_order.php`), plus a `tender` member with the hosted-payment form the pop-up posts.
 */
export function seamlessConfigResponse(payment: SeamlessPaymentLike): SeamlessConfigResponse {
  const hosted = payment.gatewayData.hostedPayment as FiuuHostedPayment | undefined;
  if (payment.status !== 'REQUIRES_ACTION' || payment.nextAction?.type !== 'seamless' || !hosted) {
    return { status: false, error_code: 'not_awaiting_customer', error_desc: `Payment ${payment.id} is ${payment.status}` };
  }
  return { status: true, ...payment.nextAction.params, tender: { paymentId: payment.id, paymentUrl: hosted.url, fields: hosted.fields } };
}
