/**
 * The UPI gateway (id `upi`) over Razorpay's S2S UPI API (https://razorpay.com/docs/payments/payment-gateway/s2s-integration/payment-methods/upi/),
 * sent through core's HttpTransport:
 * - `POST /v1/orders` (receipt = Tender's payment id), then `POST /v1/payments/create/upi` with
 *   `upi.flow` `intent` (the answer's `upi://pay` link becomes a `upi_intent` next action with a QR
 *   code) or `collect` (a request to the customer's VPA: a `upi_collect` next action);
 * - `POST /v1/payments/validate/vpa` before a collect request;
 * - `GET /v1/payments/:id` (or the order's payments) for `retrieve`, `POST /v1/payments/:id/capture`,
 *   `POST /v1/payments/:id/refund` with `X-Refund-Idempotency`, `GET /v1/refunds/:id`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import {
  createHttpTransport,
  invalidRequest,
  Money,
  TenderError,
  type GatewayCallContext,
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
import {
  NOTES_ORDER_ID,
  NOTES_PAYMENT_ID,
  NOTES_REFUND_ID,
  parseUpiGatewayOptions,
  RAZORPAY_DEFAULT_BASE_URL,
  RAZORPAY_MIN_AMOUNT_PAISE,
  UPI_DEFAULT_EXPIRY_MINUTES,
  UPI_MAX_AMOUNT_PAISE,
  type UpiFlow,
  type UpiGatewayOptions,
} from './config';
import { upiQrPngDataUrl } from './qr';
import {
  CollectionSchema,
  CreateUpiSchema,
  ErrorSchema,
  OrderSchema,
  PaymentSchema,
  noteValue,
  read,
  RefundSchema,
  unusableAnswer,
  ValidateVpaSchema,
  type RazorpayErrorObject,
  type RazorpayOrder,
  type RazorpayPayment,
  type RazorpayRefund,
} from './schemas';
import { razorpaySettlements } from './settlements';
import { verifyRazorpayPaymentSignature, verifyRazorpayWebhookSignature } from './signature';
import { eventIdOf, eventToWebhookEvents, isAutoRefunded, paymentNotFound, paymentToResult, razorpayErrorToTenderError, refundToResult } from './transformers';
import { isValidVpa, parseUpiLink } from './upi-link';

/** Payment method names the gateway takes (routing matches the name as given or upper-cased). */
export const UPI_PAYMENT_METHODS: readonly string[] = ['upi', 'UPI', 'upi_intent', 'UPI_INTENT', 'upi_qr', 'UPI_QR', 'upi_collect', 'UPI_COLLECT'];

/** The UPI gateway: Gateway spec v1 plus UPI helpers. */
export interface UpiGateway extends GatewayV1 {
  readonly id: 'upi';
  /** Throws the `invalid_request_error` `createPayment` would throw before sending; no I/O. */
  validateCreate(input: GatewayCreatePaymentInput): void;
  /** Synchronous: verification needs no I/O. */
  verifyWebhook(request: WebhookRequest, now?: Date): void;
  /** Synchronous: parsing needs no I/O. */
  parseWebhook(request: WebhookRequest): ParsedWebhook;
  /**
   * Verifies a Razorpay checkout callback's `razorpay_signature` (HMAC-SHA256 of
   * `order_id|payment_id` with the key secret), in constant time.
   */
  verifyPaymentSignature(input: { orderId: string; paymentId: string; signature: string }): boolean;
  /**
   * The flow a payment uses: `upi_collect` -> collect; `upi_intent` / `upi_qr` -> intent; plain `upi` ->
   * collect when `customer.vpa` is given, else the configured `flow` (default intent).
   */
  flowOf(input: Pick<GatewayCreatePaymentInput, 'paymentMethod' | 'customer'>): UpiFlow;
  /** Releases the transport's pooled connections when this gateway created it. */
  close(): Promise<void>;
}

interface CallOptions {
  operation: string;
  mutating: boolean;
  headers?: Record<string, string>;
  /** Razorpay honours a key on this call, so the transport may repeat it. */
  idempotent?: boolean;
  signal?: AbortSignal;
}

interface Answer {
  status: number;
  json: unknown;
}

/**
 * Creates the UPI gateway (id `upi`, provider Razorpay). Options are validated (zod); a bad option
 * throws an `invalid_request_error` naming it.
 * @example
 * const upi = createUpiGateway({ provider: 'razorpay', keyId: process.env.RAZORPAY_KEY_ID!, keySecret: process.env.RAZORPAY_KEY_SECRET!, webhookSecret: process.env.RAZORPAY_WEBHOOK_SECRET });
 */
export function createUpiGateway(input: UpiGatewayOptions): UpiGateway {
  const options = parseUpiGatewayOptions(input);
  const base = `${(options.baseUrl ?? RAZORPAY_DEFAULT_BASE_URL).replace(/\/+$/, '')}/v1/`;
  const ownsTransport = options.transport === undefined;
  const transport: HttpTransport =
    options.transport ?? createHttpTransport({ gateway: 'upi', ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), headers: { 'user-agent': 'tender-upi/0.1' } });
  const previousUntil = options.previousWebhookSecretExpiresAt === undefined ? Infinity : new Date(options.previousWebhookSecretExpiresAt).getTime();
  /** The secrets that verify at `now`: the current one, and the previous one until its window ends. */
  const secretsAt = (now: Date): string[] =>
    [options.webhookSecret, now.getTime() < previousUntil ? options.previousWebhookSecret : undefined].filter((s): s is string => typeof s === 'string');
  const expiryMinutes = options.expiryMinutes ?? UPI_DEFAULT_EXPIRY_MINUTES;
  const maxAmount = options.maxAmountMinor ?? UPI_MAX_AMOUNT_PAISE;
  const authorization = `Basic ${Buffer.from(`${options.keyId}:${options.keySecret}`).toString('base64')}`;
  const signalOf = (ctx: GatewayCallContext) => (ctx.signal ? { signal: ctx.signal } : {});

  async function send(method: 'GET' | 'POST', path: string, body: unknown, call: CallOptions): Promise<Answer> {
    const response = await transport.request({
      method,
      url: base + path,
      headers: { authorization, accept: 'application/json', ...(call.headers ?? {}) },
      ...(method === 'POST' ? { json: body ?? {} } : {}),
      // Reads are safe to repeat; of the writes only a keyed refund is (Razorpay has no key for the rest).
      idempotent: method === 'GET' || call.idempotent === true,
      operation: call.operation,
      ...(call.signal ? { signal: call.signal } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    let json: unknown;
    try {
      json = response.json();
    } catch {
      if (response.status < 300) throw unusableAnswer(call.operation, ['the body is not JSON'], call.mutating);
      json = undefined;
    }
    return { status: response.status, json };
  }

  const errorOf = (answer: Answer): RazorpayErrorObject | undefined => {
    const parsed = read<RazorpayErrorObject>(ErrorSchema, (answer.json as { error?: unknown } | null | undefined)?.error);
    return parsed.ok ? parsed.value : undefined;
  };

  async function ok(method: 'GET' | 'POST', path: string, body: unknown, call: CallOptions): Promise<unknown> {
    const answer = await send(method, path, body, call);
    if (answer.status >= 200 && answer.status < 300) return answer.json;
    throw razorpayErrorToTenderError(errorOf(answer), { status: answer.status, mutating: call.mutating, operation: call.operation });
  }

  function parse<T>(schema: Parameters<typeof read>[0], json: unknown, operation: string, mutating: boolean, prefix?: string): T {
    const parsed = read<T>(schema, json, prefix);
    if (!parsed.ok) throw unusableAnswer(operation, parsed.problems, mutating);
    return parsed.value;
  }

  /**
   * A GET that answers null when Razorpay says it does not know the id: its error envelope with "The id
   * provided does not exist" (a 400, https://razorpay.com/docs/errors/). Any other answer, a bare or HTML
   * 404 from a proxy or a wrong route included, is an error: "unknown" lets the engine conclude the
   * payment never reached Razorpay, so it is said only on Razorpay's own word.
   */
  async function fetchOrNull(path: string, operation: string, ctx: GatewayCallContext): Promise<unknown | null> {
    const answer = await send('GET', path, undefined, { operation, mutating: false, ...signalOf(ctx) });
    if (answer.status >= 200 && answer.status < 300) return answer.json;
    const error = errorOf(answer);
    if ((answer.status === 400 || answer.status === 404) && /does not exist/i.test(error?.description ?? '')) return null;
    if (answer.status === 404) throw new TenderError({ type: 'gateway_error', code: 'razorpay_route_not_found', message: `Razorpay ${operation} answered 404 without saying the id does not exist (check baseUrl)`, details: { razorpayStatus: 404 }, retryable: true });
    throw razorpayErrorToTenderError(error, { status: answer.status, mutating: false, operation });
  }

  async function listItems(path: string, operation: string, ctx: GatewayCallContext): Promise<unknown[]> {
    const json = await fetchOrNull(path, operation, ctx);
    if (json === null) return [];
    return parse<{ items: unknown[] }>(CollectionSchema, json, operation, false).items;
  }

  async function findOrderByReceipt(paymentId: string, ctx: GatewayCallContext): Promise<RazorpayOrder | null> {
    const receipt = receiptOf(paymentId);
    const items = await listItems(`orders?receipt=${encodeURIComponent(receipt)}&count=10`, 'find_order', ctx);
    const orders = items.map((o, i) => parse<RazorpayOrder>(OrderSchema, o, 'find_order', false, `items.${i}.`));
    return orders.find((o) => o.receipt === receipt && noteValue(o.notes, NOTES_PAYMENT_ID) === paymentId) ?? null;
  }

  async function orderPayments(orderId: string, ctx: GatewayCallContext): Promise<RazorpayPayment[]> {
    const items = await listItems(`orders/${encodeURIComponent(orderId)}/payments`, 'order_payments', ctx);
    return items.map((p, i) => parse<RazorpayPayment>(PaymentSchema, p, 'order_payments', false, `items.${i}.`));
  }

  /** The payment that decides an order: a paid one first, then the newest attempt. */
  function decisive(payments: readonly RazorpayPayment[]): RazorpayPayment | null {
    const rank = (p: RazorpayPayment) => (p.status === 'captured' || p.status === 'refunded' ? 3 : p.status === 'authorized' ? 2 : p.status === 'created' ? 1 : 0);
    return [...payments].sort((a, b) => rank(b) - rank(a) || (b.created_at ?? 0) - (a.created_at ?? 0))[0] ?? null;
  }

  async function refundsOf(paymentId: string, ctx: GatewayCallContext): Promise<RazorpayRefund[]> {
    const items = await listItems(`payments/${encodeURIComponent(paymentId)}/refunds?count=100`, 'list_refunds', ctx);
    return items.map((r, i) => parse<RazorpayRefund>(RefundSchema, r, 'list_refunds', false, `items.${i}.`));
  }

  async function resultWithRefunds(payment: RazorpayPayment, ctx: GatewayCallContext, sawCreateAnswer: boolean): Promise<GatewayPaymentResult> {
    // An auto-refunded authorisation's refund is not a refund of captured money (see isAutoRefunded).
    const refunds = (payment.status === 'captured' || payment.status === 'refunded') && !isAutoRefunded(payment) ? await refundsOf(payment.id, ctx) : undefined;
    const result = paymentToResult(payment, refunds);
    // The intent link comes only with the create answer. When that answer was lost, an unpaid payment
    // is not something a customer can act on here: it stays PROCESSING until Razorpay settles it
    // (paid through a webhook's binding, or failed once its expiry_time has passed).
    if (result.status === 'REQUIRES_ACTION' && !sawCreateAnswer) result.status = 'PROCESSING';
    return result;
  }

  function flowOf(input: Pick<GatewayCreatePaymentInput, 'paymentMethod' | 'customer'>): UpiFlow {
    const method = input.paymentMethod?.toLowerCase() ?? 'upi';
    if (method === 'upi_collect') return 'collect';
    if (method === 'upi_intent' || method === 'upi_qr') return 'intent';
    // Plain `upi`: a payer VPA asks for a collect request to it; otherwise the configured default.
    if (input.customer.vpa) return 'collect';
    return options.flow ?? 'intent';
  }

  /** Every check made before sending; `validateCreate` and `createPayment` share it. */
  function prepare(input: GatewayCreatePaymentInput) {
    if (input.amount.currency !== 'INR') {
      throw invalidRequest('currency_not_supported', `UPI payments are in INR only; got ${input.amount.currency}`, 'currency');
    }
    const method = input.paymentMethod;
    if (method !== null && !UPI_PAYMENT_METHODS.includes(method) && !UPI_PAYMENT_METHODS.includes(method.toUpperCase())) {
      throw invalidRequest('payment_method_not_supported', `The UPI gateway takes upi, upi_intent, upi_qr or upi_collect, not '${method}'`, 'payment_method');
    }
    const amount = input.amount.toMinor();
    if (amount < RAZORPAY_MIN_AMOUNT_PAISE) throw invalidRequest('amount_too_small', `Razorpay takes at least ${RAZORPAY_MIN_AMOUNT_PAISE} paise (INR 1.00); got ${amount}`, 'amount');
    if (amount > maxAmount) throw invalidRequest('amount_too_large', `UPI takes at most ${maxAmount} paise per payment; got ${amount}`, 'amount');
    const flow = flowOf(input);
    const vpa = input.customer.vpa;
    if (flow === 'collect' && !vpa) throw invalidRequest('vpa_required', 'A UPI collect request needs the payer\'s VPA (customer.vpa)', 'vpa');
    if (vpa !== undefined && !isValidVpa(vpa)) throw invalidRequest('invalid_vpa', 'vpa is not a valid UPI address (name@psp)', 'vpa');
    const email = input.customer.email ?? options.defaultEmail;
    const contact = input.customer.phone ?? options.defaultContact;
    const ip = input.metadata.customer_ip ?? options.defaultIp;
    if (!email) throw invalidRequest('email_required', 'Razorpay requires the customer\'s e-mail on UPI payments (bill_email)', 'bill_email');
    if (!contact) throw invalidRequest('contact_required', 'Razorpay requires the customer\'s phone on UPI payments (bill_mobile)', 'bill_mobile');
    if (!ip) throw invalidRequest('ip_required', "Razorpay requires the customer's IP on S2S payments (metadata.customer_ip, or the gateway's defaultIp)", 'metadata[customer_ip]');
    const notes: Record<string, string> = { [NOTES_PAYMENT_ID]: input.paymentId, ...(input.orderId ? { [NOTES_ORDER_ID]: input.orderId.slice(0, 256) } : {}) };
    return {
      flow,
      amount,
      notes,
      order: { amount, currency: 'INR', receipt: receiptOf(input.paymentId), notes, payment: { capture: input.captureMethod === 'manual' ? 'manual' : 'automatic' } },
      payment: {
        amount,
        currency: 'INR',
        method: 'upi',
        email,
        contact: contact.replace(/[ ()-]/g, ''),
        ip,
        referer: input.metadata.customer_referer ?? input.returnUrl ?? 'https://tender.invalid/',
        user_agent: input.metadata.customer_user_agent ?? options.defaultUserAgent ?? 'tender-upi/0.1',
        ...(input.description ? { description: input.description.slice(0, 255) } : {}),
        notes,
        upi: { flow, ...(flow === 'collect' ? { vpa } : {}), expiry_time: expiryMinutes },
      },
    };
  }

  async function nextActionFor(flow: UpiFlow, link: string | undefined, vpa: string | undefined, expiresAt: string, amount: number): Promise<GatewayPaymentResult['nextAction']> {
    if (flow === 'collect') return { type: 'upi_collect', vpa: vpa!, expiresAt };
    if (!link) throw unusableAnswer('create_payment', ['link is missing (the intent flow answers with a upi://pay link)'], true);
    // The PSP's link is handed on unmodified (Razorpay: "do not modify the returned intent URL"); it is
    // checked first so the payer's app can only read this payment's amount: one `am` equal to it, no
    // lower `mam` (which would make the amount editable), INR, a VPA as payee.
    const mismatch = (why: string) => new TenderError({ type: 'gateway_error', code: 'intent_link_mismatch', message: `Razorpay's intent link was not shown to the payer: ${why}` });
    let parsed: ReturnType<typeof parseUpiLink>;
    try {
      parsed = parseUpiLink(link);
    } catch (error) {
      throw mismatch(error instanceof Error ? error.message : 'it is not a upi://pay link');
    }
    if (parsed.amountPaise === undefined) throw mismatch('it has no amount (am), so the payer could enter any');
    if (parsed.amountPaise !== amount) throw mismatch(`it asks for ${parsed.amountPaise} paise, not ${amount}`);
    if (parsed.minimumAmountPaise !== undefined && parsed.minimumAmountPaise !== amount) throw mismatch('its minimum amount (mam) differs from am, so the amount is editable');
    if (!isValidVpa(parsed.payeeVpa)) throw mismatch('its payee (pa) is not a VPA');
    return { type: 'upi_intent', url: link, ...(options.qrCode === false ? {} : { qrCode: await upiQrPngDataUrl(link) }), expiresAt };
  }

  const gateway: UpiGateway = {
    specVersion: 'v1',
    id: 'upi',
    capabilities: {
      paymentMethods: UPI_PAYMENT_METHODS,
      currencies: ['INR'],
      manualCapture: true,
      // Razorpay captures the authorised amount exactly.
      partialCapture: false,
      partialRefund: true,
      // A UPI payment cannot be voided at Razorpay: an unpaid one is cancelled in Tender only (the engine
      // does that without calling the gateway), an authorised one is refunded by Razorpay if never captured.
      cancel: false,
      retrieve: true,
      settlements: true,
      maxAmountMinor: { INR: maxAmount },
    },
    settlements: razorpaySettlements({ get: (path, operation, ctx) => ok('GET', path, undefined, { operation, mutating: false, ...signalOf(ctx) }) }),
    // One createPayment makes up to four requests in a row (validate VPA, find the order, create it,
    // create the payment); retrieve up to three. The engine leases keys for the longest call.
    worstCaseCallMs: transport.worstCaseMs * 4,
    canSend: () => transport.circuitState !== 'open',
    flowOf,

    validateCreate(inputValue: GatewayCreatePaymentInput): void {
      prepare(inputValue);
    },

    async createPayment(inputValue: GatewayCreatePaymentInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult> {
      const prepared = prepare(inputValue);
      const vpa = inputValue.customer.vpa;
      const expiresAt = new Date(ctx.now.getTime() + expiryMinutes * 60_000).toISOString();
      if (prepared.flow === 'collect' && options.validateVpa !== false) {
        const json = await ok('POST', 'payments/validate/vpa', { vpa }, { operation: 'validate_vpa', mutating: false, idempotent: true, ...signalOf(ctx) });
        const answer = parse<{ success: boolean }>(ValidateVpaSchema, json, 'validate_vpa', false);
        if (!answer.success) throw invalidRequest('invalid_vpa', 'Razorpay does not know this VPA (payments/validate/vpa)', 'vpa');
      }
      // A repeat after a crash finds the order (and any payment) made the first time instead of a second one.
      let order = await findOrderByReceipt(inputValue.paymentId, ctx);
      if (order) {
        const existing = decisive(await orderPayments(order.id, ctx));
        if (existing) {
          const result = paymentToResult(existing);
          if (result.status === 'REQUIRES_ACTION') {
            // The intent link only comes with the create answer (so an intent payment waits for Razorpay
            // as PROCESSING); a collect request went to the payer's app and can be described again.
            if (prepared.flow === 'collect' && vpa) {
              result.nextAction = { type: 'upi_collect', vpa, expiresAt };
              result.gatewayData = { ...result.gatewayData, nextActionIssued: true };
            } else {
              result.status = 'PROCESSING';
              result.nextAction = null;
            }
          }
          return result;
        }
      } else {
        order = parse<RazorpayOrder>(OrderSchema, await ok('POST', 'orders', prepared.order, { operation: 'create_order', mutating: true, ...signalOf(ctx) }), 'create_order', true);
      }
      const json = await ok('POST', 'payments/create/upi', { ...prepared.payment, order_id: order.id }, { operation: 'create_payment', mutating: true, ...signalOf(ctx) });
      const created = parse<{ razorpay_payment_id: string; link?: string }>(CreateUpiSchema, json, 'create_payment', true);
      return {
        status: 'REQUIRES_ACTION',
        gatewayReference: created.razorpay_payment_id,
        nextAction: await nextActionFor(prepared.flow, created.link, vpa, expiresAt, prepared.amount),
        failure: null,
        gatewayData: { razorpayOrderId: order.id, razorpayPaymentId: created.razorpay_payment_id, upiFlow: prepared.flow, nextActionIssued: true },
      };
    },

    async capture(inputValue: GatewayCaptureInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult> {
      const path = `payments/${encodeURIComponent(inputValue.gatewayReference)}`;
      const answer = await send('POST', `${path}/capture`, { amount: inputValue.amount.toMinor(), currency: inputValue.amount.currency }, { operation: 'capture', mutating: true, ...signalOf(ctx) });
      if (answer.status >= 200 && answer.status < 300) return paymentToResult(parse<RazorpayPayment>(PaymentSchema, answer.json, 'capture', true));
      const error = errorOf(answer);
      // Razorpay has no idempotency key for captures: a repeat of a capture that went through is told
      // "already captured"; the payment's own state is then the answer.
      if (answer.status === 400 && /already been captured/i.test(error?.description ?? '')) {
        const json = await ok('GET', path, undefined, { operation: 'capture_check', mutating: false, ...signalOf(ctx) });
        return paymentToResult(parse<RazorpayPayment>(PaymentSchema, json, 'capture_check', false));
      }
      throw razorpayErrorToTenderError(error, { status: answer.status, mutating: true, operation: 'capture' });
    },

    async refund(inputValue: GatewayRefundInput, ctx: GatewayCallContext): Promise<GatewayRefundResult> {
      const json = await ok(
        'POST',
        `payments/${encodeURIComponent(inputValue.gatewayReference)}/refund`,
        {
          amount: inputValue.amount.toMinor(),
          speed: options.refundSpeed ?? 'normal',
          receipt: inputValue.refundId.slice(0, 40),
          notes: { [NOTES_REFUND_ID]: inputValue.refundId, [NOTES_PAYMENT_ID]: inputValue.paymentId, ...(inputValue.reason ? { reason: inputValue.reason.slice(0, 256) } : {}) },
        },
        { operation: 'refund', mutating: true, idempotent: true, headers: { 'x-refund-idempotency': refundIdempotencyKey(ctx.idempotencyKey) }, ...signalOf(ctx) },
      );
      const refund = parse<RazorpayRefund>(RefundSchema, json, 'refund', true);
      // The answer must be this refund (a replayed key answers with the refund it first made): another
      // payment or amount means Tender cannot tell what happened, so the engine requeries instead.
      const problems = [
        ...(refund.payment_id && refund.payment_id !== inputValue.gatewayReference ? [`payment_id is ${refund.payment_id}, not ${inputValue.gatewayReference}`] : []),
        ...(refund.currency !== inputValue.amount.currency || refund.amount !== inputValue.amount.toMinor() ? [`amount is ${refund.amount} ${refund.currency}, not ${inputValue.amount.toMinor()} ${inputValue.amount.currency}`] : []),
      ];
      if (problems.length > 0) throw unusableAnswer('refund', problems, true);
      return refundToResult(refund);
    },

    async retrieve(inputValue: GatewayRetrieveInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult> {
      const paymentRef = inputValue.gatewayReference ?? (typeof inputValue.gatewayData.razorpayPaymentId === 'string' ? inputValue.gatewayData.razorpayPaymentId : null);
      if (paymentRef) {
        const json = await fetchOrNull(`payments/${encodeURIComponent(paymentRef)}`, 'retrieve', ctx);
        if (json === null) throw paymentNotFound(`payment '${paymentRef}'`);
        return resultWithRefunds(parse<RazorpayPayment>(PaymentSchema, json, 'retrieve', false), ctx, inputValue.gatewayData.nextActionIssued === true);
      }
      const orderId = typeof inputValue.gatewayData.razorpayOrderId === 'string' ? inputValue.gatewayData.razorpayOrderId : (await findOrderByReceipt(inputValue.paymentId, ctx))?.id;
      if (!orderId) throw paymentNotFound(`order for payment '${inputValue.paymentId}'`);
      const payment = decisive(await orderPayments(orderId, ctx));
      // An order without a payment was never payable (the link comes with the payment).
      if (!payment) throw paymentNotFound(`payment on order '${orderId}'`);
      return resultWithRefunds(payment, ctx, inputValue.gatewayData.nextActionIssued === true);
    },

    async retrieveRefund(inputValue, ctx): Promise<GatewayRefundResult> {
      if (inputValue.gatewayReference) {
        const json = await fetchOrNull(`refunds/${encodeURIComponent(inputValue.gatewayReference)}`, 'retrieve_refund', ctx);
        if (json === null) throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `Razorpay has no refund '${inputValue.gatewayReference}'`, param: 'id' });
        return refundToResult(parse<RazorpayRefund>(RefundSchema, json, 'retrieve_refund', false));
      }
      const match = inputValue.paymentGatewayReference ? (await refundsOf(inputValue.paymentGatewayReference, ctx)).map(refundToResult).find((r) => r.refundId === inputValue.refundId) : undefined;
      if (!match) throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `Razorpay has no refund for '${inputValue.refundId}'`, param: 'id' });
      return match;
    },

    verifyWebhook(request: WebhookRequest, now: Date = new Date()): void {
      verifyRazorpayWebhookSignature(request.rawBody, request.headers['x-razorpay-signature'], secretsAt(now));
    },

    parseWebhook(request: WebhookRequest): ParsedWebhook {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.from(request.rawBody.buffer, request.rawBody.byteOffset, request.rawBody.byteLength).toString('utf8'));
      } catch {
        throw invalidRequest('invalid_webhook_payload', 'Razorpay webhook body is not JSON');
      }
      return {
        events: eventToWebhookEvents(body, eventIdOf(request.headers['x-razorpay-event-id'], request.rawBody)),
        acknowledgement: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' },
      };
    },

    verifyPaymentSignature: (value) => verifyRazorpayPaymentSignature(value, options.keySecret),

    async close(): Promise<void> {
      if (ownsTransport) await transport.close();
    },
  };
  return gateway;
}

/**
 * The order `receipt` for a payment: Tender's payment id (32 characters), or a digest of it when longer
 * than Razorpay's 40 (https://razorpay.com/docs/api/orders/create/).
 */
export function receiptOf(paymentId: string): string {
  return paymentId.length <= 40 ? paymentId : `tender_${createHash('sha256').update(paymentId).digest('hex').slice(0, 32)}`;
}

/**
 * Tender's derived key as an `X-Refund-Idempotency` value: Razorpay takes 10+ characters of
 * `[A-Za-z0-9_-]` (https://razorpay.com/docs/api/refunds/create-normal/#idempotency), so the key is
 * hashed (`tender-` + 32 hex characters); one engine key always gives one header value.
 */
export function refundIdempotencyKey(key: string): string {
  return `tender-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** A Money amount in INR as integer paise (what Razorpay and UPI links take); other currencies are refused. */
export const toPaise = (amount: Money): number => {
  if (amount.currency !== 'INR') throw invalidRequest('currency_not_supported', 'UPI amounts are INR only', 'currency');
  return amount.toMinor();
};
