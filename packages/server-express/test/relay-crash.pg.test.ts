/**
 * SIGKILL of a `tender-server` in the middle of relaying a backlog to NATS JetStream, then a
 * restart: no event is lost and none is stored twice (an event published but not yet marked is
 * published again with the same `Nats-Msg-Id`, which JetStream's duplicate window drops), and each
 * payment's events are in the order they were written.
 */
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import { streamNameFor } from '@tender/nats';
import { waitFor } from '@tender/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { startTenderServer } from '../src/server';
import { createLogger } from '../src/logging';
import { listeningUrl, spawnTenderServer } from './cli-process';
import { DATABASE_URL, dropSchema, freshSchema, pgStore } from './pg';
import { NATS_URL, deleteStreams, haveNats, readStream, testConnection, unique } from '../../nats/test/nats-helpers';

const schema = freshSchema('srv_relay_kill');
const topic = `${unique('relaykill')}.events`;
let child: ChildProcess | null = null;

afterAll(async () => {
  child?.kill('SIGKILL');
  const nc = await testConnection();
  await deleteStreams(nc, streamNameFor(topic));
  await nc.close();
  await dropSchema(schema);
});

function spawnRelay(): ChildProcess {
  return spawnTenderServer([], { ...process.env, PORT: '0', DATABASE_URL, DATABASE_SCHEMA: schema, EVENT_BROKER_URL: NATS_URL, EVENT_TOPIC: topic, RECONCILE_INTERVAL: '0', LOG_LEVEL: 'info' });
}

describe.runIf(haveNats)('SIGKILL while the relay publishes a backlog, then restart', () => {
  it('loses no event and stores none twice', async () => {
    // A backlog: payments made by a server with no broker configured (their events wait in the outbox).
    const store = await pgStore(schema);
    const maker = await startTenderServer({ env: { PORT: '0', RECONCILE_INTERVAL: '0', LOG_LEVEL: 'silent' }, store, logger: createLogger({ level: 'silent' }) });
    const api = async (path: string, body: unknown) =>
      (await fetch(`${maker.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${maker.devToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<any>;
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const p = await api('/api/v1/payments', { amount: '9.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', order_id: `K-${batch}-${i}` });
          expect(p.status).toBe('CAPTURED');
          await api(`/api/v1/payments/${p.id}/refund`, { amount: '1.00' });
        }),
      );
    }
    await maker.close();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    const total = Number((await client.query(`SELECT count(*) AS n FROM "${schema}".outbox_events`)).rows[0].n);
    expect(total).toBeGreaterThan(500);

    // The relay starts on the backlog; it is killed as soon as the first events are in the stream.
    const nc = await testConnection();
    const jsm = await jetstreamManager(nc);
    const stream = streamNameFor(topic);
    const first = spawnRelay();
    child = first;
    await listeningUrl(first);
    const storedAtKill = await waitFor(async () => {
      const info = await jsm.streams.info(stream).catch(() => null);
      return info && info.state.messages > 0 ? info.state.messages : null;
    }, 'the first relayed events', 30_000, 2);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const unmarked = Number((await client.query(`SELECT count(*) AS n FROM "${schema}".outbox_events WHERE relay_status = 'pending'`)).rows[0].n);
    console.info(`relay kill: ${storedAtKill} of ${total} stored at the kill, ${unmarked} unmarked after it`);
    // The kill landed mid-backlog (otherwise this would prove nothing).
    expect(storedAtKill).toBeLessThan(total);
    expect(unmarked).toBeGreaterThan(0);

    // A new process takes over once the dead one's leases run out, and finishes.
    const second = spawnRelay();
    child = second;
    await listeningUrl(second);
    await waitFor(async () => Number((await client.query(`SELECT count(*) AS n FROM "${schema}".outbox_events WHERE relay_status <> 'published'`)).rows[0].n) === 0, 'every event published', 90_000, 200);
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
    child = null;

    const rows = (await client.query(`SELECT id, payment_id FROM "${schema}".outbox_events ORDER BY seq`)).rows as Array<{ id: string; payment_id: string }>;
    await client.end();
    const messages = await readStream(nc, stream);
    await nc.close();
    const ids = messages.map((m) => m.header!.get('Nats-Msg-Id'));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(rows.map((r) => r.id).sort());
    const order = (list: Array<{ id: string; payment_id: string }>) => {
      const out = new Map<string, string[]>();
      for (const r of list) out.set(r.payment_id, [...(out.get(r.payment_id) ?? []), r.id]);
      return out;
    };
    expect(order(messages.map((m) => ({ id: m.header!.get('Nats-Msg-Id'), payment_id: m.header!.get('tender-payment-id') })))).toEqual(order(rows));
  }, 180_000);
});
