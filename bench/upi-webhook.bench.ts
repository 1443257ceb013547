/**
 * upi-webhook: Razorpay webhooks with `@tender/upi`, each against a baseline in the same run, rounds
 * alternated so machine noise hits both alike:
 * - `upi-webhook-signature`: `X-Razorpay-Signature` checks per second, `verifyRazorpayWebhookSignature`
 *   (constant-time, raw bytes) against razorpay-node's `Razorpay.validateWebhookSignature(body,
 *   signature, secret)` (string body, `===`) on the same signed bodies;
 * - `upi-webhook-handle`: whole deliveries per second through `tender.webhooks.handle('upi', ...)`
 *   (verify, parse, bind, inbox dedup, state check; MemoryStore) against a hand-written handler doing
 *   razorpay-node's verify + `JSON.parse` + one Map write keyed by the event id.
 *
 * `@tender/upi` and `razorpay` are not dependencies of the bench package, so both are loaded from
 * `packages/upi` (its built `dist` and its own `razorpay` devDependency).
 */
import { createRequire } from 'node:module';
import { createTender, type HttpRequest, type HttpResponse } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { compare, type BenchResult } from './lib';

type Upi = typeof import('@tender/upi');
interface RazorpayStatic {
  validateWebhookSignature(body: string, signature: string, secret: string): boolean;
}

const SECRET = 'whsec_bench_upi_0123456789abcdef';
const ITERATIONS = 30_000;
const HANDLE_ITERATIONS = 4_000;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

function rate(fn: (i: number) => unknown, n = ITERATIONS): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return n / ((performance.now() - start) / 1000);
}

async function rateAsync(fn: (i: number) => Promise<unknown>, n: number, offset: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn(offset + i);
  return n / ((performance.now() - start) / 1000);
}

/** Answers the few calls one intent payment's creation makes (no network). */
const scripted = {
  gateway: 'upi',
  circuitState: 'closed' as const,
  worstCaseMs: 1000,
  onEvent: () => () => {},
  close: async () => {},
  async request(request: HttpRequest): Promise<HttpResponse> {
    const json = request.url.includes('/v1/orders?')
      ? { entity: 'collection', count: 0, items: [] }
      : request.url.endsWith('/v1/orders')
        ? { id: 'order_Bench0000001', entity: 'order', amount: 49900, currency: 'INR', status: 'created', receipt: 'r', notes: {} }
        : { razorpay_payment_id: 'pay_Bench000000001', link: 'upi://pay?pa=bench@razorpay&pn=Bench&tr=PayBench000000001&am=499.00&cu=INR' };
    const text = JSON.stringify(json);
    return { status: 200, headers: {}, body: new TextEncoder().encode(text), attempts: 1, text: () => text, json: <T>() => json as T };
  },
};

export default async function run(): Promise<BenchResult[]> {
  const upi = (await import(new URL('../packages/upi/dist/index.js', import.meta.url).href)) as Upi;
  const Razorpay = createRequire(new URL('../packages/upi/package.json', import.meta.url))('razorpay') as RazorpayStatic;

  const gateway = upi.createUpiGateway({ provider: 'razorpay', keyId: 'rzp_test_bench', keySecret: 'bench_key_secret', webhookSecret: SECRET, baseUrl: 'http://127.0.0.1:9', defaultIp: '127.0.0.1', transport: scripted, qrCode: false });
  const tender = createTender({ gateways: [gateway], store: new MemoryStore() });
  const payment = await tender.payments.create({ amount: '499.00', currency: 'INR', paymentMethod: 'upi', gateway: 'upi', customer: { email: 'a@example.com', phone: '+919812345678' } });

  const items = Array.from({ length: 64 }, (_, i) => {
    const entity = {
      id: payment.gatewayReference, entity: 'payment', amount: 49900, currency: 'INR', status: 'captured', order_id: 'order_Bench0000001', method: 'upi', captured: true,
      vpa: 'success@razorpay', fee: 1180, tax: 180, acquirer_data: { rrn: String(400000000000 + i), upi_transaction_id: `UPI${i}` }, notes: { tender_payment_id: payment.id }, created_at: 1_760_000_000,
    };
    const text = JSON.stringify({ entity: 'event', account_id: 'acc_Bench', event: 'payment.captured', contains: ['payment'], payload: { payment: { entity } }, created_at: 1_760_000_000 + i });
    return { text, raw: new TextEncoder().encode(text), signature: upi.computeRazorpayWebhookSignature(text, SECRET) };
  });

  // 1. The signature check alone.
  const oursVerify = (i: number) => upi.verifyRazorpayWebhookSignature(items[i & 63]!.raw, items[i & 63]!.signature, [SECRET]);
  const theirsVerify = (i: number) => {
    if (!Razorpay.validateWebhookSignature(items[i & 63]!.text, items[i & 63]!.signature, SECRET)) throw new Error('bad signature');
  };
  rate(oursVerify);
  rate(theirsVerify);
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 7; round++) {
    a.push(rate(oursVerify));
    b.push(rate(theirsVerify));
  }

  // 2. Whole deliveries: each with a new x-razorpay-event-id (so none is a duplicate).
  const ours = async (i: number) => {
    const item = items[i & 63]!;
    const handled = await tender.webhooks.handle('upi', { headers: { 'x-razorpay-signature': item.signature, 'x-razorpay-event-id': `evt_ours_${i}` }, rawBody: item.raw });
    if (handled.status !== 200) throw new Error(`unexpected ${handled.status}`);
  };
  const seen = new Map<string, unknown>();
  const theirs = async (i: number) => {
    const item = items[i & 63]!;
    if (!Razorpay.validateWebhookSignature(item.text, item.signature, SECRET)) throw new Error('bad signature');
    const event = JSON.parse(item.text) as { payload: { payment: { entity: { id: string; status: string } } } };
    const id = `evt_theirs_${i}`;
    if (!seen.has(id)) seen.set(id, { paymentId: event.payload.payment.entity.id, status: event.payload.payment.entity.status });
  };
  let offset = 0;
  await rateAsync(ours, 500, (offset += 500));
  await rateAsync(theirs, 500, offset);
  const c: number[] = [];
  const d: number[] = [];
  for (let round = 0; round < 5; round++) {
    offset += HANDLE_ITERATIONS;
    c.push(await rateAsync(ours, HANDLE_ITERATIONS, offset));
    d.push(await rateAsync(theirs, HANDLE_ITERATIONS, offset));
  }
  const after = await tender.payments.get(payment.id);
  if (after.status !== 'CAPTURED') throw new Error(`the benchmark's payment is ${after.status}`);
  await gateway.close();

  return [
    compare('upi-webhook-signature', median(a), 'verifications/s', 'razorpay-node 2.9 Razorpay.validateWebhookSignature', median(b), {
      payloadBytes: items[0]!.raw.length,
      rounds: a.map((v, i) => `${v.toFixed(0)} vs ${b[i]!.toFixed(0)}`).join(', '),
    }),
    compare('upi-webhook-handle', median(c), 'deliveries/s (verify + parse + bind + dedup, MemoryStore)', 'hand-written: razorpay-node verify + JSON.parse + one Map write', median(d), {
      rounds: c.map((v, i) => `${v.toFixed(0)} vs ${d[i]!.toFixed(0)}`).join(', '),
    }),
  ];
}
