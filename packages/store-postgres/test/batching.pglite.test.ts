/**
 * The PGlite driver's in-process group commit: transactions that come down to one lone statement
 * (the store's write-behind flush), arriving together, share calls into the WASM module, and each
 * still succeeds or fails on its own, as if it had run alone.
 */
import { PGlite } from '@electric-sql/pglite';
import { TenderError } from '@tender/core';
import { samplePayment } from '@tender/core/testing';
import { createPGliteStore, type PostgresStore } from '@tender/store-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueSchema } from './helpers';

let db: PGlite;
let store: PostgresStore;
/** Calls into the WASM module (each protocol exchange is one). */
let calls = 0;
beforeAll(async () => {
  db = await PGlite.create();
  const execProtocol = db.execProtocol.bind(db);
  db.execProtocol = (message, options) => {
    calls++;
    return execProtocol(message, options);
  };
  store = await createPGliteStore({ db, schema: uniqueSchema('batch') });
});
afterAll(async () => {
  await store.close();
  await db.close();
});

describe('PGlite lone statements', () => {
  it('share WASM calls when they arrive together, and a failing one fails alone', async () => {
    // Prepared once, so the count below is of executions only.
    await store.transaction((tx) => tx.insertPayment(samplePayment()));
    const taken = samplePayment();
    await store.transaction((tx) => tx.insertPayment(taken));

    const payments = Array.from({ length: 30 }, () => samplePayment());
    calls = 0;
    const outcomes = await Promise.allSettled([
      ...payments.map((p) => store.transaction((tx) => tx.insertPayment(p))),
      store.transaction((tx) => tx.insertPayment({ ...taken })),
    ]);
    const batchedCalls = calls;

    expect(outcomes.slice(0, 30).every((o) => o.status === 'fulfilled')).toBe(true);
    const duplicate = outcomes[30]!;
    expect(duplicate.status).toBe('rejected');
    const error = (duplicate as PromiseRejectedResult).reason;
    expect(TenderError.isInstance(error) && error.code).toBe('duplicate_payment');
    // 31 transactions; the ones arriving while a call runs wait for the next and go in it together
    // (the duplicate adds a few calls of its own, to find out which rule it broke).
    expect(batchedCalls).toBeLessThan(15);
    for (const p of payments) expect((await store.getPayment(p.id))?.id).toBe(p.id);
  });

  it('keeps a transaction that reads first on its own, isolated from the lone statements around it', async () => {
    const p = samplePayment();
    await store.transaction((tx) => tx.insertPayment(p));
    const others = Array.from({ length: 10 }, () => samplePayment());
    const [version] = await Promise.all([
      store.transaction(async (tx) => {
        const locked = await tx.lockPayment(p.id);
        await new Promise((resolve) => setTimeout(resolve, 20));
        await tx.updatePayment({ ...locked!, status: 'AUTHORIZED', version: locked!.version + 1 });
        return locked!.version + 1;
      }),
      ...others.map((o) => store.transaction((tx) => tx.insertPayment(o))),
    ]);
    expect((await store.getPayment(p.id))?.version).toBe(version);
    for (const o of others) expect(await store.getPayment(o.id)).not.toBeNull();
  });
});
