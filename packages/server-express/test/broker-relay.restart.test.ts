/**
 * The outbox relay end to end: two server instances on one Postgres publish every event of payments
 * made through the REST API to the real brokers on this machine, while the broker is stopped and
 * started again mid-run. Every event reaches the broker, none is lost; on NATS none twice (the
 * `Nats-Msg-Id` dedup window); on RabbitMQ, after the consumer's dedup by `message-id`, the same; and
 * each payment's events arrive in the order they were written.
 *
 * A `*.restart.test.ts` file: vitest runs these after every other file, one at a time, so no other
 * test sees the broker go away.
 */
import { connect as amqpConnect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTenderServer, type TenderServer } from '../src/server';
import { createLogger } from '../src/logging';
import { DATABASE_URL, dropSchema, freshSchema, pgStore } from './pg';
import { NATS_URL, deleteStreams, haveNats, readStream, startNatsServer, stopNatsServer, testConnection, unique, waitFor } from '../../nats/test/nats-helpers';
import { AMQP_URL, haveRabbit, startRabbit, stopRabbit } from '../../rabbitmq/test/rabbitmq-helpers';
import { streamNameFor } from '@tender/nats';

interface Instance {
  server: TenderServer;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

async function startInstance(schema: string, env: Record<string, string>): Promise<Instance> {
  const server = await startTenderServer({
    env: { PORT: '0', RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '200ms', LOG_LEVEL: 'silent', ...env },
    store: await pgStore(schema),
    logger: createLogger({ level: 'silent' }),
  });
  return {
    server,
    async api(method, path, body) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${server.devToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    },
  };
}

/** A paid payment refunded in part: about six events, made on one instance (its own sandbox). */
async function payAndRefund(instance: Instance, n: number): Promise<string> {
  const paid = await instance.api('POST', '/api/v1/payments', { amount: '20.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', order_id: `ORD-R-${n}` });
  expect(paid.body.status).toBe('CAPTURED');
  expect((await instance.api('POST', `/api/v1/payments/${paid.body.id}/refund`, { amount: '2.00' })).status).toBe(201);
  return paid.body.id as string;
}

/** Every outbox row of the schema, in write order. */
async function outbox(client: pg.Client, schema: string): Promise<Array<{ id: string; payment_id: string; relay_status: string }>> {
  return (await client.query(`SELECT id, payment_id, relay_status FROM "${schema}".outbox_events ORDER BY seq`)).rows;
}

/** The ids of each payment's events in `ids` order of first appearance. */
function perPayment(rows: Array<{ id: string; payment_id: string }>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.payment_id, [...(out.get(r.payment_id) ?? []), r.id]);
  return out;
}

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
});

describe.runIf(haveNats)('relay to NATS JetStream across a server restart', () => {
  const schema = freshSchema('srv_relay_nats');
  const topic = `${unique('relay')}.events`;
  const instances: Instance[] = [];
  afterEach(async () => {
    // Whatever happened, the machine's NATS is left running.
    await startNatsServer();
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.server.close()));
    const nc = await testConnection();
    await deleteStreams(nc, streamNameFor(topic));
    await nc.close();
    await dropSchema(schema);
  });

  it('publishes every event exactly once, in order per payment, with two relays and NATS down mid-run', async () => {
    const env = { EVENT_BROKER_URL: NATS_URL, EVENT_TOPIC: topic };
    instances.push(await startInstance(schema, env), await startInstance(schema, env));
    const [a, b] = instances as [Instance, Instance];
    const before = await Promise.all(Array.from({ length: 8 }, (_, i) => payAndRefund(i % 2 ? a : b, i)));
    await stopNatsServer();
    // Payments go on while the broker is away: their events wait in the outbox.
    const during = await Promise.all(Array.from({ length: 8 }, (_, i) => payAndRefund(i % 2 ? a : b, 100 + i)));
    expect((await outbox(client, schema)).some((r) => r.relay_status === 'pending')).toBe(true);
    await startNatsServer();
    const after = await Promise.all(Array.from({ length: 4 }, (_, i) => payAndRefund(i % 2 ? a : b, 200 + i)));
    const payments = [...before, ...during, ...after];

    await waitFor(async () => (await a.server.tender.store.relayBacklog()).pending === 0, 'the relay backlog to empty', 60_000, 100);
    const rows = await outbox(client, schema);
    expect(rows.every((r) => r.relay_status === 'published')).toBe(true);
    const nc = await testConnection();
    const stored = await readStream(nc, streamNameFor(topic));
    await nc.close();
    const ids = stored.map((m) => m.header?.get('Nats-Msg-Id') ?? '');
    // Exactly once: JetStream kept one message per event id, and every event is there.
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(rows.map((r) => r.id).sort());
    // In order per payment, and on the subject of its type.
    const streamOrder = stored.map((m) => ({ id: m.header!.get('Nats-Msg-Id'), payment_id: m.header!.get('tender-payment-id') }));
    expect(perPayment(streamOrder)).toEqual(perPayment(rows));
    for (const m of stored) expect(m.subject).toBe(`${topic}.${m.header!.get('tender-event-type')}`);
    expect(new Set(rows.map((r) => r.payment_id))).toEqual(new Set(payments));
    // Both instances published (they share the work).
    const published = await Promise.all(instances.map(async (i) => (await (await fetch(`${i.server.url}/metrics`)).text()).match(/tender_relay_events_total\{outcome="published"\} (\d+)/)?.[1]));
    expect(published.map(Number).reduce((x, y) => x + y, 0)).toBe(rows.length);
    expect(published.every((n) => Number(n) > 0)).toBe(true);
  }, 120_000);
});

describe.runIf(haveRabbit)('relay to RabbitMQ across a broker restart', () => {
  const schema = freshSchema('srv_relay_amqp');
  const exchange = `${unique('relay')}.events`;
  const queue = `${exchange}.all`;
  const instances: Instance[] = [];
  let connection: ChannelModel | null = null;
  afterEach(async () => {
    await startRabbit();
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.server.close()));
    const c = await amqpConnect(AMQP_URL);
    const ch = await c.createChannel();
    await ch.deleteQueue(queue).catch(() => undefined);
    await ch.deleteExchange(exchange).catch(() => undefined);
    await c.close();
    await connection?.close().catch(() => undefined);
    await dropSchema(schema);
  });

  it('delivers every event, in order per payment, with RabbitMQ stopped and started mid-run', async () => {
    // The consumer's durable queue, bound before anything is published (a topic exchange drops
    // messages no queue is bound for).
    const setup = await amqpConnect(AMQP_URL);
    const ch = await setup.createChannel();
    await ch.assertExchange(exchange, 'topic', { durable: true });
    await ch.assertQueue(queue, { durable: true });
    await ch.bindQueue(queue, exchange, '#');
    await setup.close();

    const env = { EVENT_BROKER_URL: AMQP_URL, EVENT_TOPIC: exchange };
    instances.push(await startInstance(schema, env), await startInstance(schema, env));
    const [a, b] = instances as [Instance, Instance];
    const before = await Promise.all(Array.from({ length: 6 }, (_, i) => payAndRefund(i % 2 ? a : b, i)));
    await stopRabbit();
    const during = await Promise.all(Array.from({ length: 6 }, (_, i) => payAndRefund(i % 2 ? a : b, 100 + i)));
    await startRabbit();
    const after = await Promise.all(Array.from({ length: 4 }, (_, i) => payAndRefund(i % 2 ? a : b, 200 + i)));
    const payments = [...before, ...during, ...after];
    await waitFor(async () => (await a.server.tender.store.relayBacklog()).pending === 0, 'the relay backlog to empty', 60_000, 100);
    const rows = await outbox(client, schema);

    // Consume the queue until every event has been seen (duplicates are dropped by message-id, as a
    // consumer must: RabbitMQ does not deduplicate).
    connection = await amqpConnect(AMQP_URL);
    const consumer = await connection.createChannel();
    const seen: Array<{ id: string; payment_id: string; type: string; routingKey: string }> = [];
    const ids = new Set<string>();
    let duplicates = 0;
    await consumer.consume(queue, (m: ConsumeMessage | null) => {
      if (!m) return;
      const id = String(m.properties.messageId);
      if (ids.has(id)) duplicates++;
      else {
        ids.add(id);
        const headers = m.properties.headers as Record<string, string>;
        seen.push({ id, payment_id: headers['tender-payment-id']!, type: headers['tender-event-type']!, routingKey: m.fields.routingKey });
        expect(m.properties.deliveryMode).toBe(2);
        expect(m.properties.contentType).toBe('application/json');
        expect(JSON.parse(m.content.toString('utf8'))).toMatchObject({ id, object: 'event', version: 1 });
      }
      consumer.ack(m);
    });
    await waitFor(() => ids.size >= rows.length, `${rows.length} events on the queue (have ${ids.size})`, 30_000, 100);
    expect([...ids].sort()).toEqual(rows.map((r) => r.id).sort());
    expect(perPayment(seen)).toEqual(perPayment(rows));
    for (const m of seen) expect(m.routingKey).toBe(m.type);
    expect(new Set(rows.map((r) => r.payment_id))).toEqual(new Set(payments));
    // A publish whose confirm was lost in the restart may arrive twice (at least once); the dedup above
    // is what keeps the consumer's view exact.
    if (duplicates > 0) console.info(`RabbitMQ relay restart: ${duplicates} duplicate deliveries dropped by message-id`);
  }, 180_000);
});
