/**
 * The engine recording disputes on a PostgresStore (PGlite): a dispute's insert, update and trail
 * commit with the webhook's inbox record and the payment's trail entry in one transaction, so a
 * redelivery is a duplicate and older reports do not win. The gateway is core's TestGateway, whose
 * signed webhooks carry the dispute reports each test writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTender, hmacSha256, Money, type DisputeStatus, type GatewayV1, type OutboxEvent, type Tender, type WebhookEvent } from '@tender/core';
import { createTestGateway } from '@tender/core/testing';
import { createPGliteStore, type PostgresStore } from '@tender/store-postgres';

const SECRET = 'whsec_dispute_pglite';
let store: PostgresStore;
let tender: Tender;
const events: OutboxEvent[] = [];

interface Report {
  eventId: string;
  paymentReference: string;
  dispute: string;
  status: DisputeStatus;
  at: string;
}

beforeAll(async () => {
  const base = createTestGateway({ id: 'disp', webhookSecret: SECRET });
  const gateway: GatewayV1 = {
    ...base,
    parseWebhook(request) {
      const r = JSON.parse(new TextDecoder().decode(request.rawBody)) as Report;
      const event: WebhookEvent = {
        kind: 'dispute',
        eventId: r.eventId,
        type: `dispute.${r.status}`,
        gatewayReference: r.paymentReference,
        dispute: { gatewayReference: r.dispute, status: r.status, gatewayStatus: r.status, amount: Money.of('4.20', 'USD'), reason: 'fraudulent', evidenceDueBy: '2026-03-08T00:00:00.000Z', openedAt: '2026-03-01T00:00:00.000Z', reportedAt: r.at },
      };
      return { events: [event], acknowledgement: { status: 200, body: 'ok' } };
    },
  };
  store = await createPGliteStore();
  tender = createTender({ gateways: [gateway], store });
  tender.events.on((e) => events.push(e));
});
afterAll(async () => {
  await store?.close();
});

const deliver = (report: Report) => {
  const rawBody = new TextEncoder().encode(JSON.stringify(report));
  return tender.webhooks.handle('disp', { headers: { 'x-test-signature': hmacSha256(SECRET, rawBody) }, rawBody });
};
const T = (minute: number) => new Date(Date.UTC(2026, 2, 1, 0, minute)).toISOString();

describe('disputes through the engine on PGlite', () => {
  it('opened, duplicated, reviewed, won; a late report does not go back; the payment stays CAPTURED', async () => {
    const p = await tender.payments.create({ amount: '10.00', currency: 'USD', paymentMethod: 'card', gateway: 'disp', orderId: 'O-pg-1' });
    expect(p.status).toBe('CAPTURED');
    const ref = p.gatewayReference!;
    expect((await deliver({ eventId: 'e1', paymentReference: ref, dispute: 'D-PG', status: 'needs_response', at: T(1) })).outcomes[0]!.outcome).toBe('applied');
    expect((await deliver({ eventId: 'e1', paymentReference: ref, dispute: 'D-PG', status: 'needs_response', at: T(1) })).outcomes[0]!.outcome).toBe('duplicate');
    await deliver({ eventId: 'e3', paymentReference: ref, dispute: 'D-PG', status: 'won', at: T(3) });
    await deliver({ eventId: 'e2', paymentReference: ref, dispute: 'D-PG', status: 'under_review', at: T(2) });
    const [dispute] = await tender.disputes.listForPayment(p.id);
    expect(dispute).toMatchObject({ status: 'won', amount: '4.20', currency: 'USD', evidenceDueBy: '2026-03-08T00:00:00.000Z', syncedAt: T(3), version: 2 });
    expect(dispute!.closedAt).not.toBeNull();
    expect((await tender.disputes.transitions(dispute!.id)).map((t) => [t.from, t.to])).toEqual([
      [null, 'needs_response'],
      ['needs_response', 'won'],
    ]);
    const trail = await tender.transitions(p.id);
    expect(trail.filter((t) => t.reason.includes(dispute!.id)).map((t) => t.to)).toEqual(['CAPTURED', 'CAPTURED']);
    expect((await tender.payments.get(p.id)).status).toBe('CAPTURED');
    expect(events.filter((e) => e.type.startsWith('dispute.')).map((e) => e.type)).toEqual(['dispute.created', 'dispute.closed']);
    const stored = await store.getOutboxEvent(events.find((e) => e.type === 'dispute.closed')!.id);
    expect(stored).toMatchObject({ type: 'dispute.closed', paymentId: null, merchantId: p.merchantId });
    expect(await store.listDisputes({ merchantId: p.merchantId, from: T(0), to: T(60) })).toHaveLength(1);
  });
});
