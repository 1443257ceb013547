/**
 * Shared by the encryption-at-rest tests: distinctive personal data, a run of REST calls against a
 * simulation-mode server that stores it everywhere it goes (payments, gateway data, next actions,
 * refunds, outbox rows, idempotency records), and searches of what a database holds.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { expect } from 'vitest';
import type { TenderServer } from '../src/server';

/** Long and unlikely enough that finding one is never chance (and compression would need repeats). */
export const PII = {
  name: 'Zebulon Quatermain-Okonkwo Encryptiontest',
  email: 'zebulon.quatermain.7f3a9c@encryption-test.example',
  phone: '+60 12-987 6543 21',
  vpa: 'zebulon.quatermain7f3a9c@okaxis',
  refundPayer: 'Philippa Refundperson-Xanadu',
} as const;

/** The values as sent: each is found at rest without encryption (the checks' control). */
export const RAW = [PII.name, PII.email, PII.phone, PII.vpa, PII.refundPayer];

/** What must never be found at rest when encryption is on: the values, the phone's digits, a fragment. */
export const NEEDLES = [...RAW, '6012987654321', 'zebulon.quatermain'];

/** REST calls with the server's dev token. */
export function client(server: Pick<TenderServer, 'url' | 'devToken'>) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.devToken}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Ids of what {@link storePersonalData} made. */
export interface Made {
  fiuu: string;
  stripe: string;
  upi: string;
  refund: string;
  /** The Stripe create's idempotency key. */
  stripeKey: string;
}

/**
 * Payments with the distinctive data through each gateway's real flow: a Fiuu seamless checkout paid
 * in the sandbox (its notification goes through the webhook route) and refunded, a Stripe card
 * payment with an idempotency key (replayed), a UPI collect request to the VPA.
 */
export async function storePersonalData(server: TenderServer, tag: string): Promise<Made> {
  const api = client(server);
  const metadata = { cart: `cart-${tag}`, customer_email: PII.email, shipping_name: PII.name };
  const query = new URLSearchParams({ order_id: `ENC-FIUU-${tag}`, amount: '100.50', payment_method: 'FPX', bill_name: PII.name, bill_email: PII.email, bill_mobile: PII.phone });
  const config = await api('GET', `/api/v1/payments/seamless/config?${query}`);
  expect(config.status, config.text).toBe(201);
  const fiuu = config.body.tender.paymentId as string;
  await completeHostedPayment({ url: config.body.tender.paymentUrl, fields: config.body.tender.fields }, 'approve', { followReturn: false });
  await until(() => api('GET', `/api/v1/payments/${fiuu}`), (r) => r.body.status === 'CAPTURED', 'the Fiuu payment to be captured');
  const refund = await api('POST', `/api/v1/payments/${fiuu}/refund`, { amount: '10.50', metadata: { payer_name: PII.refundPayer } }, { 'idempotency-key': `refund-${tag}` });
  expect(refund.status, refund.text).toBe(201);

  const stripeKey = `stripe-${tag}`;
  const stripeBody = { amount: '25.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe', bill_name: PII.name, bill_email: PII.email, bill_mobile: PII.phone, metadata };
  const stripe = await api('POST', '/api/v1/payments', stripeBody, { 'idempotency-key': stripeKey });
  expect(stripe.status, stripe.text).toBe(201);
  expect(stripe.body).toMatchObject({ status: 'CAPTURED', bill_email: PII.email });
  const replay = await api('POST', '/api/v1/payments', stripeBody, { 'idempotency-key': stripeKey });
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect(replay.body).toMatchObject({ id: stripe.body.id, bill_name: PII.name, bill_email: PII.email, bill_mobile: PII.phone, metadata });

  const upi = await api('POST', '/api/v1/payments', { amount: '100.00', currency: 'INR', payment_method: 'UPI', bill_email: PII.email, bill_mobile: PII.phone, payment_details: { vpa: PII.vpa } }, { 'idempotency-key': `upi-${tag}` });
  expect(upi.status, upi.text).toBe(201);
  expect(upi.body).toMatchObject({ gateway: 'upi', next_action: { type: 'upi_collect', vpa: PII.vpa } });
  return { fiuu, stripe: stripe.body.id, upi: upi.body.id, refund: refund.body.id, stripeKey };
}

/** Reads through the API give the plaintext back. */
export async function expectDecryptedReads(server: TenderServer, made: Made): Promise<void> {
  const api = client(server);
  const fiuu = await api('GET', `/api/v1/payments/${made.fiuu}`);
  expect(fiuu.body).toMatchObject({ status: expect.stringMatching(/REFUNDED|CAPTURED/), bill_name: PII.name, bill_email: PII.email, bill_mobile: PII.phone });
  expect(fiuu.text).not.toContain('enc:v1:');
  const stripe = await api('GET', `/api/v1/payments/${made.stripe}`);
  expect(stripe.body).toMatchObject({ bill_name: PII.name, bill_email: PII.email, metadata: { customer_email: PII.email, shipping_name: PII.name } });
  expect((await api('GET', `/api/v1/payments/${made.upi}`)).body).toMatchObject({ bill_email: PII.email, next_action: { vpa: PII.vpa } });
  expect((await api('GET', `/api/v1/refunds/${made.refund}`)).body).toMatchObject({ metadata: { payer_name: PII.refundPayer } });
  const list = await listAll(server);
  expect(JSON.stringify(list)).toContain(PII.email);
  expect(JSON.stringify(list)).not.toContain('enc:v1:');
}

/** Every payment of the dev merchant, page by page. */
export async function listAll(server: TenderServer): Promise<any[]> {
  const api = client(server);
  const all: any[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await api('GET', `/api/v1/payments?limit=100${after ? `&starting_after=${after}` : ''}`);
    expect(page.status, page.text).toBe(200);
    all.push(...page.body.data);
    if (!page.body.has_more) return all;
    after = page.body.data[page.body.data.length - 1].id;
  }
}

/** Every row of every table of the schema, as Postgres prints it (`SELECT t::text`). */
export async function dumpSchema(query: (sql: string, params?: unknown[]) => Promise<{ rows: any[] }>, schema: string): Promise<string> {
  const { rows: tables } = await query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`, [schema]);
  expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['payments', 'refunds', 'transitions', 'idempotency_keys', 'outbox_events', 'inbox_events']));
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const { rows } = await query(`SELECT t::text AS row FROM "${schema}"."${table_name}" t`);
    for (const r of rows) parts.push(`${table_name}: ${r.row}`);
  }
  return parts.join('\n');
}

/** Every file under `dir`, as bytes. */
export async function readTree(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, bytes: await readFile(path) });
  }
  return out;
}

/** The needles found in `haystack` (text, or files searched as UTF-8 bytes). */
export function found(haystack: string | Array<{ path: string; bytes: Buffer }>, needles: readonly string[] = NEEDLES): string[] {
  if (typeof haystack === 'string') return needles.filter((n) => haystack.includes(n));
  return needles.filter((n) => {
    const bytes = Buffer.from(n, 'utf8');
    return haystack.some((f) => f.bytes.includes(bytes));
  });
}
