/**
 * PostgresStore on the real Postgres: migrations, database-level constraints and indexes, concurrency
 * between separate pools (as between server instances), batched purge and connection loss.
 */
import { createServer } from 'node:net';
import { createOutboxDispatcher, createTender, newId, requestFingerprint, TenderError, type OutboxRow, type Store } from '@tender/core';
import { createTestGateway, FakeClock, MemoryStore, samplePayment } from '@tender/core/testing';
import { createPostgresStore, GENERIC_PLANS_OPTION, migrate, MIGRATIONS, type PostgresStore } from '@tender/store-postgres';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, testPool, uniqueSchema } from './helpers';

let admin: pg.Pool;
const schemas: string[] = [];
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  admin = await testPool({ max: 4 });
});
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  for (const schema of schemas) await dropSchema(admin, schema);
  await admin.end();
});

/** A store with its own pool (its own connections), as a separate server instance would have. */
const instance = (schema: string, poolConfig: pg.PoolConfig = {}) => instanceOf(schema, poolConfig);

async function instanceOf(schema: string, poolConfig: pg.PoolConfig = {}, groupCommit = false): Promise<PostgresStore> {
  if (!schemas.includes(schema)) schemas.push(schema);
  const store = await createPostgresStore({ connectionString: DATABASE_URL, schema, poolConfig: { max: 8, ...poolConfig }, groupCommit });
  closers.push(() => store.close());
  return store;
}

async function errorOf(promise: Promise<unknown>): Promise<TenderError> {
  try {
    await promise;
  } catch (error) {
    expect(TenderError.isInstance(error), String(error)).toBe(true);
    return error as TenderError;
  }
  throw new Error('expected a TenderError');
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('migrations', () => {
  it('make ping (the readiness probe) fail until the schema is migrated', async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    const store = await createPostgresStore({ connectionString: DATABASE_URL, schema, migrate: false });
    closers.push(() => store.close());
    const error = await errorOf(store.ping());
    expect(error).toMatchObject({ type: 'storage_error', code: 'migrations_pending', retryable: true });
    await store.migrate();
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('create the schema on a fresh database, then are a no-op', async () => {
    const schema = uniqueSchema('mig');
    schemas.push(schema);
    const first = await migrate(DATABASE_URL, { schema });
    expect(first).toEqual({ schema, applied: MIGRATIONS.map((m) => m.version), current: MIGRATIONS.length });
    const tables = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'analytics_declines_daily',
      'analytics_latency_daily',
      'analytics_payments_daily',
      'analytics_refunds_daily',
      'billing_transitions',
      'dispute_transitions',
      'disputes',
      'gateway_customers',
      'idempotency_keys',
      'inbox_events',
      'invoices',
      'outbox_events',
      'payments',
      'refunds',
      'risk_velocity',
      'saved_payment_methods',
      'schema_migrations',
      'settlement_runs',
      'subscriptions',
      'transitions',
      'webhook_deliveries',
      'webhook_endpoints',
    ]);
    const again = await migrate(admin, { schema });
    expect(again).toEqual({ schema, applied: [], current: MIGRATIONS.length });
    const store = await instance(schema);
    expect(await store.migrate()).toEqual({ schema, applied: [], current: MIGRATIONS.length });
    const recorded = await admin.query(`SELECT version, name FROM "${schema}".schema_migrations`);
    expect(recorded.rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });

  it('apply once when several instances start together', async () => {
    const schema = uniqueSchema('race');
    schemas.push(schema);
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: DATABASE_URL, max: 1 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool, { schema })));
      expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
      expect(results.every((r) => r.current === MIGRATIONS.length)).toBe(true);
      const count = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".schema_migrations`);
      expect(count.rows[0].n).toBe(MIGRATIONS.length);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('refuse to run over an edited migration', async () => {
    const schema = uniqueSchema('sum');
    schemas.push(schema);
    await migrate(admin, { schema });
    await admin.query(`UPDATE "${schema}".schema_migrations SET checksum = 'edited' WHERE version = 1`);
    const error = await errorOf(migrate(admin, { schema }));
    expect(error.code).toBe('migration_checksum_mismatch');
  });

  it('reject a schema name that is not a plain identifier', async () => {
    const error = await errorOf(createPostgresStore({ pool: admin, schema: 'Bad-Name; DROP' }));
    expect(error.type).toBe('invalid_request_error');
  });
});

describe('constraints and indexes live in the database', () => {
  let schema: string;
  let store: PostgresStore;
  beforeAll(async () => {
    schema = uniqueSchema('con');
    store = await instance(schema);
  });

  it('keeps the refunded total at or below the captured total, even for a raw write', async () => {
    const p = samplePayment({ status: 'CAPTURED', amount: '50.00', amountCaptured: '50.00' });
    await store.transaction((tx) => tx.insertPayment(p));
    const viaStore = await errorOf(store.transaction((tx) => tx.updatePayment({ ...p, amountRefunded: '50.01', version: 2 })));
    expect(viaStore).toMatchObject({ type: 'state_error', code: 'refund_total_exceeded' });
    await expect(admin.query(`UPDATE "${schema}".payments SET amount_refunded = 60 WHERE id = $1`, [p.id])).rejects.toMatchObject({
      code: '23514',
      constraint: 'payments_refund_total_check',
    });
    expect((await store.getPayment(p.id))!.amountRefunded).toBe('0.00');
  });

  it('checks statuses, foreign keys and uniqueness without the store', async () => {
    const p = samplePayment({ gatewayReference: 'gw_1' });
    await store.transaction((tx) => tx.insertPayment(p));
    await expect(admin.query(`UPDATE "${schema}".payments SET status = 'SHIPPED' WHERE id = $1`, [p.id])).rejects.toMatchObject({ code: '23514' });
    await expect(
      admin.query(
        `INSERT INTO "${schema}".refunds (id, merchant_id, payment_id, status, amount, currency, created_at, updated_at)
         VALUES ('re_x', 'm_1', 'pay_missing', 'PENDING', 1, 'MYR', now(), now())`,
      ),
    ).rejects.toMatchObject({ code: '23503' });
    await expect(
      admin.query(`INSERT INTO "${schema}".transitions (id, merchant_id, payment_id, to_status, reason, actor, at) VALUES ('tr_x', 'm_1', 'pay_missing', 'PENDING', 'x', 'api', now())`),
    ).rejects.toMatchObject({ code: '23503' });
    await expect(admin.query(`UPDATE "${schema}".payments SET amount = -1 WHERE id = $1`, [p.id])).rejects.toMatchObject({ code: '23514' });
    const dupRef = samplePayment({ gatewayReference: 'gw_1' });
    await expect(
      admin.query(
        `INSERT INTO "${schema}".payments (id, merchant_id, status, amount, currency, capture_method, gateway, gateway_reference, created_at, updated_at, version)
         VALUES ($1, 'm_1', 'PENDING', 1, 'MYR', 'automatic', 'test', 'gw_1', now(), now(), 1)`,
        [dupRef.id],
      ),
    ).rejects.toMatchObject({ code: '23505', constraint: 'payments_gateway_reference_key' });
    await expect(
      admin.query(`INSERT INTO "${schema}".inbox_events VALUES ('fiuu', 'e1', now()), ('fiuu', 'e1', now())`),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(
      admin.query(
        `INSERT INTO "${schema}".idempotency_keys (merchant_id, key, fingerprint, state, recovery_point, created_at, expires_at)
         VALUES ('m', 'k', 'f', 'in_flight', 'started', now(), now()), ('m', 'k', 'f', 'in_flight', 'started', now(), now())`,
      ),
    ).rejects.toMatchObject({ code: '23505' });
  });

  it('stores amounts exactly and never lets Postgres round one', async () => {
    const big = samplePayment({ amount: '12345678901234567890123456.78' });
    await store.transaction((tx) => tx.insertPayment(big));
    expect((await store.getPayment(big.id))!.amount).toBe('12345678901234567890123456.78');
    const precise = samplePayment({ amount: '1.23456' });
    const error = await errorOf(store.transaction((tx) => tx.insertPayment(precise)));
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_amount' });
    expect(await store.getPayment(precise.id)).toBeNull();
    const column = await admin.query(
      `SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'payments' AND column_name = 'amount'`,
      [schema],
    );
    expect(column.rows[0]).toEqual({ data_type: 'numeric', numeric_precision: 38, numeric_scale: 4 });
  });

  it('answers every engine and server lookup from an index', async () => {
    const client = await admin.connect();
    try {
      await client.query('BEGIN');
      // With sequential scans priced out, a query without a usable index still shows a Seq Scan.
      await client.query('SET LOCAL enable_seqscan = off');
      const s = `"${schema}"`;
      // Each query with the index it must use (a full scan of some other index would also dodge "Seq Scan").
      const queries: Array<[string, string]> = [
        [`SELECT * FROM ${s}.payments WHERE id = 'x'`, 'payments_pkey'],
        [`SELECT * FROM ${s}.payments WHERE merchant_id = 'm' ORDER BY created_at DESC, id DESC LIMIT 10`, 'payments_merchant_created_idx'],
        [`SELECT * FROM ${s}.payments WHERE merchant_id = 'm' AND order_id = 'o' ORDER BY created_at DESC, id DESC LIMIT 1`, 'payments_merchant_order_idx'],
        [`SELECT * FROM ${s}.payments WHERE gateway = 'g' AND gateway_reference = 'r'`, 'payments_gateway_reference_key'],
        // listPaymentsByGatewayOrder: by order id, or by primary key for a payment without one.
        [`SELECT * FROM ${s}.payments WHERE order_id = 'o' AND gateway = 'g'`, 'payments_order_gateway_idx'],
        [`SELECT * FROM ${s}.payments WHERE status = ANY('{PROCESSING,PENDING}') AND updated_at < now() ORDER BY updated_at, id LIMIT 10`, 'payments_status_updated_idx'],
        [`SELECT * FROM ${s}.refunds WHERE payment_id = 'p' ORDER BY created_at, id`, 'refunds_payment_idx'],
        [`SELECT * FROM ${s}.refunds WHERE status = 'PENDING' AND created_at < now() ORDER BY created_at, id LIMIT 10`, 'refunds_pending_idx'],
        [`SELECT * FROM ${s}.transitions WHERE payment_id = 'p' ORDER BY seq`, 'transitions_payment_idx'],
        [`SELECT * FROM ${s}.idempotency_keys WHERE merchant_id = 'm' AND key = 'k'`, 'idempotency_keys_pkey'],
        [`SELECT * FROM ${s}.idempotency_keys WHERE expires_at <= now() LIMIT 100`, 'idempotency_keys_expires_idx'],
        [`SELECT * FROM ${s}.inbox_events WHERE gateway = 'g' AND event_id = 'e'`, 'inbox_events_pkey'],
        [`SELECT id FROM ${s}.outbox_events WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT 10`, 'outbox_events_due_idx'],
        [`SELECT id FROM ${s}.outbox_events WHERE status = 'delivered' AND delivered_at < now() LIMIT 100`, 'outbox_events_delivered_idx'],
        [`SELECT endpoint_id FROM ${s}.webhook_deliveries WHERE event_id = 'e' ORDER BY delivered_at, endpoint_id`, 'webhook_deliveries_pkey'],
        [`SELECT 1 FROM ${s}.webhook_deliveries WHERE endpoint_id = 'we'`, 'webhook_deliveries_endpoint_idx'],
        // Billing (migration 10).
        [`SELECT * FROM ${s}.payments WHERE merchant_id = 'm' AND user_id = 'u' ORDER BY created_at DESC, id DESC LIMIT 10`, 'payments_merchant_user_idx'],
        [`SELECT * FROM ${s}.gateway_customers WHERE merchant_id = 'm' AND user_id = 'u' AND gateway = 'g'`, 'gateway_customers_pkey'],
        [`SELECT * FROM ${s}.saved_payment_methods WHERE merchant_id = 'm' AND gateway = 'g' AND token = 't'`, 'saved_payment_methods_token_key'],
        [`SELECT * FROM ${s}.saved_payment_methods WHERE merchant_id = 'm' AND user_id = 'u' AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 10`, 'saved_payment_methods_merchant_user_idx'],
        [`SELECT * FROM ${s}.subscriptions WHERE gateway = 'g' AND gateway_reference = 'r'`, 'subscriptions_gateway_reference_key'],
        [`SELECT * FROM ${s}.subscriptions WHERE merchant_id = 'm' AND user_id = 'u' ORDER BY created_at DESC, id DESC LIMIT 10`, 'subscriptions_merchant_user_idx'],
        [`SELECT * FROM ${s}.invoices WHERE gateway = 'g' AND gateway_reference = 'r'`, 'invoices_gateway_reference_key'],
        [`SELECT * FROM ${s}.invoices WHERE merchant_id = 'm' AND user_id = 'u' ORDER BY created_at DESC, id DESC LIMIT 10`, 'invoices_merchant_user_idx'],
        [`SELECT * FROM ${s}.invoices WHERE merchant_id = 'm' AND subscription_id = 's' ORDER BY created_at DESC, id DESC LIMIT 10`, 'invoices_subscription_idx'],
        [`SELECT * FROM ${s}.billing_transitions WHERE resource_id = 'r' ORDER BY seq`, 'billing_transitions_resource_idx'],
      ];
      for (const [sql, index] of queries) {
        const plan = (await client.query(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan, sql).not.toMatch(/Seq Scan/);
        expect(plan, sql).toContain(index);
      }
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('queued writes inside a transaction', () => {
  let store: PostgresStore;
  beforeAll(async () => {
    store = await instance(uniqueSchema('wb'));
  });
  const transition = (paymentId: string, to: string, refundId: string | null = null) => ({
    id: newId('tr'), merchantId: 'm_1', paymentId, refundId, from: null, to, reason: 'r', actor: 'api', at: '2026-03-01T10:00:00.000Z',
  });

  it('are visible to later reads in the same transaction and keep their order', async () => {
    const p = samplePayment();
    const seen = await store.transaction(async (tx) => {
      await tx.insertPayment(p);
      for (const to of ['PENDING', 'REQUIRES_ACTION', 'PROCESSING', 'AUTHORIZED', 'CAPTURED']) await tx.appendTransition(transition(p.id, to));
      await tx.enqueueOutbox({ id: 'evt_wb_1', merchantId: 'm_1', type: 't', paymentId: p.id, refundId: null, data: { list: [1, 'two'] }, createdAt: p.createdAt });
      await tx.updateIdempotencyRecord({
        merchantId: 'm_1', key: 'wb', fingerprint: 'f', state: 'in_flight', lockedUntil: p.createdAt, recoveryPoint: 'started',
        resourceType: null, resourceId: null, response: null, createdAt: p.createdAt, expiresAt: p.createdAt,
      });
      await tx.updateIdempotencyRecord({
        merchantId: 'm_1', key: 'wb', fingerprint: 'f', state: 'completed', lockedUntil: null, recoveryPoint: 'finished',
        resourceType: 'payment', resourceId: p.id, response: { status: 201, body: ['a'] }, createdAt: p.createdAt, expiresAt: p.createdAt,
      });
      return {
        trail: (await tx.listTransitions(p.id)).map((t) => t.to),
        event: await tx.getOutboxEvent('evt_wb_1'),
        key: await tx.getIdempotencyRecord('m_1', 'wb'),
      };
    });
    expect(seen.trail).toEqual(['PENDING', 'REQUIRES_ACTION', 'PROCESSING', 'AUTHORIZED', 'CAPTURED']);
    expect(seen.event).toMatchObject({ status: 'pending', data: { list: [1, 'two'] }, nextAttemptAt: p.createdAt });
    expect(seen.key).toMatchObject({ state: 'completed', resourceId: p.id, response: { status: 201, body: ['a'] } });
    expect((await store.listTransitions(p.id)).map((t) => t.to)).toEqual(seen.trail);
  });

  it('carry several rows of every kind in one batch, and check each of them', async () => {
    const [p, q] = [samplePayment(), samplePayment()];
    await store.transaction(async (tx) => {
      await tx.insertPayment(p);
      await tx.insertPayment(q);
    });
    const key = (k: string) => ({ merchantId: 'm_1', key: k, fingerprint: 'f', state: 'in_flight' as const, lockedUntil: p.createdAt, recoveryPoint: 'started',
      resourceType: null, resourceId: null, response: null, createdAt: p.createdAt, expiresAt: p.createdAt });
    const batch = (version: number, keys: string[]) =>
      store.transaction(async (tx) => {
        await tx.expectPaymentVersion(p.id, version);
        await tx.expectPaymentVersion(q.id, 1);
        for (const k of keys) await tx.insertIdempotencyRecord(key(k));
        await tx.enqueueOutbox({ id: newId('evt'), merchantId: 'm_1', type: 't', paymentId: p.id, refundId: null, data: {}, createdAt: p.createdAt });
        await tx.enqueueOutbox({ id: newId('evt'), merchantId: 'm_1', type: 't', paymentId: q.id, refundId: null, data: {}, createdAt: p.createdAt });
      });
    await batch(1, ['many-1', 'many-2']);
    expect(await store.getIdempotencyRecord('m_1', 'many-2')).toMatchObject({ key: 'many-2' });
    expect(await errorOf(batch(2, ['many-3', 'many-4']))).toMatchObject({ code: 'version_conflict' });
    expect(await errorOf(batch(1, ['many-3', 'many-1']))).toMatchObject({ code: 'duplicate_idempotency_key' });
    expect(await store.getIdempotencyRecord('m_1', 'many-3')).toBeNull();
  });

  it('fail the whole transaction when they break a rule, at the next call or at commit', async () => {
    const p = samplePayment();
    await store.transaction((tx) => tx.insertPayment(p));
    const orphan = await errorOf(
      store.transaction(async (tx) => {
        await tx.enqueueOutbox({ id: 'evt_wb_orphan', merchantId: 'm_1', type: 't', paymentId: null, refundId: null, data: {}, createdAt: p.createdAt });
        await tx.appendTransition(transition('pay_missing', 'PENDING'));
      }),
    );
    expect(orphan).toMatchObject({ type: 'not_found_error' });
    expect(await store.getOutboxEvent('evt_wb_orphan')).toBeNull();
    await store.transaction((tx) => tx.enqueueOutbox({ id: 'evt_wb_dup', merchantId: 'm_1', type: 't', paymentId: null, refundId: null, data: {}, createdAt: p.createdAt }));
    const dup = await errorOf(
      store.transaction(async (tx) => {
        await tx.appendTransition(transition(p.id, 'FAILED'));
        await tx.enqueueOutbox({ id: 'evt_wb_dup', merchantId: 'm_1', type: 't', paymentId: null, refundId: null, data: {}, createdAt: p.createdAt });
        await tx.getPayment(p.id);
      }),
    );
    expect(dup).toMatchObject({ type: 'state_error', code: 'duplicate_outbox_event' });
    expect(await store.listTransitions(p.id)).toEqual([]);
  });
});

describe('a unit of work that only writes', () => {
  it('goes to Postgres as one statement, without BEGIN or COMMIT, and is atomic', async () => {
    const schema = uniqueSchema('alone');
    schemas.push(schema);
    const sent: string[] = [];
    // Watches what reaches Postgres, on every connection of the pool.
    class WatchedClient extends pg.Client {
      override query(config: any, ...rest: any[]): any {
        sent.push(typeof config === 'string' ? config : config.text);
        return (super.query as (...args: any[]) => any)(config, ...rest);
      }
    }
    const pool = await testPool({ max: 4, Client: WatchedClient });
    const store = await createPostgresStore({ pool, schema });
    closers.push(async () => {
      await store.close();
      await pool.end();
    });
    const p = samplePayment({ merchantId: 'm_1' });
    await store.transaction((tx) => tx.insertPayment(p));
    const tr = (to: string) => ({ id: newId('tr'), merchantId: 'm_1', paymentId: p.id, refundId: null, from: null, to, reason: 'r', actor: 'api', at: p.createdAt });
    const key = { merchantId: 'm_1', key: 'alone-1', fingerprint: 'f', state: 'completed' as const, lockedUntil: null, recoveryPoint: 'finished',
      resourceType: 'payment' as const, resourceId: p.id, response: { status: 200, body: {} }, createdAt: p.createdAt, expiresAt: p.createdAt };

    sent.length = 0;
    await store.transaction(async (tx) => {
      await tx.updatePayment({ ...p, status: 'AUTHORIZED', version: 2 });
      await tx.appendTransition(tr('AUTHORIZED'));
      await tx.enqueueOutbox({ id: newId('evt'), merchantId: 'm_1', type: 'payment.authorized', paymentId: p.id, refundId: null, data: {}, createdAt: p.createdAt });
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toMatch(/^\s*(BEGIN|COMMIT)/);
    expect(await store.getPayment(p.id)).toMatchObject({ status: 'AUTHORIZED', version: 2 });

    // A stale version: the statement fails as a whole, so its transition, event and key are not written.
    const stale = await errorOf(
      store.transaction(async (tx) => {
        await tx.updatePayment({ ...p, status: 'CAPTURED', version: 2 });
        await tx.appendTransition(tr('CAPTURED'));
        await tx.enqueueOutbox({ id: 'evt_alone_stale', merchantId: 'm_1', type: 'payment.captured', paymentId: p.id, refundId: null, data: {}, createdAt: p.createdAt });
        await tx.updateIdempotencyRecord(key);
      }),
    );
    expect(stale).toMatchObject({ type: 'state_error', code: 'version_conflict' });
    expect((await store.listTransitions(p.id)).map((t) => t.to)).toEqual(['AUTHORIZED']);
    expect(await store.getOutboxEvent('evt_alone_stale')).toBeNull();
    expect(await store.getIdempotencyRecord('m_1', 'alone-1')).toBeNull();
    expect(await store.getPayment(p.id)).toMatchObject({ status: 'AUTHORIZED', version: 2 });

    // A taken event id: same, the payment update in the batch is undone with it.
    const taken = (await store.listTransitions(p.id))[0]!;
    await store.transaction((tx) => tx.enqueueOutbox({ id: 'evt_alone_taken', merchantId: 'm_1', type: 't', paymentId: p.id, refundId: null, data: {}, createdAt: p.createdAt }));
    const dup = await errorOf(
      store.transaction(async (tx) => {
        await tx.updatePayment({ ...p, status: 'CAPTURED', version: 3 });
        await tx.enqueueOutbox({ id: 'evt_alone_taken', merchantId: 'm_1', type: 't', paymentId: p.id, refundId: null, data: {}, createdAt: p.createdAt });
      }),
    );
    expect(dup).toMatchObject({ type: 'state_error', code: 'duplicate_outbox_event' });
    expect(await store.getPayment(p.id)).toMatchObject({ status: 'AUTHORIZED', version: 2 });
    expect((await store.listTransitions(p.id))[0]).toEqual(taken);

    // Statements sent together as the transaction's first share its one connection and BEGIN (this
    // pool has a single connection: a second checkout would wait forever).
    const single = await createPostgresStore({ connectionString: DATABASE_URL, schema, poolConfig: { max: 1 } });
    closers.push(() => single.close());
    const both = await single.transaction((tx) => Promise.all([tx.getPayment(p.id), tx.listTransitions(p.id), tx.getPayment('pay_none')]));
    expect(both[0]).toMatchObject({ id: p.id });
    expect(both[2]).toBeNull();

    // With a read first, the unit is a real transaction again.
    sent.length = 0;
    await store.transaction(async (tx) => {
      const current = (await tx.lockPayment(p.id))!;
      await tx.updatePayment({ ...current, status: 'CAPTURED', version: current.version + 1 });
    });
    expect(sent[0]).toBe('BEGIN');
    expect(sent.at(-1)).toBe('COMMIT');
    expect(await store.getPayment(p.id)).toMatchObject({ status: 'CAPTURED', version: 3 });
  });
});

describe('store-owned pools', () => {
  it('plan statements once per connection unless told not to, keeping the caller\'s own options', async () => {
    let opened: pg.Client[] = [];
    class Recording extends pg.Client {
      constructor(config?: string | pg.ClientConfig) {
        super(config);
        opened.push(this);
      }
    }
    const settingsOf = async (genericPlans: boolean | undefined) => {
      const schema = uniqueSchema('plans');
      schemas.push(schema);
      opened = [];
      const store = await createPostgresStore({
        connectionString: DATABASE_URL,
        schema,
        ...(genericPlans === undefined ? {} : { genericPlans }),
        poolConfig: { max: 1, options: '-c statement_timeout=12345', Client: Recording },
      });
      try {
        expect(await store.getPayment('pay_none')).toBeNull();
        // Ask Postgres itself, on the store's own (idle) connection.
        const show = async (name: string) => ((await opened[0]!.query(`SHOW ${name}`)).rows[0] as Record<string, string>)[name];
        return { plans: await show('plan_cache_mode'), timeout: await show('statement_timeout') };
      } finally {
        await store.close();
      }
    };
    expect(await settingsOf(undefined)).toEqual({ plans: 'force_generic_plan', timeout: '12345ms' });
    expect(await settingsOf(false)).toEqual({ plans: 'auto', timeout: '12345ms' });
    expect(GENERIC_PLANS_OPTION).toBe('-c plan_cache_mode=force_generic_plan');
  });
});

describe('the engine acting on a payment it does not lock', () => {
  for (const kind of ['MemoryStore', 'PostgresStore'] as const) {
    it(`applies a gateway answer after a webhook changed the payment during the call (${kind})`, async () => {
      const store: Store = kind === 'MemoryStore' ? new MemoryStore() : await instance(uniqueSchema('race'));
      const gateway = createTestGateway();
      const tender = createTender({ gateways: [gateway], store });
      const p = await tender.payments.create({ amount: '20.00', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual' });
      // The provider's webhook for the capture overtakes the capture call's own answer.
      const capture = gateway.capture!.bind(gateway);
      gateway.capture = async (input, context) => {
        const result = await capture(input, context);
        await tender.webhooks.handle('test', gateway.webhookFor(p.id, { eventId: 'evt_race' }));
        return result;
      };
      const captured = await tender.payments.capture(p.id, {}, { idempotencyKey: 'race-capture' });
      expect(captured).toMatchObject({ status: 'CAPTURED', amountCaptured: '20.00' });
      expect(captured.gatewayData.pendingCapture).toBeUndefined();
      const stored = (await store.getPayment(p.id))!;
      expect(stored).toEqual(captured);
      const trail = (await tender.transitions(p.id)).filter((t) => t.from !== t.to).map((t) => t.to);
      expect(trail).toEqual(['PENDING', 'AUTHORIZED', 'PROCESSING', 'CAPTURED']);
      // The stored answer for the key is the final payment, not the one read before the webhook.
      expect((await store.getIdempotencyRecord('default', 'race-capture'))!.response).toEqual({ status: 200, body: stored });
    });
  }
});

// Each instance batching its write-only units (group commit) must keep every one of these guarantees.
for (const groupCommit of [false, true]) describe(`concurrency across instances (separate pools${groupCommit ? ', group commit' : ''})`, () => {
  // Closed after each test (not only at the end of the file): two suites of instances with their
  // pools would hold more connections than the test server allows.
  const opened: PostgresStore[] = [];
  const instance = async (schema: string) => {
    const store = await instanceOf(schema, {}, groupCommit);
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  it('50 concurrent creates with one idempotency key make one payment and one charge', async () => {
    const schema = uniqueSchema('idem');
    const [a, b] = [await instance(schema), await instance(schema)];
    const gateway = createTestGateway({ latencyMs: 5 });
    const tenders = [createTender({ gateways: [gateway], store: a }), createTender({ gateways: [gateway], store: b })];
    const input = { amount: '25.00', currency: 'MYR', paymentMethod: 'FPX', orderId: 'ORD-50' };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => tenders[i % 2]!.payments.create(input, { idempotencyKey: 'same-key' })),
    );
    const ids = new Set(outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.id] : [])));
    expect(ids.size).toBe(1);
    for (const o of outcomes) {
      if (o.status === 'rejected') expect((o.reason as TenderError).type).toBe('idempotency_error');
    }
    const rows = await admin.query(`SELECT id FROM "${schema}".payments`);
    expect(rows.rows).toHaveLength(1);
    expect(gateway.calls.createPayment).toBe(1);
    // Once completed, the key replays the same payment from either instance.
    const replay = await tenders[1]!.payments.create(input, { idempotencyKey: 'same-key' });
    expect(replay.id).toBe(rows.rows[0].id);
  });

  it('leases an in-flight key: refused while the lease runs, taken over after it ends (crash recovery)', async () => {
    const schema = uniqueSchema('lease');
    const store = await instance(schema);
    const clock = new FakeClock('2026-05-01T00:00:00.000Z');
    const tender = createTender({ gateways: [createTestGateway()], store, clock, idempotency: { leaseMs: 30_000 } });
    const input = { amount: '10.00', currency: 'MYR', paymentMethod: 'FPX' };
    // A request that crashed after claiming its key: the record stays in flight with a lease.
    await store.transaction((tx) =>
      tx.claimIdempotencyKey({
        merchantId: 'default', key: 'crashed', fingerprint: requestFingerprint('payments.create', null, input), state: 'in_flight',
        lockedUntil: '2026-05-01T00:00:30.000Z', recoveryPoint: 'started', resourceType: null, resourceId: null, response: null,
        createdAt: '2026-05-01T00:00:00.000Z', expiresAt: '2026-05-02T00:00:00.000Z',
      }),
    );
    const busy = await errorOf(tender.payments.create(input, { idempotencyKey: 'crashed' }));
    expect(busy).toMatchObject({ type: 'idempotency_error', status: 409, retryable: true });
    clock.advance(31_000);
    const taken = await tender.payments.create(input, { idempotencyKey: 'crashed' });
    expect(taken.status).toBe('CAPTURED');
    expect(await store.getIdempotencyRecord('default', 'crashed')).toMatchObject({ state: 'completed', resourceId: taken.id });
  });

  it('20 concurrent partial refunds never exceed the captured amount', async () => {
    const schema = uniqueSchema('refund');
    const [a, b] = [await instance(schema), await instance(schema)];
    const gateway = createTestGateway();
    const tenders = [createTender({ gateways: [gateway], store: a }), createTender({ gateways: [gateway], store: b })];
    const payment = await tenders[0]!.payments.create({ amount: '100.00', currency: 'MYR', paymentMethod: 'card' });
    expect(payment.status).toBe('CAPTURED');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => tenders[i % 2]!.payments.refund(payment.id, { amount: '15.00' }, { idempotencyKey: `r-${i}` })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(6);
    const sum = await admin.query(`SELECT coalesce(sum(amount), 0)::text AS total, count(*)::int AS n FROM "${schema}".refunds WHERE status <> 'FAILED'`);
    expect(sum.rows[0]).toEqual({ total: '90.0000', n: 6 });
    const stored = (await a.getPayment(payment.id))!;
    expect(stored).toMatchObject({ amountRefunded: '90.00', status: 'PARTIALLY_REFUNDED' });
  });

  it('two dispatchers on separate pools deliver each outbox row exactly once', async () => {
    const schema = uniqueSchema('outbox');
    const [a, b] = [await instance(schema), await instance(schema)];
    const total = 300;
    await a.transaction(async (tx) => {
      for (let i = 0; i < total; i++) {
        await tx.enqueueOutbox({ id: newId('evt'), merchantId: 'm_1', type: 'payment.captured', paymentId: null, refundId: null, data: { i }, createdAt: new Date(Date.now() - 1000).toISOString() });
      }
    });
    const deliveries = new Map<string, number>();
    const byDispatcher = [0, 0];
    const dispatcher = (store: Store, n: number) =>
      createOutboxDispatcher({
        store,
        batchSize: 7,
        deliver: async (row: OutboxRow) => {
          deliveries.set(row.id, (deliveries.get(row.id) ?? 0) + 1);
          byDispatcher[n]!++;
          await new Promise((resolve) => setImmediate(resolve));
        },
      });
    const drain = async (d: ReturnType<typeof createOutboxDispatcher>) => {
      while ((await d.runOnce()) > 0);
    };
    await Promise.all([drain(dispatcher(a, 0)), drain(dispatcher(b, 1)), drain(dispatcher(a, 0)), drain(dispatcher(b, 1))]);
    expect(deliveries.size).toBe(total);
    expect([...deliveries.values()].every((n) => n === 1)).toBe(true);
    expect(byDispatcher[0]! + byDispatcher[1]!).toBe(total);
    const left = await admin.query(`SELECT status, count(*)::int AS n FROM "${schema}".outbox_events GROUP BY status`);
    expect(left.rows).toEqual([{ status: 'delivered', n: total }]);
  });
});

describe('retention', () => {
  it('purges expired keys and old delivered rows in batches, leaving the rest', async () => {
    const schema = uniqueSchema('purge');
    const store = await instance(schema);
    const t = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + ms).toISOString();
    await store.transaction(async (tx) => {
      for (let i = 0; i < 25; i++) {
        await tx.claimIdempotencyKey({
          merchantId: 'm_1', key: `old-${i}`, fingerprint: 'f', state: 'completed', lockedUntil: null, recoveryPoint: 'finished',
          resourceType: null, resourceId: null, response: { status: 201, body: [1, 2] }, createdAt: t(0), expiresAt: t(1000),
        });
      }
      await tx.claimIdempotencyKey({
        merchantId: 'm_1', key: 'live', fingerprint: 'f', state: 'in_flight', lockedUntil: t(60_000), recoveryPoint: 'started',
        resourceType: null, resourceId: null, response: null, createdAt: t(0), expiresAt: t(86_400_000),
      });
      for (let i = 0; i < 12; i++) {
        await tx.enqueueOutbox({ id: `evt_${i}`, merchantId: 'm_1', type: 't', paymentId: null, refundId: null, data: {}, createdAt: t(0) });
      }
    });
    const claimed = await store.claimOutbox({ limit: 20, now: t(1), leaseUntil: t(60_000) });
    for (const row of claimed.slice(0, 10)) await store.completeOutbox(row.id, { status: 'delivered', at: t(10) });
    await store.completeOutbox(claimed[10]!.id, { status: 'dead', error: 'gave up' });
    expect(await store.purge({ now: t(5000), deliveredBefore: t(100), batchSize: 4 })).toEqual({ idempotency: 25, outbox: 10 });
    expect(await store.getIdempotencyRecord('m_1', 'live')).not.toBeNull();
    const left = await admin.query(`SELECT status FROM "${schema}".outbox_events ORDER BY status`);
    expect(left.rows.map((r) => r.status)).toEqual(['dead', 'pending']);
    expect(await store.purge({ now: t(5000), deliveredBefore: t(100) })).toEqual({ idempotency: 0, outbox: 0 });
  });
});

describe('connection loss', () => {
  it('surfaces a refused connection as a retryable storage_error', async () => {
    const port = await closedPort();
    const store = await createPostgresStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, migrate: false });
    try {
      const now = new Date().toISOString();
      const attempts = [
        () => store.getPayment('pay_1'),
        () => store.transaction((tx) => tx.lockPayment('pay_1')),
        () => store.claimOutbox({ limit: 1, now, leaseUntil: now }),
      ];
      for (const attempt of attempts) {
        const error = await errorOf(attempt());
        expect(error).toMatchObject({ type: 'storage_error', code: 'storage_unavailable', retryable: true, status: 503 });
      }
      const failedStart = await errorOf(createPostgresStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/test` }));
      expect(failedStart.retryable).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('rolls back a transaction whose connection is killed, reports it as retryable, and recovers', async () => {
    const schema = uniqueSchema('kill');
    const appName = `tender_kill_${schema.slice(-10)}`;
    const store = await instance(schema, { max: 2, application_name: appName });
    const p = samplePayment();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inside!: () => void;
    const reached = new Promise<void>((resolve) => (inside = resolve));
    const doomed = store.transaction(async (tx) => {
      await tx.insertPayment(p);
      // A read sends BEGIN and the queued insert: the transaction now holds a connection.
      expect(await tx.getPayment(p.id)).not.toBeNull();
      inside();
      await gate;
      await tx.appendTransition({ id: newId('tr'), merchantId: 'm_1', paymentId: p.id, refundId: null, from: null, to: 'PENDING', reason: 'x', actor: 'api', at: p.createdAt });
    });
    await reached;
    const killed = await admin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1`, [appName]);
    expect(killed.rows.length).toBeGreaterThan(0);
    release();
    const error = await errorOf(doomed);
    expect(error).toMatchObject({ type: 'storage_error', code: 'storage_unavailable', retryable: true });
    // Nothing half-written, and the pool has replaced the dead connection.
    expect(await store.getPayment(p.id)).toBeNull();
    await store.transaction((tx) => tx.insertPayment(p));
    expect((await store.getPayment(p.id))!.id).toBe(p.id);
  });

  it('survives idle connections being terminated (a Postgres restart) without crashing', async () => {
    const schema = uniqueSchema('idle');
    const appName = `tender_idle_${schema.slice(-10)}`;
    const store = await instance(schema, { max: 3, application_name: appName });
    await Promise.all([store.getPayment('a'), store.getPayment('b'), store.getPayment('c')]);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [appName]);
    // The pool drops dead idle clients as their errors arrive; a caller sees either success or a retryable error.
    let lastError: unknown;
    for (let i = 0; i < 5; i++) {
      try {
        expect(await store.getPayment('a')).toBeNull();
        lastError = undefined;
        break;
      } catch (error) {
        lastError = error;
        expect((error as TenderError).retryable).toBe(true);
      }
    }
    expect(lastError).toBeUndefined();
    await store.ping();
  });
});

describe('query plans', () => {
  it('find and write a payment by its primary key and find stuck ones by index, never walking a merchant\'s payments or the table (plans made on a new schema)', async () => {
    // auto_explain hands every plan the store's connection runs back to it as a NOTICE.
    const plans: Array<{ query: string; indexes: string[]; seqScans: string[] }> = [];
    const nodesOf = (node: Record<string, unknown>): Array<Record<string, unknown>> => [node, ...((node.Plans as Array<Record<string, unknown>> | undefined) ?? []).flatMap(nodesOf)];
    class Explained extends pg.Client {
      constructor(config?: string | pg.ClientConfig) {
        super(config);
        this.on('notice', (notice) => {
          const json = /plan:\s*(\{[\s\S]*\})\s*$/.exec(notice.message ?? '')?.[1];
          if (!json) return;
          const explained = JSON.parse(json) as { 'Query Text': string; Plan: Record<string, unknown> };
          const nodes = nodesOf(explained.Plan);
          plans.push({
            query: explained['Query Text'],
            indexes: nodes.flatMap((n) => (typeof n['Index Name'] === 'string' ? [n['Index Name']] : [])),
            seqScans: nodes.flatMap((n) => (n['Node Type'] === 'Seq Scan' ? [String(n['Relation Name'])] : [])),
          });
        });
      }
    }
    const schema = uniqueSchema('plans_pk');
    schemas.push(schema);
    const store = await createPostgresStore({
      connectionString: DATABASE_URL,
      schema,
      // One connection: each statement is planned once, while the tables are new and have no statistics.
      poolConfig: {
        max: 1,
        Client: Explained,
        options: '-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 -c auto_explain.log_level=notice -c auto_explain.log_format=json -c auto_explain.log_nested_statements=on',
      },
    });
    closers.push(() => store.close());
    const tender = createTender({ gateways: [createTestGateway()], store });
    const created = [];
    for (let i = 0; i < 5; i++) {
      created.push(await tender.payments.create({ amount: '10.00', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual' }, { merchantId: 'm_plans', idempotencyKey: `plans-${i}` }));
    }
    for (const p of created) await tender.payments.capture(p.id, {}, { merchantId: 'm_plans' });
    expect(await store.listPaymentsToReconcile({ statuses: ['PROCESSING', 'REQUIRES_ACTION'], updatedBefore: new Date().toISOString(), limit: 10 })).toEqual([]);
    expect(await store.getPayment(created[0]!.id, 'm_plans')).toMatchObject({ status: 'CAPTURED' });
    expect(await store.getPayment(created[0]!.id, 'someone_else')).toBeNull();

    const touching = plans.filter((p) => /payments\b/.test(p.query));
    expect(touching.some((p) => p.indexes.includes('payments_pkey'))).toBe(true);
    expect(touching.filter((p) => p.indexes.some((i) => i.startsWith('payments_merchant_'))).map((p) => p.query.slice(0, 120))).toEqual([]);
    // The reconciler's query walks the stuck-payments index rather than scanning every payment.
    expect(touching.filter((p) => p.seqScans.includes('payments')).map((p) => p.query.slice(0, 120))).toEqual([]);
  });
});
