/**
 * PostgresStore on embedded PGlite: persistence in a data directory across restarts, migrations, and
 * transactions that stay isolated on PGlite's single connection.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { randomBytes } from 'node:crypto';
import { createEncryptingStore, createTender, parseEncryptionKey, TenderError } from '@tender/core';
import { createTestGateway, runStoreConformance, runWebhookEndpointStoreConformance, samplePayment } from '@tender/core/testing';
import { createPGliteStore, migrate, MIGRATIONS } from '@tender/store-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueSchema } from './helpers';

// Starting PGlite costs seconds, so the file shares one database persisted in a temporary directory
// and gives each test a schema of its own; the last test closes it and reopens the directory.
let db: PGlite;
let dir: string;
let dataDir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tender-pglite-'));
  dataDir = join(dir, 'data');
  db = await PGlite.create(dataDir);
});
afterAll(async () => {
  if (!db.closed) await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function sharedStore(schema = uniqueSchema('pgl')) {
  const store = await createPGliteStore({ db, schema });
  return {
    store,
    teardown: async () => {
      await store.close();
      await db.exec(`DROP SCHEMA "${schema}" CASCADE`);
    },
  };
}

runStoreConformance('PostgresStore (PGlite)', () => sharedStore());
runWebhookEndpointStoreConformance('PostgresStore (PGlite)', () => sharedStore());

runStoreConformance('EncryptingStore over PostgresStore (PGlite)', async () => {
  const { store, teardown } = await sharedStore();
  const key = parseEncryptionKey(randomBytes(32).toString('base64'));
  return { store: createEncryptingStore(store, { keys: [key], activeKeyId: key.id }), teardown };
});

describe('PGlite store', () => {
  it('migrates a PGlite database for operators, then finds nothing to do', async () => {
    const schema = uniqueSchema('mig');
    expect(await migrate(db, { schema })).toEqual({ schema, applied: MIGRATIONS.map((m) => m.version), current: MIGRATIONS.length });
    expect(await migrate(db, { schema })).toEqual({ schema, applied: [], current: MIGRATIONS.length });
    await db.exec(`DROP SCHEMA "${schema}" CASCADE`);
  });

  it('keeps a running transaction isolated from concurrent callers on the one connection', async () => {
    const { store, teardown } = await sharedStore();
    try {
      const p = samplePayment();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const tx = store.transaction(async (t) => {
        await t.insertPayment(p);
        await gate;
        throw new Error('abort');
      });
      // Queued behind the transaction, so it never sees the uncommitted row.
      const read = store.getPayment(p.id);
      release();
      await expect(tx).rejects.toThrow('abort');
      expect(await read).toBeNull();
    } finally {
      await teardown();
    }
  });

  it('maps unique violations and bad amounts to typed errors, as on node-postgres', async () => {
    const { store, teardown } = await sharedStore('custom_schema');
    try {
      const p = samplePayment({ gatewayReference: 'ref' });
      await store.transaction((tx) => tx.insertPayment(p));
      const dup = await store.transaction((tx) => tx.insertPayment(samplePayment({ gatewayReference: 'ref' }))).catch((e: unknown) => e);
      expect(TenderError.isInstance(dup) && dup.code).toBe('duplicate_gateway_reference');
      const over = await store.transaction((tx) => tx.updatePayment({ ...p, amountRefunded: '1.00', version: 2 })).catch((e: unknown) => e);
      expect(TenderError.isInstance(over) && over.code).toBe('refund_total_exceeded');
      expect(store.schema).toBe('custom_schema');
    } finally {
      await teardown();
    }
  });

  it('persists payments, refunds and keys in its data directory across a restart', async () => {
    const first = await createPGliteStore({ db });
    expect(first.driverKind).toBe('pglite');
    const tender = createTender({ gateways: [createTestGateway()], store: first });
    const payment = await tender.payments.create({ amount: '42.10', currency: 'MYR', paymentMethod: 'FPX', orderId: 'ORD-P' }, { idempotencyKey: 'k1' });
    const refund = await tender.payments.refund(payment.id, { amount: '2.10' }, { idempotencyKey: 'k2' });
    await first.close();
    await db.close();

    const second = await createPGliteStore({ dataDir });
    try {
      expect(await second.migrate()).toEqual({ schema: 'tender', applied: [], current: MIGRATIONS.length });
      expect(await second.getPayment(payment.id)).toMatchObject({ id: payment.id, amount: '42.10', amountRefunded: '2.10', status: 'PARTIALLY_REFUNDED' });
      expect(await second.getRefund(refund.id)).toMatchObject({ amount: '2.10' });
      expect((await second.getIdempotencyRecord('default', 'k1'))!.state).toBe('completed');
      expect((await second.listTransitions(payment.id)).length).toBeGreaterThanOrEqual(2);
      // The engine on the reopened store replays the stored outcome.
      const again = createTender({ gateways: [createTestGateway()], store: second });
      const replay = await again.payments.create({ amount: '42.10', currency: 'MYR', paymentMethod: 'FPX', orderId: 'ORD-P' }, { idempotencyKey: 'k1' });
      expect(replay.id).toBe(payment.id);
    } finally {
      await second.close();
    }
  });
});
