import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTender, handleOrderConfirmed, type ConsumeOutcome, type ReceivedMessage } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';
import {
  ATTEMPTS_HEADER,
  DEAD_LETTER_REASON_HEADER,
  ROUTING_KEY_HEADER,
  createRabbitMqConsumer,
  type RabbitMqConsumer,
  type RabbitMqConsumerOptions,
  type RabbitMqSettlement,
} from '@tender/rabbitmq';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { AMQP_URL, drain, haveRabbit, testChannel, unique, waitFor } from './rabbitmq-helpers';

const orderEvent = (overrides: Record<string, unknown> = {}) => ({
  eventId: `evt-${Math.random().toString(36).slice(2)}`,
  orderId: `ORD-${Math.random().toString(36).slice(2, 10)}`,
  userId: 'user-9',
  total: 12.5,
  currency: 'EUR',
  timestamp: '2026-12-01T10:00:00Z',
  ...overrides,
});

describe.skipIf(!haveRabbit)('RabbitMQ consumer (real broker)', () => {
  let connection: ChannelModel;
  let channel: Channel;
  const consumers: RabbitMqConsumer[] = [];
  const cleanup: Array<{ exchanges: string[]; queues: string[] }> = [];

  beforeAll(async () => {
    ({ connection, channel } = await testChannel());
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.close();
  });
  afterAll(async () => {
    for (const { exchanges, queues } of cleanup) {
      for (const q of queues) await channel.deleteQueue(q).catch(() => undefined);
      for (const e of exchanges) await channel.deleteExchange(e).catch(() => undefined);
    }
    await connection.close();
  });

  /** An exchange and a queue of their own, and consumer options on them. */
  function scenario(overrides: Partial<RabbitMqConsumerOptions> = {}) {
    const exchange = unique('test.order.events');
    const queue = unique('test.payment-service');
    cleanup.push({ exchanges: [exchange, `${queue}.dead-letter`], queues: [queue, `${queue}.dead-letter`, `${queue}.retry`] });
    const settlements: RabbitMqSettlement[] = [];
    const options: RabbitMqConsumerOptions = {
      url: AMQP_URL,
      exchange,
      queue,
      bindingKeys: ['order.confirmed'],
      retryDelayMs: 50,
      maxRetryDelayMs: 200,
      onSettle: (s) => settlements.push(s),
      ...overrides,
    };
    const start = async (handler: (m: ReceivedMessage) => Promise<ConsumeOutcome>) => {
      const consumer = createRabbitMqConsumer(options);
      consumers.push(consumer);
      await consumer.start(handler);
      return consumer;
    };
    const publish = async (body: unknown, messageId?: string, routingKey = 'order.confirmed') => {
      channel.publish(exchange, routingKey, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), {
        contentType: 'application/json',
        persistent: true,
        ...(messageId ? { messageId } : {}),
        headers: { 'x-source': 'order-service' },
      });
    };
    const deadLetters = () => drain(channel, `${queue}.dead-letter`);
    return { exchange, queue, options, settlements, start, publish, deadLetters };
  }

  for (const queueType of ['quorum', 'classic'] as const) {
    describe(`${queueType} queue`, () => {
      it('declares the topology, hands each message over with id, routing key, headers and delivery count, and acks it', async () => {
        const s = scenario({ queueType });
        const seen: ReceivedMessage[] = [];
        await s.start(async (m) => {
          seen.push(m);
          return { action: 'ack' };
        });
        await s.publish({ hello: 1 }, 'order-evt-1');
        await s.publish({ ignored: true }, 'other', 'order.cancelled'); // not bound
        await waitFor(() => s.settlements.length === 1, 'the message to be acked');
        expect(seen[0]).toMatchObject({ id: 'order-evt-1', subject: 'order.confirmed', deliveryCount: 1 });
        expect(Buffer.from(seen[0]!.body).toString()).toBe('{"hello":1}');
        expect(seen[0]!.headers['x-source']).toBe('order-service');
        const q = await channel.checkQueue(s.queue);
        expect(q.messageCount).toBe(0);
        await channel.checkQueue(`${s.queue}.dead-letter`);
        await channel.checkQueue(`${s.queue}.retry`);
      });

      it('retry comes back after the delay through the retry queue, counting deliveries; a handler that throws counts as retry', async () => {
        const s = scenario({ queueType });
        const deliveries: Array<{ count: number; at: number; subject: string }> = [];
        await s.start(async (m) => {
          deliveries.push({ count: m.deliveryCount, at: Date.now(), subject: m.subject });
          if (m.deliveryCount === 1) return { action: 'retry', delayMs: 300, reason: 'storage down' };
          if (m.deliveryCount === 2) throw new Error('boom');
          return { action: 'ack' };
        });
        await s.publish({ n: 1 }, 'evt-r');
        await waitFor(() => s.settlements.some((x) => x.action === 'ack'), 'the third delivery to be acked');
        expect(deliveries.map((d) => d.count)).toEqual([1, 2, 3]);
        expect(deliveries.map((d) => d.subject)).toEqual(['order.confirmed', 'order.confirmed', 'order.confirmed']);
        expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(250);
        expect(s.settlements.map((x) => x.action)).toEqual(['retry', 'retry', 'ack']);
        expect(s.settlements[1]!.reason).toMatch(/handler threw Error/);
      });

      it('dead_letter puts the message, its headers and the reason in the dead-letter queue, and acks the original', async () => {
        const s = scenario({ queueType });
        await s.start(async () => ({ action: 'dead_letter', reason: 'invalid order.confirmed: total: too_small\n' }));
        await s.publish('{"total":-1}', 'order-evt-bad');
        const [dead] = await waitFor(async () => {
          const all = await s.deadLetters();
          return all.length > 0 ? all : null;
        }, 'the dead letter');
        expect(dead!.content.toString()).toBe('{"total":-1}');
        expect(dead!.properties.messageId).toBe('order-evt-bad');
        expect(dead!.properties.headers).toMatchObject({
          [DEAD_LETTER_REASON_HEADER]: 'invalid order.confirmed: total: too_small',
          [ROUTING_KEY_HEADER]: 'order.confirmed',
          'tender-dead-letter-queue': s.queue,
          'x-source': 'order-service',
        });
        await waitFor(async () => (await channel.checkQueue(s.queue)).messageCount === 0, 'the original to be gone');
      });

      it('a message that keeps failing is dead-lettered at maxDeliveries, with the count', async () => {
        const s = scenario({ queueType, maxDeliveries: 3 });
        let calls = 0;
        await s.start(async () => {
          calls++;
          return { action: 'retry', delayMs: 10, reason: 'storage_error/database_unavailable' };
        });
        await s.publish({ n: 1 });
        const [dead] = await waitFor(async () => {
          const all = await s.deadLetters();
          return all.length > 0 ? all : null;
        }, 'the dead letter');
        await waitFor(() => s.settlements.length === 3, 'the third delivery to be settled');
        expect(calls).toBe(3);
        expect(dead!.properties.headers![DEAD_LETTER_REASON_HEADER]).toBe('gave up after 3 deliveries: storage_error/database_unavailable');
        expect(dead!.properties.headers!['tender-dead-letter-deliveries']).toBe(3);
        expect(dead!.properties.headers![ATTEMPTS_HEADER]).toBe(2);
        expect(s.settlements.map((x) => x.action)).toEqual(['retry', 'retry', 'dead_letter']);
      });
    });
  }

  describe('order.confirmed through a real Tender engine', () => {
    const engine = () => {
      const gateway = createTestGateway();
      const tender = createTender({ gateways: [gateway], store: new MemoryStore() });
      return { gateway, tender, handle: (m: ReceivedMessage) => handleOrderConfirmed(tender, m, { merchantId: 'shop', retryDelayMs: 50 }) };
    };

    it('the same order.confirmed published twice creates exactly one payment', async () => {
      const s = scenario();
      const { tender, gateway, handle } = engine();
      await s.start(handle);
      const event = orderEvent();
      await s.publish(event, 'm-1');
      await s.publish(event, 'm-1');
      await waitFor(() => s.settlements.length === 2, 'both copies');
      expect(s.settlements.map((x) => x.action)).toEqual(['ack', 'ack']);
      const payments = (await tender.payments.list({ merchantId: 'shop' })).data;
      expect(payments).toHaveLength(1);
      expect(payments[0]).toMatchObject({ orderId: event.orderId, amount: '12.50', currency: 'EUR', status: 'AUTHORIZED', metadata: { order_event_id: event.eventId, customer_id: 'user-9' } });
      expect(gateway.calls.createPayment).toBe(1);
    });

    it('a delivery that fails after the create (retry mid-way) comes back and replays the same payment', async () => {
      const s = scenario();
      const { tender, gateway, handle } = engine();
      const seen: string[] = [];
      await s.start(async (m) => {
        const outcome = await handle(m);
        seen.push(outcome.payment?.id ?? 'none');
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

    it('a consumer killed after the create but before the ack: the broker redelivers to the next instance, which replays the payment', async () => {
      const s = scenario();
      const { tender, gateway, handle } = engine();
      // Declares the topology, then stops, leaving the queue to instance A.
      const declare = createRabbitMqConsumer(s.options);
      await declare.start(async () => ({ action: 'retry', reason: 'not used' }));
      await declare.close();
      // Instance A: a bare consumer whose connection this test kills after the create.
      const a = await connect(AMQP_URL);
      a.on('error', () => undefined);
      const aChannel = await a.createChannel();
      aChannel.on('error', () => undefined);
      let created: string | null = null;
      await aChannel.consume(s.queue, (msg) => {
        if (!msg) return;
        const received: ReceivedMessage = { id: msg.properties.messageId ?? null, subject: msg.fields.routingKey, body: msg.content, headers: {}, deliveryCount: 1 };
        void handle(received).then((o) => {
          created = o.payment!.id;
        });
      });
      await s.publish(orderEvent(), 'm-kill');
      await waitFor(() => created, 'instance A to create the payment');
      await a.close(); // killed: the delivery is unacknowledged, the broker requeues it
      const replays: Array<{ id: string; replayed: boolean; count: number }> = [];
      await s.start(async (m) => {
        const outcome = await handle(m);
        replays.push({ id: outcome.payment!.id, replayed: outcome.replayed === true, count: m.deliveryCount });
        return outcome;
      });
      await waitFor(() => replays.length === 1, 'the redelivery');
      expect(replays[0]).toEqual({ id: created, replayed: true, count: 2 });
      expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(1);
      expect(gateway.calls.createPayment).toBe(1);
    });

    it('malformed order events land in the dead-letter queue with a reason, and create nothing', async () => {
      const s = scenario();
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
      await waitFor(() => s.settlements.length === bodies.length, 'every message settled');
      const dead = await waitFor(async () => {
        const { messageCount } = await channel.checkQueue(`${s.queue}.dead-letter`);
        return messageCount === bodies.length ? s.deadLetters() : null;
      }, 'every malformed event in the dead-letter queue');
      expect(dead.map((m) => m.content.toString()).sort()).toEqual([...bodies].sort());
      const reasons = dead.map((m) => String(m.properties.headers![DEAD_LETTER_REASON_HEADER]));
      expect(reasons.some((r) => /not UTF-8 JSON/.test(r))).toBe(true);
      expect(reasons.some((r) => /orderId/.test(r))).toBe(true);
      expect(reasons.some((r) => /currency/.test(r))).toBe(true);
      expect(reasons.some((r) => /EUR allows 2/.test(r))).toBe(true);
      for (const reason of reasons) expect(reason).not.toContain('user-9');
      expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(0);
    });

    it('a transient failure (gateway unavailable, nothing sent) is retried and the redelivery creates the payment', async () => {
      const s = scenario();
      const { tender, gateway, handle } = engine();
      gateway.setCircuitOpen(true);
      await s.start(async (m) => {
        const outcome = await handle(m);
        if (outcome.action === 'retry') gateway.setCircuitOpen(false);
        return outcome.action === 'retry' ? { ...outcome, delayMs: 100 } : outcome;
      });
      await s.publish(orderEvent());
      await waitFor(() => s.settlements.some((x) => x.action === 'ack'), 'the redelivery to be acked');
      expect(s.settlements.map((x) => x.action)).toEqual(['retry', 'ack']);
      expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(1);
    });
  });
});
