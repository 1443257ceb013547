/**
 * Restarts the machine's real nats-server (the process `.ci/run` starts). The `restart` vitest
 * project runs this file after every other test file, alone, so nothing else sees NATS go away; the
 * server is always started again, even when a test fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublishError, type ReceivedMessage } from '@tender/core';
import { createNatsConsumer, createNatsPublisher, type NatsConsumer, type NatsPublisher } from '@tender/nats';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_URL, deleteStreams, haveNats, message, readStream, startNatsServer, stopNatsServer, testConnection, unique, waitFor } from './nats-helpers';

describe.skipIf(!haveNats)('NATS server restart (real server)', () => {
  let nc: NatsConnection;
  const streams: string[] = [];
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    await startNatsServer(); // a previous run that died mid-restart left it stopped
    nc = await testConnection();
  });
  afterAll(async () => {
    // Whatever happened above, NATS is running again for whatever runs next.
    await startNatsServer();
    for (const close of closers) await close().catch(() => undefined);
    // This connection may still be reconnecting after the last restart.
    await waitFor(() => deleteStreams(nc, ...streams).then(() => true), 'the test streams to be deleted', 30_000, 200);
    await nc.close();
  }, 90_000);

  /** Stops the server, runs `during`, starts it again (always), and waits until JetStream answers. */
  async function outage(during: () => Promise<void>): Promise<void> {
    await stopNatsServer();
    try {
      await during();
    } finally {
      await startNatsServer();
    }
  }

  it('a publish during the outage rejects at once, retryably; after the restart publishing succeeds and nothing was lost', { timeout: 90_000 }, async () => {
    const topic = unique('restart').replace('_', '-');
    const stream = unique('RESTART');
    streams.push(stream);
    const publisher: NatsPublisher = await createNatsPublisher({ servers: NATS_URL, topic, stream: { name: stream }, timeoutMs: 2000 });
    closers.push(() => publisher.close());
    const before = message({ key: 'pay_1' });
    await publisher.publish(before);

    const during = message({ key: 'pay_1' });
    await outage(async () => {
      // The client notices the closed socket at once; wait for that rather than guess.
      await waitFor(async () => {
        const error = await publisher.publish(during).then(() => null, (e: unknown) => e);
        return error instanceof PublishError ? error : null;
      }, 'a publish to fail while the server is down', 10_000);
      const started = Date.now();
      const error = await publisher.publish(during).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublishError);
      expect((error as PublishError).retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(2500); // bounded, never hanging
    });

    // The relay retries the same message until the reconnected client takes it.
    await waitFor(() => publisher.publish(during).then(() => true), 'a publish to succeed after the restart', 30_000, 200);
    const after = message({ key: 'pay_1' });
    await publisher.publish(after);
    // The test's own connection reconnects on its own schedule, which may trail the publisher's: a
    // JetStream request sent before it is back times out, so read once it answers.
    const stored = await waitFor(() => readStream(nc, stream), "the test's connection to read the stream after the restart", 30_000, 200);
    expect(stored.map((m) => m.header.get('Nats-Msg-Id'))).toEqual([before.id, during.id, after.id]);
  });

  it('a consumer keeps consuming after the server restarts', { timeout: 90_000 }, async () => {
    const prefix = unique('orders-restart').replace('_', '-');
    const stream = unique('ORDERS_RESTART');
    streams.push(stream, `${stream}_DEAD_LETTER`);
    await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${prefix}.>`] });
    const seen: string[] = [];
    let acked = 0;
    const consumer: NatsConsumer = createNatsConsumer({
      servers: NATS_URL,
      stream,
      durable: 'payments',
      subject: `${prefix}.order.confirmed`,
      deadLetterSubject: `${prefix}-dead.order.confirmed`,
      ackWaitMs: 2000,
      onSettle: (settled) => {
        if (settled.action === 'ack') acked++;
      },
    });
    closers.push(() => consumer.close());
    await consumer.start(async (m: ReceivedMessage) => {
      seen.push(new TextDecoder().decode(m.body));
      return { action: 'ack' };
    });
    const publisher = await createNatsPublisher({ servers: NATS_URL, topic: prefix, stream: { name: stream, create: false } });
    closers.push(() => publisher.close());
    await publisher.publish(message({ type: 'order.confirmed', body: 'one' }));
    // Settled means the server confirmed the ack (ackAck): 'one' is never delivered again.
    await waitFor(() => acked === 1, 'the first message to be acked');

    await outage(async () => {
      await waitFor(async () => !(await publisher.publish(message({ type: 'order.confirmed', body: 'lost' })).then(() => true, () => false)), 'the outage to be noticed', 10_000);
    });
    const two = message({ type: 'order.confirmed', body: 'two' });
    await waitFor(() => publisher.publish(two).then(() => true), 'publishing again', 30_000, 200);
    await waitFor(() => seen.includes('two'), 'the consumer to receive a message published after the restart', 45_000, 100);
    expect(seen.filter((s) => s === 'one')).toHaveLength(1);
  });
});
