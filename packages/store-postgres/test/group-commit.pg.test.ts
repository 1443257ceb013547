/**
 * Group commit (`groupCommit` option) on the real Postgres, and on PGlite: concurrent write-only units
 * share a transaction and a COMMIT, a conflicting unit fails alone, a lone caller is sent at once, and
 * a batch whose connection is killed loses nothing it acknowledged.
 */
import { createTender, newId, TenderError, type IdempotencyRecord, type Payment } from '@tender/core';
import { createTestGateway, samplePayment, waitFor } from '@tender/core/testing';
import { createPGliteStore, createPostgresStore, type PostgresStore } from '@tender/store-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, testPool, uniqueSchema } from './helpers';

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

async function batchingStore(tag: string): Promise<{ store: PostgresStore; schema: string }> {
  const schema = uniqueSchema(tag);
  schemas.push(schema);
  const store = await createPostgresStore({ connectionString: DATABASE_URL, schema, poolConfig: { max: 8 }, groupCommit: true });
  stores.push(store);
  return { store, schema };
}

function key(paymentId: string, name: string): IdempotencyRecord {
  const now = new Date().toISOString();
  return {
    merchantId: 'm_1', key: name, fingerprint: 'fp', state: 'completed', lockedUntil: null, recoveryPoint: 'finished',
    resourceType: 'payment', resourceId: paymentId, response: null, createdAt: now, expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  };
}

/** A write-only unit of work, as the engine's: a new payment with its audit entry, event and key. */
function create(store: PostgresStore, payment: Payment, keyName = `k-${payment.id}`): Promise<void> {
  return store.transaction(async (tx) => {
    await tx.insertPayment(payment);
    await tx.appendTransition({ id: newId('tr'), merchantId: payment.merchantId, paymentId: payment.id, refundId: null, from: null, to: payment.status, reason: 'created', actor: 'api', at: payment.createdAt });
    await tx.enqueueOutbox({ id: newId('evt'), merchantId: payment.merchantId, type: 'payment.created', paymentId: payment.id, refundId: null, data: { id: payment.id }, createdAt: payment.createdAt });
    await tx.insertIdempotencyRecord(key(payment.id, keyName));
  });
}

async function ids(schema: string): Promise<Set<string>> {
  const { rows } = await admin.query(`SELECT id FROM "${schema}".payments`);
  return new Set(rows.map((r) => String(r.id)));
}

function codeOf(outcome: PromiseSettledResult<unknown>): string | null {
  if (outcome.status === 'fulfilled') return null;
  expect(TenderError.isInstance(outcome.reason), String(outcome.reason)).toBe(true);
  return (outcome.reason as TenderError).code;
}

describe('group commit on node-postgres', () => {
  it('sends a lone caller at once: each unit its own batch, no timer, no batch waiting for company', async () => {
    const { store } = await batchingStore('gclone');
    for (let i = 0; i < 5; i++) await create(store, samplePayment());
    const tender = createTender({ gateways: [createTestGateway()], store });
    const p = await tender.payments.create({ amount: '10.00', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual' }, { idempotencyKey: 'lone' });
    await tender.payments.capture(p.id);
    const stats = store.groupCommitStats()!;
    expect(stats.units).toBeGreaterThanOrEqual(5);
    // Nothing was ever in flight when a unit arrived, so none was held back for a batch.
    expect(stats).toMatchObject({ batches: stats.units, largestBatch: 1, timedStarts: 0, savepointRuns: 0, retriedAlone: 0 });
    expect((await store.getPayment(p.id))!.status).toBe('CAPTURED');
  });

  it('writes concurrent units in shared transactions, and answers each once its rows are committed', async () => {
    const { store, schema } = await batchingStore('gcmany');
    const payments = Array.from({ length: 40 }, () => samplePayment());
    const seen: boolean[] = [];
    // Each caller checks, from another connection, that its rows are visible the moment it is answered.
    await Promise.all(
      payments.map(async (p, i) => {
        await create(store, p);
        const { rows } = await admin.query(`SELECT (SELECT count(*) FROM "${schema}".payments WHERE id = $1)::int AS p,
          (SELECT count(*) FROM "${schema}".outbox_events WHERE payment_id = $1)::int AS o,
          (SELECT count(*) FROM "${schema}".transitions WHERE payment_id = $1)::int AS t`, [p.id]);
        seen[i] = rows[0].p === 1 && rows[0].o === 1 && rows[0].t === 1;
      }),
    );
    expect(seen.filter(Boolean)).toHaveLength(40);
    const stats = store.groupCommitStats()!;
    expect(stats.units).toBe(40);
    expect(stats.batches).toBeLessThan(40);
    expect(stats.largestBatch).toBeGreaterThan(1);
    expect(await ids(schema)).toEqual(new Set(payments.map((p) => p.id)));
  });

  it('never puts more than maxBatch units in one batch', async () => {
    const schema = uniqueSchema('gcmax');
    schemas.push(schema);
    const store = await createPostgresStore({ connectionString: DATABASE_URL, schema, poolConfig: { max: 4 }, groupCommit: { maxBatch: 4, maxWaitMs: 0 } });
    stores.push(store);
    const payments = Array.from({ length: 30 }, () => samplePayment());
    await Promise.all(payments.map((p) => create(store, p)));
    const stats = store.groupCommitStats()!;
    expect(stats.units).toBe(30);
    expect(stats.largestBatch).toBeLessThanOrEqual(4);
    expect(stats.batches).toBeGreaterThanOrEqual(8);
    // maxWaitMs 0: a second connection joins at once instead of after a timer.
    expect(stats.timedStarts).toBe(0);
    expect(await ids(schema)).toEqual(new Set(payments.map((p) => p.id)));
  });

  it('fails only the unit that reuses an idempotency key or a gateway reference or writes a stale version; the rest of its batch commits', async () => {
    const { store, schema } = await batchingStore('gcdup');
    const taken = samplePayment({ gatewayReference: 'ref-taken' });
    await create(store, taken, 'key-taken');
    const payments = Array.from({ length: 20 }, (_, i) => samplePayment(i === 13 ? { gatewayReference: 'ref-taken' } : {}));
    const keyOf = (i: number) => (i === 7 ? 'key-taken' : i === 17 || i === 18 ? 'key-twice' : `k-${payments[i]!.id}`);
    const stale = store.transaction((tx) => tx.updatePayment({ ...taken, status: 'FAILED', version: 3 }));
    const outcomes = await Promise.allSettled([...payments.map((p, i) => create(store, p, keyOf(i))), stale]);
    const codes = outcomes.map(codeOf);
    expect(codes[7]).toBe('duplicate_idempotency_key');
    expect(codes[13]).toBe('duplicate_gateway_reference');
    // One of the two callers sharing a new key wins, whichever came first.
    expect([codes[17], codes[18]].sort()).toEqual(['duplicate_idempotency_key', null].sort());
    expect(codes[20]).toBe('version_conflict');
    const failed = new Set([7, 13, codes[17] === null ? 18 : 17, 20]);
    codes.forEach((code, i) => {
      if (!failed.has(i)) expect(code, `unit ${i}`).toBeNull();
    });
    // The failed units left nothing behind; every other unit's payment is there.
    const expected = new Set([taken.id, ...payments.filter((_, i) => !failed.has(i)).map((p) => p.id)]);
    expect(await ids(schema)).toEqual(expected);
    expect((await store.getPayment(taken.id))!).toMatchObject({ status: 'PENDING', version: 1 });
    const stats = store.groupCommitStats()!;
    expect(stats.largestBatch).toBeGreaterThan(1);
    expect(stats.savepointRuns).toBeGreaterThanOrEqual(1);
  });

  it('loses no acknowledged unit when the batch connection is killed mid-batch; every caller gets an error or a success that committed', async () => {
    const { store, schema } = await batchingStore('gckill');
    await create(store, samplePayment());
    // Another session has inserted, not committed, the idempotency key one unit of the batch inserts:
    // the batch stops at that unit, open, with the units before it written and the rest queued behind.
    const locker = await admin.connect();
    const payments = Array.from({ length: 12 }, () => samplePayment());
    const keyOf = (i: number) => (i === 6 ? 'key-held' : `k-${payments[i]!.id}`);
    let outcomes: Array<PromiseSettledResult<void>>;
    try {
      await locker.query('BEGIN');
      await locker.query(`INSERT INTO "${schema}".idempotency_keys (merchant_id, key, fingerprint, state, recovery_point, created_at, expires_at)
        VALUES ('m_1', 'key-held', 'fp', 'completed', 'finished', now(), now() + interval '1 day')`);
      const lockerPid = Number((await locker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      const running = Promise.allSettled(payments.map((p, i) => create(store, p, keyOf(i))));
      const stopped = await waitFor(async () => {
        const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [lockerPid]);
        return rows[0] ? Number(rows[0].pid) : null;
      }, 'a batch waiting on the held key');
      await admin.query('SELECT pg_terminate_backend($1)', [stopped]);
      // The other session gives the key up, so a unit run again alone can take it.
      await locker.query('ROLLBACK');
      outcomes = await running;
    } finally {
      locker.release();
    }
    const committed = await ids(schema);
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') {
        expect(committed.has(payments[i]!.id), `unit ${i} was acknowledged, so its rows must be there`).toBe(true);
      } else {
        // Only a connection-level answer, which says to retry (the idempotency key makes that safe).
        expect(outcome.reason).toMatchObject({ type: 'storage_error', code: 'storage_unavailable', retryable: true });
      }
    });
    const stats = store.groupCommitStats()!;
    // The killed batch held several units, and was settled as a whole: each ran again alone (its
    // transaction was seen aborted) or was told to retry (outcome unknown), none was dropped.
    const failedCalls = outcomes.filter((o) => o.status === 'rejected').length;
    expect(stats.retriedAlone + failedCalls).toBeGreaterThan(1);
    // The store keeps working on new connections.
    const after = samplePayment();
    await create(store, after);
    expect((await ids(schema)).has(after.id)).toBe(true);
  });
});

describe('group commit on PGlite', () => {
  it('is accepted and leaves each unit to run alone: a duplicate key still fails only its own unit', async () => {
    const store = await createPGliteStore({ groupCommit: true });
    stores.push(store);
    const payments = Array.from({ length: 10 }, () => samplePayment());
    const outcomes = await Promise.allSettled(payments.map((p, i) => create(store, p, i === 4 || i === 6 ? 'shared' : `k-${p.id}`)));
    const codes = outcomes.map(codeOf);
    expect(codes.filter((c) => c !== null)).toEqual(['duplicate_idempotency_key']);
    for (const [i, p] of payments.entries()) expect((await store.getPayment(p.id))?.id ?? null, `payment ${i}`).toBe(codes[i] === null ? p.id : null);
    expect(store.groupCommitStats()).toBeNull();
    // Opening PGlite compiles its WASM and migrates a fresh database: tens of seconds on a busy machine.
  }, 120_000);
});
