/**
 * Sale or authorisation: Fiuu's hosted-form `vcode` covers amount, merchant, order id (and currency),
 * not `tcctype`, so a customer can add `tcctype=AUTH` to an automatic-capture card payment's form. Fiuu
 * then only holds an authorisation, and its signed `00` result reads exactly like a sale's (the `skey`
 * covers tranID, orderid, status, domain, amount, currency, paydate, appcode). Only Fiuu's requery
 * (`StatName` `authorized` / `captured`) tells them apart.
 *
 * End to end over loopback: engine + Fiuu gateway + sandbox, the sandbox's deliveries handed to the
 * engine by a merchant endpoint, requeries counted at the sandbox.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTender, TenderError, type Payment, type Tender, type WebhookRequest } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import type { FiuuHostedPayment } from '@tender/fiuu';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { merchantServer, sandboxAndGateway, waitForDeliveries } from './helpers';

let env: Awaited<ReturnType<typeof sandboxAndGateway>>;
let tender: Tender;
let merchant: Awaited<ReturnType<typeof merchantServer>>;
/** When false, the endpoint only acknowledges Fiuu and the test hands requests to the engine itself. */
let forward = true;
const outcomes: string[] = [];
const failures: unknown[] = [];

beforeEach(async () => {
  env = await sandboxAndGateway();
  tender = createTender({ gateways: [env.gateway], store: new MemoryStore() });
  forward = true;
  outcomes.length = 0;
  failures.length = 0;
  merchant = await merchantServer(async (req, body, res) => {
    const nbcb = new URLSearchParams(body.toString('utf8')).get('nbcb');
    if (!forward) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(nbcb === '1' ? 'CBTOKEN:MPSTATOK' : '');
    try {
      const handled = await tender.webhooks.handle('fiuu', { headers: req.headers as Record<string, string>, rawBody: new Uint8Array(body) });
      outcomes.push(...handled.outcomes.map((o) => o.outcome));
      res.writeHead(handled.status, handled.headers).end(handled.body);
    } catch (error) {
      failures.push(error);
      res.writeHead(TenderError.isInstance(error) ? error.status : 500).end(String(error));
    }
  });
});
afterEach(async () => {
  await env.sandbox.idle();
  await merchant.close();
  await env.close();
});

async function create(extra: Record<string, unknown> = {}): Promise<Payment> {
  const payment = await tender.payments.create({
    amount: '100.50',
    currency: 'MYR',
    paymentMethod: 'CARD',
    gateway: 'fiuu',
    orderId: `ORD-${Math.random().toString(36).slice(2, 10)}`,
    customer: { name: 'Siti Aminah', email: 'siti@example.com', phone: '+60123456789' },
    returnUrl: 'https://shop.example/return',
    notifyUrl: `${merchant.url}/webhooks/fiuu`,
    ...extra,
  });
  expect(payment).toMatchObject({ status: 'REQUIRES_ACTION', captureMethod: extra.captureMethod ?? 'automatic' });
  return payment;
}
const hosted = (p: Payment) => p.gatewayData.hostedPayment as FiuuHostedPayment;
/** The hosted form as the customer's browser may post it: `tcctype=AUTH` added. The vcode still verifies. */
const tamperedAuth = (p: Payment): FiuuHostedPayment => ({ ...hosted(p), fields: { ...hosted(p).fields, tcctype: 'AUTH' } });
const requeries = () => env.sandbox.apiCalls.filter((c) => c.operation === 'requery');
const deliveredBoth = (tranID: string) => () => env.sandbox.deliveries.filter((d) => d.tranID === tranID && d.status === '00').length >= 2;
const request = (fields: Record<string, string>): WebhookRequest => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  rawBody: new TextEncoder().encode(new URLSearchParams(fields).toString()),
});
/** Fiuu's deliveries were all taken: notification 2xx, callback answered CBTOKEN:MPSTATOK. */
function expectAllAcknowledged(tranID: string) {
  const mine = env.sandbox.deliveries.filter((d) => d.tranID === tranID);
  expect(mine.length).toBeGreaterThanOrEqual(2);
  for (const d of mine) expect(d).toMatchObject({ httpStatus: 200, acknowledged: true });
  expect(failures).toEqual([]);
}

describe('an automatic-capture card payment whose hosted form the customer changed to tcctype=AUTH', () => {
  it('ends AUTHORIZED (what Fiuu holds), not CAPTURED; the merchant can then capture it', async () => {
    const payment = await create();
    expect(hosted(payment).fields.tcctype).toBeUndefined();
    const { tranID } = await completeHostedPayment(tamperedAuth(payment), 'approve');
    // The premise: Fiuu only authorised, and its signed result says 00 like a sale's.
    expect(env.sandbox.transaction(tranID)).toMatchObject({ tcctype: 'AUTH', statName: 'authorized', captured: null });
    await waitForDeliveries(env.sandbox, deliveredBoth(tranID));
    expect(env.sandbox.deliveries.find((d) => d.tranID === tranID)!.fields).toMatchObject({ status: '00', channel: 'credit' });

    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'AUTHORIZED', gatewayReference: tranID, amountCaptured: '0.00', captureMethod: 'automatic' });
    expectAllAcknowledged(tranID);
    // Fiuu's own answer decided, asked about this very transaction.
    expect(requeries().map((c) => [c.path, c.fields.txID])).toEqual([['q_by_tid.php', tranID]]);
    expect((await tender.transitions(payment.id)).some((t) => t.to === 'CAPTURED')).toBe(false);

    const captured = await tender.payments.capture(payment.id);
    expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: '100.50' });
    expect(env.sandbox.transaction(tranID)).toMatchObject({ captured: '100.50', statName: 'captured' });
  });

  it('a copy of the result re-posted as a notification with its unsigned channel rewritten to fpx does not make it CAPTURED', async () => {
    forward = false;
    const payment = await create();
    const { tranID, returnForm } = await completeHostedPayment(tamperedAuth(payment), 'approve');
    await waitForDeliveries(env.sandbox, deliveredBoth(tranID));
    // The customer's browser holds the return copy; it arrives first, dressed as an FPX notification.
    const forged = { ...returnForm!.fields, nbcb: '2', channel: 'fpx' };
    expect(() => env.gateway.verifyWebhook(request(forged), new Date())).not.toThrow();
    await tender.webhooks.handle('fiuu', request(forged));
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'PROCESSING', gatewayReference: tranID, amountCaptured: '0.00' });

    // Fiuu's own notification (channel credit) then has the requery decide.
    const genuine = env.sandbox.deliveries.find((d) => d.tranID === tranID && d.kind === 'notification')!;
    const handled = await tender.webhooks.handle('fiuu', request(genuine.fields));
    expect(handled.outcomes.map((o) => o.outcome)).toEqual(['duplicate', 'requeried']);
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'AUTHORIZED', amountCaptured: '0.00' });
  });

  it('with only the forged copy ever arriving, the reconciler requeries the PROCESSING payment to AUTHORIZED', async () => {
    forward = false;
    const payment = await create();
    const { tranID, returnForm } = await completeHostedPayment(tamperedAuth(payment), 'approve');
    await env.sandbox.idle();
    await tender.webhooks.handle('fiuu', request({ ...returnForm!.fields, nbcb: '2', channel: 'fpx' }));
    expect((await tender.payments.get(payment.id)).status).toBe('PROCESSING');
    await tender.reconcile({ processingAfterMs: 0 });
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'AUTHORIZED', gatewayReference: tranID, amountCaptured: '0.00' });
  });

  it('when the requery fails the notification is answered 503 (Fiuu retries) and nothing says CAPTURED; the retry settles it', async () => {
    forward = false;
    const payment = await create();
    const { tranID } = await completeHostedPayment(tamperedAuth(payment), 'approve');
    await waitForDeliveries(env.sandbox, deliveredBoth(tranID));
    const notification = env.sandbox.deliveries.find((d) => d.tranID === tranID && d.kind === 'notification')!;
    // The transport tries twice; both attempts fail.
    env.sandbox.faults.api('requery', '5xx', 2);
    await expect(tender.webhooks.handle('fiuu', request(notification.fields))).rejects.toMatchObject({ code: 'webhook_deferred', status: 503, retryable: true });
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'PROCESSING', gatewayReference: tranID, amountCaptured: '0.00' });

    const retried = await tender.webhooks.handle('fiuu', request(notification.fields));
    expect(retried.outcomes.map((o) => o.outcome)).toEqual(['duplicate', 'requeried']);
    expect((await tender.payments.get(payment.id)).status).toBe('AUTHORIZED');
  });
});

describe('honest results still end where the money is', () => {
  it('an automatic card payment paid as a sale ends CAPTURED, through one requery by its tranID', async () => {
    const payment = await create();
    const { tranID } = await completeHostedPayment(hosted(payment), 'approve');
    expect(env.sandbox.transaction(tranID)).toMatchObject({ tcctype: 'SALS', statName: 'captured' });
    await waitForDeliveries(env.sandbox, deliveredBoth(tranID));
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', gatewayReference: tranID, amountCaptured: '100.50' });
    expect(requeries().map((c) => c.fields.txID)).toEqual([tranID]);
    expectAllAcknowledged(tranID);
  });

  it('an FPX 00 is applied as it comes, without a requery', async () => {
    const payment = await create({ paymentMethod: 'FPX' });
    const { tranID } = await completeHostedPayment(hosted(payment), 'approve');
    await waitForDeliveries(env.sandbox, deliveredBoth(tranID));
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', gatewayReference: tranID, amountCaptured: '100.50' });
    expect(outcomes).toEqual(['applied', 'duplicate']);
    expect(requeries()).toEqual([]);
    expect(env.sandbox.apiCalls.filter((c) => c.operation !== 'ipn')).toEqual([]);
  });

  it('a manual-capture card payment is AUTHORIZED; a customer who stripped tcctype=AUTH (a sale) makes it CAPTURED', async () => {
    const honest = await create({ captureMethod: 'manual' });
    const auth = await completeHostedPayment(hosted(honest), 'approve');
    await waitForDeliveries(env.sandbox, deliveredBoth(auth.tranID));
    expect(await tender.payments.get(honest.id)).toMatchObject({ status: 'AUTHORIZED', amountCaptured: '0.00' });

    const stripped = await create({ captureMethod: 'manual' });
    const { tcctype: _auth, ...fields } = hosted(stripped).fields;
    const sale = await completeHostedPayment({ ...hosted(stripped), fields }, 'approve');
    expect(env.sandbox.transaction(sale.tranID)).toMatchObject({ tcctype: 'SALS', captured: '100.50' });
    await waitForDeliveries(env.sandbox, deliveredBoth(sale.tranID));
    expect(await tender.payments.get(stripped.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '100.50' });
    expectAllAcknowledged(sale.tranID);
  });
});

describe('the notification and the callback of one card result', () => {
  it('delivered one after the other (and again): one requery, every delivery acknowledged', async () => {
    const payment = await create();
    env.sandbox.faults.duplicateNotifications();
    const { tranID } = await completeHostedPayment(tamperedAuth(payment), 'approve');
    await waitForDeliveries(env.sandbox, () => env.sandbox.deliveries.filter((d) => d.tranID === tranID).length >= 4);
    expect(outcomes).toEqual(['applied', 'requeried', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
    expect(requeries()).toHaveLength(1);
    expectAllAcknowledged(tranID);
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'AUTHORIZED', gatewayReference: tranID });
    expect((await tender.transitions(payment.id)).filter((t) => t.to === 'AUTHORIZED')).toHaveLength(1);
  });

  it('handled concurrently: both answered, the same end state, at most one requery each', async () => {
    forward = false;
    const payment = await create();
    const { tranID } = await completeHostedPayment(tamperedAuth(payment), 'approve');
    await waitForDeliveries(env.sandbox, deliveredBoth(tranID));
    const [notification, callback] = ['notification', 'callback'].map((kind) => env.sandbox.deliveries.find((d) => d.tranID === tranID && d.kind === kind)!);
    const handled = await Promise.all([tender.webhooks.handle('fiuu', request(notification!.fields)), tender.webhooks.handle('fiuu', request(callback!.fields))]);
    expect(handled[1]!.body).toBe('CBTOKEN:MPSTATOK');
    expect(handled.flatMap((h) => h.outcomes.map((o) => o.outcome)).filter((o) => o === 'applied' || o === 'requeried').length).toBeGreaterThanOrEqual(2);
    expect(requeries().length).toBeLessThanOrEqual(2);
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'AUTHORIZED', gatewayReference: tranID, amountCaptured: '0.00' });
    expect((await tender.transitions(payment.id)).filter((t) => t.to === 'AUTHORIZED')).toHaveLength(1);
  });

  it("with the default pacing (one query per transaction every 5 s), the two handled at once share one requery and neither waits for Fiuu's interval", async () => {
    await env.close();
    // requery: {} is the production default, { minIntervalMs: 5000, perSecond: 10 }.
    env = await sandboxAndGateway({ gateway: { requery: {} } });
    tender = createTender({ gateways: [env.gateway], store: new MemoryStore() });
    forward = false;
    const payment = await create();
    const { tranID } = await completeHostedPayment(tamperedAuth(payment), 'approve');
    await waitForDeliveries(env.sandbox, deliveredBoth(tranID));
    const [notification, callback] = ['notification', 'callback'].map((kind) => env.sandbox.deliveries.find((d) => d.tranID === tranID && d.kind === kind)!);
    const started = Date.now();
    await Promise.all([tender.webhooks.handle('fiuu', request(notification!.fields)), tender.webhooks.handle('fiuu', request(callback!.fields))]);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(requeries()).toHaveLength(1);
    expect(await tender.payments.get(payment.id)).toMatchObject({ status: 'AUTHORIZED', gatewayReference: tranID });
  });
});
