/**
 * The PayPal gateway: Orders v2 and Payments v2 over PayPal's REST API
 * (https://developer.paypal.com/docs/api/orders/v2/, https://developer.paypal.com/docs/api/payments/v2/),
 * sent through core's HttpTransport so retries, circuit breaking and metrics match every other gateway.
 *
 * Approval → capture. `createPayment` creates an order (`intent` CAPTURE or AUTHORIZE) and answers
 * `REQUIRES_ACTION` with the buyer-approval link. PayPal moves no money when the buyer approves: the
 * merchant must then capture (or authorize) the order. That call is made by `retrieve`: when it finds
 * the order `APPROVED` it captures or authorizes it with a `PayPal-Request-Id` derived from Tender's
 * payment id, so however many times it runs (the `CHECKOUT.ORDER.APPROVED` webhook, which the gateway
 * turns into a `requery`, the reconciler, a redelivery, two processes at once) PayPal acts once and
 * replays its answer to the others. Putting it in `retrieve` means every path by which the engine learns
 * of the approval completes the payment, with no extra engine hook, and a lost answer is recovered by
 * the next requery. A payment Tender cancelled is never captured.
 *
 * @module
 */
import * as core from '@tender/core';
import {
  GATEWAY_PAYMENT_NOT_FOUND,
  TenderError,
  type GatewayCallContext,
  type GatewayCancelInput,
  type GatewayCaptureInput,
  type GatewayCreatePaymentInput,
  type GatewayPaymentResult,
  type GatewayRefundInput,
  type GatewayRefundResult,
  type GatewayRetrieveInput,
  type GatewayV1,
  type HttpTransport,
  type ParsedWebhook,
  type WebhookRequest,
} from '@tender/core';
import type { X509Certificate } from 'node:crypto';
import { toPayPalMoney } from './amounts';
import {
  PAYPAL_BASE_URLS,
  PAYPAL_DEFAULT_WEBHOOK_MAX_AGE_SECONDS,
  PAYPAL_DEFAULT_WEBHOOK_MAX_FUTURE_SECONDS,
  validatePayPalOptions,
  type PayPalGatewayOptions,
} from './config';
import { PAYPAL_CURRENCIES, PAYPAL_PAYMENT_METHODS, paypalMaxAmountMinor, paypalMaxAmountTable } from './currencies';
import { AuthorizationSchema, CaptureSchema, ErrorSchema, OrderSchema, read, RefundSchema, unusableAnswer, type PayPalErrorBody, type PayPalOrder } from './schemas';
import { checkAuthAlgo, checkCertUrl, checkTransmissionTime, readTransmission, verifyCertificateChainWindow, verifyTransmissionSignature, type VerifiedPayPalCertificate } from './signature';
import { paypalSettlements } from './settlements';
import { PayPalTokenSource } from './token';
import {
  authorizationToResult,
  captureToResult,
  eventToWebhookEvents,
  failureFromIssue,
  issueOf,
  orderToResult,
  paypalErrorToTenderError,
  refundToResult,
  DECLINE_ISSUES,
} from './transformers';

/** PayPal-Request-Id allows up to 108 characters (https://developer.paypal.com/api/rest/reference/idempotency/). */
const MAX_REQUEST_ID = 108;
/** Largest certificate bundle fetched. */
const MAX_CERT_BYTES = 64 * 1024;
/** Certificates kept in the cache. */
const CERT_CACHE_SIZE = 32;
/** `gatewayData` key marking a payment Tender cancelled: `retrieve` never captures its order. */
const CANCELLED_MARK = 'tenderCancelled';

/** The PayPal gateway object: Gateway spec v1 plus PayPal helpers. */
export interface PayPalGateway extends GatewayV1 {
  readonly id: 'paypal';
  /** Throws the `invalid_request_error` `createPayment` would throw before sending; no I/O. */
  validateCreate(input: GatewayCreatePaymentInput): void;
  verifyWebhook(request: WebhookRequest, now: Date): Promise<void>;
  parseWebhook(request: WebhookRequest): Promise<ParsedWebhook>;
  /** How many OAuth token requests this gateway sent (tests, metrics). */
  readonly tokenRequests: number;
  /** Releases the transport's pooled connections when this gateway created it. */
  close(): Promise<void>;
}

interface CallOptions {
  operation: string;
  requestId?: string;
  signal?: AbortSignal | undefined;
  body?: unknown;
  /** A POST without a request id that is still safe to repeat (a signature check). */
  idempotent?: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  json: unknown;
}

/**
 * `text` cut to at most `max` UTF-16 units (the stricter reading of PayPal's length limits) without
 * cutting a character in half: `String.slice` can split an emoji's surrogate pair, and the lone half
 * left is not valid UTF-8 on the wire.
 */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const char of text) {
    if (out.length + char.length > max) break;
    out += char;
  }
  return out;
}

/** Tender's derived idempotency key as a `PayPal-Request-Id` (hashed when longer than PayPal allows). */
export function paypalRequestId(key: string): string {
  return key.length <= MAX_REQUEST_ID && /^[\x21-\x7e]+$/.test(key) ? key : `tender-${core.sha256Hex(key)}`;
}

/**
 * Creates the PayPal gateway (id `paypal`).
 * @throws TenderError `invalid_configuration` naming the bad option.
 * @example
 * const paypal = createPayPalGateway({ clientId, clientSecret, webhookId, mode: 'live' });
 */
export function createPayPalGateway(options: PayPalGatewayOptions): PayPalGateway {
  validatePayPalOptions(options);
  const base = (options.baseUrl ?? PAYPAL_BASE_URLS[options.mode]).replace(/\/+$/, '');
  const ownsTransport = options.transport === undefined;
  const transport: HttpTransport =
    options.transport ?? core.createHttpTransport({ gateway: 'paypal', ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), headers: { 'user-agent': 'tender-paypal/0.1' } });
  const clock = options.clock ?? core.systemClock;
  const tokens = new PayPalTokenSource(base, options.clientId, options.clientSecret, transport, clock, options.tokenRefreshMarginSeconds ?? 300, options.timeoutMs);
  const verification = options.webhookVerification ?? 'offline';
  const maxAge = options.webhookMaxAgeSeconds ?? PAYPAL_DEFAULT_WEBHOOK_MAX_AGE_SECONDS;
  const maxFuture = options.webhookMaxFutureSeconds ?? PAYPAL_DEFAULT_WEBHOOK_MAX_FUTURE_SECONDS;
  const certCache = new Map<string, Promise<string>>();
  const verifiedCerts = new Map<string, VerifiedPayPalCertificate>();

  async function send(method: 'GET' | 'POST', path: string, call: CallOptions): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      const token = await tokens.get(call.signal);
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (method === 'POST') {
        headers['content-type'] = 'application/json';
        headers.prefer = 'return=representation';
        if (call.requestId) headers['paypal-request-id'] = paypalRequestId(call.requestId);
      }
      const response = await transport.request({
        method,
        url: base + path,
        headers,
        ...(method === 'POST' ? { body: JSON.stringify(call.body ?? {}) } : {}),
        // GETs, and POSTs carrying a PayPal-Request-Id (PayPal answers a repeat with the first result).
        idempotent: method === 'GET' || call.requestId !== undefined || call.idempotent === true,
        operation: call.operation,
        ...(call.signal ? { signal: call.signal } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
      if (response.status === 401 && attempt === 0) {
        // The token expired or was revoked early: one new token, one retry (same request id).
        tokens.invalidate(token);
        continue;
      }
      let json: unknown;
      if (response.body.byteLength > 0) {
        try {
          json = response.json();
        } catch {
          if (response.status < 300) throw unusableAnswer(call.operation, ['the body is not JSON'], method === 'POST');
        }
      }
      return { status: response.status, headers: response.headers, json };
    }
  }

  const errorBody = (json: unknown): PayPalErrorBody | undefined => {
    const parsed = ErrorSchema.safeParse(json);
    return parsed.success ? parsed.data : undefined;
  };

  async function ok(method: 'GET' | 'POST', path: string, call: CallOptions): Promise<unknown> {
    const res = await send(method, path, call);
    if (res.status >= 200 && res.status < 300) return res.json;
    throw paypalErrorToTenderError(errorBody(res.json), { status: res.status, headers: res.headers, mutating: method === 'POST', operation: call.operation });
  }

  function orderOf(json: unknown, operation: string, mutating: boolean): PayPalOrder {
    const parsed = read(OrderSchema, json);
    if (!parsed.ok) throw unusableAnswer(operation, parsed.problems, mutating);
    return parsed.value;
  }

  function notFound(what: string, id: string): TenderError {
    return new TenderError({ type: 'not_found_error', code: GATEWAY_PAYMENT_NOT_FOUND, message: `PayPal has no ${what} '${id}'`, param: 'id' });
  }

  async function getOrder(orderId: string, signal?: AbortSignal): Promise<PayPalOrder> {
    const res = await send('GET', `/v2/checkout/orders/${encodeURIComponent(orderId)}`, { operation: 'get_order', signal });
    if (res.status === 404) throw notFound('order', orderId);
    if (res.status >= 300) throw paypalErrorToTenderError(errorBody(res.json), { status: res.status, headers: res.headers, mutating: false, operation: 'get_order' });
    return orderOf(res.json, 'get_order', false);
  }

  /** Captures (intent CAPTURE) or authorizes an APPROVED order, once per payment. */
  async function completeOrder(order: PayPalOrder, paymentId: string, ctx: GatewayCallContext): Promise<GatewayPaymentResult> {
    const action = order.intent === 'AUTHORIZE' ? 'authorize' : 'capture';
    const operation = `${action}_order`;
    const res = await send('POST', `/v2/checkout/orders/${encodeURIComponent(order.id)}/${action}`, { operation, requestId: `${paymentId}/${operation}`, signal: ctx.signal, body: {} });
    if (res.status >= 200 && res.status < 300) return orderToResult(orderOf(res.json, operation, true));
    const body = errorBody(res.json);
    const issue = issueOf(body);
    if (issue === 'ORDER_ALREADY_CAPTURED' || issue === 'ORDER_ALREADY_AUTHORIZED' || res.status === 409) {
      // Another requery did it (or is doing it) first: report what PayPal has now.
      const now = await getOrder(order.id, ctx.signal);
      return orderToResult(now);
    }
    if (issue === 'ORDER_NOT_APPROVED' || issue === 'PAYER_ACTION_REQUIRED') return orderToResult({ ...order, status: 'PAYER_ACTION_REQUIRED' });
    if (issue && DECLINE_ISSUES.has(issue)) {
      const failed = orderToResult(order);
      return {
        ...failed,
        status: 'FAILED',
        nextAction: null,
        failure: failureFromIssue(issue, body?.details?.[0]?.description ?? body?.message),
        gatewayData: { ...failed.gatewayData, ...(body?.debug_id ? { debugId: body.debug_id } : {}) },
      };
    }
    throw paypalErrorToTenderError(body, { status: res.status, headers: res.headers, mutating: true, operation });
  }

  /** The capture to refund: the one Tender recorded, else the order's latest completed capture. */
  async function captureIdOf(input: { gatewayReference: string | null; gatewayData: Record<string, unknown> }, signal?: AbortSignal): Promise<string> {
    if (typeof input.gatewayData.captureId === 'string') return input.gatewayData.captureId;
    if (!input.gatewayReference) throw core.invalidRequest('not_captured', 'This PayPal payment has no order');
    const result = orderToResult(await getOrder(input.gatewayReference, signal));
    if (typeof result.gatewayData?.captureId !== 'string') throw core.stateConflict('not_captured', 'The PayPal order has no completed capture');
    return result.gatewayData.captureId;
  }

  async function authorizationIdOf(input: { gatewayReference: string | null; gatewayData: Record<string, unknown> }, signal?: AbortSignal): Promise<string | null> {
    if (typeof input.gatewayData.authorizationId === 'string') return input.gatewayData.authorizationId;
    if (!input.gatewayReference) return null;
    const result = orderToResult(await getOrder(input.gatewayReference, signal));
    return typeof result.gatewayData?.authorizationId === 'string' ? result.gatewayData.authorizationId : null;
  }

  async function fetchCertificate(url: URL): Promise<string> {
    const key = url.href;
    let pending = certCache.get(key);
    if (!pending) {
      pending = (async () => {
        const response = await transport.request({ method: 'GET', url: url.href, headers: { accept: 'application/x-pem-file, text/plain, */*' }, idempotent: true, operation: 'webhook_cert' });
        // PayPal down (5xx, 429) is worth a redelivery; any other answer (404 for a certificate name
        // PayPal never issued, a redirect, which is never followed) means the delivery cannot verify.
        if (response.status >= 500 || response.status === 429) throw new TenderError({ type: 'gateway_error', code: 'webhook_cert_unavailable', message: `PayPal webhook certificate answered HTTP ${response.status}`, retryable: true });
        if (response.status !== 200) throw new TenderError({ type: 'webhook_signature_error', code: 'cert_untrusted', message: `PayPal webhook certificate URL answered HTTP ${response.status}` });
        if (response.body.byteLength > MAX_CERT_BYTES) throw new TenderError({ type: 'webhook_signature_error', code: 'cert_untrusted', message: 'PayPal webhook certificate is too large' });
        return response.text();
      })();
      if (certCache.size >= CERT_CACHE_SIZE) certCache.delete(certCache.keys().next().value!);
      certCache.set(key, pending);
      pending.catch(() => certCache.delete(key));
    }
    return pending;
  }

  async function verifyOnline(request: WebhookRequest, transmission: ReturnType<typeof readTransmission>): Promise<void> {
    let event: unknown;
    try {
      event = JSON.parse(Buffer.from(request.rawBody).toString('utf8'));
    } catch {
      throw new TenderError({ type: 'webhook_signature_error', code: 'signature_mismatch', message: 'PayPal webhook body is not JSON' });
    }
    const res = await send('POST', '/v1/notifications/verify-webhook-signature', {
      operation: 'verify_webhook_signature',
      idempotent: true,
      body: {
        auth_algo: transmission.authAlgo,
        cert_url: transmission.certUrl,
        transmission_id: transmission.transmissionId,
        transmission_sig: transmission.transmissionSig,
        transmission_time: transmission.transmissionTime,
        webhook_id: options.webhookId,
        webhook_event: event,
      },
    });
    // PayPal refusing the fields of the delivery (400/422: a signature or cert URL longer than its
    // schema allows, an auth_algo that is not alphanumeric) is a delivery that does not verify; PayPal
    // unavailable (5xx, 429) stays retryable, and is no payment outcome (the check moves no money).
    if (res.status === 400 || res.status === 422) {
      const body = errorBody(res.json);
      throw new TenderError({ type: 'webhook_signature_error', code: 'signature_mismatch', message: `PayPal webhook signature: PayPal refused the delivery's fields (${issueOf(body) ?? body?.name ?? `HTTP ${res.status}`})`, details: { paypalStatus: res.status, ...(body?.debug_id ? { debugId: body.debug_id } : {}) } });
    }
    if (res.status < 200 || res.status >= 300) throw paypalErrorToTenderError(errorBody(res.json), { status: res.status, headers: res.headers, mutating: false, operation: 'verify_webhook_signature' });
    if ((res.json as { verification_status?: unknown } | undefined)?.verification_status !== 'SUCCESS') {
      throw new TenderError({ type: 'webhook_signature_error', code: 'signature_mismatch', message: 'PayPal webhook signature: PayPal answered verification_status FAILURE' });
    }
  }

  const gateway: PayPalGateway = {
    specVersion: 'v1',
    id: 'paypal',
    capabilities: {
      paymentMethods: PAYPAL_PAYMENT_METHODS,
      currencies: PAYPAL_CURRENCIES,
      manualCapture: true,
      partialCapture: true,
      partialRefund: true,
      cancel: true,
      retrieve: true,
      settlements: true,
      maxAmountMinor: paypalMaxAmountTable(),
    },
    settlements: paypalSettlements({
      async get(path, operation, signal) {
        const res = await send('GET', path, { operation, signal });
        if (res.status === 404 && operation === 'get_capture') return null;
        if (res.status >= 200 && res.status < 300) return res.json;
        throw paypalErrorToTenderError(errorBody(res.json), { status: res.status, headers: res.headers, mutating: false, operation });
      },
    }),
    // One call of this gateway is at most five transport requests: a token, a lookup (the order, for
    // an authorization or capture id), the call, and after a 401 a new token and the call again.
    worstCaseCallMs: 5 * transport.worstCaseMs,
    canSend: () => transport.circuitState !== 'open',
    get tokenRequests() {
      return tokens.requests;
    },

    validateCreate(input: GatewayCreatePaymentInput): void {
      orderRequest(input, options.brandName);
    },

    async createPayment(input, ctx): Promise<GatewayPaymentResult> {
      const body = orderRequest(input, options.brandName);
      const json = await ok('POST', '/v2/checkout/orders', { operation: 'create_order', requestId: ctx.idempotencyKey, signal: ctx.signal, body });
      const result = orderToResult(orderOf(json, 'create_order', true));
      if (result.status === 'REQUIRES_ACTION' && !result.nextAction) throw unusableAnswer('create_order', ['links has no approve or payer-action link'], true);
      return result;
    },

    async capture(input: GatewayCaptureInput, ctx): Promise<GatewayPaymentResult> {
      const authorizationId = await authorizationIdOf(input, ctx.signal);
      if (!authorizationId) throw core.stateConflict('not_authorized', 'The PayPal order has no authorization to capture');
      const json = await ok('POST', `/v2/payments/authorizations/${encodeURIComponent(authorizationId)}/capture`, {
        operation: 'capture_authorization',
        requestId: ctx.idempotencyKey,
        signal: ctx.signal,
        // One capture per Tender payment: a partial capture releases the rest (final_capture).
        body: { amount: toPayPalMoney(input.amount), final_capture: true },
      });
      const parsed = read(CaptureSchema, json);
      if (!parsed.ok) throw unusableAnswer('capture_authorization', parsed.problems, true);
      const result = captureToResult(parsed.value, input.gatewayReference);
      return { ...result, gatewayData: { ...result.gatewayData, authorizationId } };
    },

    async cancel(input: GatewayCancelInput, ctx): Promise<GatewayPaymentResult> {
      const mark = { [CANCELLED_MARK]: true };
      const authorizationId = await authorizationIdOf(input, ctx.signal).catch((error: unknown) => {
        if (TenderError.isInstance(error) && error.code === GATEWAY_PAYMENT_NOT_FOUND) return null;
        throw error;
      });
      // An order nobody captured holds no money; PayPal lets it expire. Tender never captures it now.
      if (!authorizationId) return { status: 'CANCELLED', gatewayReference: input.gatewayReference, gatewayData: mark };
      const res = await send('POST', `/v2/payments/authorizations/${encodeURIComponent(authorizationId)}/void`, { operation: 'void_authorization', requestId: ctx.idempotencyKey, signal: ctx.signal });
      if (res.status >= 300 && issueOf(errorBody(res.json)) !== 'PREVIOUSLY_VOIDED') {
        throw paypalErrorToTenderError(errorBody(res.json), { status: res.status, headers: res.headers, mutating: true, operation: 'void_authorization' });
      }
      return { status: 'CANCELLED', gatewayReference: input.gatewayReference, gatewayData: { ...mark, authorizationId, authorizationStatus: 'VOIDED' } };
    },

    async refund(input: GatewayRefundInput, ctx): Promise<GatewayRefundResult> {
      const captureId = await captureIdOf(input, ctx.signal);
      // The amount is always sent: an empty body refunds whatever PayPal has left on the capture
      // (https://developer.paypal.com/docs/api/payments/v2/#captures_refund), which is less than
      // Tender asked for after a refund made elsewhere (the dashboard) that Tender has not seen yet.
      // With the amount, PayPal refuses that with REFUND_AMOUNT_EXCEEDED instead.
      const body: Record<string, unknown> = { amount: toPayPalMoney(input.amount), custom_id: input.paymentId, invoice_id: input.refundId };
      if (input.reason) body.note_to_payer = truncate(input.reason, 255);
      const json = await ok('POST', `/v2/payments/captures/${encodeURIComponent(captureId)}/refund`, { operation: 'refund', requestId: ctx.idempotencyKey, signal: ctx.signal, body });
      const parsed = read(RefundSchema, json);
      if (!parsed.ok) throw unusableAnswer('refund', parsed.problems, true);
      return { ...refundToResult(parsed.value), refundId: input.refundId };
    },

    async retrieve(input: GatewayRetrieveInput, ctx): Promise<GatewayPaymentResult> {
      // Without an order id the create never answered: the buyer never saw an approval link, so no
      // money can have moved (the order, if PayPal made one, expires unapproved).
      if (!input.gatewayReference) throw notFound('order for payment', input.paymentId);
      const order = await getOrder(input.gatewayReference, ctx.signal);
      if (order.status === 'APPROVED') {
        if (input.gatewayData[CANCELLED_MARK] === true) return { ...orderToResult(order), status: 'CANCELLED', nextAction: null };
        return completeOrder(order, input.paymentId, ctx);
      }
      return orderToResult(order);
    },

    async retrieveRefund(input, ctx): Promise<GatewayRefundResult> {
      if (input.gatewayReference) {
        const res = await send('GET', `/v2/payments/refunds/${encodeURIComponent(input.gatewayReference)}`, { operation: 'get_refund', signal: ctx.signal });
        if (res.status === 404) throw notFound('refund', input.gatewayReference);
        if (res.status >= 300) throw paypalErrorToTenderError(errorBody(res.json), { status: res.status, headers: res.headers, mutating: false, operation: 'get_refund' });
        const parsed = read(RefundSchema, res.json);
        if (!parsed.ok) throw unusableAnswer('get_refund', parsed.problems, false);
        return refundToResult(parsed.value);
      }
      if (!input.paymentGatewayReference) throw notFound('refund', input.refundId);
      const refunds = orderToResult(await getOrder(input.paymentGatewayReference, ctx.signal)).refunds ?? [];
      const match = refunds.find((r) => r.refundId === input.refundId);
      if (!match) throw notFound('refund', input.refundId);
      return match;
    },

    async verifyWebhook(request: WebhookRequest, now: Date): Promise<void> {
      const transmission = readTransmission(request.headers);
      checkTransmissionTime(transmission.transmissionTime, now, maxAge, maxFuture);
      checkAuthAlgo(transmission.authAlgo);
      if (verification === 'online') return verifyOnline(request, transmission);
      // Checked before anything is fetched: no other URL is ever requested.
      const url = checkCertUrl(transmission.certUrl, options.mode, options.certTrust);
      // A chain verified before is reused while `now` stays inside the window its certificates are
      // all valid in (the chain check is most of the cost of a delivery); outside it, it is checked
      // again, which refuses an expired certificate.
      const known = verifiedCerts.get(url.href);
      let leaf: X509Certificate;
      if (known && known.notBefore <= now.getTime() && now.getTime() <= known.notAfter) {
        leaf = known.leaf;
      } else {
        const pem = await fetchCertificate(url);
        try {
          const verified = verifyCertificateChainWindow(pem, now, options.certTrust?.caCertificatesPem);
          if (verifiedCerts.size >= CERT_CACHE_SIZE && !verifiedCerts.has(url.href)) verifiedCerts.delete(verifiedCerts.keys().next().value!);
          verifiedCerts.set(url.href, verified);
          leaf = verified.leaf;
        } catch (error) {
          // Only certificates that verified stay cached: a bad answer is fetched again next time, and
          // unusable answers cannot fill the cache and push PayPal's real certificate out.
          if (TenderError.isInstance(error) && error.code === 'cert_untrusted') certCache.delete(url.href);
          throw error;
        }
      }
      verifyTransmissionSignature(transmission, options.webhookId, request.rawBody, leaf);
    },

    async parseWebhook(request: WebhookRequest): Promise<ParsedWebhook> {
      let event: unknown;
      try {
        event = JSON.parse(Buffer.from(request.rawBody.buffer, request.rawBody.byteOffset, request.rawBody.byteLength).toString('utf8'));
      } catch {
        throw core.invalidRequest('invalid_webhook_payload', 'PayPal webhook body is not JSON');
      }
      const events = await eventToWebhookEvents(event, async (captureId) => {
        const res = await send('GET', `/v2/payments/captures/${encodeURIComponent(captureId)}`, { operation: 'get_capture' });
        if (res.status === 404) return null;
        if (res.status >= 300) throw paypalErrorToTenderError(errorBody(res.json), { status: res.status, headers: res.headers, mutating: false, operation: 'get_capture' });
        const parsed = read(CaptureSchema, res.json);
        if (!parsed.ok) throw unusableAnswer('get_capture', parsed.problems, false);
        return { paymentId: parsed.value.custom_id ?? null, orderId: parsed.value.supplementary_data?.related_ids?.order_id ?? null };
      });
      return { events, acknowledgement: { status: 200, headers: { 'content-type': 'text/plain' }, body: 'OK' } };
    },

    async close(): Promise<void> {
      if (ownsTransport) await transport.close();
    },
  };
  return gateway;
}

/**
 * The Orders v2 create body for a payment, after every check made before sending: the payment method,
 * PayPal's currency list, PayPal's decimals (none for HUF, JPY, TWD) and its largest amount.
 * `validateCreate` and `createPayment` both call it.
 * @throws TenderError `invalid_request_error`: `payment_method_not_supported` (`payment_method`),
 *   `currency_not_supported` (`currency`), `amount_not_supported` or `amount_too_large` (`amount`).
 */
export function orderRequest(input: GatewayCreatePaymentInput, brandName?: string): Record<string, unknown> {
  const pm = input.paymentMethod;
  if (pm !== null && pm.toLowerCase() !== 'paypal') {
    throw core.invalidRequest('payment_method_not_supported', `PayPal takes the payment method 'paypal', not '${pm}'`, 'payment_method');
  }
  const currency = input.amount.currency;
  if (!PAYPAL_CURRENCIES.includes(currency)) throw core.invalidRequest('currency_not_supported', `PayPal does not take ${currency}`, 'currency');
  const amount = toPayPalMoney(input.amount);
  if (input.amount.toMinor() > paypalMaxAmountMinor(currency)) {
    throw core.invalidRequest('amount_too_large', `PayPal takes at most 999999999.99 (${currency}); got ${input.amount.toString()}`, 'amount');
  }
  const unit: Record<string, unknown> = {
    reference_id: input.paymentId,
    // Tender's payment id travels in the signed webhooks of this order, its captures and refunds.
    custom_id: input.paymentId,
    amount,
  };
  if (input.description) unit.description = truncate(input.description, 127);
  const body: Record<string, unknown> = { intent: input.captureMethod === 'manual' ? 'AUTHORIZE' : 'CAPTURE', purchase_units: [unit] };
  if (input.returnUrl) {
    body.payment_source = {
      paypal: {
        experience_context: {
          return_url: input.returnUrl,
          cancel_url: input.returnUrl,
          user_action: 'PAY_NOW',
          shipping_preference: 'NO_SHIPPING',
          ...(brandName ? { brand_name: brandName } : {}),
        },
      },
    };
  }
  return body;
}

