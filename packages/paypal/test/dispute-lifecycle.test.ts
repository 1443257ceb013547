/**
 * PayPal disputes through the engine, the gateway and the sandbox over loopback: the sandbox's signed
 * `CUSTOMER.DISPUTE.*` events become Tender disputes bound to the payment through the disputed
 * capture, which the gateway looks up over PayPal's API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTender, type OutboxEvent, type Payment, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import type { PayPalGateway } from '@tender/paypal';
import { approveOrder, startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { gatewayFor, waitFor } from './helpers';

let sandbox: PayPalSandbox;
let receiver: Server;
let gateway: PayPalGateway;
let tender: Tender;
const acks: number[] = [];
const events: OutboxEvent[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      tender.webhooks.handle('paypal', { headers: req.headers as Record<string, string>, rawBody: new Uint8Array(Buffer.concat(chunks)) }).then(
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
  sandbox = await startPayPalSandbox({ webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/paypal`, retryDelayMs: 10 } });
  gateway = gatewayFor(sandbox);
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

/** A CAPTURED PayPal payment and its capture id. */
async function captured(amount: string): Promise<{ payment: Payment; captureId: string }> {
  const payment = await tender.payments.create({ amount, currency: 'USD', paymentMethod: 'paypal', gateway: 'paypal', orderId: `ORD-${Math.random().toString(36).slice(2)}`, returnUrl: 'https://shop.example/return' });
  await approveOrder((payment.nextAction as { url: string }).url);
  await waitFor(async () => (await tender.payments.get(payment.id)).status === 'CAPTURED', sandbox);
  await sandbox.webhooks.idle();
  return { payment, captureId: sandbox.account.orders.get(payment.gatewayReference!)!.captureIds[0]! };
}

const only = async (paymentId: string) => {
  const disputes = await tender.disputes.listForPayment(paymentId);
  expect(disputes).toHaveLength(1);
  return disputes[0]!;
};

describe('PayPal disputes through the engine', () => {
  it('an inquiry escalated to a chargeback, answered and won; the payment stays CAPTURED', async () => {
    const { payment, captureId } = await captured('45.00');
    const opened = sandbox.account.dispute(captureId);
    await sandbox.webhooks.idle();
    const inquiry = await only(payment.id);
    expect(inquiry).toMatchObject({ gatewayReference: opened.dispute_id, status: 'warning_needs_response', gatewayStatus: 'OPEN/INQUIRY', amount: '45.00', currency: 'USD', reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED' });
    expect(inquiry.evidenceDueBy).toBe(opened.seller_response_due_date);

    sandbox.account.updateDispute(String(opened.dispute_id), 'WAITING_FOR_SELLER_RESPONSE', 'CHARGEBACK');
    sandbox.account.updateDispute(String(opened.dispute_id), 'UNDER_REVIEW');
    sandbox.account.resolveDispute(String(opened.dispute_id), 'RESOLVED_SELLER_FAVOUR');
    await sandbox.webhooks.idle();

    const won = await only(payment.id);
    expect(won).toMatchObject({ status: 'won', gatewayStatus: 'RESOLVED/CHARGEBACK/RESOLVED_SELLER_FAVOUR' });
    expect(won.closedAt).not.toBeNull();
    expect((await tender.disputes.transitions(won.id)).map((t) => t.to)).toEqual(['warning_needs_response', 'needs_response', 'under_review', 'won']);
    expect(events.filter((e) => (e.data as { id?: string }).id === won.id).map((e) => e.type)).toEqual(['dispute.created', 'dispute.updated', 'dispute.updated', 'dispute.closed']);
    expect((await tender.payments.get(payment.id)).status).toBe('CAPTURED');
    expect(acks.every((s) => s === 200)).toBe(true);
  });

  it('a chargeback lost, and one the seller accepted: money gone, recorded as lost / accepted', async () => {
    const a = await captured('10.00');
    const b = await captured('11.00');
    const lost = sandbox.account.dispute(a.captureId, 'UNAUTHORISED', 'CHARGEBACK');
    const accepted = sandbox.account.dispute(b.captureId, 'PRODUCT_NOT_AS_DESCRIBED', 'CHARGEBACK');
    sandbox.account.resolveDispute(String(lost.dispute_id), 'RESOLVED_BUYER_FAVOUR');
    sandbox.account.resolveDispute(String(accepted.dispute_id), 'ACCEPTED');
    await sandbox.webhooks.idle();
    expect(await only(a.payment.id)).toMatchObject({ status: 'lost', amount: '10.00' });
    expect(await only(b.payment.id)).toMatchObject({ status: 'accepted', amount: '11.00' });
    expect((await tender.payments.get(a.payment.id)).status).toBe('CAPTURED');
  });

  it('duplicated and reversed deliveries end resolved; a late update does not reopen it', async () => {
    const { payment, captureId } = await captured('20.00');
    sandbox.webhooks.hold();
    const opened = sandbox.account.dispute(captureId, 'UNAUTHORISED', 'CHARGEBACK');
    sandbox.account.updateDispute(String(opened.dispute_id), 'UNDER_REVIEW');
    sandbox.account.resolveDispute(String(opened.dispute_id), 'DENIED');
    sandbox.webhooks.faults.duplicate = 2;
    sandbox.webhooks.release({ order: 'reverse' });
    await sandbox.webhooks.idle();
    const dispute = await only(payment.id);
    expect(dispute.status).toBe('won');
    expect((await tender.disputes.transitions(dispute.id)).map((t) => t.to)).toEqual(['won']);
    await expect(tender.disputes.get(dispute.id, { merchantId: 'someone_else' })).rejects.toMatchObject({ status: 404, code: 'resource_missing' });
  });
});
