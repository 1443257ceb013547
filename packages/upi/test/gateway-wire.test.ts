/**
 * The gateway on the wire against the sandbox: configuration checks, validateCreate, Razorpay's error
 * envelope mapped to typed TenderErrors, retries and unknown outcomes, and webhook parsing.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, GATEWAY_OUTCOME_UNKNOWN, GATEWAY_PAYMENT_NOT_FOUND, Money, TenderError, type GatewayCreatePaymentInput } from '@tender/core';
import { computeRazorpayWebhookSignature, createUpiGateway, eventToWebhookEvents, razorpayErrorToTenderError, type UpiGateway } from '@tender/upi';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';

let sandbox: RazorpaySandbox;
let gateway: UpiGateway;
const ctx = (key = `k-${Math.random()}`) => ({ idempotencyKey: key, now: new Date() });

const input = (extra: Partial<GatewayCreatePaymentInput> = {}): GatewayCreatePaymentInput => ({
  paymentId: `pay_${Math.random().toString(36).slice(2, 14)}`,
  merchantId: 'm1',
  orderId: 'ORD-1',
  amount: Money.of('10.00', 'INR'),
  captureMethod: 'automatic',
  paymentMethod: 'upi',
  description: 'wire',
  customer: { email: 'a@example.com', phone: '+919000000001' },
  returnUrl: null,
  notifyUrl: null,
  metadata: { customer_ip: '198.51.100.4', customer_user_agent: 'Mozilla/5.0 (test)' },
  ...extra,
});

beforeAll(async () => {
  sandbox = await startRazorpaySandbox({ delays: { collectAutoMs: null, refundSettleMs: null, expirySweepMs: null } });
  gateway = createUpiGateway({
    provider: 'razorpay',
    keyId: sandbox.keyId,
    keySecret: sandbox.keySecret,
    webhookSecret: 'whsec_wire',
    baseUrl: sandbox.url,
    transport: createHttpTransport({ gateway: 'upi', retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } }),
  });
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

describe('configuration', () => {
  const base = { provider: 'razorpay' as const, keyId: 'rzp_test_1', keySecret: 's3cr3t' };
  it('names the field at fault and never echoes a secret', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, provider: 'paytm' }, 'provider'],
      [{ ...base, keyId: '' }, 'keyId'],
      [{ ...base, keySecret: undefined }, 'keySecret'],
      [{ ...base, baseUrl: 'ftp://x' }, 'baseUrl'],
      [{ ...base, flow: 'qr' }, 'flow'],
      [{ ...base, expiryMinutes: 0 }, 'expiryMinutes'],
      [{ ...base, expiryMinutes: 2.5 }, 'expiryMinutes'],
      [{ ...base, maxAmountMinor: 50 }, 'maxAmountMinor'],
      [{ ...base, defaultEmail: 'nope' }, 'defaultEmail'],
      [{ ...base, defaultIp: '999.1.1.1' }, 'defaultIp'],
      [{ ...base, refundSpeed: 'instant' }, 'refundSpeed'],
      [{ ...base, transport: {} }, 'transport'],
    ];
    for (const [options, field] of cases) {
      let error: unknown;
      try {
        createUpiGateway(options as never);
      } catch (e) {
        error = e;
      }
      expect(error, field).toMatchObject({ type: 'invalid_request_error', code: 'invalid_configuration', param: field });
      expect((error as Error).message).toContain(field);
      expect((error as Error).message).not.toContain('s3cr3t');
    }
    expect(createUpiGateway(base).id).toBe('upi');
  });

  it('capabilities: UPI method names in both cases, INR only, the UPI per-transaction limit, no void', () => {
    expect(gateway.capabilities).toMatchObject({ currencies: ['INR'], manualCapture: true, partialCapture: false, partialRefund: true, cancel: false, retrieve: true, maxAmountMinor: { INR: 10_000_000 } });
    expect(gateway.capabilities.paymentMethods).toEqual(expect.arrayContaining(['upi', 'UPI', 'upi_collect', 'UPI_COLLECT']));
    expect(gateway.flowOf({ paymentMethod: 'UPI_COLLECT', customer: {} })).toBe('collect');
    expect(gateway.flowOf({ paymentMethod: 'upi', customer: { vpa: 'a.b@okaxis' } })).toBe('collect');
    expect(gateway.flowOf({ paymentMethod: 'UPI', customer: {} })).toBe('intent');
    expect(gateway.flowOf({ paymentMethod: 'upi_intent', customer: { vpa: 'a.b@okaxis' } })).toBe('intent');
    expect(gateway.flowOf({ paymentMethod: null, customer: {} })).toBe('intent');
    expect(createUpiGateway({ provider: 'razorpay', keyId: 'k', keySecret: 's', flow: 'collect' }).flowOf({ paymentMethod: 'upi', customer: {} })).toBe('collect');
  });
});

describe('validateCreate', () => {
  it('refuses, naming the field, without I/O', () => {
    const before = sandbox.requests.length;
    const refusals: Array<[Partial<GatewayCreatePaymentInput>, string, string]> = [
      [{ amount: Money.of('10.00', 'USD') }, 'currency', 'currency_not_supported'],
      [{ amount: Money.of('0.99', 'INR') }, 'amount', 'amount_too_small'],
      [{ amount: Money.of('100000.01', 'INR') }, 'amount', 'amount_too_large'],
      [{ paymentMethod: 'card' }, 'payment_method', 'payment_method_not_supported'],
      [{ paymentMethod: 'upi_collect' }, 'vpa', 'vpa_required'],
      [{ customer: { phone: '+919000000001' } }, 'bill_email', 'email_required'],
      [{ customer: { email: 'a@example.com' } }, 'bill_mobile', 'contact_required'],
      [{ metadata: {} }, 'metadata[customer_ip]', 'ip_required'],
    ];
    for (const [extra, param, code] of refusals) {
      expect(() => gateway.validateCreate(input(extra)), code).toThrow(expect.objectContaining({ type: 'invalid_request_error', param, code }));
    }
    expect(() => gateway.validateCreate(input({ amount: Money.of('100000.00', 'INR') }))).not.toThrow();
    expect(sandbox.requests.length).toBe(before);
  });
});

describe('the wire', () => {
  it('create sends Basic auth, order then payment, with the customer IP and user agent from metadata', async () => {
    const payment = input();
    const result = await gateway.createPayment(payment, ctx());
    expect(result).toMatchObject({ status: 'REQUIRES_ACTION', nextAction: { type: 'upi_intent' } });
    const rp = sandbox.account.payment(result.gatewayReference!);
    expect(sandbox.account.order(rp.order_id)).toMatchObject({ receipt: payment.paymentId, capture: 'automatic' });
    expect(rp).toMatchObject({ description: 'wire', notes: { tender_payment_id: payment.paymentId, tender_order_id: 'ORD-1' } });
    // A repeat under the same payment id (crash recovery) makes no second order or payment.
    const orders = sandbox.account.orders.size;
    const payments = sandbox.account.payments.size;
    const again = await gateway.createPayment(payment, ctx());
    expect(again).toMatchObject({ gatewayReference: result.gatewayReference, status: 'PROCESSING' });
    expect([sandbox.account.orders.size, sandbox.account.payments.size]).toEqual([orders, payments]);
  });

  it('a wrong key pair is gateway_authentication_failed, not a caller error', async () => {
    const wrong = createUpiGateway({ provider: 'razorpay', keyId: sandbox.keyId, keySecret: 'wrong', baseUrl: sandbox.url, defaultIp: '127.0.0.1' });
    await expect(wrong.createPayment(input(), ctx())).rejects.toMatchObject({ type: 'gateway_error', code: 'gateway_authentication_failed' });
    await wrong.close();
  });

  it('a 5xx on a create is gateway_outcome_unknown and not repeated (Razorpay has no create key)', async () => {
    sandbox.faults.add({ kind: 'error', status: 502, match: /^POST \/v1\/payments\/create\/upi$/, count: 3 });
    const before = sandbox.requests.filter((r) => r.startsWith('POST /v1/payments/create/upi')).length;
    await expect(gateway.createPayment(input(), ctx())).rejects.toMatchObject({ code: GATEWAY_OUTCOME_UNKNOWN, details: expect.objectContaining({ requestSent: true }) });
    expect(sandbox.requests.filter((r) => r.startsWith('POST /v1/payments/create/upi')).length - before).toBe(1);
    sandbox.faults.clear();
  });

  it('a 5xx on a read is retried; 429 is a retryable rate_limit_error', async () => {
    const created = await gateway.createPayment(input(), ctx());
    sandbox.faults.add({ kind: 'error', status: 503, match: /^GET \/v1\/payments\//, count: 1 });
    const found = await gateway.retrieve({ paymentId: 'x', orderId: null, gatewayReference: created.gatewayReference!, amount: Money.of('10.00', 'INR'), gatewayData: { nextActionIssued: true } }, ctx());
    expect(found.status).toBe('REQUIRES_ACTION');
    sandbox.faults.add({ kind: 'error', status: 429, match: /^GET \/v1\/payments\//, count: 5 });
    await expect(gateway.retrieve({ paymentId: 'x', orderId: null, gatewayReference: created.gatewayReference!, amount: Money.of('10.00', 'INR'), gatewayData: {} }, ctx())).rejects.toMatchObject({ type: 'rate_limit_error', retryable: true });
    sandbox.faults.clear();
  });

  it('a refused connection is gateway_unavailable with requestSent false (safe to fail over)', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dead = createUpiGateway({ provider: 'razorpay', keyId: 'k', keySecret: 's', baseUrl: `http://127.0.0.1:${port}`, defaultIp: '127.0.0.1', transport: createHttpTransport({ gateway: 'upi', retry: { attempts: 1 } }) });
    await expect(dead.createPayment(input(), ctx())).rejects.toMatchObject({ type: 'gateway_unavailable', details: expect.objectContaining({ requestSent: false }) });
    await dead.close();
  });

  it('retrieve of a payment Razorpay never saw is not_found (gateway_payment_not_found)', async () => {
    for (const lookup of [{ gatewayReference: 'pay_Unknown000000001' }, { gatewayReference: null }, { gatewayReference: null, gatewayData: { razorpayOrderId: sandbox.account.createOrder({ amount: 1000, currency: 'INR' }).id } }]) {
      await expect(gateway.retrieve({ paymentId: 'pay_never', orderId: null, amount: Money.of('10.00', 'INR'), gatewayData: {}, ...lookup }, ctx())).rejects.toMatchObject({ type: 'not_found_error', code: GATEWAY_PAYMENT_NOT_FOUND });
    }
  });

  it('a 404 (a proxy, a wrong route: Razorpay answers an unknown id with 400 "does not exist") never says the payment is unknown', async () => {
    const created = await gateway.createPayment(input(), ctx());
    sandbox.approve(created.gatewayReference!);
    const cases = [
      { gatewayReference: created.gatewayReference!, gatewayData: {} },
      { gatewayReference: null, gatewayData: { razorpayOrderId: sandbox.account.payment(created.gatewayReference!).order_id } },
      { gatewayReference: null, gatewayData: {} },
    ];
    for (const lookup of cases) {
      sandbox.faults.add({ kind: 'error', status: 404, count: 3 });
      const error = await gateway.retrieve({ paymentId: 'pay_x', orderId: null, amount: Money.of('10.00', 'INR'), ...lookup }, ctx()).then(() => null, (e: unknown) => e);
      sandbox.faults.clear();
      expect(error).toMatchObject({ type: 'gateway_error' });
      expect((error as TenderError).code).not.toBe(GATEWAY_PAYMENT_NOT_FOUND);
    }
  });

  it("capture of a non-authorised payment is refused; a repeated capture answers with the payment's state", async () => {
    const created = await gateway.createPayment(input({ captureMethod: 'manual' }), ctx());
    const capture = { paymentId: 'x', gatewayReference: created.gatewayReference!, amount: Money.of('10.00', 'INR'), authorizedAmount: Money.of('10.00', 'INR'), gatewayData: {} };
    await expect(gateway.capture!(capture, ctx())).rejects.toMatchObject({ type: 'invalid_request_error' });
    sandbox.approve(created.gatewayReference!);
    expect(await gateway.capture!(capture, ctx())).toMatchObject({ status: 'CAPTURED', amountCaptured: Money.of('10.00', 'INR') });
    expect(await gateway.capture!(capture, ctx())).toMatchObject({ status: 'CAPTURED' });
  });

  it('maps the error envelope', () => {
    const e = (status: number, error: Record<string, unknown>, mutating = true) => razorpayErrorToTenderError(error as never, { status, mutating, operation: 'op' });
    expect(e(400, { code: 'BAD_REQUEST_ERROR', description: 'Invalid VPA', field: 'vpa', reason: 'invalid_vpa' })).toMatchObject({ type: 'invalid_request_error', code: 'invalid_vpa', param: 'vpa', status: 400 });
    expect(e(400, { code: 'BAD_REQUEST_ERROR', description: 'The email field is required.', field: 'email', reason: 'input_validation_failed' })).toMatchObject({ param: 'bill_email' });
    expect(e(400, { code: 'BAD_REQUEST_ERROR', description: 'The refund amount provided is greater than amount captured', field: 'amount' })).toMatchObject({ code: 'amount_too_large', param: 'amount' });
    expect(e(400, { code: 'BAD_REQUEST_ERROR', description: 'Different request with the same idempotency key has already been processed.' })).toMatchObject({ type: 'idempotency_error', status: 422 });
    expect(e(409, { code: 'BAD_REQUEST_ERROR', description: 'Request in progress' })).toMatchObject({ retryable: true });
    expect(e(502, { code: 'GATEWAY_ERROR', description: 'Bank down' })).toMatchObject({ code: GATEWAY_OUTCOME_UNKNOWN });
    expect(e(500, { code: 'SERVER_ERROR', description: 'x' }, false)).toMatchObject({ code: 'razorpay_server_error', retryable: true });
    expect(e(400, { code: 'GATEWAY_ERROR', description: 'Payment processing failed at the bank' }, true)).toMatchObject({ code: GATEWAY_OUTCOME_UNKNOWN });
    expect(e(401, { code: 'BAD_REQUEST_ERROR', description: 'The api key provided is invalid' })).toMatchObject({ code: 'gateway_authentication_failed' });
    expect(razorpayErrorToTenderError(undefined, { status: 500, mutating: false, operation: 'op' })).toBeInstanceOf(TenderError);
  });
});

describe('webhook parsing', () => {
  const paymentEntity = (extra: Record<string, unknown> = {}) => ({ id: 'pay_A', entity: 'payment', amount: 1000, currency: 'INR', status: 'captured', order_id: 'order_A', method: 'upi', notes: { tender_payment_id: 'pay_tender_1' }, ...extra });
  const event = (type: string, payload: Record<string, unknown>) => ({ entity: 'event', account_id: 'acc_x', event: type, contains: Object.keys(payload), payload, created_at: 1_700_000_000 });

  it('binds through the Razorpay payment id and the order notes (payment notes only with resultFor); reads payment, refund and dispute events', () => {
    const [captured] = eventToWebhookEvents(event('payment.captured', { payment: { entity: paymentEntity() } }), 'e1');
    expect(captured).toMatchObject({ kind: 'payment', eventId: 'e1', paymentId: 'pay_tender_1', gatewayReference: 'pay_A', result: { status: 'CAPTURED' }, occurredAt: '2023-11-14T22:13:20.000Z' });
    // Bound through the payment's own note: applied only to a payment provably this one.
    const resultFor = (captured as { resultFor: (p: unknown) => { status: string } }).resultFor;
    expect(resultFor({ status: 'PROCESSING', gatewayReference: 'pay_A', gatewayData: {} }).status).toBe('CAPTURED');
    expect(resultFor({ status: 'PROCESSING', gatewayReference: null, gatewayData: { razorpayOrderId: 'order_A' } }).status).toBe('CAPTURED');
    expect(resultFor({ status: 'PROCESSING', gatewayReference: null, gatewayData: { razorpayOrderId: 'order_Z' } })).toEqual({ status: 'PROCESSING' });
    expect(resultFor({ status: 'PROCESSING', gatewayReference: null, gatewayData: {} })).toEqual({ status: 'PROCESSING' });
    const [failed] = eventToWebhookEvents(event('payment.failed', { payment: { entity: paymentEntity({ status: 'failed', error_reason: 'payment_declined', error_description: 'Declined' }) } }), 'e2');
    expect(failed).toMatchObject({ kind: 'payment', result: { status: 'FAILED', failure: { code: 'payment_declined', message: 'Declined' } } });
    const refund = { id: 'rfnd_A', entity: 'refund', amount: 500, currency: 'INR', payment_id: 'pay_A', status: 'processed', notes: { tender_refund_id: 're_1' } };
    const [processed] = eventToWebhookEvents(event('refund.processed', { refund: { entity: refund }, payment: { entity: paymentEntity() } }), 'e3');
    expect(processed).toMatchObject({ kind: 'refund', gatewayReference: 'pay_A', paymentId: null, refund: { status: 'SUCCEEDED', refundId: 're_1', gatewayReference: 'rfnd_A' } });
    const [refundFailed] = eventToWebhookEvents(event('refund.failed', { refund: { entity: { ...refund, status: 'failed' } } }), 'e4');
    expect(refundFailed).toMatchObject({ kind: 'refund', gatewayReference: 'pay_A', refund: { status: 'FAILED' } });
    const [dispute] = eventToWebhookEvents(event('payment.dispute.created', { dispute: { entity: { id: 'disp_1', payment_id: 'pay_A', amount: 1000, reason_code: 'fraud' } } }), 'e5');
    expect(dispute).toMatchObject({ kind: 'note', type: 'payment.dispute.created', gatewayReference: 'pay_A', data: { disputeId: 'disp_1', reason_code: 'fraud' } });
    // order.paid binds through the notes of the order (set with our key), when the payment is on that order.
    const order = { id: 'order_A', entity: 'order', amount: 1000, currency: 'INR', status: 'paid', receipt: 'pay_tender_1', notes: { tender_payment_id: 'pay_tender_1' } };
    expect(eventToWebhookEvents(event('order.paid', { payment: { entity: paymentEntity() }, order: { entity: order } }), 'e10')[0]).toMatchObject({ paymentId: 'pay_tender_1', gatewayReference: 'pay_A' });
    expect(eventToWebhookEvents(event('order.paid', { payment: { entity: paymentEntity({ order_id: 'order_B' }) }, order: { entity: order } }), 'e11')[0]).toMatchObject({ paymentId: 'pay_tender_1', gatewayReference: 'pay_A', resultFor: expect.any(Function) });
    expect(eventToWebhookEvents(event('order.paid', { payment: { entity: paymentEntity() }, order: { entity: order } }), 'e10')[0]).not.toHaveProperty('resultFor');
    // A refund binds to its own payment_id, whatever the payment entity beside it says.
    expect(eventToWebhookEvents(event('refund.processed', { refund: { entity: { ...refund, payment_id: 'pay_B' } }, payment: { entity: paymentEntity() } }), 'e12')[0]).toMatchObject({ gatewayReference: 'pay_B' });
    // Payments Tender did not create (no note anywhere: another integration on the account) are acknowledged and ignored.
    for (const type of ['payment.captured', 'refund.processed', 'payment.dispute.created']) {
      const payload = { payment: { entity: paymentEntity({ notes: [] }) }, refund: { entity: refund }, dispute: { entity: { id: 'disp_2', payment_id: 'pay_A' } } };
      expect(eventToWebhookEvents(event(type, payload), 'e13')).toEqual([{ kind: 'ignored', eventId: 'e13', reason: expect.stringContaining('did not create') }]);
    }
    expect(eventToWebhookEvents(event('virtual_account.credited', {}), 'e6')).toEqual([{ kind: 'ignored', eventId: 'e6', reason: expect.stringContaining('virtual_account.credited') }]);
  });

  it('an unusable payment that still names itself is a requery; one that names nothing is a 400', () => {
    const [requery] = eventToWebhookEvents(event('payment.captured', { payment: { entity: { id: 'pay_A', amount: 'ten', notes: { tender_payment_id: 'pay_tender_1' } } } }), 'e7');
    expect(requery).toMatchObject({ kind: 'requery', gatewayReference: 'pay_A' });
    expect(() => eventToWebhookEvents(event('payment.captured', { payment: { entity: { amount: 1 } } }), 'e8')).toThrow(expect.objectContaining({ code: 'invalid_webhook_payload' }));
    expect(() => eventToWebhookEvents({ entity: 'nope' }, 'e9')).toThrow(expect.objectContaining({ code: 'invalid_webhook_payload' }));
    // Empty objects written as [] (as Razorpay writes empty notes) are read as absent, not as unusable.
    expect(eventToWebhookEvents(event('payment.captured', { payment: { entity: paymentEntity({ acquirer_data: [], upi: [] }) } }), 'e15')[0]).toMatchObject({ kind: 'payment', result: { status: 'CAPTURED' } });
    const emptyRefund = { id: 'rfnd_B', entity: 'refund', amount: 500, currency: 'INR', payment_id: 'pay_A', status: 'processed', acquirer_data: [] };
    expect(eventToWebhookEvents(event('refund.processed', { refund: { entity: emptyRefund }, payment: { entity: paymentEntity() } }), 'e16')[0]).toMatchObject({ kind: 'refund', refund: { status: 'SUCCEEDED' } });
    // A currency core does not know is a requery of the payment, never a 400 Razorpay would retry.
    expect(eventToWebhookEvents(event('payment.captured', { payment: { entity: paymentEntity({ currency: 'XYZ' }) } }), 'e17')[0]).toMatchObject({ kind: 'requery', gatewayReference: 'pay_A' });
    expect(eventToWebhookEvents(event('refund.processed', { refund: { entity: { ...emptyRefund, currency: 'XYZ' } }, payment: { entity: paymentEntity() } }), 'e18')[0]).toMatchObject({ kind: 'requery', gatewayReference: 'pay_A' });
    // A created_at outside Date's range is no RangeError (a 500): the event is read without occurredAt.
    for (const created_at of [1e20, -1e20]) {
      const [e] = eventToWebhookEvents({ ...event('payment.captured', { payment: { entity: paymentEntity() } }), created_at }, 'e14');
      expect(e).toMatchObject({ kind: 'payment', result: { status: 'CAPTURED' } });
      expect(e).not.toHaveProperty('occurredAt');
    }
  });

  it('the event id is x-razorpay-event-id joined to a digest of the signed body, or the digest alone; bad JSON is a 400', () => {
    const body = JSON.stringify(event('payment.captured', { payment: { entity: paymentEntity() } }));
    const raw = new TextEncoder().encode(body);
    const signature = computeRazorpayWebhookSignature(body, 'whsec_wire');
    gateway.verifyWebhook({ headers: { 'x-razorpay-signature': signature }, rawBody: raw });
    const withHeader = gateway.parseWebhook({ headers: { 'x-razorpay-event-id': 'evt_h' }, rawBody: raw }).events[0]!.eventId;
    expect(withHeader).toMatch(/^evt_h:[0-9a-f]{16}$/);
    // The header is unsigned: another body under the same id is another delivery, not a duplicate.
    const other = new TextEncoder().encode(JSON.stringify(event('payment.failed', { payment: { entity: paymentEntity() } })));
    expect(gateway.parseWebhook({ headers: { 'x-razorpay-event-id': 'evt_h' }, rawBody: other }).events[0]!.eventId).not.toBe(withHeader);
    expect(gateway.parseWebhook({ headers: { 'x-razorpay-event-id': 'evt_h' }, rawBody: raw }).events[0]!.eventId).toBe(withHeader);
    const a = gateway.parseWebhook({ headers: {}, rawBody: raw }).events[0]!.eventId;
    expect(a).toMatch(/^body_[0-9a-f]{32}$/);
    expect(gateway.parseWebhook({ headers: {}, rawBody: raw }).events[0]!.eventId).toBe(a);
    expect(gateway.parseWebhook({ headers: {}, rawBody: raw }).acknowledgement.status).toBe(200);
    expect(() => gateway.parseWebhook({ headers: {}, rawBody: new TextEncoder().encode('{') })).toThrow(expect.objectContaining({ code: 'invalid_webhook_payload' }));
    const noSecret = createUpiGateway({ provider: 'razorpay', keyId: 'k', keySecret: 's' });
    expect(() => noSecret.verifyWebhook({ headers: { 'x-razorpay-signature': signature }, rawBody: raw })).toThrow(expect.objectContaining({ code: 'webhook_secret_missing' }));
  });
});
