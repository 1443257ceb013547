import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '@tender/core/testing';
import { connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as amqpConnect } from 'amqplib';
import { brokerKind, createPublisherFromUrl, redactBrokerUrl } from '../src/brokers';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';

const NATS_URL = 'nats://127.0.0.1:4222';
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

const up = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
// In CI (.ci/run sets these) an unreachable broker fails the tests instead of skipping them.
const haveNats = process.env.TENDER_REQUIRE_NATS === '1' || (await up(4222));
const haveRabbit = process.env.TENDER_REQUIRE_RABBITMQ === '1' || (await up(5672));

const suffix = () => randomBytes(4).toString('hex');
const quiet = () => createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) });

async function waitFor<T>(condition: () => Promise<T | null | false> | T | null | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== null && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const orderEvent = () => ({
  eventId: `evt-${suffix()}`,
  orderId: `ORD-${suffix()}`,
  userId: 'user-1',
  total: 25.5,
  currency: 'USD',
  timestamp: new Date().toISOString(),
});

async function metric(server: TenderServer, outcome: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const match = new RegExp(`^tender_order_events_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/** A server in simulation mode with the order consumer on `url`, creating Stripe (sandbox) authorisations. */
function startWithOrders(url: string, topic: string, group: string): Promise<TenderServer> {
  return startTenderServer({
    env: {
      PORT: '0',
      RECONCILE_INTERVAL: '0',
      OUTBOX_INTERVAL: '1h',
      ORDER_EVENTS_URL: url,
      ORDER_EVENTS_TOPIC: topic,
      ORDER_EVENTS_GROUP: group,
      ORDER_EVENTS_MERCHANT_ID: 'shop',
      ORDER_EVENTS_GATEWAY: 'stripe',
      ORDER_EVENTS_PAYMENT_METHOD: 'pm_card_visa',
    },
    logger: quiet(),
    store: new MemoryStore(),
  });
}

describe('broker URLs', () => {
  it('chooses the broker by scheme; anything else is a configuration error that never shows credentials', async () => {
    expect(brokerKind('nats://127.0.0.1:4222')).toBe('nats');
    expect(brokerKind('amqp://u:p@h/vhost')).toBe('rabbitmq');
    expect(brokerKind('AMQPS://h')).toBe('rabbitmq');
    const error = await createPublisherFromUrl('kafka://user:hunter2@broker:9092', 'payments.events').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain('kafka://***@broker:9092');
    expect(String((error as Error).message)).not.toContain('hunter2');
    expect(redactBrokerUrl('amqp://guest:guest@127.0.0.1:5672/%2f')).toBe('amqp://***@127.0.0.1:5672/%2f');
  });

  it('the order consumer needs both a broker and a merchant', () => {
    expect(() => loadConfig({ ORDER_EVENTS_MERCHANT_ID: 'shop' })).toThrow(/ORDER_EVENTS_URL: is required/);
    expect(() => loadConfig({ ORDER_EVENTS_URL: NATS_URL })).toThrow(/ORDER_EVENTS_MERCHANT_ID: is required/);
    expect(() => loadConfig({ ORDER_EVENTS_URL: 'kafka://x', ORDER_EVENTS_MERCHANT_ID: 'shop' })).toThrow(/ORDER_EVENTS_URL: must be a nats/);
    const config = loadConfig({ EVENT_BROKER_URL: NATS_URL, ORDER_EVENTS_MERCHANT_ID: 'shop' });
    expect(config).toMatchObject({ ORDER_EVENTS_TOPIC: 'order.events', ORDER_EVENTS_GROUP: 'payment-service', ORDER_EVENTS_CAPTURE: 'manual', ORDER_EVENTS_MAX_DELIVERIES: 5 });
  });
});

describe.skipIf(!haveNats)('order.confirmed over NATS through the server', () => {
  const streams: string[] = [];
  afterAll(async () => {
    const nc = await natsConnect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  });

  it('createPublisherFromUrl(nats://) publishes to `${topic}.<type>`', async () => {
    const topic = `srv-pub-${suffix()}`;
    streams.push(topic.toUpperCase());
    const publisher = await createPublisherFromUrl(NATS_URL, topic);
    expect(publisher.name).toBe('nats');
    await publisher.publish({ id: `evt-${suffix()}`, type: 'payment.captured', key: 'pay_1', body: new TextEncoder().encode('{}'), contentType: 'application/json', headers: {}, createdAt: new Date().toISOString() });
    await publisher.close();
  });

  it('creates one payment per order event, dead-letters a malformed one, counts outcomes, and stops on close', async () => {
    const topic = `srv-orders-${suffix()}`;
    const group = `grp-${suffix()}`;
    const stream = topic.toUpperCase();
    streams.push(stream, `${stream}_DEAD_LETTER`);
    const server = await startWithOrders(NATS_URL, topic, group);
    try {
      expect(server.orderConsumer?.name).toBe('nats');
      const nc = await natsConnect({ servers: NATS_URL });
      const js = jetstream(nc);
      const event = orderEvent();
      const h = natsHeaders();
      h.set('content-type', 'application/json');
      await js.publish(`${topic}.order.confirmed`, JSON.stringify(event), { headers: h });
      await js.publish(`${topic}.order.confirmed`, JSON.stringify(event), { headers: h });
      await js.publish(`${topic}.order.confirmed`, '{"eventId":"bad"}', { headers: h });
      await waitFor(async () => (await metric(server, 'ack')) === 2 && (await metric(server, 'dead_letter')) === 1, 'the three messages to be settled');
      const payments = (await server.tender.payments.list({ merchantId: 'shop' })).data;
      expect(payments).toHaveLength(1);
      expect(payments[0]).toMatchObject({ orderId: event.orderId, amount: '25.50', gateway: 'stripe', status: 'AUTHORIZED', captureMethod: 'manual' });
      const jsm = await jetstreamManager(nc);
      const dlq = await jsm.streams.getMessage(`${stream}_DEAD_LETTER`, { seq: 1 });
      expect(dlq?.subject).toBe(`${group}.dead-letter`);
      expect(dlq?.header.get('tender-dead-letter-reason')).toMatch(/invalid order.confirmed/);
      await nc.close();
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!haveRabbit)('order.confirmed over RabbitMQ through the server', () => {
  const exchanges: string[] = [];
  const queues: string[] = [];
  afterAll(async () => {
    const connection = await amqpConnect(AMQP_URL);
    const channel = await connection.createChannel();
    for (const q of queues) await channel.deleteQueue(q).catch(() => undefined);
    for (const e of exchanges) await channel.deleteExchange(e).catch(() => undefined);
    await connection.close();
  });

  it('createPublisherFromUrl(amqp://) publishes to the topic exchange', async () => {
    const topic = `srv-pub.${suffix()}`;
    exchanges.push(topic);
    const publisher = await createPublisherFromUrl(AMQP_URL, topic);
    expect(publisher.name).toBe('rabbitmq');
    await publisher.publish({ id: `evt-${suffix()}`, type: 'payment.captured', key: 'pay_1', body: new TextEncoder().encode('{}'), contentType: 'application/json', headers: {}, createdAt: new Date().toISOString() });
    await publisher.close();
  });

  it('creates one payment per order event, dead-letters a malformed one, counts outcomes, and stops on close', async () => {
    const topic = `srv-orders.${suffix()}`;
    const group = `grp-${suffix()}`;
    exchanges.push(topic, `${group}.dead-letter`);
    queues.push(group, `${group}.dead-letter`, `${group}.retry`);
    const server = await startWithOrders(AMQP_URL, topic, group);
    try {
      expect(server.orderConsumer?.name).toBe('rabbitmq');
      const connection = await amqpConnect(AMQP_URL);
      const channel = await connection.createConfirmChannel();
      const event = orderEvent();
      const send = (body: string) => channel.publish(topic, 'order.confirmed', Buffer.from(body), { contentType: 'application/json', persistent: true });
      send(JSON.stringify(event));
      send(JSON.stringify(event));
      send('{"eventId":"bad"}');
      await channel.waitForConfirms();
      await waitFor(async () => (await metric(server, 'ack')) === 2 && (await metric(server, 'dead_letter')) === 1, 'the three messages to be settled');
      const payments = (await server.tender.payments.list({ merchantId: 'shop' })).data;
      expect(payments).toHaveLength(1);
      expect(payments[0]).toMatchObject({ orderId: event.orderId, amount: '25.50', gateway: 'stripe', status: 'AUTHORIZED' });
      const dead = await waitFor(() => channel.get(`${group}.dead-letter`, { noAck: true }), 'the dead letter');
      expect(String(dead.properties.headers!['tender-dead-letter-reason'])).toMatch(/invalid order.confirmed/);
      await connection.close();
    } finally {
      await server.close();
    }
  });
});
