/**
 * The engine's dispute rules without a real gateway: core's TestGateway (direct charges) whose
 * signed webhooks carry dispute reports as each test writes them, over a real MemoryStore. What the
 * gateway tests cannot plant: a report in another currency, a dispute reference already bound to
 * another payment, reports the gateway made out of order or in the same instant, a move out of a
 * final status, and a dispute of a payment Tender does not know.
 */
import { describe, expect, it } from 'vitest';
import { createTender, hmacSha256, Money, TenderError, type DisputeStatus, type GatewayV1, type OutboxEvent, type WebhookEvent, type WebhookRequest } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';

const SECRET = 'whsec_dispute_unit';

interface Report {
  eventId: string;
  paymentReference: string;
  dispute: string;
  status: DisputeStatus;
  amount?: string;
  currency?: string;
  at: string;
}

function setup() {
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
        dispute: { gatewayReference: r.dispute, status: r.status, gatewayStatus: r.status, amount: Money.of(r.amount ?? '10.00', r.currency ?? 'USD'), reason: 'fraudulent', evidenceDueBy: null, openedAt: '2026-03-01T00:00:00.000Z', reportedAt: r.at },
      };
      return { events: [event], acknowledgement: { status: 200, body: 'ok' } };
    },
  };
  const store = new MemoryStore();
  const tender = createTender({ gateways: [gateway], store });
  const events: OutboxEvent[] = [];
  tender.events.on((e) => events.push(e));
  let n = 0;
  const captured = async () => {
    const payment = await tender.payments.create({ amount: '10.00', currency: 'USD', paymentMethod: 'card', gateway: 'disp', orderId: `O-${++n}` });
    expect(payment.status).toBe('CAPTURED');
    return payment;
  };
  const deliver = (report: Report) => tender.webhooks.handle('disp', signed(report));
  return { tender, store, events, captured, deliver };
}

function signed(report: Report): WebhookRequest {
  const rawBody = new TextEncoder().encode(JSON.stringify(report));
  return { headers: { 'x-test-signature': hmacSha256(SECRET, rawBody) }, rawBody };
}

const T = (minute: number) => new Date(Date.UTC(2026, 2, 1, 0, minute)).toISOString();

describe('dispute reports in the engine', () => {
  it('records a dispute once per event; a redelivery is a duplicate', async () => {
    const { tender, captured, deliver, events } = setup();
    const p = await captured();
    const report: Report = { eventId: 'e1', paymentReference: p.gatewayReference!, dispute: 'D-1', status: 'needs_response', at: T(1) };
    expect((await deliver(report)).outcomes).toEqual([{ eventId: 'e1', outcome: 'applied' }]);
    expect((await deliver(report)).outcomes).toEqual([{ eventId: 'e1', outcome: 'duplicate' }]);
    const [dispute] = await tender.disputes.listForPayment(p.id);
    expect(dispute).toMatchObject({ status: 'needs_response', amount: '10.00', currency: 'USD', paymentId: p.id, merchantId: 'default', syncedAt: T(1), version: 1 });
    expect(events.filter((e) => e.type.startsWith('dispute.')).map((e) => e.type)).toEqual(['dispute.created']);
  });

  it('a report the gateway made earlier, or in the same instant but less far along, is not applied', async () => {
    const { tender, captured, deliver } = setup();
    const p = await captured();
    const ref = p.gatewayReference!;
    await deliver({ eventId: 'won', paymentReference: ref, dispute: 'D-2', status: 'won', at: T(5) });
    await deliver({ eventId: 'late', paymentReference: ref, dispute: 'D-2', status: 'under_review', at: T(3) });
    await deliver({ eventId: 'tie', paymentReference: ref, dispute: 'D-2', status: 'under_review', at: T(5) });
    const [dispute] = await tender.disputes.listForPayment(p.id);
    expect(dispute).toMatchObject({ status: 'won', syncedAt: T(5) });
    expect((await tender.disputes.transitions(dispute!.id)).map((t) => t.to)).toEqual(['won']);
  });

  it('a final status is not left, even by a newer report (the transition table)', async () => {
    const { tender, captured, deliver } = setup();
    const p = await captured();
    await deliver({ eventId: 'a', paymentReference: p.gatewayReference!, dispute: 'D-3', status: 'lost', at: T(1) });
    await deliver({ eventId: 'b', paymentReference: p.gatewayReference!, dispute: 'D-3', status: 'needs_response', at: T(9) });
    expect((await tender.disputes.listForPayment(p.id))[0]!.status).toBe('lost');
    expect((await tender.payments.get(p.id)).status).toBe('CAPTURED');
  });

  it('a report in another currency, or of a dispute stored with another payment, changes no dispute and is noted', async () => {
    const { tender, captured, deliver } = setup();
    const p = await captured();
    const q = await captured();
    await deliver({ eventId: 'cur', paymentReference: p.gatewayReference!, dispute: 'D-4', status: 'needs_response', amount: '10.00', currency: 'EUR', at: T(1) });
    expect(await tender.disputes.listForPayment(p.id)).toEqual([]);
    expect((await tender.transitions(p.id)).some((t) => t.reason.startsWith('dispute_mismatch'))).toBe(true);

    await deliver({ eventId: 'own', paymentReference: p.gatewayReference!, dispute: 'D-5', status: 'needs_response', at: T(1) });
    await deliver({ eventId: 'other', paymentReference: q.gatewayReference!, dispute: 'D-5', status: 'won', at: T(2) });
    expect((await tender.disputes.listForPayment(p.id))[0]!.status).toBe('needs_response');
    expect(await tender.disputes.listForPayment(q.id)).toEqual([]);
    expect((await tender.transitions(q.id)).some((t) => t.reason.startsWith('dispute_mismatch'))).toBe(true);
  });

  it('a dispute of a payment Tender does not know is a retryable 404 that records nothing', async () => {
    const { tender, deliver, store } = setup();
    const error = await deliver({ eventId: 'x', paymentReference: 'unknown_ref', dispute: 'D-6', status: 'needs_response', at: T(1) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(TenderError.isInstance(error) && error.code).toBe('unknown_payment');
    expect((error as TenderError).retryable).toBe(true);
    expect(await store.listDisputes({})).toEqual([]);
    await expect(tender.disputes.get('dp_nope')).rejects.toMatchObject({ status: 404, code: 'resource_missing' });
  });
});
