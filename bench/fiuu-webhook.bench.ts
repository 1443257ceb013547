/**
 * fiuu-webhook: Fiuu notifications (`nbcb=2`, status 00) verified and applied per second through the
 * engine (skey check, parse, inbox dedup, state transition, audit trail, outbox) on PostgresStore,
 * against a hand-written handler doing the same job without Tender: parse the form, check the skey
 * with `node:crypto` md5 and a constant-time compare, and move the payment with one conditional UPDATE
 * (`... WHERE id = $1 AND status <> 'CAPTURED'`, so a re-delivery changes nothing) through the same
 * store's `pg.Pool`. Both at the same concurrency, on payments created by the engine, rounds
 * alternated A/B/A/B with fresh notifications each round. The IPN echo is off (no network).
 * Needs Postgres at BENCH_DATABASE_URL / TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import pg from 'pg';
import { createTender } from '@tender/core';
import { createFiuuGateway, paymentSkey } from '@tender/fiuu';
import { GENERIC_PLANS_OPTION, createPostgresStore } from '@tender/store-postgres';
import { alternate, compare, round3, roundsText, throughput, type BenchResult } from './lib';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONCURRENCY = 16;
const ROUNDS = 4;
/** Notifications per side per round (plus one warm-up round each). */
const PER_ROUND = Number(process.env.FIUU_BENCH_PER_ROUND ?? 400);

const merchant = { merchantId: 'SB_bench', verifyKey: 'bench-verify-key-0123456789abcdef', secretKey: 'bench-secret-key-0123456789abcdef' };
const noNetwork = {
  gateway: 'fiuu',
  circuitState: 'closed' as const,
  request: () => Promise.reject(new Error('no network in this benchmark')),
  worstCaseMs: 0,
  onEvent: () => () => {},
  close: async () => {},
};

/** Runs `items` through `fn` with {@link CONCURRENCY} callers; returns items per second. */
async function drain<T>(items: T[], fn: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
  return items.length / ((performance.now() - started) / 1000);
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export default async function fiuuWebhook(): Promise<BenchResult> {
  const schema = `bench_fiuu_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: CONCURRENCY, options: GENERIC_PLANS_OPTION });
  pool.on('error', () => {});
  const store = await createPostgresStore({ pool, schema });
  try {
    const gateway = createFiuuGateway({ ...merchant, notificationIpn: false, transport: noNetwork });
    const tender = createTender({ gateways: [gateway], store });

    // Payments awaiting their notification, created by the engine for both sides.
    let n = 0;
    const notification = async (): Promise<{ body: Uint8Array; paymentId: string }> => {
      const i = n++;
      const p = await tender.payments.create({ amount: '100.50', currency: 'MYR', paymentMethod: 'FPX', gateway: 'fiuu', orderId: `ORD-${i}` });
      const f = { tranID: String(3_000_000_000 + i), orderid: `ORD-${i}`, status: '00', domain: merchant.merchantId, amount: '100.50', currency: 'MYR', paydate: '2025-05-15 10:00:00', appcode: '123456' };
      const fields = { nbcb: '2', ...f, skey: paymentSkey(f, merchant.secretKey), channel: 'fpx', extraP: JSON.stringify({ metadata: { tender_payment_id: p.id } }) };
      return { body: new TextEncoder().encode(new URLSearchParams(fields).toString()), paymentId: p.id };
    };
    const batch = async () => {
      const out: Uint8Array[] = [];
      await drain(Array.from({ length: PER_ROUND }), async () => void out.push((await notification()).body));
      return out;
    };
    const batches = { tender: [] as Uint8Array[][], bare: [] as Uint8Array[][] };
    for (let i = 0; i <= ROUNDS; i++) {
      batches.tender.push(await batch());
      batches.bare.push(await batch());
    }

    const viaTender = async (body: Uint8Array) => {
      const handled = await tender.webhooks.handle('fiuu', { headers: {}, rawBody: body });
      if (handled.outcomes[0]?.outcome !== 'applied') throw new Error(`unexpected outcome ${JSON.stringify(handled.outcomes)}`);
    };
    const s = `"${schema}"`;
    const update = {
      name: `fiuu_bare_${schema}`,
      text: `UPDATE ${s}.payments SET status = 'CAPTURED', amount_captured = amount, gateway_reference = $2, updated_at = $3, version = version + 1
        WHERE id = $1 AND status <> 'CAPTURED'`,
    };
    const bare = async (body: Uint8Array) => {
      const f = new URLSearchParams(Buffer.from(body).toString('utf8'));
      const get = (k: string) => f.get(k) ?? '';
      const pre = md5(get('tranID') + get('orderid') + get('status') + get('domain') + get('amount') + get('currency'));
      const expected = Buffer.from(md5(get('paydate') + get('domain') + pre + get('appcode') + merchant.secretKey));
      const given = Buffer.from(get('skey'));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error('bad skey');
      if (get('status') !== '00') return;
      const paymentId = (JSON.parse(get('extraP')) as { metadata: { tender_payment_id: string } }).metadata.tender_payment_id;
      const result = await pool.query({ ...update, values: [paymentId, get('tranID'), new Date().toISOString()] });
      if (result.rowCount !== 1) throw new Error(`payment ${paymentId} not updated`);
    };

    let t = 0;
    let b = 0;
    const rounds = await alternate(
      () => drain(batches.tender[t++]!, viaTender),
      () => drain(batches.bare[b++]!, bare),
      ROUNDS,
    );

    // Re-delivery of notifications already applied: verified, recognised as duplicates, no effect.
    const seen = batches.tender.flat();
    let d = 0;
    const duplicates = await throughput(() => tender.webhooks.handle('fiuu', { headers: {}, rawBody: seen[d++ % seen.length]! }), { ms: 1500, concurrency: CONCURRENCY });

    return compare('fiuu-webhook', rounds.meanA, 'notifications applied/s (PostgresStore)', 'hand-written: form parse + md5 skey check + one conditional UPDATE, same pool', rounds.meanB, {
      concurrency: CONCURRENCY,
      pool_max: CONCURRENCY,
      per_round: PER_ROUND,
      rounds: roundsText(rounds),
      median_round_ratio: round3(rounds.medianRatio),
      duplicates_per_s: Math.round(duplicates),
    });
  } finally {
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}
