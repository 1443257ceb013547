/**
 * store-postgres: payments created and captured through the engine, persisted by PostgresStore on the
 * real Postgres, against the minimal raw SQL with the same durable effect through the same `pg.Pool`
 * (insert idempotency row + payment; update payment + insert outbox row), measured in the same run.
 *
 * Also recorded: the same engine work on MemoryStore (the engine's own ceiling here), the same writes
 * issued through the Store API directly (what the store layer costs over raw SQL), and PGlite.
 * Needs Postgres at DATABASE_URL / TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 *
 * Reading the figure: per create + capture the engine sends 5 statements and commits 4 times (the
 * payment is persisted before each gateway call, for crash safety; each unit of work is one statement
 * with no BEGIN/COMMIT of its own, except that the capture reads the payment first); the raw baseline
 * sends 8 and commits twice, but writes no audit trail, one outbox row instead of four, and no
 * intermediate states. Both run on the same pool, opened the way store-owned pools are
 * (`GENERIC_PLANS_OPTION`). `store_api_vs_raw` isolates the store layer (the raw SQL's two transactions
 * through the Store API). `raw_engine_effect` is the engine's own rows (four payment versions, four
 * transitions, four outbox events, a key written and completed) in raw SQL at the engine's four commits,
 * one statement each: the ceiling of any store doing what DESIGN's guarantees ask, measured against
 * the same baseline.
 */
import { randomBytes } from 'node:crypto';
import { createTender, newId, type Payment, type Store } from '@tender/core';
import { MemoryStore, createTestGateway, samplePayment } from '@tender/core/testing';
import { GENERIC_PLANS_OPTION, createPGliteStore, createPostgresStore } from '@tender/store-postgres';
import pg from 'pg';
import { compare, throughput, type BenchResult } from './lib';
import { rawEngineEffectOp, rawOp } from './raw-sql';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MS = 2000;
const WARMUP_MS = 300;
const ROUNDS = 3;
const ROUND_MS = 1000;

/** create (manual capture, idempotency key) + capture through an engine on `store`. */
function engineOp(store: Store): () => Promise<void> {
  const tender = createTender({ gateways: [createTestGateway()], store });
  let n = 0;
  return async () => {
    const i = n++;
    const p = await tender.payments.create(
      { amount: '100.50', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual', orderId: `ORD-${i}` },
      { idempotencyKey: `bench-${randomBytes(6).toString('hex')}-${i}` },
    );
    await tender.payments.capture(p.id);
  };
}

/** The raw statements' effect issued through the Store API (same two transactions). */
function storeApiOp(store: Store): () => Promise<void> {
  return async () => {
    const now = new Date().toISOString();
    const payment: Payment = samplePayment({ merchantId: 'default', status: 'AUTHORIZED', captureMethod: 'manual', createdAt: now, updatedAt: now });
    await store.transaction(async (tx) => {
      await tx.claimIdempotencyKey({
        merchantId: 'default', key: `api-${payment.id}`, fingerprint: 'fp', state: 'completed', lockedUntil: null, recoveryPoint: 'finished',
        resourceType: 'payment', resourceId: payment.id, response: null, createdAt: now, expiresAt: now,
      });
      await tx.insertPayment(payment);
    });
    await store.transaction(async (tx) => {
      const captured = { ...payment, status: 'CAPTURED' as const, amountCaptured: payment.amount, version: 2 };
      await tx.updatePayment(captured);
      await tx.enqueueOutbox({ id: newId('evt'), merchantId: 'default', type: 'payment.captured', paymentId: payment.id, refundId: null, data: { id: payment.id }, createdAt: now });
    });
  };
}

async function measure(fn: () => Promise<void>, concurrency: number, ms = MS): Promise<number> {
  await throughput(fn, { ms: WARMUP_MS, concurrency });
  return throughput(fn, { ms, concurrency });
}

/**
 * Engine vs raw at one concurrency, in alternating short rounds so a burst of load from elsewhere on
 * the machine hits both sides alike. Returns mean throughputs and the median per-round ratio.
 */
async function compareAt(engine: () => Promise<void>, raw: () => Promise<void>, concurrency: number) {
  await throughput(engine, { ms: WARMUP_MS, concurrency });
  await throughput(raw, { ms: WARMUP_MS, concurrency });
  const e: number[] = [];
  const r: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      e.push(await throughput(engine, { ms: ROUND_MS, concurrency }));
      r.push(await throughput(raw, { ms: ROUND_MS, concurrency }));
    } else {
      r.push(await throughput(raw, { ms: ROUND_MS, concurrency }));
      e.push(await throughput(engine, { ms: ROUND_MS, concurrency }));
    }
  }
  const ratios = e.map((v, i) => v / r[i]!).sort((x, y) => x - y);
  const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
  return { engine: mean(e), raw: mean(r), medianRatio: ratios[Math.floor(ratios.length / 2)]! };
}

export default async function storePostgres(): Promise<BenchResult> {
  const schema = `tender_bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 16, options: GENERIC_PLANS_OPTION });
  pool.on('error', () => {});
  const store = await createPostgresStore({ pool, schema });
  const extra: Record<string, number | string> = {};
  try {
    const engine = engineOp(store);
    const raw = rawOp(pool, schema);
    const api = storeApiOp(store);
    const figures: Array<{ c: number; engine: number; raw: number }> = [];
    for (const c of [8, 16, 32]) {
      const result = await compareAt(engine, raw, c);
      figures.push({ c, engine: result.engine, raw: result.raw });
      extra[`engine_c${c}`] = Math.round(result.engine);
      extra[`raw_c${c}`] = Math.round(result.raw);
      extra[`median_round_ratio_c${c}`] = Math.round(result.medianRatio * 1000) / 1000;
    }
    // The rows the engine's guarantees write, in raw SQL at the same four commits: the most any store
    // could reach for this work on this machine, against the two-commit baseline.
    const effect = await compareAt(rawEngineEffectOp(pool, schema), raw, 16);
    extra.raw_engine_effect_c16 = Math.round(effect.engine);
    extra.raw_engine_effect_vs_raw_c16 = Math.round(effect.medianRatio * 1000) / 1000;
    extra.engine_vs_raw_engine_effect_c16 = Math.round((figures.find((f) => f.c === 16)!.engine / effect.engine) * 1000) / 1000;
    extra.store_api_c16 = Math.round(await measure(api, 16));
    extra.store_api_vs_raw_c16 = Math.round((Number(extra.store_api_c16) / Number(extra.raw_c16)) * 1000) / 1000;
    extra.engine_memorystore_c16 = Math.round(await measure(engineOp(new MemoryStore()), 16));

    const lite = await createPGliteStore();
    try {
      extra.pglite_engine_c8 = Math.round(await measure(engineOp(lite), 8, 1500));
    } finally {
      await lite.close();
    }
    const mid = figures.find((f) => f.c === 16)!;
    extra.concurrency = 16;
    extra.pool_max = 16;
    extra.per_op = 'engine: 5 statements, 4 commits (payment persisted before each gateway call; 4 transitions, 4 outbox events); raw: 8 statements, 2 commits';
    return compare('store-postgres', mid.engine, 'create+capture/s', 'raw SQL, same effect, same pg.Pool (create+capture/s)', mid.raw, extra);
  } finally {
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}
