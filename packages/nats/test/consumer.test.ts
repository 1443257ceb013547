import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTender, handleOrderConfirmed, type ConsumeOutcome, type ReceivedMessage } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';
import { DEAD_LETTER_REASON_HEADER, createNatsConsumer, type NatsConsumer, type NatsConsumerOptions, type NatsSettlement } from '@tender/nats';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { NATS_URL, deleteStreams, haveNats, readStream, testConnection, unique, waitFor } from './nats-helpers';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const orderEvent = (overrides: Record<string, unknown> = {}) => ({
  eventId: `evt-${Math.random().toString(36).slice(2)}`,
  orderId: `ORD-${Math.random().toString(36).slice(2, 10)}`,
  userId: 'user-7',
  total: 49.95,
  currency: 'USD',
  timestamp: '2026-12-01T10:00:00Z',
  ...overrides,
});

describe.skipIf(!haveNats)('NATS JetStream consumer (real server)', () => {
  let nc: NatsConnection;
  let js: JetStreamClient;
  const streams: string[] = [];
  const consumers: NatsConsumer[] = [];

  beforeAll(async () => {
    nc = await testConnection();
    js = jetstream(nc);
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.close();
  });
  afterAll(async () => {
    await deleteStreams(nc, ...streams);
    await nc.close();
  });

  /** A stream of its own (`<prefix>.>`), as the order service would have, and consumer options on it. */
  async function scenario(overrides: Partial<NatsConsumerOptions> = {}) {
    const prefix = unique('orders').replace('_', '-');
    const stream = unique('ORDERS');
    streams.push(stream, `${stream}_DEAD_LETTER`);
    await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${prefix}.>`] });
    const subject = `${prefix}.order.confirmed`;
    const deadLetterSubject = `${prefix}-dead-letter.order.confirmed`;
    const settlements: NatsSettlement[] = [];
    const options: NatsConsumerOptions = {
      servers: NATS_URL,
      stream,
      durable: unique('payments'),
      subject,
      deadLetterSubject,
      ackWaitMs: 2000,
      retryDelayMs: 50,
      maxRetryDelayMs: 200,
      onSettle: (s) => settlements.push(s),
      ...overrides,
    };
    const start = async (handler: (m: ReceivedMessage) => Promise<ConsumeOutcome>, more: Partial<NatsConsumerOptions> = {}) => {
      const consumer = createNatsConsumer({ ...options, ...more });
      consumers.push(consumer);
      await consumer.start(handler);
      return consumer;
    };
    const publish = async (body: unknown, msgID?: string) => {
      const h = natsHeaders();
      h.set('content-type', 'application/json');
      await js.publish(subject, typeof body === 'string' ? encoder.encode(body) : encoder.encode(JSON.stringify(body)), { headers: h, ...(msgID ? { msgID } : {}) });
    };
    const deadLetters = async () => {
      const holder = await (await jetstreamManager(nc)).streams.find(deadLetterSubject).catch(() => null);
      return holder ? readStream(nc, holder) : [];
    };
    const pendingAcks = async () => (await (await jetstreamManager(nc)).consumers.info(stream, options.durable)).num_ack_pending;
    return { prefix, stream, subject, deadLetterSubject, options, settlements, start, publish, deadLetters, pendingAcks };
  }

  it('hands each message over with its id, subject, headers and delivery count, and acks it (confirmed)', async () => {
    const s = await scenario();
    const seen: ReceivedMessage[] = [];
    await s.start(async (m) => {
      seen.push(m);
      return { action: 'ack' };
    });
    await s.publish({ hello: 1 }, 'order-evt-1');
    await waitFor(() => s.settlements.length === 1, 'the message to be acked');
    expect(seen[0]).toMatchObject({ id: 'order-evt-1', subject: s.subject, deliveryCount: 1 });
    expect(decoder.decode(seen[0]!.body)).toBe('{"hello":1}');
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(await waitFor(async () => (await s.pendingAcks()) === 0, 'no ack pending')).toBe(true);
  });

  it('retry redelivers after the delay, with the delivery count going up; a handler that throws counts as retry', async () => {
    const s = await scenario();
    const deliveries: Array<{ count: number; at: number }> = [];
    await s.start(async (m) => {
      deliveries.push({ count: m.deliveryCount, at: Date.now() });
      if (m.deliveryCount === 1) return { action: 'retry', delayMs: 300, reason: 'storage down' };
      if (m.deliveryCount === 2) throw new Error('boom');
      return { action: 'ack' };
    });
    await s.publish({ n: 1 });
    await waitFor(() => s.settlements.some((x) => x.action === 'ack'), 'the third delivery to be acked');
    expect(deliveries.map((d) => d.count)).toEqual([1, 2, 3]);
    expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(250);
    expect(s.settlements.map((x) => x.action)).toEqual(['retry', 'retry', 'ack']);
    expect(s.settlements[1]!.reason).toMatch(/handler threw Error/);
  });

  it('dead_letter publishes body, headers and the reason to the dead-letter subject, and terminates the original', async () => {
    const s = await scenario();
    let calls = 0;
    await s.start(async () => {
      calls++;
      return { action: 'dead_letter', reason: 'invalid order.confirmed: total: too_small\r\n' };
    });
    await s.publish('{"total":-1}', 'order-evt-bad');
    const [dead] = await waitFor(async () => {
      const all = await s.deadLetters();
      return all.length > 0 ? all : null;
    }, 'the dead letter');
    expect(dead!.subject).toBe(s.deadLetterSubject);
    expect(decoder.decode(dead!.data)).toBe('{"total":-1}');
    expect(dead!.header.get(DEAD_LETTER_REASON_HEADER)).toBe('invalid order.confirmed: total: too_small');
    expect(dead!.header.get('content-type')).toBe('application/json');
    expect(dead!.header.get('tender-original-message-id')).toBe('order-evt-bad');
    expect(dead!.header.get('tender-dead-letter-subject')).toBe(s.subject);
    await waitFor(async () => (await s.pendingAcks()) === 0, 'the original to be settled');
    // Terminated: a later message is handled, the bad one never again.
    await s.publish('{"next":true}');
    await waitFor(() => s.settlements.length === 2, 'the next message to be settled');
    expect(await s.deadLetters()).toHaveLength(2);
    expect(calls).toBe(2);
  });

  it('a message that keeps failing is dead-lettered at maxDeliver, never silently dropped', async () => {
    const s = await scenario({ maxDeliver: 3 });
    let calls = 0;
    await s.start(async () => {
      calls++;
      return { action: 'retry', delayMs: 20, reason: 'storage_error/database_unavailable' };
    });
    await s.publish({ n: 1 });
    const [dead] = await waitFor(async () => {
      const all = await s.deadLetters();
      return all.length > 0 ? all : null;
    }, 'the dead letter');
    await waitFor(() => s.settlements.length === 3, 'the third delivery to be settled');
    expect(calls).toBe(3);
    expect(dead!.header.get(DEAD_LETTER_REASON_HEADER)).toBe('gave up after 3 deliveries: storage_error/database_unavailable');
    expect(dead!.header.get('tender-dead-letter-deliveries')).toBe('3');
    expect(s.settlements.map((x) => x.action)).toEqual(['retry', 'retry', 'dead_letter']);
  });

  it('refuses a dead-letter subject the consumer would consume again', async () => {
    expect(() => createNatsConsumer({ stream: 'S', durable: 'd', subject: 'orders.>', deadLetterSubject: 'orders.dead' })).toThrow(/inside the consumed subjects/);
    expect(() => createNatsConsumer({ stream: 'S', durable: 'd', subject: 'orders.>', deadLetterSubject: 'dead.*' })).toThrow(/without wildcards/);
  });

  it('start fails clearly when the stream does not exist', async () => {
    const consumer = createNatsConsumer({ servers: NATS_URL, stream: unique('NOPE'), durable: 'd', subject: 'nope.>', deadLetterSubject: 'nope-dead.x' });
    await expect(consumer.start(async () => ({ action: 'ack' }))).rejects.toThrow(/does not exist/);
    await consumer.close();
  });

  describe('order.confirmed through a real Tender engine', () => {
    const engine = () => {
      const gateway = createTestGateway();
      const tender = createTender({ gateways: [gateway], store: new MemoryStore() });
      return { gateway, tender, handle: (m: ReceivedMessage) => handleOrderConfirmed(tender, m, { merchantId: 'shop', retryDelayMs: 50 }) };
    };

    it('the same order.confirmed published twice creates exactly one payment', async () => {
      const s = await scenario();
      const { tender, gateway, handle } = engine();
      await s.start(handle);
      const event = orderEvent();
      // Two copies stored (no Nats-Msg-Id: the producer's own retry after a lost PubAck).
      await s.publish(event);
      await s.publish(event);
      await waitFor(() => s.settlements.length === 2, 'both copies');
      expect(s.settlements.map((x) => x.action)).toEqual(['ack', 'ack']);
      const payments = (await tender.payments.list({ merchantId: 'shop' })).data;
      expect(payments).toHaveLength(1);
      expect(payments[0]).toMatchObject({ orderId: event.orderId, amount: '49.95', status: 'AUTHORIZED', metadata: { order_event_id: event.eventId, customer_id: 'user-7' } });
      expect(gateway.calls.createPayment).toBe(1);
    });

    it('a delivery that fails after the create (nak mid-way) is redelivered and replays the same payment', async () => {
      const s = await scenario();
      const { tender, gateway, handle } = engine();
      const seen: string[] = [];
      await s.start(async (m) => {
        const outcome = await handle(m);
        seen.push(outcome.payment?.id ?? 'none');
        // The first time, as if the process failed between the create and the ack.
        if (m.deliveryCount === 1) return { action: 'retry', delayMs: 50, reason: 'crashed before the ack' };
        return outcome;
      });
      await s.publish(orderEvent());
      await waitFor(() => s.settlements.some((x) => x.action === 'ack'), 'the redelivery to be acked');
      expect(seen).toHaveLength(2);
      expect(seen[1]).toBe(seen[0]);
      expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(1);
      expect(gateway.calls.createPayment).toBe(1);
    });

    it('a consumer killed after the create but before the ack: the redelivery to the next instance replays the payment', async () => {
      const s = await scenario({ ackWaitMs: 1000 });
      const { tender, gateway, handle } = engine();
      // Instance A, on a connection this test kills.
      const own = await testConnection();
      let created: string | null = null;
      let release!: () => void;
      const hang = new Promise<void>((resolve) => (release = resolve));
      createNatsConsumer({ ...s.options, connection: own }).start(async (m) => {
        created = (await handle(m)).payment!.id;
        await hang; // never acks before it dies
        return { action: 'ack' };
      });
      await s.publish(orderEvent());
      await waitFor(() => created, 'instance A to create the payment');
      await own.close(); // killed: no ack ever reaches the server
      // Instance B, same durable consumer.
      const replays: Array<{ id: string; replayed: boolean }> = [];
      await s.start(async (m) => {
        const outcome = await handle(m);
        replays.push({ id: outcome.payment!.id, replayed: outcome.replayed === true });
        return outcome;
      });
      await waitFor(() => replays.length === 1, 'the redelivery after ack_wait', 15_000);
      expect(replays[0]).toEqual({ id: created, replayed: true });
      expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(1);
      expect(gateway.calls.createPayment).toBe(1);
      release();
    });

    it('malformed order events land in the dead-letter subject with a reason, and create nothing', async () => {
      const s = await scenario();
      const { tender, handle } = engine();
      await s.start(handle);
      const bodies = [
        '{not json',
        JSON.stringify({ ...orderEvent(), orderId: undefined }),
        JSON.stringify(orderEvent({ currency: 'ZZZ' })),
        JSON.stringify(orderEvent({ total: -10 })),
        JSON.stringify(orderEvent({ total: 10.123 })),
      ];
      for (const body of bodies) await s.publish(body);
      const dead = await waitFor(async () => {
        const all = await s.deadLetters();
        return all.length === bodies.length ? all : null;
      }, 'every malformed event in the dead-letter stream');
      expect(dead.map((m) => decoder.decode(m.data))).toEqual(bodies);
      const reasons = dead.map((m) => m.header.get(DEAD_LETTER_REASON_HEADER));
      expect(reasons[0]).toMatch(/not UTF-8 JSON/);
      expect(reasons[1]).toMatch(/orderId/);
      expect(reasons[2]).toMatch(/currency/);
      expect(reasons[3]).toMatch(/total/);
      expect(reasons[4]).toMatch(/USD allows 2/);
      for (const reason of reasons) expect(reason).not.toContain('user-7');
      expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(0);
    });

    it('a transient failure (gateway unavailable, nothing sent) is retried and the redelivery creates the payment', async () => {
      const s = await scenario();
      const { tender, gateway, handle } = engine();
      gateway.setCircuitOpen(true);
      await s.start(async (m) => {
        const outcome = await handle(m);
        if (outcome.action === 'retry') gateway.setCircuitOpen(false); // the gateway is back for the redelivery
        return outcome;
      });
      await s.publish(orderEvent());
      await waitFor(() => s.settlements.some((x) => x.action === 'ack'), 'the redelivery to be acked');
      expect(s.settlements.map((x) => x.action)).toEqual(['retry', 'ack']);
      expect(s.settlements[0]!.reason).toMatch(/gateway_unavailable/);
      expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(1);
    });
  });
});
