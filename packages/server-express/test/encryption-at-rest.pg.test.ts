/**
 * Encryption at rest end to end on Postgres, through the REST API of real servers in simulation mode:
 * the distinctive personal data sent never appears in any table of the schema (and does without
 * ENCRYPTION_KEY, so the check can fail), reads decrypt, a tampered value fails loudly, `tender-server
 * rotate-keys` moves every row to the new key while a server keeps serving, and retention anonymises
 * old payments only (`purge --dry-run` changing nothing first).
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { ANONYMIZED, keyIdOf } from '@tender/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';
import { spawnTenderServer } from './cli-process';
import { PII, RAW, client, listAll, dumpSchema, expectDecryptedReads, found, storePersonalData, type Made } from './encryption-helpers';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';

const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = `k2026:${randomBytes(32).toString('hex')}`;
const schema = freshSchema('enc_at_rest');
const plainSchema = freshSchema('enc_control');
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const query = (sql: string, params?: unknown[]) => pool.query(sql, params as unknown[]);
const servers: TenderServer[] = [];
const children: ChildProcess[] = [];
const logs: string[] = [];

function env(extra: Record<string, string>): Record<string, string> {
  return { PORT: '0', DATABASE_URL, DATABASE_SCHEMA: schema, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '100ms', DATA_RETENTION_DAYS: '30', ...extra };
}

async function start(extra: Record<string, string>): Promise<TenderServer> {
  const destination = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
  // The purge timer is off: the retention test runs it itself (workers.purgeOnce).
  const server = await startTenderServer({ env: env(extra), logger: createLogger({ destination }) });
  servers.push(server);
  return server;
}

async function stop(server: TenderServer): Promise<void> {
  await server.close();
  servers.splice(servers.indexOf(server), 1);
}

/** `tender-server <args>` as a child process, to its end. */
async function cli(args: string[], extra: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnTenderServer(args, { ...env(extra), LOG_LEVEL: 'silent' });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(proc, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

let server: TenderServer;
let made: Made;

beforeAll(async () => {
  server = await start({ ENCRYPTION_KEY: OLD_KEY });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const s of [...servers]) await s.close().catch(() => undefined);
  await dropSchema(schema);
  await dropSchema(plainSchema);
  await pool.end();
});

describe('encryption at rest (Postgres, REST API, simulation mode)', () => {
  it('keeps personal data out of every table while the API reads it back decrypted', async () => {
    made = await storePersonalData(server, 'a');
    await expectDecryptedReads(server, made);
    // Delivered webhook/outbox rows and every other table: ciphertext only.
    const dump = await dumpSchema(query, schema);
    expect(found(dump)).toEqual([]);
    expect(dump).toContain('enc:v1:');
    expect(dump).toContain('cart-a'); // what is not personal data stays readable (and the dump has the rows)
    const { rows } = await query(`SELECT customer->>'email' AS email, metadata->>'customer_email' AS meta FROM "${schema}".payments WHERE id = $1`, [made.stripe]);
    expect(keyIdOf(rows[0].email)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(rows[0].meta)).toBe(keyIdOf(rows[0].email));
    // Debezium reads the payload column as stored: ciphertext there too.
    const { rows: payloads } = await query(`SELECT payload->'data'->>'bill_email' AS email FROM "${schema}".outbox_events WHERE payment_id = $1 AND payload IS NOT NULL`, [made.stripe]);
    expect(payloads.length).toBeGreaterThan(0);
    for (const p of payloads) expect(p.email).toMatch(/^enc:v1:/);
    // An event read through the API is decrypted.
    const { rows: events } = await query(`SELECT id FROM "${schema}".outbox_events WHERE payment_id = $1 LIMIT 1`, [made.stripe]);
    const event = await client(server)('GET', `/api/v1/events/${events[0].id}`);
    expect(event.status, event.text).toBe(200);
    expect(event.text).toContain(PII.email);
  });

  it('would find the plaintext in the tables without ENCRYPTION_KEY (the check above can fail)', async () => {
    const plain = await startTenderServer({
      env: { ...env({}), DATABASE_SCHEMA: plainSchema },
      logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    });
    servers.push(plain);
    try {
      await storePersonalData(plain, 'control');
      const dump = await dumpSchema(query, plainSchema);
      expect(found(dump, RAW).sort()).toEqual([...RAW].sort());
      expect(dump).not.toContain('enc:v1:');
    } finally {
      await stop(plain);
    }
  });

  it('answers a tampered value with a typed 500 and no plaintext, and logs nothing of it either', async () => {
    const { rows } = await query(`SELECT customer FROM "${schema}".payments WHERE id = $1`, [made.upi]);
    const original = rows[0].customer;
    const email: string = original.email;
    const tampered = { ...original, email: `${email.slice(0, -6)}${email.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}` };
    await query(`UPDATE "${schema}".payments SET customer = $2::jsonb WHERE id = $1`, [made.upi, JSON.stringify(tampered)]);
    try {
      const logged = logs.length;
      const res = await client(server)('GET', `/api/v1/payments/${made.upi}`);
      expect(res.status).toBe(500);
      expect(res.body.error).toMatchObject({ type: 'storage_error', code: 'decryption_failed' });
      expect(res.body.error.message).toContain(made.upi);
      for (const text of [res.text, logs.slice(logged).join('')]) expect(found(text)).toEqual([]);
      // The other payments still read.
      expect((await client(server)('GET', `/api/v1/payments/${made.stripe}`)).status).toBe(200);
    } finally {
      await query(`UPDATE "${schema}".payments SET customer = $2::jsonb WHERE id = $1`, [made.upi, JSON.stringify(original)]);
    }
    expect((await client(server)('GET', `/api/v1/payments/${made.upi}`)).body.bill_email).toBe(PII.email);
  });

  it('rotate-keys moves every row to the new key while a server keeps taking payments; the old key can then go', async () => {
    await stop(server);
    // Step 1 of the procedure: every instance runs with the new key active and the old one readable.
    server = await start({ ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEYS: OLD_KEY });
    await expectDecryptedReads(server, made);
    const api = client(server);
    let stopTraffic = false;
    let extra = 0;
    const traffic = (async () => {
      while (!stopTraffic) {
        const res = await api('POST', '/api/v1/payments', { amount: '5.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', bill_email: PII.email, bill_name: PII.name }, { 'idempotency-key': `during-${extra}` });
        expect(res.status, res.text).toBe(201);
        extra++;
      }
    })();
    const rotated = await cli(['rotate-keys', '--batch-size', '3'], { ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEYS: OLD_KEY });
    stopTraffic = true;
    await traffic;
    expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/active key k2026; previous keys [0-9a-f]{16}/);
    expect(rotated.stdout).toMatch(/payments\s+scanned \d+, re-encrypted [1-9]\d*, remaining 0/);
    expect(rotated.stdout).toMatch(/done: every record is on key k2026/);
    expect(rotated.stdout + rotated.stderr).not.toContain(OLD_KEY);
    expect(extra).toBeGreaterThan(0);

    // In the database: every encrypted value carries the new key id, none the old.
    const dump = await dumpSchema(query, schema);
    expect(found(dump)).toEqual([]);
    const ids = new Set([...dump.matchAll(/enc:v1:([A-Za-z0-9_-]+):/g)].map((m) => m[1]));
    expect([...ids]).toEqual(['k2026']);

    // Step 3: the old key is removed; every payment still reads.
    await stop(server);
    server = await start({ ENCRYPTION_KEY: NEW_KEY });
    await expectDecryptedReads(server, made);
    const list = await listAll(server);
    const { rows } = await query(`SELECT count(*)::int AS n FROM "${schema}".payments`);
    expect(list).toHaveLength(rows[0].n);
    for (const p of list) expect(p.bill_email).toBe(PII.email);
  });

  it('retention anonymises only old payments and their copies, keeps amounts and the trail; purge --dry-run changes nothing', async () => {
    const api = client(server);
    // The Fiuu payment becomes 40 days old (DATA_RETENTION_DAYS is 30); the others stay young.
    await query(`UPDATE "${schema}".payments SET created_at = created_at - interval '40 days' WHERE id = $1`, [made.fiuu]);
    // What retention and purge may change, in a stable order (the server's dispatcher keeps updating
    // delivery columns of outbox rows meanwhile, so those are left out).
    const snapshot = async () =>
      (
        await query(`SELECT string_agg(x, E'\n' ORDER BY x) AS s FROM (
          SELECT 'p ' || t::text AS x FROM "${schema}".payments t UNION ALL
          SELECT 'r ' || t::text FROM "${schema}".refunds t UNION ALL
          SELECT 't ' || t::text FROM "${schema}".transitions t UNION ALL
          SELECT 'i ' || t::text FROM "${schema}".idempotency_keys t UNION ALL
          SELECT 'o ' || id || data::text || coalesce(payload::text, '') FROM "${schema}".outbox_events) rows`)
      ).rows[0].s as string;
    const before = await snapshot();
    const trail = (await api('GET', `/api/v1/payments/${made.fiuu}/transitions`)).body;
    const paymentBefore = (await api('GET', `/api/v1/payments/${made.fiuu}`)).body;

    const dry = await cli(['purge', '--dry-run', '--json'], { ENCRYPTION_KEY: NEW_KEY });
    expect(dry.code, dry.stderr).toBe(0);
    const report = JSON.parse(dry.stdout);
    // Idempotency records: the seamless checkout's (keyed by its order id) and the refund's.
    expect(report).toMatchObject({ dryRun: true, anonymized: { payments: 1, refunds: 1, outbox: expect.any(Number), idempotency: 2 } });
    expect(report.anonymized.outbox).toBeGreaterThan(1);
    const human = await cli(['purge', '--dry-run'], { ENCRYPTION_KEY: NEW_KEY });
    expect(human.stdout).toMatch(/^purge --dry-run: nothing was changed\n/);
    expect(human.stdout).toMatch(/\(DATA_RETENTION_DAYS=30\) that would be anonymised: 1\n/);
    expect(await snapshot()).toBe(before);

    // The server's worker runs retention (as its hourly timer does).
    await server.workers.purgeOnce();
    const after = (await api('GET', `/api/v1/payments/${made.fiuu}`)).body;
    expect(after).toMatchObject({
      id: made.fiuu,
      status: paymentBefore.status,
      amount: paymentBefore.amount,
      amount_captured: paymentBefore.amount_captured,
      amount_refunded: paymentBefore.amount_refunded,
      gateway_reference: paymentBefore.gateway_reference,
      bill_name: ANONYMIZED,
      bill_email: ANONYMIZED,
      bill_mobile: ANONYMIZED,
    });
    expect((await api('GET', `/api/v1/payments/${made.fiuu}/transitions`)).body).toEqual(trail);
    expect((await api('GET', `/api/v1/refunds/${made.refund}`)).body).toMatchObject({ amount: '10.50', metadata: { payer_name: ANONYMIZED } });
    // Its outbox rows hold no personal data, encrypted or not; young payments are untouched.
    const { rows: events } = await query(`SELECT data::text || coalesce(payload::text, '') AS text FROM "${schema}".outbox_events WHERE payment_id = $1`, [made.fiuu]);
    for (const e of events) {
      expect(e.text).not.toContain('enc:v1:');
      expect(e.text).toContain(ANONYMIZED);
    }
    expect((await api('GET', `/api/v1/payments/${made.stripe}`)).body).toMatchObject({ bill_email: PII.email, bill_name: PII.name });
    const again = await cli(['purge', '--dry-run', '--json'], { ENCRYPTION_KEY: NEW_KEY });
    expect(JSON.parse(again.stdout).anonymized.payments).toBe(0);
  });
});
