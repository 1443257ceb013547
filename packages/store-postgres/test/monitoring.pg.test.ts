/**
 * The reads the reference server's metrics take from the store: pool connections, statement
 * durations, the schema's size and the count of payments the reconciler has not resolved — on
 * node-postgres (a real pool) and on PGlite (no pool).
 */
import { PGlite } from '@electric-sql/pglite';
import { samplePayment } from '@tender/core/testing';
import { createPGliteStore, createPostgresStore, type PostgresStore } from '@tender/store-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, testPool, uniqueSchema } from './helpers';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await testPool({ max: 3 });
});
afterAll(async () => {
  await pool.end();
});

const T = (minutes: number) => new Date(Date.parse('2026-03-01T10:00:00.000Z') + minutes * 60_000).toISOString();

async function seedPayments(store: PostgresStore): Promise<void> {
  const rows = [
    samplePayment({ status: 'PENDING', updatedAt: T(0) }),
    samplePayment({ status: 'PROCESSING', updatedAt: T(1) }),
    samplePayment({ status: 'PROCESSING', updatedAt: T(10) }),
    samplePayment({ status: 'REQUIRES_ACTION', updatedAt: T(0) }),
    samplePayment({ status: 'CAPTURED', updatedAt: T(0) }),
  ];
  for (const p of rows) await store.transaction((tx) => tx.insertPayment(p));
}

async function countsAndSize(store: PostgresStore): Promise<void> {
  await seedPayments(store);
  const count = (updatedBefore: string, cap?: number) => store.countPaymentsToReconcile({ statuses: ['PENDING', 'PROCESSING'], updatedBefore, ...(cap ? { cap } : {}) });
  expect(await count(T(5))).toBe(2);
  expect(await count(T(11))).toBe(3);
  expect(await count(T(11), 2)).toBe(2);
  expect(await count(T(-1))).toBe(0);
  expect(await store.countPaymentsToReconcile({ statuses: [], updatedBefore: T(11) })).toBe(0);
  // What the reconciler would be handed agrees with the count.
  expect((await store.listPaymentsToReconcile({ statuses: ['PENDING', 'PROCESSING'], updatedBefore: T(5), limit: 100 })).length).toBe(2);
  expect(await store.schemaSizeBytes()).toBeGreaterThan(8192);
}

describe('monitoring reads on node-postgres', () => {
  it('reports the pool: connections in use, idle, waiting callers and the maximum', async () => {
    const schema = uniqueSchema('mon');
    const store = await createPostgresStore({ pool, schema });
    try {
      await store.ping();
      const idle = store.poolStats()!;
      expect(idle.max).toBe(3);
      expect(idle.total - idle.idle).toBe(0);
      // Hold every connection, and one caller more waits for one.
      const held = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
      const waiting = store.ping();
      try {
        expect(store.poolStats()).toEqual({ total: 3, idle: 0, waiting: 1, max: 3 });
      } finally {
        for (const client of held) client.release();
      }
      await waiting;
      expect(store.poolStats()).toMatchObject({ waiting: 0, idle: 3 });
    } finally {
      await store.close();
      await dropSchema(pool, schema);
    }
  });

  it('times every statement, in transactions too, for the listeners', async () => {
    const schema = uniqueSchema('mon');
    const store = await createPostgresStore({ pool, schema });
    try {
      const seen: Array<{ seconds: number; failed: boolean }> = [];
      const stop = store.observeQueries((seconds, failed) => seen.push({ seconds, failed }));
      await store.transaction((tx) => tx.insertPayment(samplePayment()));
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((s) => s.seconds >= 0 && !s.failed)).toBe(true);
      const before = seen.length;
      await expect(store.getPayment('x'.repeat(10))).resolves.toBeNull();
      expect(seen.length).toBeGreaterThan(before);
      stop();
      const after = seen.length;
      await store.getPayment('pay_after_stop');
      expect(seen.length).toBe(after);
    } finally {
      await store.close();
      await dropSchema(pool, schema);
    }
  });

  it('counts payments left PENDING/PROCESSING before a time (capped) and sizes the schema', async () => {
    const schema = uniqueSchema('mon');
    const store = await createPostgresStore({ pool, schema });
    try {
      await countsAndSize(store);
    } finally {
      await store.close();
      await dropSchema(pool, schema);
    }
  });
});

describe('monitoring reads on PGlite', () => {
  it('has no pool, and counts and sizes as on Postgres', async () => {
    const db = await PGlite.create();
    const store = await createPGliteStore({ db, schema: uniqueSchema('mon') });
    try {
      expect(store.poolStats()).toBeNull();
      await countsAndSize(store);
    } finally {
      await store.close();
      await db.close();
    }
  });
});
