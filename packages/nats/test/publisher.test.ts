import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublishError } from '@tender/core';
import { createNatsPublisher, type NatsPublisher } from '@tender/nats';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_URL, deleteStreams, haveNats, message, readStream, testConnection, unique } from './nats-helpers';

const decoder = new TextDecoder();

describe.skipIf(!haveNats)('NATS JetStream publisher (real server)', () => {
  let nc: NatsConnection;
  const streams: string[] = [];
  const publishers: NatsPublisher[] = [];
  const open = async (options: Parameters<typeof createNatsPublisher>[0] = {}) => {
    const topic = options.topic ?? unique('tender.test').replace('_', '-');
    const stream = options.stream === false ? null : (options.stream?.name ?? unique('TENDER_TEST'));
    if (stream) streams.push(stream);
    const publisher = await createNatsPublisher({ servers: NATS_URL, ...options, topic, ...(options.stream === false ? {} : { stream: { ...options.stream, name: stream! } }) });
    publishers.push(publisher);
    return publisher;
  };

  beforeAll(async () => {
    nc = await testConnection();
  });
  afterAll(async () => {
    for (const p of publishers) await p.close();
    await deleteStreams(nc, ...streams);
    await nc.close();
  });

  it('creates the stream for `${topic}.>` with the duplicate window, and publishes to `${topic}.${type}` once confirmed', async () => {
    const publisher = await open({ stream: { duplicateWindowMs: 90_000 } });
    const info = await (await jetstreamManager(nc)).streams.info(publisher.stream!);
    expect(info.config.subjects).toEqual([`${publisher.topic}.>`]);
    expect(info.config.duplicate_window).toBe(90_000 * 1e6);

    const sent = message({ type: 'payment.captured', key: 'pay_A', body: '{"id":"evt"}', headers: { 'tender-merchant-id': 'm1' } });
    await publisher.publish(sent);
    // Resolved means stored: it is in the stream now, not eventually.
    const [stored] = await readStream(nc, publisher.stream!);
    expect(stored!.subject).toBe(`${publisher.topic}.payment.captured`);
    expect(decoder.decode(stored!.data)).toBe('{"id":"evt"}');
    expect(stored!.header.get('Nats-Msg-Id')).toBe(sent.id);
    expect(stored!.header.get('content-type')).toBe('application/json');
    expect(stored!.header.get('tender-merchant-id')).toBe('m1');
    expect(stored!.header.get('tender-event-key')).toBe('pay_A');
    expect(stored!.header.get('tender-created-at')).toBe(sent.createdAt);
  });

  it('dedups on the event id: the same message published twice is stored once, and both publishes succeed', async () => {
    const publisher = await open();
    const sent = message();
    await publisher.publish(sent);
    await publisher.publish(sent); // the relay's retry after a lost PubAck
    await publisher.publish({ ...sent, id: `${sent.id}-other` });
    const stored = await readStream(nc, publisher.stream!);
    expect(stored.map((m) => m.header.get('Nats-Msg-Id'))).toEqual([sent.id, `${sent.id}-other`]);
  });

  it('keeps each key in publish order when many keys are published at once', async () => {
    const publisher = await open();
    const keys = Array.from({ length: 25 }, (_, i) => `pay_${i}`);
    const perKey = 8;
    // Like the relay: one event per payment at a time (awaiting each PubAck), all payments at once.
    await Promise.all(
      keys.map(async (key) => {
        for (let n = 0; n < perKey; n++) await publisher.publish(message({ key, type: n % 2 ? 'payment.captured' : 'payment.authorized', body: JSON.stringify({ key, n }) }));
      }),
    );
    const stored = await readStream(nc, publisher.stream!);
    expect(stored).toHaveLength(keys.length * perKey);
    const seen = new Map<string, number[]>();
    for (const m of stored) {
      const { key, n } = JSON.parse(decoder.decode(m.data)) as { key: string; n: number };
      expect(m.header.get('tender-event-key')).toBe(key);
      seen.set(key, [...(seen.get(key) ?? []), n]);
    }
    for (const key of keys) expect(seen.get(key)).toEqual(Array.from({ length: perKey }, (_, n) => n));
  });

  it('refuses for good what can never be published: over max_payload, a type that is no subject, a header NATS cannot carry', async () => {
    const publisher = await open();
    const tooLarge = message({ body: new Uint8Array((nc.info?.max_payload ?? 1024 * 1024) + 1) });
    await expect(publisher.publish(tooLarge)).rejects.toMatchObject({ name: 'PublishError', retryable: false });
    await expect(publisher.publish(message({ type: 'payment.*' }))).rejects.toMatchObject({ retryable: false });
    await expect(publisher.publish(message({ type: 'payment captured' }))).rejects.toMatchObject({ retryable: false });
    await expect(publisher.publish(message({ headers: { 'bad header': 'x' } }))).rejects.toMatchObject({ retryable: false });
    await expect(publisher.publish(message({ headers: { 'x-ok': 'line\r\nbreak' } }))).rejects.toMatchObject({ retryable: false });
    expect(await readStream(nc, publisher.stream!)).toHaveLength(0);
    // ...and the publisher still works afterwards.
    await publisher.publish(message());
    expect(await readStream(nc, publisher.stream!)).toHaveLength(1);
  });

  it('a stream managed elsewhere: used as it is when it captures the topic, an error when it does not or is missing', async () => {
    const jsm = await jetstreamManager(nc);
    const name = unique('TENDER_OWNED');
    streams.push(name);
    const topic = unique('owned').replace('_', '-');
    await jsm.streams.add({ name, subjects: [`${topic}.payment.*`] });
    await expect(createNatsPublisher({ servers: NATS_URL, topic, stream: { name, create: false } })).rejects.toThrow(/does not capture/);
    await jsm.streams.update(name, { subjects: [`${topic}.>`] });
    const publisher = await open({ topic, stream: { name, create: false } });
    await publisher.publish(message());
    expect(await readStream(nc, name)).toHaveLength(1);
    await expect(createNatsPublisher({ servers: NATS_URL, topic: 'missing.topic', stream: { name: unique('MISSING'), create: false } })).rejects.toThrow(/does not exist/);
  });

  it('with no stream capturing the subject, a publish fails retryably (it may pass once the stream exists)', async () => {
    const publisher = await open({ topic: unique('nostream').replace('_', '-'), stream: false, timeoutMs: 1000 });
    const error = await publisher.publish(message()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).retryable).toBe(true);
  });

  it('after close, publishing rejects (retryably: another publisher may take it) and close is idempotent', async () => {
    const publisher = await open();
    await publisher.close();
    await publisher.close();
    await expect(publisher.publish(message())).rejects.toMatchObject({ retryable: true });
  });

  it('takes credentials out of the server URL and never shows them', async () => {
    // The server has no auth: a URL with credentials must still connect (they are sent as user/pass),
    // and the address the client reports carries none.
    const publisher = await open({ servers: 'nats://someone:s3cret@127.0.0.1:4222' });
    await publisher.publish(message());
    expect(await readStream(nc, publisher.stream!)).toHaveLength(1);
  });
});
