/**
 * deploy/sql/roles.sql on the real Postgres, run with psql: the owner role migrates (`tender-server
 * migrate`), the server runs as the application role (payments, captures, refunds, replays, merchant
 * webhooks, the reconciler, the purge and /ready all under DML only), which can change no schema object; the
 * analytics role reads but cannot write and cannot read the secret-bearing columns; tables a later
 * migration adds reach the application role at once and the analytics role once the script runs again.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@tender/core/testing';
import { createPostgresStore } from '@tender/store-postgres';
import { signToken } from '@tender/server-express';
import { startTenderServer, type TenderServer } from '../src/server';
import { createLogger } from '../src/logging';
import { spawnTenderServer } from './cli-process';
import { TenderRoles, sqlstateOf, superuser } from './db-roles';
import { dropSchema, freshSchema } from './pg';

const SECRET = 'roles-test-secret-roles-test-secret-0123';
const MERCHANT = 'roles-merchant';
const schema = freshSchema('srv_roles');
const roles = new TenderRoles(schema);
const s = `"${schema}"`;
/** roles.sql's default analytics_hidden_columns. */
const HIDDEN = [
  'webhook_endpoints.secret',
  'webhook_endpoints.url',
  'payments.customer',
  'payments.next_action',
  'payments.gateway_data',
  'idempotency_keys.response',
  'outbox_events.data',
  'outbox_events.payload',
  'saved_payment_methods.token',
  'saved_payment_methods.wallet_email',
  'invoices.hosted_invoice_url',
];
const INSUFFICIENT_PRIVILEGE = '42501';
const READ_ONLY_TRANSACTION = '25006';

let server: TenderServer | undefined;
let receiver: Server | undefined;
const received: string[] = [];
const clients: pg.Client[] = [];
let token: string;

async function connect(role: string): Promise<pg.Client> {
  const client = await roles.connect(role);
  clients.push(client);
  return client;
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function migrateAs(role: string): Promise<{ code: number | null; output: string }> {
  const proc = spawnTenderServer(['migrate'], { DATABASE_URL: roles.url(role), DATABASE_SCHEMA: schema, LOG_LEVEL: 'silent' });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const [code] = (await once(proc, 'exit')) as [number | null];
  return { code, output };
}

/** A port free right now (the server must be reachable before startTenderServer resolves). */
async function freePort(): Promise<number> {
  const probe = createTcpServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Every privilege roles.sql sets on the schema, as Postgres records them. */
async function privileges(): Promise<unknown[]> {
  return superuser(async (c) => {
    const { rows } = await c.query(
      `SELECT 'schema' AS kind, n.nspname AS name, n.nspacl::text AS acl, pg_get_userbyid(n.nspowner) AS owner FROM pg_namespace n WHERE n.nspname = $1
       UNION ALL SELECT 'relation', c.relname, c.relacl::text, pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.relnamespace = $1::regnamespace
       UNION ALL SELECT 'column', c.relname || '.' || a.attname, a.attacl::text, NULL FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 WHERE c.relnamespace = $1::regnamespace AND a.attnum > 0 AND a.attacl IS NOT NULL
       UNION ALL SELECT 'function', p.proname, p.proacl::text, pg_get_userbyid(p.proowner) FROM pg_proc p WHERE p.pronamespace = $1::regnamespace
       UNION ALL SELECT 'default', d.defaclobjtype::text || coalesce(d.defaclnamespace::regnamespace::text, '*'), d.defaclacl::text, pg_get_userbyid(d.defaclrole)
                 FROM pg_default_acl d WHERE d.defaclrole = $2::regrole
       ORDER BY 1, 2`,
      [schema, roles.owner],
    );
    return rows;
  });
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200).end('ok');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  token = await signToken({ secret: SECRET, merchantId: MERCHANT });
  await roles.apply();
});

afterAll(async () => {
  await server?.close();
  for (const client of clients) await client.end().catch(() => undefined);
  receiver?.close();
  await dropSchema(schema);
  await roles.drop();
});

describe('deploy/sql/roles.sql', () => {
  it('makes a schema the application role cannot migrate: a server waits, not ready, until the owner runs tender-server migrate', async () => {
    const error = await createPostgresStore({ connectionString: roles.url(roles.app), schema }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ type: 'storage_error', code: 'migration_not_permitted' });
    expect((error as Error).message).toContain('tender-server migrate');
    expect((error as Error).message).toContain('owner role');

    // A server started as the application role before the migration Job waits for it (it does not exit).
    const port = await freePort();
    const logs: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    });
    const starting = startTenderServer({
      env: { PORT: String(port), DATABASE_URL: roles.url(roles.app), DATABASE_SCHEMA: schema, JWT_SECRET: SECRET, RECONCILE_INTERVAL: '200ms', OUTBOX_INTERVAL: '100ms', LOG_LEVEL: 'warn' },
      logger: createLogger({ level: 'warn', destination }),
    });
    starting.catch(() => undefined);
    await waitFor(() => logs.some((line) => line.includes('waiting for the schema to be migrated')), 'the server to wait for the migration');
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(503);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ starting: true });

    const migrated = await migrateAs(roles.owner);
    expect(migrated, migrated.output).toMatchObject({ code: 0 });
    // After a migration the script runs again (the analytics role's grants are per column).
    await roles.apply();
    const owners = await superuser(async (c) =>
      (await c.query(`SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = $1::regnamespace`, [schema])).rows.map((r) => r.owner),
    );
    expect(owners).toEqual([roles.owner]);
    server = await starting;
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });

  it('runs the server as the application role: payments, capture, refund, replay, webhooks, reconciler, purge, /ready', async () => {
    expect((await fetch(`${server!.url}/ready`)).status).toBe(200);
    const endpoint = await api('POST', '/api/v1/webhook-endpoints', { url: `http://127.0.0.1:${(receiver!.address() as AddressInfo).port}/hooks` });
    expect(endpoint.status).toBe(201);

    const body = { amount: '25.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', order_id: 'ORD-ROLES-1', bill_name: 'Ana Analyst', bill_email: 'ana@example.com' };
    const paid = await api('POST', '/api/v1/payments', body, { 'idempotency-key': 'roles-1' });
    expect(paid).toMatchObject({ status: 201, body: { status: 'CAPTURED' } });
    const replay = await api('POST', '/api/v1/payments', body, { 'idempotency-key': 'roles-1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(paid.body.id);
    const refund = await api('POST', `/api/v1/payments/${paid.body.id}/refund`, { amount: '5.00' }, { 'idempotency-key': 'roles-r1' });
    expect(refund).toMatchObject({ status: 201, body: { status: 'SUCCEEDED' } });
    const held = await api('POST', '/api/v1/payments', { amount: '7.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', capture_method: 'manual' });
    expect(held.body.status).toBe('AUTHORIZED');
    expect((await api('POST', `/api/v1/payments/${held.body.id}/capture`)).body.status).toBe('CAPTURED');
    const declined = await api('POST', '/api/v1/payments', { amount: '3.00', currency: 'MYR', payment_method: 'pm_card_chargeDeclined', gateway: 'stripe' });
    expect(declined.body.status).toBe('FAILED');

    expect((await api('GET', `/api/v1/payments/${paid.body.id}`)).body).toMatchObject({ status: 'PARTIALLY_REFUNDED', amount_refunded: '5.00' });
    expect((await api('GET', `/api/v1/payments/${paid.body.id}/transitions`)).body.data.length).toBeGreaterThanOrEqual(2);
    // The outbox dispatcher (claims with FOR UPDATE SKIP LOCKED, records deliveries) works as the application role.
    await waitFor(
      () => superuser(async (c) => (await c.query(`SELECT count(*)::int AS n FROM ${s}.outbox_events WHERE status <> 'delivered'`)).rows[0].n === 0),
      'every event delivered',
    );
    expect(received.length).toBeGreaterThanOrEqual(5);
    // The reconciler and the purge (the workers run them on timers, and log and go on when they fail) work too.
    expect(await server!.tender.reconcile()).toMatchObject({ errors: 0 });
    const now = new Date().toISOString();
    expect(await server!.tender.store.purge({ now, deliveredBefore: '1970-01-01T00:00:00.000Z' })).toEqual({ idempotency: 0, outbox: 0 });
    expect((await fetch(`${server!.url}/ready`)).status).toBe(200);
  });

  it('gives the application role no DDL, no TRUNCATE, no REFERENCES or TRIGGER, and no writes to schema_migrations', async () => {
    const app = await connect(roles.app);
    for (const sql of [
      `CREATE TABLE ${s}.intruder (id int)`,
      `CREATE SCHEMA intruder_${roles.app}`,
      `CREATE INDEX ON ${s}.payments (currency)`,
      `CREATE FUNCTION ${s}.intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'`,
      `ALTER TABLE ${s}.payments ADD COLUMN intruder text`,
      `ALTER TABLE ${s}.payments DROP CONSTRAINT payments_refund_total_check`,
      `DROP TABLE ${s}.payments`,
      `DROP SCHEMA ${s} CASCADE`,
      `TRUNCATE ${s}.outbox_events`,
      `DELETE FROM ${s}.schema_migrations`,
      `UPDATE ${s}.schema_migrations SET checksum = 'x'`,
    ]) {
      expect(await sqlstateOf(app, sql), sql).toBe(INSUFFICIENT_PRIVILEGE);
    }
    const { rows } = await app.query<{ table: string; ok: boolean }>(
      `SELECT c.relname AS table, has_table_privilege(c.oid, 'REFERENCES') OR has_table_privilege(c.oid, 'TRIGGER') OR has_table_privilege(c.oid, 'TRUNCATE') AS ok
         FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r'`,
      [schema],
    );
    expect(rows.length).toBeGreaterThanOrEqual(8);
    expect(rows.filter((r) => r.ok)).toEqual([]);
    // The data itself it can change (what the server does).
    expect(await sqlstateOf(app, `SELECT count(*) FROM ${s}.payments`)).toBeNull();
  });

  it('lets the analytics role read payments, refunds and the trail, never write, never read secrets or PII', async () => {
    const ro = await connect(roles.readonly);
    const columns = 'id, merchant_id, order_id, status, amount, currency, amount_captured, amount_refunded, gateway, created_at';
    const expected = await superuser(async (c) => (await c.query(`SELECT ${columns} FROM ${s}.payments ORDER BY id`)).rows);
    expect(expected.length).toBe(3);
    expect((await ro.query(`SELECT ${columns} FROM ${s}.payments ORDER BY id`)).rows).toEqual(expected);
    expect((await ro.query(`SELECT count(*)::int AS n FROM ${s}.refunds`)).rows[0].n).toBe(1);
    expect((await ro.query(`SELECT count(*)::int AS n FROM ${s}.transitions`)).rows[0].n).toBeGreaterThan(5);
    expect((await ro.query(`SELECT id, merchant_id, events FROM ${s}.webhook_endpoints`)).rows).toHaveLength(1);
    expect((await ro.query(`SELECT id, type, aggregateid, seq, status FROM ${s}.outbox_events`)).rows.length).toBeGreaterThanOrEqual(5);
    // Billing tables (migration 10) are readable but for their hidden columns.
    for (const sql of [
      `SELECT merchant_id, user_id, gateway, gateway_customer_id FROM ${s}.gateway_customers`,
      `SELECT id, user_id, gateway, type, card, is_default, deleted_at FROM ${s}.saved_payment_methods`,
      `SELECT id, user_id, status, price_id, amount, currency, current_period_end FROM ${s}.subscriptions`,
      `SELECT id, subscription_id, status, amount_due, amount_paid, paid_at FROM ${s}.invoices`,
      `SELECT resource_type, resource_id, from_status, to_status FROM ${s}.billing_transitions`,
      `SELECT id, user_id, saved_payment_method_id FROM ${s}.payments`,
    ]) {
      expect(await sqlstateOf(ro, sql), sql).toBeNull();
    }

    for (const column of HIDDEN) {
      const [table, name] = column.split('.');
      expect(await sqlstateOf(ro, `SELECT ${name} FROM ${s}.${table} LIMIT 1`), column).toBe(INSUFFICIENT_PRIVILEGE);
    }
    expect(await sqlstateOf(ro, `SELECT * FROM ${s}.webhook_endpoints`)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlstateOf(ro, `SELECT * FROM ${s}.payments`)).toBe(INSUFFICIENT_PRIVILEGE);

    const writes = [
      `INSERT INTO ${s}.inbox_events (gateway, event_id, received_at) VALUES ('x', 'y', now())`,
      `UPDATE ${s}.payments SET status = 'FAILED'`,
      `DELETE FROM ${s}.refunds`,
      `TRUNCATE ${s}.inbox_events`,
      `CREATE TABLE ${s}.intruder (id int)`,
    ];
    // Its sessions are read-only...
    for (const sql of writes) expect(await sqlstateOf(ro, sql), sql).toBe(READ_ONLY_TRANSACTION);
    // ...and in a read-write transaction it still has no privilege to write.
    for (const sql of writes) {
      await ro.query('BEGIN READ WRITE');
      expect(await sqlstateOf(ro, sql), sql).toBe(INSUFFICIENT_PRIVILEGE);
      await ro.query('ROLLBACK');
    }
    // Nothing changed.
    expect(await superuser(async (c) => (await c.query(`SELECT ${columns} FROM ${s}.payments ORDER BY id`)).rows)).toEqual(expected);
  });

  it('grants tables a later migration adds: to the application role at once, to the analytics role when the script runs again', async () => {
    const owner = await connect(roles.owner);
    const app = await connect(roles.app);
    const ro = await connect(roles.readonly);
    await owner.query(`CREATE TABLE ${s}.later (id bigint GENERATED ALWAYS AS IDENTITY, note text)`);
    try {
      expect(await sqlstateOf(app, `INSERT INTO ${s}.later (note) VALUES ('from the app')`)).toBeNull();
      expect(await sqlstateOf(app, `TRUNCATE ${s}.later`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlstateOf(ro, `SELECT note FROM ${s}.later`)).toBe(INSUFFICIENT_PRIVILEGE);
      await roles.apply();
      expect((await ro.query(`SELECT note FROM ${s}.later`)).rows).toEqual([{ note: 'from the app' }]);
      // The hidden list applies to the new table the same way.
      await roles.apply({ variables: { analytics_hidden_columns: [...HIDDEN, 'later.note'].join(',') } });
      expect(await sqlstateOf(ro, `SELECT note FROM ${s}.later`)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await sqlstateOf(ro, `SELECT id FROM ${s}.later`)).toBeNull();
    } finally {
      await owner.query(`DROP TABLE ${s}.later`);
    }
  });

  it('is idempotent: running it again leaves every privilege as it was, and the server keeps working', async () => {
    await roles.apply();
    const before = await privileges();
    await roles.apply();
    expect(await privileges()).toEqual(before);
    const again = await api('POST', '/api/v1/payments', { amount: '1.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe' });
    expect(again.body.status).toBe('CAPTURED');
  });

  it('refuses the public schema (its PUBLIC grants belong to the whole database)', async () => {
    await expect(roles.apply({ variables: { schema: 'public' } })).rejects.toThrow(/schema of its own/);
  });
});
