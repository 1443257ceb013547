/**
 * The gateway on the wire against the sandbox: OAuth token caching, sharing, refresh and 401 retry;
 * PayPal-Request-Id on every POST and its replay; checks made before any call; PayPal's errors mapped
 * to typed TenderErrors (debug_id kept); timeouts and refused connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpTransport, Money, TenderError, type GatewayCreatePaymentInput } from '@tender/core';
import { createPayPalGateway, orderRequest, PAYPAL_CURRENCIES, paypalMaxAmountMinor, paypalRequestId, toPayPalValue } from '@tender/paypal';
import { approveOrder, startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { gatewayFor } from './helpers';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});
async function sandboxOf(options: Parameters<typeof startPayPalSandbox>[0] = {}): Promise<PayPalSandbox> {
  const sandbox = await startPayPalSandbox(options);
  opened.push(sandbox);
  return sandbox;
}
function track<T extends { close(): Promise<void> }>(value: T): T {
  opened.push(value);
  return value;
}

const input = (over: Partial<GatewayCreatePaymentInput> = {}): GatewayCreatePaymentInput => ({
  paymentId: `pay_${Math.random().toString(36).slice(2)}`,
  merchantId: 'm1',
  orderId: 'ORD-1',
  amount: Money.of('10.00', 'USD'),
  captureMethod: 'automatic',
  paymentMethod: 'paypal',
  description: null,
  customer: {} as GatewayCreatePaymentInput['customer'],
  returnUrl: 'https://shop.example/return',
  notifyUrl: null,
  metadata: {},
  ...over,
});
const ctx = (key: string) => ({ idempotencyKey: key, now: new Date() });

describe('OAuth tokens', () => {
  it('one token for many calls; concurrent first calls share one token request', async () => {
    const sandbox = await sandboxOf();
    const gateway = track(gatewayFor(sandbox));
    await Promise.all(Array.from({ length: 8 }, (_, i) => gateway.createPayment(input(), ctx(`k${i}`))));
    await gateway.createPayment(input(), ctx('k-last'));
    expect(sandbox.tokensIssued).toBe(1);
    expect(gateway.tokenRequests).toBe(1);
    // A second gateway with the same credentials and host uses the cached token.
    const twin = track(gatewayFor(sandbox));
    await twin.createPayment(input(), ctx('k-twin'));
    expect(sandbox.tokensIssued).toBe(1);
    // Other credentials (another secret) never share it.
    const wrong = track(gatewayFor(sandbox, { clientSecret: 'not-the-secret' }));
    await expect(wrong.createPayment(input(), ctx('k-wrong'))).rejects.toMatchObject({ type: 'gateway_error', code: 'gateway_authentication_failed' });
  });

  it('refreshed before it expires (injected clock)', async () => {
    const sandbox = await sandboxOf({ tokenTtlSeconds: 3600 });
    let now = Date.now();
    const gateway = track(
      gatewayFor(sandbox, {
        clock: { now: () => new Date(now) },
        tokenRefreshMarginSeconds: 300,
        // The injected token failures below must not open the circuit for the calls after them.
        transport: createHttpTransport({ gateway: 'paypal', retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 }, circuit: { minimumRequests: 1000 } }),
      }),
    );
    await gateway.createPayment(input(), ctx('a'));
    now += 3299_000;
    await gateway.createPayment(input(), ctx('b'));
    expect(sandbox.tokensIssued).toBe(1);
    now += 2_000;
    // Inside the refresh margin PayPal's token endpoint fails: the current token, still valid, is used.
    sandbox.faults.add({ kind: 'error', status: 503, match: /^POST \/v1\/oauth2\/token$/, count: 5 });
    await gateway.createPayment(input(), ctx('c'));
    expect(sandbox.tokensIssued).toBe(1);
    sandbox.faults.clear();
    await gateway.createPayment(input(), ctx('d'));
    expect(sandbox.tokensIssued).toBe(2);
    // Past its expiry the old token is never used, whatever the refresh does.
    now += 3600_000;
    sandbox.faults.add({ kind: 'error', status: 503, match: /^POST \/v1\/oauth2\/token$/, count: 5 });
    await expect(gateway.createPayment(input(), ctx('e'))).rejects.toMatchObject({ type: 'gateway_error', retryable: true });
  });

  it('a 401 (token revoked early) refreshes once and retries with the same PayPal-Request-Id', async () => {
    const sandbox = await sandboxOf();
    const gateway = track(gatewayFor(sandbox));
    await gateway.createPayment(input(), ctx('first'));
    sandbox.expireTokens();
    const result = await gateway.createPayment(input(), ctx('after-expiry'));
    expect(result.status).toBe('REQUIRES_ACTION');
    expect(sandbox.tokensIssued).toBe(2);
    const creates = sandbox.requests.filter((r) => r.path === '/v2/checkout/orders');
    expect(creates.slice(-2).map((r) => [r.status, r.requestId])).toEqual([
      [401, 'after-expiry'],
      [201, 'after-expiry'],
    ]);
  });
});

describe('PayPal-Request-Id', () => {
  it('is on every POST, derived from the engine key; a repeat gets the same order', async () => {
    const sandbox = await sandboxOf();
    const gateway = track(gatewayFor(sandbox));
    const a = await gateway.createPayment(input(), ctx('pay_1/create'));
    const b = await gateway.createPayment(input({ amount: Money.of('99.00', 'USD') }), ctx('pay_1/create'));
    expect(b.gatewayReference).toBe(a.gatewayReference);
    expect(sandbox.account.orders.size).toBe(1);
    expect(sandbox.requests.filter((r) => r.method === 'POST' && r.path !== '/v1/oauth2/token').every((r) => r.requestId === 'pay_1/create')).toBe(true);
    // Keys longer than PayPal's 108 characters are hashed, stably.
    const long = 'k'.repeat(300);
    expect(paypalRequestId(long)).toMatch(/^tender-[0-9a-f]{64}$/);
    expect(paypalRequestId(long)).toBe(paypalRequestId(long));
    expect(paypalRequestId('pay_1/create')).toBe('pay_1/create');
  });
});

describe('checks before any call', () => {
  it('JPY, HUF and TWD decimals, other currencies, methods and amounts are refused with no request', async () => {
    const sandbox = await sandboxOf();
    const gateway = track(gatewayFor(sandbox));
    const refused = [
      [input({ amount: Money.of('100.5', 'TWD') }), 'amount_not_supported', 'amount'],
      [input({ amount: Money.of('0.50', 'HUF') }), 'amount_not_supported', 'amount'],
      [input({ amount: Money.of('10.00', 'INR') }), 'currency_not_supported', 'currency'],
      [input({ paymentMethod: 'card' }), 'payment_method_not_supported', 'payment_method'],
      [input({ amount: Money.of('1000000000.00', 'USD') }), 'amount_too_large', 'amount'],
    ] as const;
    for (const [bad, code, param] of refused) {
      expect(() => gateway.validateCreate(bad), code).toThrow(expect.objectContaining({ type: 'invalid_request_error', code, param }));
      await expect(gateway.createPayment(bad, ctx(code))).rejects.toMatchObject({ code, param });
    }
    expect(sandbox.requests).toHaveLength(0);
    expect(toPayPalValue(Money.of('1500', 'JPY'))).toBe('1500');
    expect(toPayPalValue(Money.of('1500.00', 'HUF'))).toBe('1500');
    expect(toPayPalValue(Money.of('12.30', 'EUR'))).toBe('12.30');
    expect(paypalMaxAmountMinor('JPY')).toBe(999_999_999);
    expect(paypalMaxAmountMinor('HUF')).toBe(99_999_999_900);
    expect(gateway.capabilities).toMatchObject({ paymentMethods: ['paypal'], manualCapture: true, partialCapture: true, partialRefund: true, cancel: true, retrieve: true });
    expect(gateway.capabilities.currencies).toEqual(PAYPAL_CURRENCIES);
  });

  it('the order body: intent from captureMethod, Tender ids in custom_id, experience context with return_url', () => {
    const body = orderRequest(input({ paymentId: 'pay_X', captureMethod: 'manual', description: 'mug', amount: Money.of('2000', 'JPY') }));
    expect(body).toEqual({
      intent: 'AUTHORIZE',
      purchase_units: [{ reference_id: 'pay_X', custom_id: 'pay_X', amount: { currency_code: 'JPY', value: '2000' }, description: 'mug' }],
      payment_source: { paypal: { experience_context: { return_url: 'https://shop.example/return', cancel_url: 'https://shop.example/return', user_action: 'PAY_NOW', shipping_preference: 'NO_SHIPPING' } } },
    });
    expect(orderRequest(input({ returnUrl: null })).payment_source).toBeUndefined();
  });
});

describe('errors', () => {
  it("PayPal's 422 issues become typed errors with debug_id; declines are card errors", async () => {
    const sandbox = await sandboxOf();
    const gateway = track(gatewayFor(sandbox));
    const created = await gateway.createPayment(input(), ctx('c1'));
    // Capturing an authorization of an order that has none: a state error before any capture call.
    await expect(gateway.capture!({ paymentId: 'pay_1', gatewayReference: created.gatewayReference!, amount: Money.of('10.00', 'USD'), authorizedAmount: Money.of('10.00', 'USD'), gatewayData: {} }, ctx('cap'))).rejects.toMatchObject({ type: 'state_error' });
    // ORDER_NOT_APPROVED keeps the payment waiting for the buyer.
    const waiting = await gateway.retrieve({ paymentId: 'pay_1', orderId: null, gatewayReference: created.gatewayReference!, amount: Money.of('10.00', 'USD'), gatewayData: {} }, ctx('r'));
    expect(waiting).toMatchObject({ status: 'REQUIRES_ACTION', nextAction: { type: 'redirect' } });
    // An unknown order is "not found" (the reconciler's signal that it never reached PayPal).
    await expect(gateway.retrieve({ paymentId: 'pay_1', orderId: null, gatewayReference: 'NOSUCHORDER', amount: Money.of('10.00', 'USD'), gatewayData: {} }, ctx('r2'))).rejects.toMatchObject({ type: 'not_found_error', code: 'gateway_payment_not_found' });
  });

  it('ORDER_NOT_APPROVED from capture stays REQUIRES_ACTION; an approved order captures; 5xx on a POST is outcome unknown, 429 is rate limited', async () => {
    const sandbox = await sandboxOf();
    const gateway = track(gatewayFor(sandbox, { transport: createHttpTransport({ gateway: 'paypal', retry: { attempts: 1 } }) }));
    const created = await gateway.createPayment(input({ paymentId: 'pay_A' }), ctx('c2'));
    const url = (created.nextAction as { url: string }).url;
    await approveOrder(url);
    sandbox.faults.add({ kind: 'error', status: 500, match: /\/capture$/ });
    const retrieveInput = { paymentId: 'pay_A', orderId: null, gatewayReference: created.gatewayReference!, amount: Money.of('10.00', 'USD'), gatewayData: {} };
    await expect(gateway.retrieve(retrieveInput, ctx('r3'))).rejects.toMatchObject({ code: 'gateway_outcome_unknown', details: { requestSent: true, debugId: expect.any(String) } });
    sandbox.faults.add({ kind: 'error', status: 429, match: /\/capture$/ });
    await expect(gateway.retrieve(retrieveInput, ctx('r4'))).rejects.toMatchObject({ type: 'rate_limit_error', retryable: true });
    expect(await gateway.retrieve(retrieveInput, ctx('r5'))).toMatchObject({ status: 'CAPTURED', amountCaptured: Money.of('10.00', 'USD') });
  });

  it('a timeout after the request was sent is gateway_outcome_unknown', async () => {
    const sandbox = await sandboxOf();
    const gateway = track(gatewayFor(sandbox, { transport: createHttpTransport({ gateway: 'paypal', timeoutMs: 400, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 } }) }));
    await gateway.createPayment(input(), ctx('warm'));
    sandbox.faults.add({ kind: 'delay', delayMs: 1500, match: /^POST \/v2\/checkout\/orders$/, count: 5 });
    const error = await gateway.createPayment(input(), ctx('slow')).catch((e: unknown) => e);
    expect(TenderError.isInstance(error) && error.code).toBe('gateway_outcome_unknown');
    // Both attempts carried the same PayPal-Request-Id: PayPal made one order.
    const attempts = sandbox.requests.filter((r) => r.requestId === 'slow');
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(sandbox.account.orders.size).toBe(2);
  });

  it('a refused connection is gateway_unavailable with requestSent false', async () => {
    const gateway = track(createPayPalGateway({ clientId: 'a', clientSecret: 'b', webhookId: 'W1', mode: 'sandbox', baseUrl: 'http://127.0.0.1:1', transport: createHttpTransport({ gateway: 'paypal', retry: { attempts: 1 } }) }));
    await expect(gateway.createPayment(input(), ctx('x'))).rejects.toMatchObject({ type: 'gateway_unavailable', details: { requestSent: false } });
  });
});
