/**
 * Billing on the real Postgres (migration 10), beyond the store conformance suite: a schema migrated
 * before billing keeps its payments; the one-default rule and the others hold for raw writes too;
 * "set default" raced from separate instances (their own pools) ends with one default; and every
 * billing statement the store sends, explained as a generic plan on tables of tens of thousands of
 * rows, reads an index.
 */
import { createHash } from 'node:crypto';
import { TenderError } from '@tender/core';
import { sampleInvoice, samplePayment, sampleSavedMethod, sampleSubscription } from '@tender/core/testing';
import { createPostgresStore, MIGRATIONS, type PostgresStore } from '@tender/store-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, genericPlan, recordingPool, testPool, uniqueSchema, type SentStatement } from './helpers';

let admin: pg.Pool;
const schemas: string[] = [];
const stores: PostgresStore[] = [];

beforeAll(async () => {
  admin = await testPool({ max: 4 });
});
afterAll(async () => {
  for (const store of stores) await store.close().catch(() => {});
  for (const schema of schemas) await dropSchema(admin, schema);
  await admin.end();
});

/** A store with its own pool (its own connections), as a separate server instance would have. */
async function instance(schema: string): Promise<PostgresStore> {
  if (!schemas.includes(schema)) schemas.push(schema);
  const store = await createPostgresStore({ connectionString: DATABASE_URL, schema, poolConfig: { max: 6 } });
  stores.push(store);
  return store;
}

/** Migrations 1..`version` applied and recorded as the runner does, so the schema is what that release left. */
async function migrateTo(schema: string, version: number): Promise<void> {
  const client = await admin.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`SET LOCAL search_path TO "${schema}"`);
    await client.query(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const migration of MIGRATIONS.filter((m) => m.version <= version)) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        createHash('sha256').update(migration.sql).digest('hex'),
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

async function sqlstateOf(sql: string, params: unknown[] = []): Promise<{ code?: string; constraint?: string } | null> {
  try {
    await admin.query(sql, params);
    return null;
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string };
    return { code, constraint };
  }
}

describe('migration 10 (billing)', () => {
  it('migrates a schema at version 9 with payments: they keep every field, with no user and no saved method', async () => {
    const schema = uniqueSchema('mig9');
    schemas.push(schema);
    await migrateTo(schema, 9);
    await admin.query(
      `INSERT INTO "${schema}".payments (id, merchant_id, order_id, status, amount, currency, amount_captured, capture_method, gateway, gateway_reference, metadata, created_at, updated_at, version)
       VALUES ('pay_old_1', 'm_1', 'ORD-1', 'CAPTURED', 12.5, 'MYR', 12.5, 'automatic', 'test', 'gw_old_1', '{"k":"v"}', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', 3),
              ('pay_old_2', 'm_1', NULL, 'PENDING', 7, 'USD', 0, 'manual', 'test', NULL, '{}', '2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z', 1)`,
    );

    const store = await instance(schema);
    const recorded = await admin.query(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`);
    // Opening the store migrated the schema from 9 through billing to the newest migration.
    expect(recorded.rows.slice(9)).toEqual(MIGRATIONS.filter((m) => m.version >= 10).map((m) => ({ version: m.version, name: m.name })));
    await expect(store.ping()).resolves.toBeUndefined();

    const old = await store.getPayment('pay_old_1');
    expect(old).toMatchObject({
      id: 'pay_old_1', merchantId: 'm_1', orderId: 'ORD-1', status: 'CAPTURED', amount: '12.50', amountCaptured: '12.50', currency: 'MYR',
      gatewayReference: 'gw_old_1', metadata: { k: 'v' }, createdAt: '2026-01-01T00:00:00.000Z', version: 3, userId: null, savedPaymentMethodId: null,
    });
    expect((await store.listPayments({ merchantId: 'm_1', limit: 10 })).map((p) => p.id)).toEqual(['pay_old_2', 'pay_old_1']);
    expect(await store.listPayments({ merchantId: 'm_1', userId: 'user_1', limit: 10 })).toEqual([]);

    // A payment from before can be linked to a user later; it then lists as the user's.
    await store.transaction((tx) => tx.updatePayment({ ...old!, userId: 'user_1', savedPaymentMethodId: 'spm_1', version: 4 }));
    expect(await store.getPayment('pay_old_1')).toMatchObject({ userId: 'user_1', savedPaymentMethodId: 'spm_1', version: 4 });
    expect((await store.listPayments({ merchantId: 'm_1', userId: 'user_1', limit: 10 })).map((p) => p.id)).toEqual(['pay_old_1']);
  });
});

describe('billing rules live in the database', () => {
  let schema: string;
  let s: string;
  beforeAll(async () => {
    schema = uniqueSchema('bcon');
    s = `"${schema}"`;
    await instance(schema);
  });

  const method = (id: string, user: string, token: string, isDefault: boolean, deletedAt: string | null = null) =>
    admin.query(
      `INSERT INTO ${s}.saved_payment_methods (id, merchant_id, user_id, gateway, token, type, is_default, created_at, updated_at, deleted_at)
       VALUES ($1, 'm_1', $2, 'test', $3, 'card', $4, now(), now(), $5)`,
      [id, user, token, isDefault, deletedAt],
    );

  it('holds at most one live default per user and never a removed default, even for a raw write', async () => {
    await method('spm_a', 'user_a', 'pm_a', true);
    await expect(method('spm_b', 'user_a', 'pm_b', true)).rejects.toMatchObject({ code: '23505', constraint: 'saved_payment_methods_default_key' });
    // Another user's default, a second method that is not the default and a removed former default are fine.
    await method('spm_c', 'user_c', 'pm_c', true);
    await method('spm_d', 'user_a', 'pm_d', false, '2026-01-01T00:00:00Z');
    await expect(method('spm_e', 'user_a', 'pm_e', true, '2026-01-01T00:00:00Z')).rejects.toMatchObject({
      code: '23514',
      constraint: 'saved_payment_methods_removed_default_check',
    });
    await expect(method('spm_f', 'user_f', 'pm_a', false)).rejects.toMatchObject({ code: '23505', constraint: 'saved_payment_methods_token_key' });
    const defaults = await admin.query(`SELECT id FROM ${s}.saved_payment_methods WHERE is_default ORDER BY id`);
    expect(defaults.rows.map((r) => r.id)).toEqual(['spm_a', 'spm_c']);
  });

  it('checks statuses, amounts and gateway references of subscriptions and invoices without the store', async () => {
    const store = stores.at(-1)!;
    const sub = sampleSubscription({ gatewayReference: 'sub_raw' });
    const inv = sampleInvoice({ gatewayReference: 'in_raw' });
    await store.transaction(async (tx) => {
      await tx.insertSubscription(sub);
      await tx.insertInvoice(inv);
    });
    expect(await sqlstateOf(`UPDATE ${s}.subscriptions SET status = 'expired' WHERE id = $1`, [sub.id])).toMatchObject({ code: '23514', constraint: 'subscriptions_status_check' });
    expect(await sqlstateOf(`UPDATE ${s}.subscriptions SET amount = -1 WHERE id = $1`, [sub.id])).toMatchObject({ code: '23514', constraint: 'subscriptions_amount_check' });
    expect(await sqlstateOf(`UPDATE ${s}.invoices SET status = 'settled' WHERE id = $1`, [inv.id])).toMatchObject({ code: '23514', constraint: 'invoices_status_check' });
    expect(await sqlstateOf(`UPDATE ${s}.invoices SET amount_remaining = -0.01 WHERE id = $1`, [inv.id])).toMatchObject({ code: '23514', constraint: 'invoices_amount_remaining_check' });
    expect(
      await sqlstateOf(`INSERT INTO ${s}.invoices SELECT 'inv_copy', merchant_id, user_id, gateway, gateway_reference, subscription_id, status, currency, amount_due, amount_paid, amount_remaining,
        billing_reason, number, hosted_invoice_url, period_start, period_end, attempt_count, next_payment_attempt, payment_id, paid_at, created_at, updated_at, synced_at, version
        FROM ${s}.invoices WHERE id = $1`, [inv.id]),
    ).toMatchObject({ code: '23505', constraint: 'invoices_gateway_reference_key' });
    expect(await sqlstateOf(`INSERT INTO ${s}.billing_transitions (id, merchant_id, resource_type, resource_id, to_status, reason, actor, at) VALUES ('btr_x', 'm_1', 'payment', 'x', 'active', 'r', 'api', now())`)).toMatchObject({
      code: '23514',
      constraint: 'billing_transitions_resource_type_check',
    });
    // The store refuses an amount Postgres would round, before anything is written.
    const error = await store.transaction((tx) => tx.insertInvoice(sampleInvoice({ amountDue: '1.23456' }))).then(() => null, (e: unknown) => e);
    expect(TenderError.isInstance(error) && error.code).toBe('invalid_amount');
  });
});

describe('saved payment methods through the store', () => {
  it('refuses a default insert of a token already saved without touching the current default, and the transaction goes on', async () => {
    const store = await instance(uniqueSchema('bdup'));
    const first = sampleSavedMethod({ userId: 'user_dup', isDefault: true });
    await store.transaction((tx) => tx.insertSavedPaymentMethod(first));
    const again = sampleSavedMethod({ userId: 'user_dup', token: first.token, isDefault: true });
    const other = sampleSavedMethod({ userId: 'user_dup' });
    const code = await store.transaction(async (tx) => {
      const refused = await tx.insertSavedPaymentMethod(again).then(() => null, (e: unknown) => e);
      // The transaction stays usable after the refusal.
      await tx.insertSavedPaymentMethod(other);
      return TenderError.isInstance(refused) ? `${refused.type}/${refused.code}` : String(refused);
    });
    expect(code).toBe('state_error/duplicate_saved_payment_method');
    expect(await store.getSavedPaymentMethod(first.id)).toEqual(first);
    expect(await store.getSavedPaymentMethod(again.id)).toBeNull();
    expect((await store.listSavedPaymentMethods({ merchantId: 'm_1', userId: 'user_dup', limit: 10 })).map((m) => [m.id, m.isDefault]).sort()).toEqual(
      [[first.id, true], [other.id, false]].sort(),
    );
  });
});

describe('"set default" across instances', () => {
  it('ends with exactly one default when two instances race set-default and default inserts for one user', async () => {
    const schema = uniqueSchema('bdef');
    const [one, two] = [await instance(schema), await instance(schema)];
    const methods = Array.from({ length: 8 }, (_, i) => sampleSavedMethod({ userId: 'user_race', isDefault: i === 0 }));
    for (const m of methods) await one.transaction((tx) => tx.insertSavedPaymentMethod(m));
    const now = '2026-03-01T10:00:00.000Z';
    const results = await Promise.all([
      ...methods.map((m, i) => (i % 2 === 0 ? one : two).transaction((tx) => tx.setDefaultSavedPaymentMethod('m_1', m.id, now))),
      ...Array.from({ length: 4 }, (_, i) => (i % 2 === 0 ? two : one).transaction((tx) => tx.insertSavedPaymentMethod(sampleSavedMethod({ userId: 'user_race', isDefault: true })))),
    ]);
    expect(results.slice(0, methods.length).every((m) => m !== null && m !== undefined)).toBe(true);
    const live = await two.listSavedPaymentMethods({ merchantId: 'm_1', userId: 'user_race', limit: 100 });
    expect(live).toHaveLength(12);
    expect(live.filter((m) => m.isDefault)).toHaveLength(1);
  });
});

describe('billing query plans', () => {
  it('plans every billing statement from an index on large tables, and listPayments by user from its partial index', async () => {
    const big = uniqueSchema('bplan');
    schemas.push(big);
    const sent: SentStatement[] = [];
    const recording = recordingPool(sent);
    const planned = await createPostgresStore({ pool: recording, schema: big });
    try {
      const s = `"${big}"`;
      // Tens of thousands of rows over 50 merchants and 2000 users each, then fresh statistics.
      await admin.query(`INSERT INTO ${s}.payments (id, merchant_id, order_id, status, amount, currency, capture_method, gateway, gateway_reference, created_at, updated_at, version, user_id)
        SELECT 'pay_' || g, 'm_' || (g % 50), 'ORD-' || g, 'CAPTURED', 10, 'MYR', 'manual', 'test', 'ref_' || g,
          now() - g * interval '1 second', now() - g * interval '1 second', 1, CASE WHEN g % 3 = 0 THEN NULL ELSE 'user_' || (g % 2000) END
        FROM generate_series(1, 40000) g`);
      await admin.query(`INSERT INTO ${s}.gateway_customers (merchant_id, user_id, gateway, gateway_customer_id, created_at)
        SELECT 'm_' || (g % 50), 'user_' || g, 'test', 'cus_' || g, now() FROM generate_series(1, 20000) g`);
      await admin.query(`INSERT INTO ${s}.saved_payment_methods (id, merchant_id, user_id, gateway, token, type, is_default, created_at, updated_at, deleted_at)
        SELECT 'spm_' || g, 'm_' || (g % 50), 'user_' || (g % 2000), 'test', 'pm_' || g, 'card', false, now() - g * interval '1 second', now(),
          CASE WHEN g % 4 = 0 THEN now() END
        FROM generate_series(1, 30000) g`);
      await admin.query(`INSERT INTO ${s}.subscriptions (id, merchant_id, user_id, gateway, gateway_reference, gateway_customer_id, status, price_id, quantity, created_at, updated_at, synced_at, version)
        SELECT 'subs_' || g, 'm_' || (g % 50), 'user_' || (g % 2000), 'test', 'sub_' || g, 'cus_' || g, (ARRAY['active','trialing','past_due','canceled'])[1 + g % 4],
          'price_1', 1, now() - g * interval '1 second', now(), now(), 1
        FROM generate_series(1, 30000) g`);
      await admin.query(`INSERT INTO ${s}.invoices (id, merchant_id, user_id, gateway, gateway_reference, subscription_id, status, currency, amount_due, amount_paid, amount_remaining, created_at, updated_at, synced_at, version)
        SELECT 'inv_' || g, 'm_' || (g % 50), 'user_' || (g % 2000), 'test', 'in_' || g, 'subs_' || (g % 30000), 'paid', 'USD', 10, 10, 0,
          now() - g * interval '1 second', now(), now(), 1
        FROM generate_series(1, 40000) g`);
      await admin.query(`INSERT INTO ${s}.billing_transitions (id, merchant_id, resource_type, resource_id, to_status, reason, actor, at)
        SELECT 'btr_' || g, 'm_1', 'subscription', 'subs_' || (g % 30000), 'active', 'r', 'api', now() FROM generate_series(1, 40000) g`);
      await admin.query(`ANALYZE ${s}.payments, ${s}.gateway_customers, ${s}.saved_payment_methods, ${s}.subscriptions, ${s}.invoices, ${s}.billing_transitions`);

      sent.length = 0;
      const merchantId = 'm_7';
      const userId = 'user_7';
      const now = new Date().toISOString();
      const method = sampleSavedMethod({ merchantId, userId, isDefault: true });
      const sub = sampleSubscription({ merchantId, userId });
      const inv = sampleInvoice({ merchantId, userId, subscriptionId: sub.id });
      await planned.transaction(async (tx) => {
        await tx.insertGatewayCustomer({ merchantId, userId: 'user_new', gateway: 'test', gatewayCustomerId: 'cus_new', createdAt: now });
        await tx.insertGatewayCustomer({ merchantId: 'm_7', userId: 'user_7', gateway: 'test', gatewayCustomerId: 'cus_other', createdAt: now });
        await tx.insertSavedPaymentMethod(method);
        await tx.insertSavedPaymentMethod(method).catch(() => undefined);
        await tx.setDefaultSavedPaymentMethod(merchantId, 'spm_7', now);
        await tx.removeSavedPaymentMethod(merchantId, 'spm_57', now);
        await tx.insertSubscription(sub);
        const locked = await tx.lockSubscription(sub.id);
        await tx.updateSubscription({ ...locked!, status: 'active', version: locked!.version + 1 });
        await tx.insertInvoice(inv);
        const lockedInvoice = await tx.lockInvoice(inv.id);
        await tx.updateInvoice({ ...lockedInvoice!, status: 'paid', version: lockedInvoice!.version + 1 });
        await tx.appendBillingTransition({ id: 'btr_new', merchantId, resourceType: 'subscription', resourceId: sub.id, from: 'trialing', to: 'active', reason: 'r', actor: 'api', at: now });
      });
      await planned.getGatewayCustomer(merchantId, userId, 'test');
      await planned.getSavedPaymentMethod('spm_7', merchantId);
      await planned.findSavedPaymentMethodByToken(merchantId, 'test', 'pm_7');
      await planned.listSavedPaymentMethods({ merchantId, userId, limit: 20 });
      await planned.listSavedPaymentMethods({ merchantId, userId, limit: 20, startingAfter: 'spm_2007' });
      await planned.getSubscription('subs_7', merchantId);
      await planned.findSubscriptionByGatewayReference('test', 'sub_7');
      await planned.listSubscriptions({ merchantId, userId, limit: 20 });
      await planned.listSubscriptions({ merchantId, userId, status: 'active', limit: 20, startingAfter: 'subs_2007' });
      await planned.getInvoice('inv_7', merchantId);
      await planned.findInvoiceByGatewayReference('test', 'in_7');
      await planned.listInvoices({ merchantId, userId, limit: 20 });
      await planned.listInvoices({ merchantId, subscriptionId: 'subs_7', limit: 20, startingAfter: 'inv_30007' });
      await planned.listBillingTransitions('subs_7');
      await planned.listPayments({ merchantId, userId, limit: 20 });
      await planned.listPayments({ merchantId, userId, limit: 20, startingAfter: 'pay_2007' });

      const statements = new Map<string, unknown[]>();
      for (const { text, values } of sent) if (!/^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(text) && !statements.has(text)) statements.set(text, values);
      expect(statements.size).toBeGreaterThanOrEqual(25);
      const scans: string[] = [];
      const byUser: string[] = [];
      const client = await admin.connect();
      try {
        for (const [text, values] of statements) {
          const plan = await genericPlan(client, { text, values });
          if (/Seq Scan on (payments|gateway_customers|saved_payment_methods|subscriptions|invoices|billing_transitions)\b/.test(plan)) scans.push(`${text}\n${plan}`);
          if (/FROM "[^"]+"\.payments WHERE merchant_id = \$1 AND user_id = \$2/.test(text)) byUser.push(plan);
        }
      } finally {
        client.release();
      }
      expect(scans).toEqual([]);
      expect(byUser).toHaveLength(2);
      for (const plan of byUser) expect(plan).toContain('payments_merchant_user_idx');
    } finally {
      await planned.close();
      await recording.end();
    }
  }, 180_000);
});
