/**
 * Backup and restore as docs/operations.md tells an operator, with the real client programs: payments
 * made over the REST API (as the application role of deploy/sql/roles.sql), `pg_dump --format=custom
 * --schema=...` as the owner role, `createdb` and `pg_restore` into a new database. A server on the
 * restored copy answers every payment, refund, trail, event and webhook endpoint exactly as a server
 * on the original does, and takes new payments whose trail and outbox rows continue the identity
 * sequences. The same once more restored without owners and grants (another cluster's way), then
 * handed to the roles by running roles.sql on it, and once in place (the schema renamed aside).
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@tender/core/testing';
import { migrate } from '@tender/store-postgres';
import { signToken } from '@tender/server-express';
import { startTenderServer, type TenderServer } from '../src/server';
import { createLogger } from '../src/logging';
import { TenderRoles, databaseUrl, pgTool, superuser } from './db-roles';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';

const SECRET = 'backup-test-secret-backup-test-secret-01';
const MERCHANT = 'backup-merchant';
const schema = freshSchema('srv_backup');
const s = `"${schema}"`;
const roles = new TenderRoles(schema);
const suffix = randomBytes(4).toString('hex');
/** Restored with owners and grants (same cluster), and without (as into another cluster). */
const restored = `tender_restore_${suffix}`;
const restoredBare = `tender_restore_bare_${suffix}`;
/** The original schema's name once it is renamed aside for an in-place restore. */
const aside = `${schema}_before_restore`;
const work = mkdtempSync(join(tmpdir(), 'tender-backup-'));
const dumpFile = join(work, 'tender.dump');
const servers: TenderServer[] = [];
let receiver: Server | undefined;
let token: string;

async function startServer(databaseUrlAsApp: string): Promise<TenderServer> {
  const server = await startTenderServer({
    env: { PORT: '0', DATABASE_URL: databaseUrlAsApp, DATABASE_SCHEMA: schema, JWT_SECRET: SECRET, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '100ms', LOG_LEVEL: 'silent' },
    logger: createLogger({ level: 'silent' }),
  });
  servers.push(server);
  return server;
}

async function stop(server: TenderServer): Promise<void> {
  servers.splice(servers.indexOf(server), 1);
  await server.close();
}

function apiOf(server: TenderServer) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
}

/** Everything the API answers about the merchant's payments, refunds, trails, events and endpoints. */
async function readAll(server: TenderServer, database?: string) {
  const api = apiOf(server);
  const list = await api('GET', '/api/v1/payments?limit=100');
  expect(list.status).toBe(200);
  const payments = [];
  for (const summary of list.body.data) {
    const id = summary.id as string;
    const refunds = (await api('GET', `/api/v1/payments/${id}/refunds?limit=100`)).body.data as Array<{ id: string }>;
    payments.push({
      payment: (await api('GET', `/api/v1/payments/${id}`)).body,
      refunds,
      refundsById: await Promise.all(refunds.map(async (r) => (await api('GET', `/api/v1/refunds/${r.id}`)).body)),
      transitions: (await api('GET', `/api/v1/payments/${id}/transitions`)).body,
    });
  }
  const eventIds = await superuser(async (c) => (await c.query<{ id: string }>(`SELECT id FROM ${s}.outbox_events ORDER BY seq`)).rows.map((r) => r.id), database);
  const events = await Promise.all(eventIds.map(async (id) => (await api('GET', `/api/v1/events/${id}`)).body));
  const endpoints = (await api('GET', '/api/v1/webhook-endpoints?limit=100')).body;
  return { list: list.body, payments, events, endpoints };
}

async function maxSeq(database?: string): Promise<{ transitions: number; outbox: number }> {
  return superuser(async (c) => {
    const { rows } = await c.query(`SELECT (SELECT max(seq) FROM ${s}.transitions)::int AS transitions, (SELECT max(seq) FROM ${s}.outbox_events)::int AS outbox`);
    return rows[0] as { transitions: number; outbox: number };
  }, database);
}

/** A new payment and refund on `server`: their trail and events come after everything restored. */
async function newPaymentContinues(server: TenderServer, database: string | undefined): Promise<void> {
  const before = await maxSeq(database);
  const api = apiOf(server);
  const paid = await api('POST', '/api/v1/payments', { amount: '12.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', order_id: 'ORD-AFTER-RESTORE' });
  expect(paid).toMatchObject({ status: 201, body: { status: 'CAPTURED' } });
  expect((await api('POST', `/api/v1/payments/${paid.body.id}/refund`, { amount: '2.00' })).body.status).toBe('SUCCEEDED');
  // The trail as the API reads it, then the rows (a late gateway webhook may add to the trail at any
  // time, so the rows read later may have more, after these).
  const trail = (await api('GET', `/api/v1/payments/${paid.body.id}/transitions`)).body.data as Array<{ id: string; to: string }>;
  expect(trail.map((t) => t.to)).toEqual(expect.arrayContaining(['CAPTURED', 'SUCCEEDED', 'PARTIALLY_REFUNDED']));
  const rows = await superuser(async (c) => {
    const t = await c.query(`SELECT id, seq::int FROM ${s}.transitions WHERE payment_id = $1 ORDER BY seq`, [paid.body.id]);
    const o = await c.query(`SELECT seq::int FROM ${s}.outbox_events WHERE payment_id = $1 ORDER BY seq`, [paid.body.id]);
    return { transitions: t.rows as Array<{ id: string; seq: number }>, outbox: o.rows.map((r) => r.seq as number) };
  }, database);
  // The API's trail is in seq order, and every new row's seq comes after everything restored.
  expect(rows.transitions.slice(0, trail.length).map((r) => r.id)).toEqual(trail.map((t) => t.id));
  expect(rows.transitions[0]!.seq).toBeGreaterThan(before.transitions);
  expect(rows.outbox.length).toBeGreaterThanOrEqual(2);
  expect(rows.outbox[0]).toBeGreaterThan(before.outbox);
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  token = await signToken({ secret: SECRET, merchantId: MERCHANT });
  await roles.apply();
  await migrate(roles.url(roles.owner), { schema });
  await roles.apply();
});

afterAll(async () => {
  for (const server of [...servers]) await server.close().catch(() => undefined);
  receiver?.close();
  for (const db of [restored, restoredBare]) await pgTool('dropdb', ['--if-exists', '--force', `--maintenance-db=${DATABASE_URL}`, db]).catch(() => undefined);
  await dropSchema(schema);
  await dropSchema(aside);
  await roles.drop();
  rmSync(work, { recursive: true, force: true });
});

describe('backup and restore (pg_dump / pg_restore)', () => {
  let original: Awaited<ReturnType<typeof readAll>>;

  it('dumps a schema with payments in it, as the owner role, while nothing is lost', async () => {
    const server = await startServer(roles.url(roles.app));
    const api = apiOf(server);
    expect((await api('POST', '/api/v1/webhook-endpoints', { url: `http://127.0.0.1:${(receiver!.address() as AddressInfo).port}/hooks`, description: 'backup test' })).status).toBe(201);
    const customer = { bill_name: 'Rita Restore', bill_email: 'rita@example.com', bill_mobile: '+60123456789' };
    const made: string[] = [];
    for (let i = 0; i < 4; i++) {
      const paid = await api('POST', '/api/v1/payments', { amount: `${10 + i}.50`, currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', order_id: `ORD-B-${i}`, metadata: { cart: `c${i}` }, ...customer });
      expect(paid.body.status).toBe('CAPTURED');
      made.push(paid.body.id);
    }
    expect((await api('POST', `/api/v1/payments/${made[0]}/refund`, { amount: '1.00', reason: 'requested_by_customer' })).body.status).toBe('SUCCEEDED');
    expect((await api('POST', `/api/v1/payments/${made[0]}/refund`, { amount: '2.00' })).body.status).toBe('SUCCEEDED');
    expect((await api('POST', `/api/v1/payments/${made[1]}/refund`, {})).body.status).toBe('SUCCEEDED');
    const held = await api('POST', '/api/v1/payments', { amount: '7.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', capture_method: 'manual' });
    expect(held.body.status).toBe('AUTHORIZED');
    const voided = await api('POST', '/api/v1/payments', { amount: '8.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', capture_method: 'manual' });
    expect((await api('POST', `/api/v1/payments/${voided.body.id}/cancel`)).body.status).toBe('CANCELLED');
    expect((await api('POST', '/api/v1/payments', { amount: '3.00', currency: 'MYR', payment_method: 'pm_card_chargeDeclined', gateway: 'stripe' })).body.status).toBe('FAILED');
    await waitFor(
      () => superuser(async (c) => (await c.query(`SELECT count(*)::int AS n FROM ${s}.outbox_events WHERE status <> 'delivered'`)).rows[0].n === 0),
      'every event delivered',
    );
    // Stopped so that no late gateway webhook adds to a trail between the dump and the comparison.
    await stop(server);

    await pgTool('pg_dump', ['--format=custom', `--schema=${schema}`, `--file=${dumpFile}`, `--dbname=${roles.url(roles.owner)}`]);
    const { stdout: listing } = await pgTool('pg_restore', ['--list', dumpFile]);
    for (const table of ['payments', 'refunds', 'transitions', 'outbox_events', 'webhook_endpoints', 'schema_migrations']) expect(listing).toContain(`TABLE DATA ${schema} ${table}`);

    const source = await startServer(roles.url(roles.app));
    original = await readAll(source);
    await stop(source);
    expect(original.payments).toHaveLength(7);
    expect(original.payments.flatMap((p) => p.refunds)).toHaveLength(3);
    expect(original.events.length).toBeGreaterThanOrEqual(14);
    expect(original.endpoints.data).toHaveLength(1);
  });

  it('restores into a new database of the same cluster: the application role reads it all back identical, and new payments continue the sequences', async () => {
    await pgTool('createdb', [`--maintenance-db=${DATABASE_URL}`, restored]);
    await pgTool('pg_restore', ['--exit-on-error', '--single-transaction', `--dbname=${databaseUrl(restored)}`, dumpFile]);
    // Owners, grants and the schema's default privileges came with the dump: the roles need nothing more.
    const defaults = (database?: string) =>
      superuser(
        async (c) =>
          (await c.query(`SELECT defaclobjtype::text AS type, defaclnamespace::regnamespace::text AS schema, defaclacl::text AS acl FROM pg_default_acl WHERE defaclrole = $1::regrole AND defaclnamespace <> 0 ORDER BY 1`, [roles.owner])).rows,
        database,
      );
    expect((await defaults()).length).toBe(3);
    expect(await defaults(restored)).toEqual(await defaults());
    const server = await startServer(roles.url(roles.app, restored));
    expect(await readAll(server, restored)).toEqual(original);
    await newPaymentContinues(server, restored);
    await stop(server);
  });

  it('restores without owners and grants (into another cluster), then roles.sql hands the schema to the roles', async () => {
    await pgTool('createdb', [`--maintenance-db=${DATABASE_URL}`, restoredBare]);
    await pgTool('pg_restore', ['--exit-on-error', '--single-transaction', '--no-owner', '--no-acl', `--dbname=${databaseUrl(restoredBare)}`, dumpFile]);
    const owners = async () =>
      superuser(async (c) => (await c.query(`SELECT DISTINCT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relnamespace = $1::regnamespace`, [schema])).rows.map((r) => r.o), restoredBare);
    expect(await owners()).not.toContain(roles.owner);
    await roles.apply({ database: restoredBare });
    expect(await owners()).toEqual([roles.owner]);
    const server = await startServer(roles.url(roles.app, restoredBare));
    expect(await readAll(server, restoredBare)).toEqual(original);
    await newPaymentContinues(server, restoredBare);
    await stop(server);
  });

  it('restores in place: the damaged schema renamed aside, the dump restored into the same database', async () => {
    await superuser((c) => c.query(`ALTER SCHEMA ${s} RENAME TO "${aside}"`));
    await pgTool('pg_restore', ['--exit-on-error', '--single-transaction', `--dbname=${DATABASE_URL}`, dumpFile]);
    await roles.apply();
    const server = await startServer(roles.url(roles.app));
    expect(await readAll(server)).toEqual(original);
    await newPaymentContinues(server, undefined);
    await stop(server);
  });
});
