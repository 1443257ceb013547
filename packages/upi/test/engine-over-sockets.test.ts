/**
 * Engine + UPI gateway + Razorpay sandbox over loopback sockets: the sandbox's signed webhooks reach
 * the engine through a real HTTP receiver that hands the raw bytes to `tender.webhooks.handle`.
 */
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, Money, TenderError, type Payment, type Tender } from '@tender/core';
import { FakeClock, MemoryStore } from '@tender/core/testing';
import { createUpiGateway, parseUpiLink, refundIdempotencyKey, type UpiGateway } from '@tender/upi';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';
import { startReceiver, type Receiver } from './helpers';

const OLD_SECRET = 'whsec_old_rotation';
const NEW_SECRET = 'whsec_new_rotation';

interface Rig {
  sandbox: RazorpaySandbox;
  receiver: Receiver;
  gateway: UpiGateway;
  tender: Tender;
  acks: number[];
  close(): Promise<void>;
}

async function rig(options: { clock?: FakeClock; gatewaySecrets?: { webhookSecret: string; previousWebhookSecret?: string } } = {}): Promise<Rig> {
  const acks: number[] = [];
  let tender: Tender | undefined;
  const receiver = await startReceiver(async (r) => {
    try {
      const ack = await tender!.webhooks.handle('upi', { headers: r.headers as Record<string, string>, rawBody: new Uint8Array(r.body) });
      acks.push(ack.status);
      return ack;
    } catch (error) {
      acks.push((error as TenderError).status ?? 500);
      throw error;
    }
  });
  const sandbox = await startRazorpaySandbox({ webhookSecret: OLD_SECRET, webhook: { url: receiver.url, maxAttempts: 1 }, delays: { refundSettleMs: 5, collectAutoMs: null, expirySweepMs: null } });
  const gateway = createUpiGateway({
    provider: 'razorpay',
    keyId: sandbox.keyId,
    keySecret: sandbox.keySecret,
    ...(options.gatewaySecrets ?? { webhookSecret: NEW_SECRET, previousWebhookSecret: OLD_SECRET }),
    baseUrl: sandbox.url,
    defaultIp: '127.0.0.1',
    transport: createHttpTransport({ gateway: 'upi', retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }),
  });
  tender = createTender({ gateways: [gateway], store: new MemoryStore(), ...(options.clock ? { clock: options.clock } : {}) });
  return {
    sandbox,
    receiver,
    gateway,
    tender,
    acks,
    async close() {
      await gateway.close();
      await sandbox.close();
      await receiver.close();
    },
  };
}

let main: Rig;
beforeAll(async () => {
  main = await rig();
});
afterEach(async () => {
  await main.sandbox.webhooks.idle();
  main.sandbox.faults.clear();
  Object.assign(main.sandbox.webhooks.faults, { duplicate: 0, delayMs: 0, dropNext: 0 });
});
afterAll(async () => {
  await main?.close();
});

const customer = { name: 'Asha Rao', email: 'asha@example.com', phone: '+919812345678' };
const create = (t: Tender, amount: string, extra: Record<string, unknown> = {}) =>
  t.payments.create({ amount, currency: 'INR', paymentMethod: 'upi', gateway: 'upi', orderId: `ORD-${Math.random().toString(36).slice(2)}`, customer, ...extra });
const razorpayPayment = (r: Rig, p: Payment) => r.sandbox.account.payment(p.gatewayReference!);
const statusesOf = async (r: Rig, id: string) => (await r.tender.transitions(id)).map((t) => t.to);

async function waitFor(r: Rig, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await r.sandbox.webhooks.idle();
    await new Promise((res) => setTimeout(res, 2));
  }
}

describe('UPI intent and collect through the engine', () => {
  it('intent: REQUIRES_ACTION with the upi:// link, a QR of it and expiresAt; approval arrives by webhook with the bank data', async () => {
    const payment = await create(main.tender, '499.00', { metadata: { cart: 'c-1' } });
    expect(payment).toMatchObject({ status: 'REQUIRES_ACTION', gateway: 'upi' });
    const action = payment.nextAction as { type: string; url: string; qrCode: string; expiresAt: string };
    expect(action.type).toBe('upi_intent');
    expect(parseUpiLink(action.url)).toMatchObject({ amountPaise: 49900, currency: 'INR' });
    const png = PNG.sync.read(Buffer.from(action.qrCode.replace(/^data:image\/png;base64,/, ''), 'base64'));
    expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe(action.url);
    const expiresIn = Date.parse(action.expiresAt) - Date.parse(payment.createdAt);
    expect(expiresIn).toBeGreaterThanOrEqual(5 * 60_000 - 1000);
    expect(expiresIn).toBeLessThanOrEqual(5 * 60_000 + 1000);

    const rp = razorpayPayment(main, payment);
    const order = main.sandbox.account.order(rp.order_id);
    expect(order).toMatchObject({ amount: 49900, currency: 'INR', receipt: payment.id, notes: { tender_payment_id: payment.id, tender_order_id: payment.orderId } });
    expect(rp).toMatchObject({ amount: 49900, method: 'upi', email: customer.email, contact: '+919812345678', notes: { tender_payment_id: payment.id }, upi: { flow: 'intent' } });

    main.sandbox.approve(rp.id);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'CAPTURED');
    const after = await main.tender.payments.get(payment.id);
    expect(after).toMatchObject({ status: 'CAPTURED', amountCaptured: '499.00', nextAction: null, gatewayReference: rp.id });
    expect(after.gatewayData).toMatchObject({
      razorpayOrderId: order.id,
      razorpayPaymentId: rp.id,
      rrn: rp.acquirer_data.rrn,
      upiTransactionId: rp.acquirer_data.upi_transaction_id,
      feeMinor: rp.fee,
      taxMinor: rp.tax,
      vpa: 's***@razorpay',
      upiFlow: 'intent',
    });
    expect(JSON.stringify(after.gatewayData)).not.toContain('success@razorpay');
    expect((await main.tender.transitions(payment.id)).some((t) => t.to === 'CAPTURED' && t.actor === 'webhook')).toBe(true);
  });

  it('collect (method UPI with the payer VPA): the VPA is validated, the request goes to it, and the UPI app page approves it', async () => {
    const before = main.sandbox.requests.length;
    const payment = await create(main.tender, '150.00', { paymentMethod: 'UPI', customer: { ...customer, vpa: 'asha.rao@okaxis' } });
    expect(payment.status).toBe('REQUIRES_ACTION');
    expect(payment.nextAction).toMatchObject({ type: 'upi_collect', vpa: 'asha.rao@okaxis' });
    expect(Date.parse((payment.nextAction as { expiresAt: string }).expiresAt)).toBeGreaterThan(Date.now());
    expect(main.sandbox.requests.slice(before).map((r) => r.replace(/\?.*/, ''))).toEqual(['POST /v1/payments/validate/vpa', 'GET /v1/orders', 'POST /v1/orders', 'POST /v1/payments/create/upi']);
    expect(razorpayPayment(main, payment)).toMatchObject({ vpa: 'asha.rao@okaxis', upi: { flow: 'collect' } });

    const page = await fetch(main.sandbox.upiAppUrl(payment.gatewayReference!));
    const html = await page.text();
    expect(html).toContain('id="approve"');
    expect(html).toContain('asha.rao@okaxis');
    const answer = await fetch(main.sandbox.upiAppUrl(payment.gatewayReference!), { method: 'POST', body: new URLSearchParams({ action: 'approve' }) });
    expect(answer.status).toBe(200);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'CAPTURED');
    expect((await main.tender.payments.get(payment.id)).gatewayData).toMatchObject({ vpa: 'a***@okaxis', upiFlow: 'collect' });
  });

  it('collect to a VPA Razorpay does not know is a 400 naming vpa, before any order exists', async () => {
    const before = main.sandbox.requests.length;
    await expect(create(main.tender, '10.00', { paymentMethod: 'upi_collect', customer: { ...customer, vpa: 'invalid.person@okaxis' } })).rejects.toMatchObject({ status: 400, code: 'invalid_vpa', param: 'vpa' });
    expect(main.sandbox.requests.slice(before)).toEqual(['POST /v1/payments/validate/vpa']);
    await expect(create(main.tender, '10.00', { paymentMethod: 'upi_collect' })).rejects.toMatchObject({ status: 400, code: 'vpa_required', param: 'vpa' });
  });

  it('INR only: another currency is refused before any call, naming currency', async () => {
    const before = main.sandbox.requests.length;
    await expect(main.tender.payments.create({ amount: '10.00', currency: 'USD', paymentMethod: 'upi', gateway: 'upi', customer })).rejects.toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(() =>
      main.gateway.validateCreate({ paymentId: 'pay_x', merchantId: 'm', orderId: null, amount: Money.of('10.00', 'USD'), captureMethod: 'automatic', paymentMethod: 'upi', description: null, customer, returnUrl: null, notifyUrl: null, metadata: {} }),
    ).toThrow(expect.objectContaining({ type: 'invalid_request_error', code: 'currency_not_supported', param: 'currency' }));
    await expect(
      main.gateway.createPayment(
        { paymentId: 'pay_y', merchantId: 'm', orderId: null, amount: Money.of('10.00', 'EUR'), captureMethod: 'automatic', paymentMethod: 'upi', description: null, customer, returnUrl: null, notifyUrl: null, metadata: {} },
        { idempotencyKey: 'k-eur', now: new Date() },
      ),
    ).rejects.toMatchObject({ code: 'currency_not_supported', param: 'currency' });
    await expect(create(main.tender, '0.99')).rejects.toMatchObject({ status: 400, code: 'amount_too_small', param: 'amount' });
    await expect(create(main.tender, '100000.01')).rejects.toMatchObject({ status: 400, code: 'amount_too_large', param: 'amount' });
    expect(main.sandbox.requests.length).toBe(before);
  });
});

describe('out-of-order UPI outcomes end CAPTURED, never FAILED', () => {
  it('payment.failed, then an in-app retry captures: FAILED -> CAPTURED', async () => {
    const payment = await create(main.tender, '75.00');
    main.sandbox.decline(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'FAILED');
    expect((await main.tender.payments.get(payment.id)).failure).toMatchObject({ code: 'payment_declined' });
    main.sandbox.approve(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'CAPTURED');
    const after = await main.tender.payments.get(payment.id);
    expect(after).toMatchObject({ status: 'CAPTURED', amountCaptured: '75.00', failure: null });
    expect(await statusesOf(main, payment.id)).toEqual(expect.arrayContaining(['FAILED', 'CAPTURED']));
  });

  it('captured delivered before failed: the late failure is stale and ignored', async () => {
    main.sandbox.webhooks.hold();
    const payment = await create(main.tender, '76.00');
    main.sandbox.decline(payment.gatewayReference!);
    main.sandbox.approve(payment.gatewayReference!);
    const released = main.sandbox.webhooks.release({ order: 'reverse' });
    expect(released.map((e) => e.type)).toEqual(['order.paid', 'payment.captured', 'payment.authorized', 'payment.failed']);
    await main.sandbox.webhooks.idle();
    const after = await main.tender.payments.get(payment.id);
    expect(after).toMatchObject({ status: 'CAPTURED', failure: null });
    expect(await statusesOf(main, payment.id)).not.toContain('FAILED');
    expect(main.acks.slice(-4)).toEqual([200, 200, 200, 200]);
  });

  it('duplicated deliveries and a replay of an old event have no second effect', async () => {
    main.sandbox.webhooks.faults.duplicate = 2;
    const payment = await create(main.tender, '12.00');
    main.sandbox.approve(payment.gatewayReference!);
    await main.sandbox.webhooks.idle();
    main.sandbox.webhooks.faults.duplicate = 0;
    const captured = main.sandbox.webhooks.events.find((e) => e.type === 'payment.captured' && e.body.includes(payment.gatewayReference!))!;
    expect(main.gateway.parseWebhook({ headers: { 'x-razorpay-event-id': captured.id }, rawBody: new TextEncoder().encode(captured.body) }).events[0]!.eventId.startsWith(`${captured.id}:`)).toBe(true);
    main.sandbox.webhooks.redeliver(captured);
    await main.sandbox.webhooks.idle();
    const trail = await main.tender.transitions(payment.id);
    expect(trail.filter((t) => t.to === 'CAPTURED')).toHaveLength(1);
    expect((await main.tender.payments.get(payment.id)).status).toBe('CAPTURED');
  });
});

describe('webhook authenticity', () => {
  it('a tampered body or a signature from another secret is a webhook_signature_error and changes nothing', async () => {
    main.sandbox.webhooks.hold();
    const payment = await create(main.tender, '30.00');
    main.sandbox.approve(payment.gatewayReference!);
    const events = main.sandbox.webhooks.release({ order: 'original' });
    main.sandbox.webhooks.hold();
    await main.sandbox.webhooks.idle();
    // Forget what arrived: build a fresh payment the forged events would move.
    const victim = await create(main.tender, '30.00');
    main.sandbox.webhooks.release();
    const captured = events.find((e) => e.type === 'payment.captured')!;
    const forgedBody = captured.body.split(payment.gatewayReference!).join(victim.gatewayReference!).split(payment.id).join(victim.id);
    const { computeRazorpayWebhookSignature } = await import('@tender/upi');
    const originalSignature = computeRazorpayWebhookSignature(captured.body, OLD_SECRET);
    const attempts = [
      { body: forgedBody, signature: originalSignature },
      { body: forgedBody, signature: computeRazorpayWebhookSignature(forgedBody, 'whsec_attacker') },
      { body: forgedBody, signature: '' },
    ];
    for (const attempt of attempts) {
      const handled = main.tender.webhooks.handle('upi', { headers: { 'x-razorpay-signature': attempt.signature, 'x-razorpay-event-id': 'forged-1' }, rawBody: new TextEncoder().encode(attempt.body) });
      await expect(handled).rejects.toSatisfy((e: unknown) => TenderError.isInstance(e) && e.type === 'webhook_signature_error');
    }
    // Over HTTP too: the receiver answers 400.
    const res = await fetch(main.receiver.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-razorpay-signature': originalSignature, 'x-razorpay-event-id': 'forged-2' }, body: forgedBody });
    expect(res.status).toBe(400);
    expect((await main.tender.payments.get(victim.id)).status).toBe('REQUIRES_ACTION');
  });

  it('rotation window: events signed with the previous secret and with the new one are both accepted; without the previous secret the old ones are refused', async () => {
    main.sandbox.webhooks.hold();
    const first = await create(main.tender, '40.00');
    main.sandbox.approve(first.gatewayReference!);
    // Rotated on the dashboard: later events are signed with the new secret; the held ones keep the old.
    main.sandbox.webhooks.rotateSecret(NEW_SECRET);
    const second = await create(main.tender, '41.00');
    main.sandbox.approve(second.gatewayReference!);
    const released = main.sandbox.webhooks.release();
    expect(new Set(released.map((e) => e.secret))).toEqual(new Set([OLD_SECRET, NEW_SECRET]));
    await main.sandbox.webhooks.idle();
    expect((await main.tender.payments.get(first.id)).status).toBe('CAPTURED');
    expect((await main.tender.payments.get(second.id)).status).toBe('CAPTURED');

    const strict = await rig({ gatewaySecrets: { webhookSecret: NEW_SECRET } });
    try {
      const old = released.find((e) => e.secret === OLD_SECRET)!;
      const { computeRazorpayWebhookSignature } = await import('@tender/upi');
      const headers = { 'x-razorpay-signature': computeRazorpayWebhookSignature(old.body, OLD_SECRET), 'x-razorpay-event-id': old.id };
      await expect(strict.tender.webhooks.handle('upi', { headers, rawBody: new TextEncoder().encode(old.body) })).rejects.toMatchObject({ type: 'webhook_signature_error', code: 'signature_mismatch' });
      expect(() => main.gateway.verifyWebhook({ headers, rawBody: new TextEncoder().encode(old.body) })).not.toThrow();
    } finally {
      await strict.close();
    }
    main.sandbox.webhooks.rotateSecret(OLD_SECRET);
  });
});

describe('capture, cancel, refunds', () => {
  it('manual capture: AUTHORIZED by webhook, then captured with amount and currency', async () => {
    const payment = await create(main.tender, '80.00', { captureMethod: 'manual' });
    main.sandbox.approve(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'AUTHORIZED');
    expect(razorpayPayment(main, payment).status).toBe('authorized');
    await expect(main.tender.payments.cancel(payment.id)).rejects.toMatchObject({ code: 'cancel_not_supported' });
    const captured = await main.tender.payments.capture(payment.id);
    expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: '80.00' });
    expect(razorpayPayment(main, payment)).toMatchObject({ status: 'captured', captured: true });
    await expect(main.tender.payments.capture(payment.id)).rejects.toMatchObject({ status: 409 });
  });

  it('cancel of an unpaid intent is local (nothing to void at Razorpay); a late payment is recorded and given back', async () => {
    const payment = await create(main.tender, '20.00');
    const before = main.sandbox.requests.length;
    expect((await main.tender.payments.cancel(payment.id)).status).toBe('CANCELLED');
    expect(main.sandbox.requests.length).toBe(before);
    // The link stays payable at Razorpay until it expires: the payer pays anyway.
    main.sandbox.approve(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'REFUNDED');
    expect(await statusesOf(main, payment.id)).toEqual(expect.arrayContaining(['CANCELLED', 'CAPTURED', 'REFUNDED']));
    expect(main.sandbox.account.paymentRefunds(payment.gatewayReference!).map((r) => r.amount)).toEqual([2000]);
  });

  it('concurrent refunds over the captured amount: only what fits succeeds, at Tender and at Razorpay', async () => {
    const payment = await create(main.tender, '100.00');
    main.sandbox.approve(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'CAPTURED');
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => main.tender.payments.refund(payment.id, { amount: '40.00' })));
    const ok = outcomes.filter((o) => o.status === 'fulfilled');
    expect(ok).toHaveLength(2);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'amount_too_large' });
    const razorpayRefunds = main.sandbox.account.paymentRefunds(payment.gatewayReference!);
    expect(razorpayRefunds.map((r) => r.amount)).toEqual([4000, 4000]);
    // Each refund carries an X-Refund-Idempotency derived from the engine's key and Tender's ids in notes.
    for (const r of razorpayRefunds) expect(r.notes).toMatchObject({ tender_payment_id: payment.id });
    await waitFor(main, async () => (await main.tender.refunds.list(payment.id)).every((r) => r.status === 'SUCCEEDED'));
    expect(await main.tender.payments.get(payment.id)).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountRefunded: '80.00' });
  });

  it("Razorpay refuses what does not fit even when the engine is bypassed; one idempotency key makes one refund", async () => {
    const payment = await create(main.tender, '100.00');
    main.sandbox.approve(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'CAPTURED');
    const input = (refundId: string, amount: string) => ({ refundId, paymentId: payment.id, gatewayReference: payment.gatewayReference!, amount: Money.of(amount, 'INR'), capturedAmount: Money.of('100.00', 'INR'), reason: null, gatewayData: {} });
    const results = await Promise.allSettled([0, 1, 2].map((i) => main.gateway.refund(input(`re_direct_${i}`, '40.00'), { idempotencyKey: `direct-${i}`, now: new Date() })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ type: 'invalid_request_error', code: 'amount_too_large', param: 'amount' });

    const i = results.findIndex((r) => r.status === 'fulfilled');
    const first = (results[i] as PromiseFulfilledResult<{ gatewayReference: string | null }>).value;
    const again = await main.gateway.refund(input(`re_direct_${i}`, '40.00'), { idempotencyKey: `direct-${i}`, now: new Date() });
    expect(again.gatewayReference).toBe(first.gatewayReference);
    expect(main.sandbox.account.paymentRefunds(payment.gatewayReference!)).toHaveLength(2);
    await expect(main.gateway.refund(input(`re_direct_${i}`, '10.00'), { idempotencyKey: `direct-${i}`, now: new Date() })).rejects.toMatchObject({ type: 'idempotency_error' });
    expect(refundIdempotencyKey('direct-0')).toMatch(/^[A-Za-z0-9_-]{10,}$/);
  });

  it('retrieve syncs a refund made in the Razorpay dashboard; retrieveRefund finds refunds by id or Tender id', async () => {
    const payment = await create(main.tender, '60.00');
    main.sandbox.approve(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'CAPTURED');
    const refund = await main.tender.payments.refund(payment.id, { amount: '10.00' });
    const ctx = { idempotencyKey: 'rr', now: new Date() };
    const base = { refundId: refund.id, paymentId: payment.id, paymentGatewayReference: payment.gatewayReference, amount: Money.of('10.00', 'INR') };
    expect(await main.gateway.retrieveRefund!({ ...base, gatewayReference: refund.gatewayReference }, ctx)).toMatchObject({ refundId: refund.id, gatewayReference: refund.gatewayReference });
    expect(await main.gateway.retrieveRefund!({ ...base, gatewayReference: null }, ctx)).toMatchObject({ refundId: refund.id });
    await expect(main.gateway.retrieveRefund!({ ...base, refundId: 're_unknown', gatewayReference: null }, ctx)).rejects.toMatchObject({ type: 'not_found_error' });

    main.sandbox.account.refund(payment.gatewayReference!, { amount: 1500 }, null);
    await waitFor(main, async () => (await main.tender.refunds.list(payment.id)).length === 2);
    const refunds = await main.tender.refunds.list(payment.id);
    expect(refunds.map((r) => r.amount).sort()).toEqual(['10.00', '15.00']);
    const result = await main.gateway.retrieve({ paymentId: payment.id, orderId: payment.orderId, gatewayReference: payment.gatewayReference, amount: Money.of('60.00', 'INR'), gatewayData: {} }, ctx);
    expect(result).toMatchObject({ status: 'PARTIALLY_REFUNDED' });
    expect(result.refunds).toHaveLength(2);
  });

  it('a refund that fails later (refund.failed) gives its amount back to the payment', async () => {
    const payment = await create(main.tender, '45.00');
    main.sandbox.approve(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'CAPTURED');
    // Made on the dashboard (no automatic settlement), then failed by the bank.
    const { refund } = main.sandbox.account.refund(payment.gatewayReference!, { amount: 4500 }, null);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'REFUNDED');
    main.sandbox.settleRefund(refund.id, 'failed');
    await waitFor(main, async () => (await main.tender.refunds.list(payment.id)).every((r) => r.status === 'FAILED'));
    expect(await main.tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', amountRefunded: '0.00' });
    expect((await main.tender.refunds.list(payment.id))[0]).toMatchObject({ gatewayReference: refund.id, failure: { code: 'refund_failed' } });
  });

  it('a dispute is a note on the payment trail', async () => {
    const payment = await create(main.tender, '33.00');
    main.sandbox.approve(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'CAPTURED');
    main.sandbox.account.dispute(payment.gatewayReference!, 'fraud');
    await main.sandbox.webhooks.idle();
    expect(JSON.stringify(await main.tender.transitions(payment.id))).toContain('payment.dispute.created');
  });
});

describe('unknown outcomes and expiry', () => {
  it('a lost create answer leaves PROCESSING; the reconciler finds the payment by receipt and Razorpay settles it', async () => {
    main.sandbox.faults.add({ kind: 'drop', match: /^POST \/v1\/payments\/create\/upi$/ });
    const payment = await create(main.tender, '77.00');
    expect(payment.status).toBe('PROCESSING');
    expect(payment.gatewayReference).toBeNull();
    const orders = main.sandbox.account.listOrders(new URLSearchParams({ receipt: payment.id }));
    expect(orders).toHaveLength(1);
    const [lost] = main.sandbox.account.orderPayments(orders[0]!.id);
    await main.tender.reconcile({ processingAfterMs: 0 });
    // Unpaid, with no link Tender could show: it waits for Razorpay.
    expect((await main.tender.payments.get(payment.id)).status).toBe('PROCESSING');
    main.sandbox.approve(lost!.id);
    await main.sandbox.webhooks.idle();
    await main.tender.reconcile({ processingAfterMs: 0 });
    expect(await main.tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', gatewayReference: lost!.id, amountCaptured: '77.00' });
  });

  it('expiry: the reconciler expires an unpaid intent once expiresAt has passed; a late success still captures', async () => {
    const clock = new FakeClock(new Date());
    const r = await rig({ clock });
    try {
      const payment = await create(r.tender, '55.00');
      const expiresAt = Date.parse((payment.nextAction as { expiresAt: string }).expiresAt);
      expect(expiresAt - clock.now().getTime()).toBe(5 * 60_000);
      clock.advance(60_000);
      await r.tender.reconcile();
      expect((await r.tender.payments.get(payment.id)).status).toBe('REQUIRES_ACTION');
      clock.advance(5 * 60_000);
      const report = await r.tender.reconcile();
      expect(report.expired).toBe(1);
      expect(await r.tender.payments.get(payment.id)).toMatchObject({ status: 'EXPIRED', nextAction: null });
      // The payer's app still completes it (Razorpay had not expired it yet): money moved, so it is recorded.
      r.sandbox.approve(payment.gatewayReference!);
      await waitFor(r, async () => (await r.tender.payments.get(payment.id)).status === 'CAPTURED');
      expect(await statusesOf(r, payment.id)).toEqual(expect.arrayContaining(['EXPIRED', 'CAPTURED']));
    } finally {
      await r.close();
    }
  });

  it("Razorpay's own expiry fails the payment (payment_timed_out); a later approval still captures", async () => {
    const payment = await create(main.tender, '56.00');
    main.sandbox.expire(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'FAILED');
    expect((await main.tender.payments.get(payment.id)).failure).toMatchObject({ code: 'payment_timed_out' });
    main.sandbox.approve(payment.gatewayReference!);
    await waitFor(main, async () => (await main.tender.payments.get(payment.id)).status === 'CAPTURED');
  });
});
