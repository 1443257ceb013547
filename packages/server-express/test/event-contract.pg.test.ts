/**
 * The published events' contract on real Postgres: the outbox table is what Debezium's outbox event
 * router reads with the documented connector configuration, every stored payload and every webhook
 * body validates against the documented JSON Schema of its type, and the committed schemas are the
 * ones the code generates.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerEncoder } from '@tender/core';
import { startTenderServer, type TenderServer } from '../src/server';
import { eventJsonSchemas } from '../src/event-schemas';
import { createLogger } from '../src/logging';
import { DATABASE_URL, dropSchema, freshSchema, pgStore } from './pg';

const docs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'events');
const schema = freshSchema('srv_events');
let server: TenderServer;
let client: pg.Client;

beforeAll(async () => {
  const store = await pgStore(schema);
  server = await startTenderServer({ env: { PORT: '0', RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '100ms', LOG_LEVEL: 'silent' }, store, logger: createLogger({ level: 'silent' }) });
  client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
});
afterAll(async () => {
  await server?.close();
  await client?.query('DROP PUBLICATION IF EXISTS tender_outbox_contract_test').catch(() => undefined);
  await client?.end();
  await dropSchema(schema);
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.devToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};

/** Payments that between them write most kinds of event: captured, refunded in part, failed, authorised then cancelled. */
async function makeEvents(): Promise<string[]> {
  const paid = await api('POST', '/api/v1/payments', { amount: '25.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', order_id: 'ORD-EV-1' });
  expect(paid.body.status).toBe('CAPTURED');
  expect((await api('POST', `/api/v1/payments/${paid.body.id}/refund`, { amount: '5.00' })).status).toBe(201);
  const declined = await api('POST', '/api/v1/payments', { amount: '25.00', currency: 'MYR', payment_method: 'pm_card_chargeDeclined', gateway: 'stripe' });
  expect(declined.body.status).toBe('FAILED');
  const held = await api('POST', '/api/v1/payments', { amount: '7.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', capture_method: 'manual' });
  expect(held.body.status).toBe('AUTHORIZED');
  expect((await api('POST', `/api/v1/payments/${held.body.id}/cancel`)).body.status).toBe('CANCELLED');
  return [paid.body.id, declined.body.id, held.body.id];
}

describe('published events', () => {
  it("fill the columns Debezium's outbox router reads, as the documented connector names them", async () => {
    const ids = await makeEvents();
    const connector = JSON.parse(readFileSync(join(docs, 'debezium-connector.json'), 'utf8')) as { config: Record<string, string> };
    const c = connector.config;
    expect(c['table.include.list']).toBe('tender.outbox_events');
    // Every column the configuration names exists in the table the store creates.
    const named = [
      c['transforms.outbox.table.field.event.id'],
      c['transforms.outbox.table.field.event.key'],
      c['transforms.outbox.table.field.event.type'],
      c['transforms.outbox.table.field.event.payload'],
      c['transforms.outbox.table.field.event.timestamp'],
      c['transforms.outbox.route.by.field'],
      ...c['transforms.outbox.table.fields.additional.placement']!.split(',').map((p) => p.split(':')[0]),
    ];
    const { rows: columns } = await client.query<{ column_name: string; data_type: string; is_generated: string }>(
      `SELECT column_name, data_type, is_generated FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'outbox_events'`,
      [schema],
    );
    const byName = new Map(columns.map((col) => [col.column_name, col]));
    for (const name of named) expect(byName.has(name!), `column ${name}`).toBe(true);
    expect(byName.get('payload')!.data_type).toBe('jsonb');
    // Logical decoding before Postgres 18 leaves generated columns out: these must be real ones.
    for (const name of named) expect(byName.get(name!)!.is_generated).toBe('NEVER');

    // The contract, as a query: one row per event, keyed by payment, with the envelope as payload.
    const { rows } = await client.query(
      `SELECT id, aggregatetype, aggregateid, type, payload, created_at, payment_id FROM "${schema}".outbox_events WHERE payment_id = ANY($1) ORDER BY seq`,
      [ids],
    );
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const row of rows) {
      expect(row.aggregatetype).toBe('payment');
      expect(row.aggregateid).toBe(row.payment_id);
      expect(row.payload).toMatchObject({ id: row.id, object: 'event', version: 1, type: row.type, payment_id: row.payment_id, created_at: new Date(row.created_at).toISOString() });
    }
    // Per payment, rows come in the order of its audit trail (a note is a trail entry too). The
    // sandbox's webhooks may still add entries: read the trail first, then the rows, which can only
    // have grown at the end.
    for (const id of ids) {
      const trail = (await api('GET', `/api/v1/payments/${id}/transitions`)).body.data as Array<{ to: string; refund_id: string | null; from: string | null }>;
      const expected = trail.map((t) => (t.refund_id ? `refund.${t.to.toLowerCase()}` : t.from === null ? 'payment.created' : t.from === t.to ? 'note' : `payment.${t.to.toLowerCase()}`));
      const { rows: now } = await client.query(`SELECT type, payload FROM "${schema}".outbox_events WHERE payment_id = $1 ORDER BY seq`, [id]);
      const written = now.map((r) => (r.payload.data.payment ? 'note' : r.type));
      expect(written.slice(0, expected.length)).toEqual(expected);
    }
  });

  it('publish only inserts through the documented publication', async () => {
    const sql = readFileSync(join(docs, 'publication.sql'), 'utf8')
      .replace(/tender_outbox/g, 'tender_outbox_contract_test')
      .replace(/tender\.outbox_events/g, `"${schema}".outbox_events`);
    await client.query(sql);
    const { rows } = await client.query(`SELECT pubinsert, pubupdate, pubdelete FROM pg_publication WHERE pubname = 'tender_outbox_contract_test'`);
    expect(rows).toEqual([{ pubinsert: true, pubupdate: false, pubdelete: false }]);
    const { rows: tables } = await client.query(`SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = 'tender_outbox_contract_test'`);
    expect(tables).toEqual([{ schemaname: schema, tablename: 'outbox_events' }]);
  });

  it('validate against the JSON Schema of their type, stored, as webhooks and over GET /events/:id', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const schemas = eventJsonSchemas();
    const validators = new Map(Object.entries(schemas.tender).map(([type, s]) => [type, ajv.compile(s as object)]));
    // The Stripe sandbox's charge.refunded webhook is noted on the refunded payment: a gateway note.
    const noteWritten = async () => (await client.query(`SELECT 1 FROM "${schema}".outbox_events WHERE type = 'payment.charge.refunded'`)).rowCount! > 0;
    await expect.poll(noteWritten, { timeout: 10_000 }).toBe(true);
    const { rows } = await client.query(`SELECT id, type, payload FROM "${schema}".outbox_events ORDER BY seq`);
    const types = new Set(rows.map((r) => r.type));
    for (const type of ['payment.created', 'payment.captured', 'payment.failed', 'payment.authorized', 'payment.cancelled', 'payment.partially_refunded', 'refund.pending', 'refund.succeeded']) expect(types).toContain(type);
    expect(types).toContain('payment.charge.refunded');
    for (const row of rows) {
      const validate = validators.get(row.type) ?? validators.get('payment.note')!;
      expect(validate(row.payload), `${row.type}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      const served = (await api('GET', `/api/v1/events/${row.id}`)).body;
      expect({ ...served, delivery: undefined, relay: undefined }).toEqual({ ...row.payload, delivery: undefined, relay: undefined });
    }
    // The seed format of the same rows validates against the seed schemas.
    const seed = createBrokerEncoder({ format: 'seed', reader: server.tender.store });
    const seedValidators = new Map(Object.entries(schemas.seed).map(([type, s]) => [type, ajv.compile(s as object)]));
    const seen = new Set<string>();
    for (const row of rows) {
      const message = await seed((await server.tender.store.getOutboxEvent(row.id))!);
      if (!message) continue;
      seen.add(message.type);
      const body = JSON.parse(new TextDecoder().decode(message.body));
      const validate = seedValidators.get(message.type)!;
      expect(validate(body), `${message.type}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      expect(body.eventId).toBe(row.id);
    }
    expect([...seen].sort()).toEqual(['payment.failed', 'payment.refunded', 'payment.successful']);
    // GET /events/:id answers what the OpenAPI document says.
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { components: { schemas: Record<string, object> } };
    const withComponents = (id: string) => ({ ...openapi.components.schemas[id], components: openapi.components });
    const validateResource = ajv.compile(withComponents('Event'));
    const one = (await api('GET', `/api/v1/events/${rows[0]!.id}`)).body;
    expect(validateResource(one), ajv.errorsText(validateResource.errors)).toBe(true);
    expect(one.relay).toMatchObject({ status: 'pending', attempts: 0 });
    // A wrong status for the type is refused: the schemas say something.
    const captured = rows.find((r) => r.type === 'payment.captured')!;
    expect(validators.get('payment.captured')!({ ...captured.payload, data: { ...captured.payload.data, status: 'FAILED' } })).toBe(false);
    expect(validators.get('payment.captured')!({ ...captured.payload, data: { ...captured.payload.data, amount: 25 } })).toBe(false);
  });

  it('are documented by the committed schema files, exactly as the code generates them', () => {
    for (const [format, byType] of Object.entries(eventJsonSchemas())) {
      const dir = join(docs, 'schemas', format);
      expect(readdirSync(dir).sort()).toEqual(Object.keys(byType).map((t) => `${t}.json`).sort());
      for (const [type, s] of Object.entries(byType)) {
        expect(JSON.parse(readFileSync(join(dir, `${type}.json`), 'utf8')), `${format}/${type}.json is stale: npx tsx scripts/event-schemas.ts`).toEqual(s);
      }
    }
  });
});
