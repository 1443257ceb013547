import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRabbitMqPublisher, type RabbitMqPublisher } from '@tender/rabbitmq';
import type { Channel, ChannelModel } from 'amqplib';
import { AMQP_URL, drain, haveRabbit, message, testChannel, unique, waitFor } from './rabbitmq-helpers';

describe.skipIf(!haveRabbit)('RabbitMQ publisher (real broker)', () => {
  let connection: ChannelModel;
  let channel: Channel;
  const exchanges: string[] = [];
  const queues: string[] = [];
  const publishers: RabbitMqPublisher[] = [];

  /** A publisher on an exchange of its own, and a queue bound to everything on it. */
  async function open(options: Partial<Parameters<typeof createRabbitMqPublisher>[0]> = {}) {
    const exchange = unique('tender.test.events');
    const queue = unique('tender.test.all');
    exchanges.push(exchange);
    queues.push(queue);
    const publisher = await createRabbitMqPublisher({ url: AMQP_URL, exchange, ...options });
    publishers.push(publisher);
    await channel.assertQueue(queue, { durable: false, autoDelete: false });
    await channel.bindQueue(queue, exchange, '#');
    return { publisher, exchange, queue };
  }

  beforeAll(async () => {
    ({ connection, channel } = await testChannel());
  });
  afterAll(async () => {
    for (const p of publishers) await p.close();
    for (const q of queues) await channel.deleteQueue(q).catch(() => undefined);
    for (const e of exchanges) await channel.deleteExchange(e).catch(() => undefined);
    await connection.close();
  });

  it('declares a durable topic exchange and publishes with routing key = type, message id, persistence, content type, timestamp and headers, resolved on the confirm', async () => {
    const { publisher, exchange, queue } = await open();
    expect(publisher.exchange).toBe(exchange);
    await channel.checkExchange(exchange);
    const sent = message({ type: 'payment.refunded', key: 'pay_R', body: '{"refund":true}', headers: { 'tender-merchant-id': 'm1' }, createdAt: '2026-12-01T10:00:05.000Z' });
    await publisher.publish(sent);
    // Confirmed means routed and stored: it is in the queue now, not eventually.
    const [got] = await drain(channel, queue);
    expect(got!.fields.routingKey).toBe('payment.refunded');
    expect(got!.fields.exchange).toBe(exchange);
    expect(got!.content.toString()).toBe('{"refund":true}');
    expect(got!.properties).toMatchObject({ messageId: sent.id, deliveryMode: 2, contentType: 'application/json', timestamp: Date.parse('2026-12-01T10:00:05Z') / 1000, type: 'payment.refunded', appId: 'tender' });
    expect(got!.properties.headers).toMatchObject({ 'tender-merchant-id': 'm1', 'tender-event-key': 'pay_R', 'tender-created-at': '2026-12-01T10:00:05.000Z' });
  });

  it('the exchange is durable: declaring it non-durable is refused by the broker', async () => {
    const { exchange } = await open();
    const { connection: c2, channel: ch2 } = await testChannel();
    await expect(ch2.assertExchange(exchange, 'topic', { durable: false })).rejects.toThrow(/PRECONDITION_FAILED/);
    await c2.close().catch(() => undefined);
  });

  it('keeps each key in publish order when many keys are published at once', async () => {
    const { publisher, queue } = await open();
    const keys = Array.from({ length: 25 }, (_, i) => `pay_${i}`);
    const perKey = 8;
    await Promise.all(
      keys.map(async (key) => {
        for (let n = 0; n < perKey; n++) await publisher.publish(message({ key, body: JSON.stringify({ key, n }) }));
      }),
    );
    const got = await drain(channel, queue);
    expect(got).toHaveLength(keys.length * perKey);
    const seen = new Map<string, number[]>();
    for (const m of got) {
      const { key, n } = JSON.parse(m.content.toString()) as { key: string; n: number };
      seen.set(key, [...(seen.get(key) ?? []), n]);
    }
    for (const key of keys) expect(seen.get(key)).toEqual(Array.from({ length: perKey }, (_, n) => n));
  });

  it('a burst larger than the write buffer waits for drain and loses nothing', async () => {
    const { publisher, queue } = await open();
    const body = new Uint8Array(256 * 1024).fill(120);
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const m = message({ key: `pay_${i}`, body });
        ids.push(m.id);
        return publisher.publish(m);
      }),
    );
    const got = await waitFor(async () => {
      const { messageCount } = await channel.checkQueue(queue);
      return messageCount === ids.length ? drain(channel, queue) : null;
    }, 'every message in the queue');
    expect(new Set(got.map((m) => m.properties.messageId))).toEqual(new Set(ids));
  });

  it('refuses for good what can never be published: too large, names over 255 bytes, a header table AMQP cannot encode', async () => {
    const { publisher, queue } = await open({ maxMessageBytes: 1000 });
    await expect(publisher.publish(message({ body: new Uint8Array(1001) }))).rejects.toMatchObject({ name: 'PublishError', retryable: false });
    await expect(publisher.publish(message({ type: 'x'.repeat(256) }))).rejects.toMatchObject({ retryable: false });
    await expect(publisher.publish(message({ id: 'i'.repeat(256) }))).rejects.toMatchObject({ retryable: false });
    await expect(publisher.publish(message({ headers: { 'x-big': 'v'.repeat(70_000) } }))).rejects.toMatchObject({ retryable: false });
    // ...and the publisher still works afterwards.
    await publisher.publish(message());
    expect(await drain(channel, queue)).toHaveLength(1);
  });

  it('after close, publishing rejects retryably (another publisher may take it); close is idempotent', async () => {
    const { publisher } = await open();
    await publisher.close();
    await publisher.close();
    await expect(publisher.publish(message())).rejects.toMatchObject({ retryable: true });
  });

  it('bad credentials fail at start, and the error never shows the password', async () => {
    const error = await createRabbitMqPublisher({ url: 'amqp://guest:wrong-s3cret@127.0.0.1:5672', exchange: unique('x') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).not.toContain('wrong-s3cret');
    expect(String((error as Error).message)).toContain('amqp://***@127.0.0.1:5672');
  });

  it('a broker that cannot be reached: publishes reject at once (retryable), without waiting for a timeout', async () => {
    const publisher = await createRabbitMqPublisher({ url: 'amqp://guest:guest@127.0.0.1:1', exchange: unique('x'), connectNow: false });
    publishers.push(publisher);
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      await expect(publisher.publish(message())).rejects.toMatchObject({ retryable: true });
      expect(Date.now() - started).toBeLessThan(1000);
    }
  });
});
