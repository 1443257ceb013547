/** The sandbox on its own, over HTTP: auth, the UPI app page, faults, expiry and bounded retention. */
import { afterEach, describe, expect, it } from 'vitest';
import { startRazorpaySandbox, type RazorpaySandbox } from '@tender/upi/sandbox';
import { startReceiver, type Receiver } from './helpers';

let sandbox: RazorpaySandbox | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await sandbox?.close();
  await receiver?.close();
  sandbox = receiver = undefined;
});

const auth = (s: RazorpaySandbox, secret = s.keySecret) => `Basic ${Buffer.from(`${s.keyId}:${secret}`).toString('base64')}`;
const post = (s: RazorpaySandbox, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.url}${path}`, { method: 'POST', headers: { authorization: auth(s), 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const payer = { email: 'p@example.com', contact: '9123456789', ip: '127.0.0.1', referer: 'https://x.example/', user_agent: 'ua' };

async function intent(s: RazorpaySandbox, amount = 1000, expiry = 5) {
  const order = (await (await post(s, '/v1/orders', { amount, currency: 'INR' })).json()) as { id: string };
  return (await (await post(s, '/v1/payments/create/upi', { amount, currency: 'INR', order_id: order.id, method: 'upi', ...payer, upi: { flow: 'intent', expiry_time: expiry } })).json()) as { razorpay_payment_id: string; link: string };
}

describe('Razorpay sandbox', () => {
  it("refuses a missing or wrong key with 401 in Razorpay's envelope", async () => {
    sandbox = await startRazorpaySandbox();
    for (const authorization of ['', auth(sandbox, 'nope'), `Bearer ${sandbox.keySecret}`]) {
      const res = await fetch(`${sandbox.url}/v1/orders`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: '{"amount":1000}' });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 'BAD_REQUEST_ERROR', description: 'The api key provided is invalid' } });
    }
    expect(sandbox.account.orders.size).toBe(0);
  });

  it('the UPI app page shows the payment and its buttons; declining there fails it and sends payment.failed', async () => {
    receiver = await startReceiver();
    sandbox = await startRazorpaySandbox({ webhook: { url: receiver.url } });
    const { razorpay_payment_id: id, link } = await intent(sandbox, 12345);
    const html = await (await fetch(sandbox.upiAppUrl(id))).text();
    expect(html).toContain('₹123.45');
    expect(html).toContain('id="approve"');
    expect(html).toContain('id="decline"');
    expect(html).toContain(link.replace(/&/g, '&#38;'));
    const declined = await fetch(sandbox.upiAppUrl(id), { method: 'POST', body: new URLSearchParams({ action: 'decline' }) });
    expect(await declined.text()).toContain('<strong id="status">failed</strong>');
    expect(sandbox.account.payment(id)).toMatchObject({ status: 'failed', error_code: 'BAD_REQUEST_ERROR', error_reason: 'payment_declined', error_source: 'customer' });
    expect((await fetch(sandbox.upiAppUrl(id), { method: 'POST', body: new URLSearchParams({ action: 'decline' }) })).status).toBe(409);
    expect((await fetch(sandbox.upiAppUrl('pay_nope'))).status).toBe(404);
    await sandbox.webhooks.idle();
    expect(receiver.received.map((r) => JSON.parse(r.body.toString()).event)).toEqual(['payment.failed']);
  });

  it("expires an unpaid payment once its expiry_time has passed (the sandbox's clock)", async () => {
    let now = Date.parse('2026-03-01T10:00:00Z');
    receiver = await startReceiver();
    sandbox = await startRazorpaySandbox({ now: () => now, webhook: { url: receiver.url }, delays: { expirySweepMs: 5 } });
    const { razorpay_payment_id: id } = await intent(sandbox, 1000, 2);
    now += 60_000;
    await new Promise((r) => setTimeout(r, 30));
    expect(sandbox.account.payment(id).status).toBe('created');
    now += 61_000;
    await expect.poll(() => sandbox!.account.payment(id).status, { interval: 5, timeout: 2000 }).toBe('failed');
    expect(sandbox.account.payment(id)).toMatchObject({ error_reason: 'payment_timed_out', error_description: 'Payment was not completed on time.' });
    await sandbox.webhooks.idle();
    const body = JSON.parse(receiver.received[0]!.body.toString());
    expect(body).toMatchObject({ entity: 'event', event: 'payment.failed', contains: ['payment'], payload: { payment: { entity: { id, status: 'failed' } } } });
  });

  it('collect requests to the test VPAs answer themselves: success@razorpay approves, failure@razorpay declines', async () => {
    sandbox = await startRazorpaySandbox({ delays: { collectAutoMs: 5 } });
    const ids: Record<string, string> = {};
    for (const vpa of ['success@razorpay', 'failure@razorpay', 'someone@okaxis']) {
      const order = (await (await post(sandbox, '/v1/orders', { amount: 1000, currency: 'INR' })).json()) as { id: string };
      const res = (await (await post(sandbox, '/v1/payments/create/upi', { amount: 1000, currency: 'INR', order_id: order.id, method: 'upi', ...payer, upi: { flow: 'collect', vpa } })).json()) as { razorpay_payment_id: string };
      ids[vpa] = res.razorpay_payment_id;
    }
    await expect.poll(() => sandbox!.account.payment(ids['success@razorpay']!).status, { interval: 5, timeout: 2000 }).toBe('captured');
    await expect.poll(() => sandbox!.account.payment(ids['failure@razorpay']!).status, { interval: 5, timeout: 2000 }).toBe('failed');
    expect(sandbox.account.payment(ids['someone@okaxis']!).status).toBe('created');
  });

  it('a dropped answer still ran the endpoint; X-Refund-Idempotency replays and refuses a changed body', async () => {
    sandbox = await startRazorpaySandbox({ delays: { refundSettleMs: null } });
    sandbox.faults.add({ kind: 'drop', match: /^POST \/v1\/orders$/ });
    await expect(post(sandbox, '/v1/orders', { amount: 1000, currency: 'INR' })).rejects.toThrow();
    expect(sandbox.account.orders.size).toBe(1);
    const { razorpay_payment_id: id } = await intent(sandbox, 5000);
    sandbox.approve(id);
    const key = { 'x-refund-idempotency': 'tender-key-0000000001' };
    const a = (await (await post(sandbox, `/v1/payments/${id}/refund`, { amount: 1000 }, key)).json()) as { id: string };
    const b = (await (await post(sandbox, `/v1/payments/${id}/refund`, { amount: 1000 }, key)).json()) as { id: string };
    expect(b.id).toBe(a.id);
    const changed = await post(sandbox, `/v1/payments/${id}/refund`, { amount: 2000 }, key);
    expect(changed.status).toBe(400);
    expect(await changed.json()).toMatchObject({ error: { description: 'Different request with the same idempotency key has already been processed.' } });
    expect((await post(sandbox, `/v1/payments/${id}/refund`, { amount: 1000 }, { 'x-refund-idempotency': 'short' })).status).toBe(400);
    expect(sandbox.account.paymentRefunds(id)).toHaveLength(1);
    expect(sandbox.account.payment(id)).toMatchObject({ amount_refunded: 1000, refund_status: 'partial' });
  });

  it('retention is bounded: the oldest objects are forgotten first', async () => {
    sandbox = await startRazorpaySandbox({ retention: { objects: 3, requests: 4 } });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(((await (await post(sandbox, '/v1/orders', { amount: 1000, currency: 'INR', receipt: `r${i}` })).json()) as { id: string }).id);
    expect([...sandbox.account.orders.keys()]).toEqual(ids.slice(3));
    expect(sandbox.requests.length).toBeLessThanOrEqual(8);
    const gone = await fetch(`${sandbox.url}/v1/orders/${ids[0]}`, { headers: { authorization: auth(sandbox) } });
    expect(gone.status).toBe(400);
    await expect(startRazorpaySandbox({ retention: { objects: 0 } })).rejects.toThrow(RangeError);
  });
});
