/**
 * Disputes through the engine, the Stripe gateway and the sandbox over loopback: the sandbox opens,
 * updates and closes disputes and sends Stripe's signed `charge.dispute.*` events, which the engine
 * records as Tender disputes bound to the payment through the dispute's `payment_intent`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, type OutboxEvent, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createStripeGateway, type StripeGateway } from '@tender/stripe';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';

const webhookSecret = 'whsec_dispute_tests';
let sandbox: StripeSandbox;
let receiver: Server;
let gateway: StripeGateway;
let tender: Tender;
const acks: number[] = [];
const events: OutboxEvent[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      tender.webhooks.handle('stripe', { headers: req.headers as Record<string, string>, rawBody: new Uint8Array(Buffer.concat(chunks)) }).then(
        (ack) => {
          acks.push(ack.status);
          res.writeHead(ack.status, ack.headers ?? {}).end(ack.body);
        },
        (error: { status?: number; message?: string }) => {
          acks.push(error.status ?? 500);
          res.writeHead(error.status ?? 500).end(String(error.message));
        },
      );
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  sandbox = await startStripeSandbox({ webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`, secret: webhookSecret, retryDelayMs: 10 } });
  gateway = createStripeGateway({ secretKey: sandbox.secretKey, webhookSecret, baseUrl: sandbox.url, transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }) });
  tender = createTender({ gateways: [gateway], store: new MemoryStore() });
  tender.events.on((event) => events.push(event));
});

afterEach(async () => {
  await sandbox.webhooks.idle();
  Object.assign(sandbox.webhooks.faults, { duplicate: 0, delayMs: 0, dropNext: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
  await new Promise((r) => receiver?.close(r));
});

const capturedPayment = async (amount: string) => {
  const payment = await tender.payments.create({ amount, currency: 'USD', paymentMethod: 'pm_card_visa', gateway: 'stripe', orderId: `ORD-${Math.random().toString(36).slice(2)}` });
  expect(payment.status).toBe('CAPTURED');
  await sandbox.webhooks.idle();
  return payment;
};

const disputeOf = async (paymentId: string) => {
  const disputes = await tender.disputes.listForPayment(paymentId);
  expect(disputes).toHaveLength(1);
  return disputes[0]!;
};

describe('Stripe disputes through the engine', () => {
  it('a chargeback: needs_response -> under_review -> won, amount held, payment stays CAPTURED, trail and events', async () => {
    const payment = await capturedPayment('40.00');
    const opened = sandbox.account.createDispute(payment.gatewayReference!, 'fraudulent', { amount: 2500 });
    await sandbox.webhooks.idle();
    const first = await disputeOf(payment.id);
    expect(first).toMatchObject({
      merchantId: payment.merchantId,
      gateway: 'stripe',
      gatewayReference: opened.id,
      status: 'needs_response',
      gatewayStatus: 'needs_response',
      amount: '25.00',
      currency: 'USD',
      reason: 'fraudulent',
      closedAt: null,
    });
    expect(first.id).toMatch(/^dp_[0-9A-Z]{28}$/);
    expect(first.evidenceDueBy).toBe(new Date(Number((opened.evidence_details as { due_by: number }).due_by) * 1000).toISOString());

    sandbox.account.updateDispute(String(opened.id), 'under_review');
    await sandbox.webhooks.idle();
    expect((await tender.disputes.get(first.id)).status).toBe('under_review');
    sandbox.account.updateDispute(String(opened.id), 'won');
    await sandbox.webhooks.idle();

    const won = await tender.disputes.get(first.id);
    expect(won).toMatchObject({ status: 'won', amount: '25.00' });
    expect(won.closedAt).not.toBeNull();
    expect(acks.every((s) => s === 200)).toBe(true);
    // Where the money is: the charge still succeeded at Stripe; the dispute says what was held.
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
    const trail = await tender.disputes.transitions(first.id);
    expect(trail.map((t) => [t.from, t.to])).toEqual([
      [null, 'needs_response'],
      ['needs_response', 'under_review'],
      ['under_review', 'won'],
    ]);
    expect(trail[0]!.reason).toContain('charge.dispute.created');
    const paymentTrail = await tender.transitions(payment.id);
    expect(paymentTrail.filter((t) => t.reason.includes(first.id)).map((t) => t.to)).toEqual(['CAPTURED', 'CAPTURED', 'CAPTURED']);
    const types = events.filter((e) => (e.data as { id?: string }).id === first.id).map((e) => e.type);
    expect(types).toEqual(['dispute.created', 'dispute.updated', 'dispute.closed']);
  });

  it('an inquiry that escalates to a chargeback and is lost', async () => {
    const payment = await capturedPayment('12.00');
    const opened = sandbox.account.createDispute(payment.gatewayReference!, 'product_not_received', { inquiry: true });
    await sandbox.webhooks.idle();
    expect((await disputeOf(payment.id)).status).toBe('warning_needs_response');
    sandbox.account.updateDispute(String(opened.id), 'needs_response');
    sandbox.account.updateDispute(String(opened.id), 'lost');
    await sandbox.webhooks.idle();
    const lost = await disputeOf(payment.id);
    expect(lost).toMatchObject({ status: 'lost', amount: '12.00', reason: 'product_not_received' });
    expect((await tender.disputes.transitions(lost.id)).map((t) => t.to)).toEqual(['warning_needs_response', 'needs_response', 'lost']);
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
  });

  it('duplicated, reversed and shuffled deliveries end in the same state: a won dispute never goes back', async () => {
    const payment = await capturedPayment('30.00');
    sandbox.webhooks.hold();
    const opened = sandbox.account.createDispute(payment.gatewayReference!);
    sandbox.account.updateDispute(String(opened.id), 'under_review');
    sandbox.account.updateDispute(String(opened.id), 'won');
    sandbox.webhooks.faults.duplicate = 1;
    const released = sandbox.webhooks.release({ order: 'reverse' });
    expect(released.map((e) => e.type)).toEqual(['charge.dispute.funds_reinstated', 'charge.dispute.closed', 'charge.dispute.updated', 'charge.dispute.funds_withdrawn', 'charge.dispute.created']);
    await sandbox.webhooks.idle();
    // And once more in another order: each a duplicate now.
    for (const index of [2, 4, 0, 3, 1]) sandbox.webhooks.redeliver(released[index]!);
    await sandbox.webhooks.idle();
    const dispute = await disputeOf(payment.id);
    expect(dispute).toMatchObject({ status: 'won', amount: '30.00', gatewayReference: opened.id });
    expect((await tender.disputes.transitions(dispute.id)).map((t) => t.to)).toEqual(['won']);
    expect(events.filter((e) => (e.data as { id?: string }).id === dispute.id).map((e) => e.type)).toEqual(['dispute.created', 'dispute.closed']);
  });

  it("over Stripe's API: evidence submitted (POST /v1/disputes/:id) then another dispute accepted (POST /v1/disputes/:id/close) is lost", async () => {
    const api = async (method: string, path: string, form: Record<string, string> = {}) => {
      const response = await fetch(`${sandbox.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${sandbox.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
        ...(method === 'POST' ? { body: new URLSearchParams(form).toString() } : {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    const answered = await capturedPayment('18.00');
    const accepted = await capturedPayment('19.00');
    const first = sandbox.account.createDispute(answered.gatewayReference!);
    const second = sandbox.account.createDispute(accepted.gatewayReference!);
    const submitted = await api('POST', `/v1/disputes/${String(first.id)}`, { 'evidence[uncategorized_text]': 'Delivered, signed for' });
    expect(submitted).toMatchObject({ status: 200, body: { id: first.id, status: 'under_review' } });
    const closed = await api('POST', `/v1/disputes/${String(second.id)}/close`);
    expect(closed).toMatchObject({ status: 200, body: { id: second.id, status: 'lost' } });
    expect((await api('POST', `/v1/disputes/${String(second.id)}/close`)).status).toBe(400);
    expect((await api('GET', `/v1/disputes?payment_intent=${accepted.gatewayReference!}`)).body.data.map((d: { id: string }) => d.id)).toEqual([second.id]);
    await sandbox.webhooks.idle();
    expect((await disputeOf(answered.id)).status).toBe('under_review');
    expect(await disputeOf(accepted.id)).toMatchObject({ status: 'lost', amount: '19.00' });
    expect((await tender.payments.get(accepted.id)).status).toBe('CAPTURED');
  });

  it("another merchant's dispute and payment are 404s; lists are the merchant's own", async () => {
    const payment = await capturedPayment('9.00');
    sandbox.account.createDispute(payment.gatewayReference!);
    await sandbox.webhooks.idle();
    const dispute = await disputeOf(payment.id);
    await expect(tender.disputes.get(dispute.id, { merchantId: 'someone_else' })).rejects.toMatchObject({ status: 404, code: 'resource_missing' });
    await expect(tender.disputes.transitions(dispute.id, { merchantId: 'someone_else' })).rejects.toMatchObject({ status: 404 });
    await expect(tender.disputes.listForPayment(payment.id, { merchantId: 'someone_else' })).rejects.toMatchObject({ status: 404 });
    expect(await tender.disputes.list({ merchantId: 'someone_else' })).toEqual({ data: [], hasMore: false, nextCursor: null });
    const mine = await tender.disputes.list({ limit: 100 });
    expect(mine.data.map((d) => d.id)).toContain(dispute.id);
    expect((await tender.disputes.list({ status: 'needs_response' })).data.map((d) => d.id)).toContain(dispute.id);
    const first = await tender.disputes.list({ limit: 1 });
    expect(first).toMatchObject({ hasMore: true, nextCursor: first.data[0]!.id });
    const second = await tender.disputes.list({ limit: 1, startingAfter: first.nextCursor! });
    expect(second.data[0]!.id).not.toBe(first.data[0]!.id);
    await expect(tender.disputes.list({ limit: 0 })).rejects.toMatchObject({ status: 400, code: 'invalid_limit' });
    await expect(tender.disputes.list({ status: 'open' as never })).rejects.toMatchObject({ status: 400, code: 'invalid_status', param: 'status' });
  });
});
