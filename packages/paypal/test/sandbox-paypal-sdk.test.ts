/**
 * PayPal's official server SDK (`@paypal/paypal-server-sdk`, unchanged) drives the sandbox: its own
 * models deserialise (and validate) every answer. The SDK only knows PayPal's hosts, so its HTTPS agent
 * connects every request to the sandbox's TLS port on 127.0.0.1 (certificate for
 * api-m.sandbox.paypal.com from the sandbox CA): no request leaves the machine.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { ApiError, CheckoutPaymentIntent, Client, Environment, OrdersController, PaymentsController, type Order } from '@paypal/paypal-server-sdk';
import { approveOrder, startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';

const CHROMIUM = '/usr/bin/chromium';

let sandbox: PayPalSandbox;
let orders: OrdersController;
let payments: PaymentsController;
const connections: Array<{ servername: string | undefined; host: string; port: number }> = [];
let agent: HttpsAgent;

/** An HTTPS agent that dials the sandbox on loopback whatever host the SDK asks for. */
class LoopbackAgent extends HttpsAgent {
  constructor(
    private readonly port: number,
    private readonly ca: string,
    options?: AgentOptions,
  ) {
    super({ keepAlive: false, ...options });
  }

  override createConnection(options: ConnectionOptions & { host?: string; servername?: string }, callback?: (err: Error | null, socket: Duplex) => void): Duplex {
    const servername = options.servername ?? options.host;
    connections.push({ servername, host: '127.0.0.1', port: this.port });
    const socket = connect({ host: '127.0.0.1', port: this.port, servername, ca: this.ca });
    callback?.(null, socket);
    return socket;
  }
}

beforeAll(async () => {
  sandbox = await startPayPalSandbox({ tls: true });
  agent = new LoopbackAgent(sandbox.tlsPort!, sandbox.certificates.ca.certificatePem);
  const client = new Client({
    clientCredentialsAuthCredentials: { oAuthClientId: sandbox.clientId, oAuthClientSecret: sandbox.clientSecret },
    environment: Environment.Sandbox,
    timeout: 10_000,
    httpClientOptions: { httpsAgent: agent },
    // Never an environment proxy: the agent above is the only way out.
    unstable_httpClientOptions: { proxy: false },
  });
  orders = new OrdersController(client);
  payments = new PaymentsController(client);
});

afterAll(async () => {
  agent?.destroy();
  await sandbox?.close();
});

const createOrder = async (intent: CheckoutPaymentIntent, value: string, returnUrl: string, requestId: string): Promise<Order> => {
  const { result, statusCode } = await orders.createOrder({
    body: {
      intent,
      purchaseUnits: [{ referenceId: 'default', customId: `sdk-${requestId}`, amount: { currencyCode: 'USD', value } }],
      paymentSource: { paypal: { experienceContext: { returnUrl, cancelUrl: `${returnUrl}?cancelled=1` } } },
    },
    paypalRequestId: requestId,
    prefer: 'return=representation',
  });
  expect(statusCode).toBe(201);
  return result;
};

/**
 * The SDK's whole checkout: create, replay, approval (by `approve`, which returns the URL the buyer
 * came back to), capture, capture again, refunds, gets. Every answer is read by the SDK's models.
 */
async function sdkCheckout(tag: string, returnUrl: string, approve: (url: string) => Promise<string>): Promise<void> {
  const order = await createOrder(CheckoutPaymentIntent.Capture, '25.00', returnUrl, `sdk-create-${tag}`);
  expect(order).toMatchObject({ status: 'PAYER_ACTION_REQUIRED', intent: 'CAPTURE', purchaseUnits: [{ amount: { currencyCode: 'USD', value: '25.00' }, customId: `sdk-sdk-create-${tag}` }] });
  expect(order.createTime).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  const link = order.links?.find((l) => l.rel === 'payer-action');
  expect(link?.href).toContain(`/checkoutnow?token=${order.id}`);

  // The same PayPal-Request-Id: PayPal answers with the same order.
  const replay = await orders.createOrder({ body: { intent: CheckoutPaymentIntent.Capture, purchaseUnits: [{ amount: { currencyCode: 'USD', value: '25.00' } }] }, paypalRequestId: `sdk-create-${tag}` });
  expect(replay.result.id).toBe(order.id);

  const back = new URL(await approve(link!.href));
  expect(back.searchParams.get('token')).toBe(order.id);
  expect(back.searchParams.get('PayerID')).toMatch(/^[A-Z0-9]{13}$/);

  const approved = (await orders.getOrder({ id: order.id! })).result;
  expect(approved.status).toBe('APPROVED');
  expect(approved.payer?.payerId).toBe(back.searchParams.get('PayerID'));
  expect(approved.paymentSource?.paypal?.emailAddress).toContain('@');

  const captured = await orders.captureOrder({ id: order.id!, paypalRequestId: `sdk-capture-1-${tag}`, prefer: 'return=representation' });
  expect(captured.statusCode).toBe(201);
  const capture = captured.result.purchaseUnits?.[0]?.payments?.captures?.[0];
  expect(captured.result.status).toBe('COMPLETED');
  expect(capture).toMatchObject({ status: 'COMPLETED', amount: { value: '25.00', currencyCode: 'USD' }, finalCapture: true, sellerReceivableBreakdown: { grossAmount: { value: '25.00' } } });
  expect(capture?.sellerReceivableBreakdown?.netAmount?.value).toBeDefined();
  expect(capture?.links?.map((l) => l.rel)).toEqual(['self', 'refund', 'up']);

  // Capturing twice is a 422 ORDER_ALREADY_CAPTURED, read through the SDK's error model.
  const again = await orders.captureOrder({ id: order.id!, paypalRequestId: `sdk-capture-2-${tag}` }).catch((e: unknown) => e);
  expect(again).toBeInstanceOf(ApiError);
  expect((again as ApiError<{ name: string; details: Array<{ issue: string }>; debug_id: string }>).statusCode).toBe(422);
  expect((again as ApiError<{ details: Array<{ issue: string }> }>).result?.details?.[0]?.issue).toBe('ORDER_ALREADY_CAPTURED');

  const refund = await payments.refundCapturedPayment({ captureId: capture!.id!, body: { amount: { currencyCode: 'USD', value: '5.00' }, noteToPayer: 'sorry' }, paypalRequestId: `sdk-refund-1-${tag}`, prefer: 'return=representation' });
  expect(refund.result).toMatchObject({ status: 'COMPLETED', amount: { value: '5.00' }, noteToPayer: 'sorry' });
  expect(refund.result.sellerPayableBreakdown?.totalRefundedAmount?.value).toBe('5.00');
  const over = await payments.refundCapturedPayment({ captureId: capture!.id!, body: { amount: { currencyCode: 'USD', value: '20.01' } }, paypalRequestId: `sdk-refund-2-${tag}` }).catch((e: unknown) => e);
  expect((over as ApiError<{ details: Array<{ issue: string }> }>).result?.details?.[0]?.issue).toBe('REFUND_AMOUNT_EXCEEDED');

  expect((await payments.getCapturedPayment({ captureId: capture!.id! })).result).toMatchObject({ status: 'PARTIALLY_REFUNDED', supplementaryData: { relatedIds: { orderId: order.id } } });
  expect((await payments.getRefund({ refundId: refund.result.id! })).result).toMatchObject({ id: refund.result.id, status: 'COMPLETED' });
  const final = (await orders.getOrder({ id: order.id! })).result;
  expect(final.purchaseUnits?.[0]?.payments?.refunds?.map((r) => r.amount?.value)).toEqual(['5.00']);
  expect(connections.length).toBeGreaterThan(0);
  expect(connections.every((c) => c.host === '127.0.0.1' && c.servername === 'api-m.sandbox.paypal.com')).toBe(true);
}

describe.skipIf(!existsSync(CHROMIUM) && process.env.TENDER_REQUIRE_CHROMIUM !== '1')('official PayPal SDK + Chromium approval', () => {
  let browser: Browser;
  let shop: Server;
  const returns: string[] = [];

  beforeAll(async () => {
    shop = createServer((req, res) => {
      returns.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1 id="thanks">Thanks</h1>');
    });
    await new Promise<void>((r) => shop.listen(0, '127.0.0.1', r));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => shop?.close(r));
  });

  it('create, approve in the browser, capture, refund, get: every answer deserialises', async () => {
    const returnUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}/return`;
    await sdkCheckout('browser', returnUrl, async (url) => {
      const page = await browser.newPage();
      await page.goto(url);
      expect(await page.textContent('#amount')).toContain('25.00 USD');
      await Promise.all([page.waitForURL(/\/return\?/), page.click('#approve')]);
      expect(await page.textContent('#thanks')).toBe('Thanks');
      const landed = page.url();
      await page.close();
      // The shop saw the buyer come back (the browser may also ask it for a favicon).
      expect(returns.filter((r) => r.startsWith('/return?'))).toEqual([new URL(landed).pathname + new URL(landed).search]);
      return landed;
    });
  });
});

describe('official PayPal SDK: the same checkout, approved over HTTP', () => {
  it('create, approve on the page, capture, refund, get: every answer deserialises', async () => {
    await sdkCheckout('http', 'https://shop.example/return', async (url) => (await approveOrder(url))!);
  });
});

describe('official PayPal SDK: authorizations and negative testing', () => {
  it('authorize, partial capture, void another; the SDK reads each answer', async () => {
    const order = await createOrder(CheckoutPaymentIntent.Authorize, '40.00', 'https://shop.example/back', 'sdk-auth-1');
    await approveOrder(order.links!.find((l) => l.rel === 'payer-action')!.href);
    const authorized = (await orders.authorizeOrder({ id: order.id!, paypalRequestId: 'sdk-authorize-1', prefer: 'return=representation' })).result;
    const authorization = authorized.purchaseUnits?.[0]?.payments?.authorizations?.[0];
    expect(authorization).toMatchObject({ status: 'CREATED', amount: { value: '40.00' }, sellerProtection: { status: 'ELIGIBLE' } });
    expect(authorization?.expirationTime).toMatch(/Z$/);
    const capture = (await payments.captureAuthorizedPayment({ authorizationId: authorization!.id!, body: { amount: { currencyCode: 'USD', value: '30.00' }, finalCapture: true }, paypalRequestId: 'sdk-cap-auth-1', prefer: 'return=representation' })).result;
    expect(capture).toMatchObject({ status: 'COMPLETED', amount: { value: '30.00' }, finalCapture: true });
    expect((await payments.getAuthorizedPayment({ authorizationId: authorization!.id! })).result.status).toBe('CAPTURED');

    const second = await createOrder(CheckoutPaymentIntent.Authorize, '10.00', 'https://shop.example/back', 'sdk-auth-2');
    await approveOrder(second.links!.find((l) => l.rel === 'payer-action')!.href);
    const auth2 = (await orders.authorizeOrder({ id: second.id!, paypalRequestId: 'sdk-authorize-2' })).result.purchaseUnits![0]!.payments!.authorizations![0]!;
    const voided = await payments.voidPayment({ authorizationId: auth2.id!, paypalRequestId: 'sdk-void-2' });
    expect(voided.statusCode).toBe(204);
    expect((await payments.getAuthorizedPayment({ authorizationId: auth2.id! })).result.status).toBe('VOIDED');
  });

  it('unknown ids are 404 RESOURCE_NOT_FOUND with INVALID_RESOURCE_ID and a debug_id; a voided authorization cannot be captured', async () => {
    const body = (e: unknown) => (e as ApiError<{ name?: string; debug_id?: string; details?: Array<{ issue: string }>; links?: unknown[] }>).result;
    for (const call of [
      () => orders.getOrder({ id: 'NOSUCHORDER1' }),
      () => payments.getAuthorizedPayment({ authorizationId: 'NOSUCHAUTH1' }),
      () => payments.getCapturedPayment({ captureId: 'NOSUCHCAPTURE1' }),
      () => payments.getRefund({ refundId: 'NOSUCHREFUND1' }),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).statusCode).toBe(404);
      expect(body(error)).toMatchObject({ name: 'RESOURCE_NOT_FOUND', debug_id: expect.any(String), details: [{ issue: 'INVALID_RESOURCE_ID' }] });
    }
    const order = await createOrder(CheckoutPaymentIntent.Authorize, '12.00', 'https://shop.example/back', 'sdk-auth-void');
    await approveOrder(order.links!.find((l) => l.rel === 'payer-action')!.href);
    const auth = (await orders.authorizeOrder({ id: order.id!, paypalRequestId: 'sdk-authorize-void', prefer: 'return=representation' })).result.purchaseUnits![0]!.payments!.authorizations![0]!;
    expect((await payments.voidPayment({ authorizationId: auth.id!, paypalRequestId: 'sdk-void-void' })).statusCode).toBe(204);
    const capture = await payments.captureAuthorizedPayment({ authorizationId: auth.id!, body: { finalCapture: true }, paypalRequestId: 'sdk-cap-voided' }).catch((e: unknown) => e);
    expect((capture as ApiError).statusCode).toBe(422);
    expect(body(capture)?.details?.[0]?.issue).toBe('AUTHORIZATION_VOIDED');
    const again = await payments.voidPayment({ authorizationId: auth.id!, paypalRequestId: 'sdk-void-again' }).catch((e: unknown) => e);
    expect(body(again)?.details?.[0]?.issue).toBe('PREVIOUSLY_VOIDED');
  });

  it('PayPal-Mock-Response, decimals in JPY, an unapproved capture: PayPal\'s error issues', async () => {
    const issue = (e: unknown) => (e as ApiError<{ details?: Array<{ issue: string }> }>).result?.details?.[0]?.issue;
    const mocked = await orders
      .createOrder({ body: { intent: CheckoutPaymentIntent.Capture, purchaseUnits: [{ amount: { currencyCode: 'USD', value: '1.00' } }] }, paypalMockResponse: '{"mock_application_codes":"INSTRUMENT_DECLINED"}' })
      .catch((e: unknown) => e);
    expect(issue(mocked)).toBe('INSTRUMENT_DECLINED');
    const yen = await orders.createOrder({ body: { intent: CheckoutPaymentIntent.Capture, purchaseUnits: [{ amount: { currencyCode: 'JPY', value: '100.50' } }] } }).catch((e: unknown) => e);
    expect(issue(yen)).toBe('DECIMAL_PRECISION');
    const order = (await orders.createOrder({ body: { intent: CheckoutPaymentIntent.Capture, purchaseUnits: [{ amount: { currencyCode: 'JPY', value: '100' } }] } })).result;
    expect(order.status).toBe('CREATED');
    expect(order.links?.some((l) => l.rel === 'approve')).toBe(true);
    expect(issue(await orders.captureOrder({ id: order.id! }).catch((e: unknown) => e))).toBe('ORDER_NOT_APPROVED');
  });
});
