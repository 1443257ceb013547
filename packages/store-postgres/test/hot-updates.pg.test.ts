/**
 * HOT updates on real Postgres: payments created and captured through the engine, their outbox rows
 * leased and delivered, and what `pg_stat_user_tables` counts afterwards. An update that changes no
 * indexed column and finds room on its page (migration 8's fillfactor) is heap-only: no index gets a
 * new entry. Statistics reach `pg_stat_user_tables` asynchronously (each backend flushes its counters
 * when idle, at most once a second), so the test polls until every update it made is counted.
 *
 * And the plans of those statements: every statement the store sends for that work, as it sends it,
 * explained as a generic plan (what a store-owned pool runs, `plan_cache_mode=force_generic_plan`) on
 * tables of tens of thousands of rows, uses no sequential scan.
 */
import { createTender } from '@tender/core';
import { createTestGateway, waitFor } from '@tender/core/testing';
import { createPostgresStore, type PostgresStore } from '@tender/store-postgres';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, genericPlan, recordingPool, testPool, uniqueSchema, type SentStatement } from './helpers';

const PAYMENTS = 120;

let pool: pg.Pool;
let store: PostgresStore;
const schema = uniqueSchema('hot');
beforeAll(async () => {
  pool = await testPool({ max: 4 });
  store = await createPostgresStore({ pool, schema });
});
afterAll(async () => {
  await store.close();
  await dropSchema(pool, schema);
  await pool.end();
});

interface TableStats {
  n_tup_upd: number;
  n_tup_hot_upd: number;
}

async function tableStats(): Promise<Record<string, TableStats>> {
  const { rows } = await pool.query<{ relname: string; n_tup_upd: string; n_tup_hot_upd: string }>(
    'SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE schemaname = $1',
    [schema],
  );
  return Object.fromEntries(rows.map((r) => [r.relname, { n_tup_upd: Number(r.n_tup_upd), n_tup_hot_upd: Number(r.n_tup_hot_upd) }]));
}

/** The sum of a counter column over a table's rows. */
async function updatedRows(table: string, column: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT coalesce(sum(${column}), 0)::int AS n FROM "${schema}".${table}`);
  return rows[0]!.n;
}

describe('HOT updates (real Postgres)', () => {
  it('keeps the updates of idempotency keys and outbox leases heap-only, with room on their pages', async () => {
    const { rows: options } = await pool.query<{ relname: string; reloptions: string[] | null }>(
      `SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname IN ('payments', 'idempotency_keys', 'outbox_events', 'refunds')`,
      [schema],
    );
    for (const { relname, reloptions } of options) expect(reloptions?.some((o) => o.startsWith('fillfactor=')), relname).toBe(true);

    const tender = createTender({ gateways: [createTestGateway()], store });
    for (let i = 0; i < PAYMENTS; i++) {
      const p = await tender.payments.create(
        { amount: '10.00', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual', orderId: `ORD-${i}` },
        { idempotencyKey: `hot-${randomBytes(6).toString('hex')}` },
      );
      await tender.payments.capture(p.id);
    }
    // The dispatcher's work on the outbox: a lease, then the delivery outcome.
    const now = new Date().toISOString();
    const claimed = await store.claimOutbox({ limit: 10_000, now, leaseUntil: new Date(Date.now() + 60_000).toISOString() });
    expect(claimed.length).toBeGreaterThanOrEqual(PAYMENTS);
    for (const row of claimed) await store.completeOutbox(row.id, { status: 'delivered', at: now });

    // Every outbox row was updated twice (lease, outcome); wait until the statistics say as much.
    const expectedOutbox = 2 * claimed.length;
    expect(await updatedRows('outbox_events', 'attempts')).toBe(claimed.length);
    const stats = await waitFor(async () => {
      await pool.query('SELECT pg_stat_force_next_flush()');
      const s = await tableStats();
      return (s.outbox_events?.n_tup_upd ?? 0) >= expectedOutbox && (s.idempotency_keys?.n_tup_upd ?? 0) >= PAYMENTS && (s.payments?.n_tup_upd ?? 0) >= PAYMENTS ? s : null;
    }, 'the updates to reach pg_stat_user_tables', 30_000, 200);

    const ratio = (t: TableStats) => t.n_tup_hot_upd / t.n_tup_upd;
    // Nothing an idempotency record's updates change is indexed.
    expect(ratio(stats.idempotency_keys!)).toBeGreaterThan(0.9);
    // The leases are heap-only; a delivery outcome changes `status`, which the partial indexes' predicates read.
    expect(ratio(stats.outbox_events!)).toBeGreaterThan(0.45);
    // Payments: each write changes status or updated_at, held by the reconciler's index, so none is
    // HOT (three updates per create + capture here).
    expect(stats.payments!.n_tup_upd).toBeGreaterThanOrEqual(PAYMENTS);
  }, 120_000);

  it('plans every statement of create, capture, dispatch and reconcile without a sequential scan on large tables', async () => {
    const big = uniqueSchema('plan');
    // Every statement the store sends, recorded on the way to Postgres.
    const sent: SentStatement[] = [];
    const recording = recordingPool(sent);
    const planned = await createPostgresStore({ pool: recording, schema: big });
    try {
      const s = `"${big}"`;
      // Tens of thousands of rows in the tables the hot statements touch, then fresh statistics.
      await pool.query(`INSERT INTO ${s}.payments (id, merchant_id, order_id, status, amount, currency, capture_method, gateway, gateway_reference, created_at, updated_at, version)
        SELECT 'pay_' || g, 'm_' || (g % 50), 'ORD-' || g, (ARRAY['CAPTURED','PENDING','AUTHORIZED','FAILED'])[1 + g % 4], 10, 'MYR', 'manual', 'test', 'ref_' || g,
          now() - g * interval '1 second', now() - g * interval '1 second', 1
        FROM generate_series(1, 40000) g`);
      await pool.query(`INSERT INTO ${s}.transitions (id, merchant_id, payment_id, to_status, reason, actor, at)
        SELECT 'tr_' || g, 'm_1', 'pay_' || g, 'CAPTURED', 'r', 'api', now() FROM generate_series(1, 40000) g`);
      await pool.query(`INSERT INTO ${s}.idempotency_keys (merchant_id, key, fingerprint, state, recovery_point, resource_type, resource_id, created_at, expires_at)
        SELECT 'm_1', 'k_' || g, 'fp', 'completed', 'finished', 'payment', 'pay_' || g, now(), now() + interval '1 day' FROM generate_series(1, 40000) g`);
      await pool.query(`INSERT INTO ${s}.outbox_events (id, merchant_id, type, payment_id, data, created_at, status, next_attempt_at, aggregateid, relay_status, relay_next_attempt_at)
        SELECT 'evt_' || g, 'm_1', 'payment.captured', 'pay_' || g, '{}', now(), 'delivered', now(), 'pay_' || g, 'published', now() FROM generate_series(1, 40000) g`);
      await pool.query(`ANALYZE ${s}.payments, ${s}.transitions, ${s}.idempotency_keys, ${s}.outbox_events`);

      sent.length = 0;
      const tender = createTender({ gateways: [createTestGateway()], store: planned });
      const p = await tender.payments.create(
        { amount: '10.00', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual', orderId: 'ORD-plan' },
        { idempotencyKey: 'plan-key' },
      );
      await tender.payments.capture(p.id);
      const now = new Date().toISOString();
      const lease = new Date(Date.now() + 60_000).toISOString();
      for (const row of await planned.claimOutbox({ limit: 10, now, leaseUntil: lease })) await planned.completeOutbox(row.id, { status: 'delivered', at: now });
      for (const row of await planned.claimRelay({ limit: 10, now, leaseUntil: lease })) await planned.completeRelay(row.id, { status: 'published', at: now });
      await planned.listPaymentsToReconcile({ statuses: ['PENDING', 'PROCESSING'], updatedBefore: now, limit: 100 });
      await planned.countPaymentsToReconcile({ statuses: ['PENDING', 'PROCESSING'], updatedBefore: now });
      await planned.getPayment(p.id);
      await planned.listTransitions(p.id);

      const statements = new Map<string, unknown[]>();
      for (const { text, values } of sent) if (!/^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(text) && !statements.has(text)) statements.set(text, values);
      expect(statements.size).toBeGreaterThanOrEqual(8);
      const scans: string[] = [];
      const client = await pool.connect();
      try {
        for (const [text, values] of statements) {
          const plan = await genericPlan(client, { text, values });
          if (/Seq Scan on (payments|transitions|idempotency_keys|outbox_events|refunds)\b/.test(plan)) scans.push(`${text}\n${plan}`);
        }
      } finally {
        client.release();
      }
      expect(scans).toEqual([]);
    } finally {
      await planned.close();
      await dropSchema(pool, big);
      await recording.end();
    }
  }, 180_000);
});
