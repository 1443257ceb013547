import { describe, expect, it } from 'vitest';
import {
  PublishError,
  createBrokerEncoder,
  createOutboxRelay,
  createTender,
  type BrokerMessage,
  type EventPublisher,
  type OutboxEvent,
} from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway } from '@tender/core/testing';

/**
 * An in-process broker: the spec's contract (resolve only once taken), with a switch to refuse
 * messages. The real brokers are exercised in @tender/nats and @tender/rabbitmq.
 */
class RecordingBroker implements EventPublisher {
  readonly name = 'recording';
  readonly messages: BrokerMessage[] = [];
  down = false;
  refuse: (m: BrokerMessage) => boolean = () => false;
  async publish(message: BrokerMessage): Promise<void> {
    if (this.down) throw new PublishError('broker unreachable', { retryable: true });
    if (this.refuse(message)) throw new PublishError('message too large', { retryable: false });
    this.messages.push(message);
  }
  async close(): Promise<void> {}
  bodies(): Array<Record<string, unknown>> {
    return this.messages.map((m) => JSON.parse(new TextDecoder().decode(m.body)) as Record<string, unknown>);
  }
}

function setup() {
  const clock = new FakeClock();
  const store = new MemoryStore();
  const tender = createTender({ gateways: [createTestGateway({ flow: 'direct' })], store, clock });
  return { clock, store, tender };
}

const order = { amount: '100.50', currency: 'MYR', paymentMethod: 'card' };

async function drain(relay: { runOnce(): Promise<number> }): Promise<void> {
  while ((await relay.runOnce()) > 0);
}

describe('outbox relay', () => {
  it('publishes every event once, in order per payment, with the event id and the stored envelope', async () => {
    const { store, tender, clock } = setup();
    const events: OutboxEvent[] = [];
    tender.events.on((e) => events.push(e));
    const a = await tender.payments.create({ ...order, captureMethod: 'manual', orderId: 'A' });
    const b = await tender.payments.create({ ...order, orderId: 'B' });
    await tender.payments.capture(a.id);
    await tender.payments.refund(a.id, { amount: '10.00' });
    const broker = new RecordingBroker();
    // Two relays on one store, racing: each event is published by exactly one of them.
    const relays = [createOutboxRelay({ store, publisher: broker, clock }), createOutboxRelay({ store, publisher: broker, clock })];
    await Promise.all(relays.map(drain));
    expect(broker.messages.map((m) => m.id).sort()).toEqual(events.map((e) => e.id).sort());
    const ofA = broker.messages.filter((m) => m.key === a.id).map((m) => m.type);
    // The order the engine wrote them in (the refund's events and the payment's, interleaved).
    expect(ofA).toEqual(events.filter((e) => e.paymentId === a.id).map((e) => e.type));
    expect(ofA).toEqual(['payment.created', 'payment.authorized', 'payment.processing', 'payment.captured', 'refund.pending', 'payment.partially_refunded', 'refund.succeeded']);
    expect(broker.messages.filter((m) => m.key === b.id).map((m) => m.type)).toEqual(['payment.created', 'payment.captured']);
    const captured = broker.messages.find((m) => m.type === 'payment.captured' && m.key === a.id)!;
    expect(captured.headers).toMatchObject({ 'tender-event-version': '1', 'tender-merchant-id': 'default', 'tender-payment-id': a.id });
    expect(JSON.parse(new TextDecoder().decode(captured.body))).toMatchObject({
      id: captured.id,
      object: 'event',
      version: 1,
      type: 'payment.captured',
      payment_id: a.id,
      data: { id: a.id, status: 'CAPTURED', amountCaptured: '100.50' },
    });
    expect(await store.relayBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it('retries through a broker outage, holding back only the failing payment, and loses nothing', async () => {
    const { store, tender, clock } = setup();
    const broker = new RecordingBroker();
    const relay = createOutboxRelay({ store, publisher: broker, clock, baseDelayMs: 1000, maxDelayMs: 1000, random: () => 1 });
    const a = await tender.payments.create({ ...order, orderId: 'A' });
    broker.down = true;
    expect(await relay.runOnce()).toBe(1);
    expect(broker.messages).toHaveLength(0);
    // The failed head is not due yet, and its payment's next event waits behind it.
    expect(await relay.runOnce()).toBe(0);
    const b = await tender.payments.create({ ...order, orderId: 'B' });
    broker.down = false;
    await drain(relay);
    expect(broker.messages.map((m) => [m.key, m.type])).toEqual([
      [b.id, 'payment.created'],
      [b.id, 'payment.captured'],
    ]);
    clock.advance(1000);
    await drain(relay);
    expect(broker.messages.filter((m) => m.key === a.id).map((m) => m.type)).toEqual(['payment.created', 'payment.captured']);
    const first = (await store.getOutboxEvent(broker.messages.find((m) => m.key === a.id)!.id))!;
    expect(first.relay).toMatchObject({ status: 'published', attempts: 2, lastError: null });
  });

  it('dead-letters a message the broker can never take and goes on with the payment', async () => {
    const { store, tender, clock } = setup();
    const broker = new RecordingBroker();
    broker.refuse = (m) => m.type === 'payment.created';
    const outcomes: string[] = [];
    const relay = createOutboxRelay({ store, publisher: broker, clock, onOutcome: (o) => outcomes.push(o) });
    const p = await tender.payments.create({ ...order });
    await drain(relay);
    expect(broker.messages.map((m) => m.type)).toEqual(['payment.captured']);
    expect(outcomes).toEqual(['dead', 'published']);
    expect(p.status).toBe('CAPTURED');
    expect(await store.relayBacklog()).toEqual({ pending: 0, oldestCreatedAt: null });
  });

  it('speaks the seed contract on request: payment.successful, payment.failed with attempts, payment.refunded', async () => {
    const { store, clock } = setup();
    const gateway = createTestGateway({ id: 'seedgw', flow: 'direct' });
    const tender = createTender({ gateways: [gateway], store, clock });
    gateway.inject('decline');
    await expect(tender.payments.create({ ...order, orderId: 'ORD-9' })).resolves.toMatchObject({ status: 'FAILED' });
    gateway.inject('decline');
    const second = await tender.payments.create({ ...order, orderId: 'ORD-9' });
    const paid = await tender.payments.create({ ...order, orderId: 'ORD-9' });
    await tender.payments.refund(paid.id, { amount: '0.50' });
    const broker = new RecordingBroker();
    const relay = createOutboxRelay({ store, publisher: broker, clock, encode: createBrokerEncoder({ format: 'seed', reader: store }) });
    await drain(relay);
    expect(broker.messages.map((m) => m.type).sort()).toEqual(['payment.failed', 'payment.failed', 'payment.refunded', 'payment.successful']);
    const bodies = broker.bodies();
    const byType = (type: string) => bodies.filter((_, i) => broker.messages[i]!.type === type);
    const [failed1, failed2] = byType('payment.failed').sort((x, y) => Number(x.retryAttempt) - Number(y.retryAttempt));
    const [successful] = byType('payment.successful');
    const [refunded] = byType('payment.refunded');
    expect(failed1).toMatchObject({ orderId: 'ORD-9', reason: 'card_declined', retryAttempt: 0 });
    expect(failed2).toMatchObject({ paymentId: second.id, retryAttempt: 1 });
    expect(successful).toEqual({
      eventId: broker.messages.find((m) => m.type === 'payment.successful')!.id,
      paymentId: paid.id,
      orderId: 'ORD-9',
      amount: '100.50',
      currency: 'MYR',
      paymentMethod: 'card',
      transactionId: paid.gatewayReference,
      timestamp: clock.now().toISOString(),
    });
    expect(refunded).toMatchObject({ paymentId: paid.id, amount: '0.50', currency: 'MYR' });
    // Events the contract has no name for are passed over, not retried.
    expect(await store.relayBacklog()).toMatchObject({ pending: 0 });
  });

  it('stores the encoder\'s payload with the event, and the default envelope if the encoder throws', async () => {
    const store = new MemoryStore();
    let calls = 0;
    const tender = createTender({
      gateways: [createTestGateway()],
      store,
      eventPayload: (e) => {
        calls++;
        if (e.type === 'payment.captured') throw new Error('presenter bug');
        return { presented: e.type };
      },
    });
    const events: OutboxEvent[] = [];
    tender.events.on((e) => events.push(e));
    const p = await tender.payments.create(order);
    expect(p.status).toBe('CAPTURED');
    expect(calls).toBe(2);
    expect((await store.getOutboxEvent(events[0]!.id))!.payload).toEqual({ presented: 'payment.created' });
    expect((await store.getOutboxEvent(events[1]!.id))!.payload).toMatchObject({ object: 'event', version: 1, type: 'payment.captured', data: { id: p.id } });
  });

  it('runs by itself once started, and a nudge publishes without waiting for the poll', async () => {
    const store = new MemoryStore();
    const tender = createTender({ gateways: [createTestGateway()], store });
    const broker = new RecordingBroker();
    const relay = createOutboxRelay({ store, publisher: broker, intervalMs: 60_000 });
    relay.start();
    try {
      await expect.poll(() => broker.messages.length).toBe(0);
      tender.events.on(() => relay.nudge());
      await tender.payments.create(order);
      await expect.poll(() => broker.messages.length, { timeout: 2000 }).toBe(2);
    } finally {
      await relay.stop();
    }
  });
});
