/**
 * Regression: "webhooks that arrive early are acknowledged and thrown away".
 *
 * Stripe does not promise delivery order, and it redelivers an event until it gets a 2xx. This test
 * records the signed events the sandbox really sent (over loopback, byte for byte, with their
 * `Stripe-Signature` headers) for 40 manual-capture payments made through the engine and then moved
 * at the sandbox with the official `stripe` client (captures, partial and full refunds, failed
 * refunds, a cancel). It then hands those exact requests to the engine shuffled (seeded), with 30 %
 * duplicates, 16 at a time, and re-queues every request the engine answers with a retryable error (as
 * Stripe would redeliver it). At the end every payment must look exactly like the sandbox says:
 * status, amountCaptured, amountRefunded and the set of refunds (reference, amount, status).
 * The same stream in creation order, one at a time, is the control.
 *
 * The seed is printed; rerun one with WEBHOOK_ORDER_SEED=<seed>.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, createTender, TenderError, type Payment, type Store, type Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createStripeGateway, signStripePayload, type StripeGateway } from '@tender/stripe';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';
import { createPostgresStore } from '@tender/store-postgres';

const webhookSecret = 'whsec_webhook_order_regression';
/**
 * Shuffle seeds. 0x7e4de2 is the default; 23 is kept because its order delivers a refund that only
 * fits after an earlier refund's failure before that failure (the defect the focused test below pins).
 */
const SEEDS = process.env.WEBHOOK_ORDER_SEED ? [Number(process.env.WEBHOOK_ORDER_SEED)] : [0x7e4de2, 23];
const SEED = SEEDS[0]!;
const N = 40;
const CONCURRENCY = 16;
const DUPLICATE_SHARE = 0.3;
const MAX_ROUNDS = 25;

/** mulberry32: small, seedable, good enough to shuffle. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rng: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** One webhook request exactly as the sandbox sent it. */
interface Recorded {
  eventId: string;
  type: string;
  /** What the event is about (PaymentIntent id), for the per-payment views. */
  paymentIntent: string | null;
  headers: Record<string, string>;
  rawBody: Buffer;
}

let sandbox: StripeSandbox;
let stripe: Stripe;
let recorder: Server;
let recorded: Recorded[] = [];

function headersOf(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function aboutPaymentIntent(event: { data: { object: Record<string, unknown> } }): string | null {
  const o = event.data.object;
  if (o.object === 'payment_intent') return String(o.id);
  return typeof o.payment_intent === 'string' ? o.payment_intent : null;
}

beforeAll(async () => {
  // The merchant's endpoint during the recording phase: keeps the request, acknowledges it, and
  // hands nothing to the engine (so everything the engine learns later comes from this stream).
  recorder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const event = JSON.parse(rawBody.toString('utf8')) as { id: string; type: string; data: { object: Record<string, unknown> } };
      recorded.push({ eventId: event.id, type: event.type, paymentIntent: aboutPaymentIntent(event), headers: headersOf(req.headers), rawBody });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  sandbox = await startStripeSandbox({ webhook: { url: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/webhooks/stripe`, secret: webhookSecret, retryDelayMs: 5 } });
  stripe = new Stripe(sandbox.secretKey, { host: sandbox.host, port: sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
  console.log(`[webhook-order] seeds=${SEEDS.join(',')} (set WEBHOOK_ORDER_SEED to rerun one)`);
});

afterAll(async () => {
  await sandbox?.close();
  await new Promise((r) => recorder?.close(r));
});

interface Engine {
  tender: Tender;
  gateway: StripeGateway;
  close(): Promise<void>;
}

/** The part of `pg` used here (the module resolves from the store package, so its types may not). */
type PgModule = { Client: new (config: { connectionString: string }) => { connect(): Promise<unknown>; query(sql: string): Promise<unknown>; end(): Promise<void> } };

/** A fresh schema on the real Postgres (127.0.0.1:5432, db test), dropped on close. */
async function postgresStore(): Promise<{ store: Store; drop(): Promise<void> }> {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `webhook_order_${randomBytes(5).toString('hex')}`;
  const store = await createPostgresStore({ connectionString: url, schema, poolConfig: { max: 20 } });
  return {
    store,
    async drop() {
      await store.close();
      // `pg` is a dependency of the store package, not of this one: load it from there.
      const pg = createRequire(new URL('../../store-postgres/package.json', import.meta.url))('pg') as PgModule;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

function engine(store: Store = new MemoryStore(), dropStore: () => Promise<void> = async () => undefined): Engine {
  const gateway = createStripeGateway({
    secretKey: sandbox.secretKey,
    webhookSecret,
    baseUrl: sandbox.url,
    // Requery failures are injected below; the circuit must not open and turn them into a long outage.
    transport: createHttpTransport({ gateway: 'stripe', retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 }, circuit: { failureThreshold: 100_000, minimumRequests: 100_000 } }),
  });
  const tender = createTender({ gateways: [gateway], store });
  return {
    tender,
    gateway,
    async close() {
      await gateway.close();
      await dropStore();
    },
  };
}

/** The sandbox's events, in the order it created them, once every delivery to the recorder is done. */
async function takeRecorded(): Promise<Recorded[]> {
  await sandbox.webhooks.idle();
  const order = new Map(sandbox.account.events.map((e, i) => [e.id, i]));
  const out = recorded.sort((a, b) => order.get(a.eventId)! - order.get(b.eventId)!);
  recorded = [];
  return out;
}

type Plan =
  | 'capture'
  | 'capture+partial'
  | 'capture+two-partials'
  | 'capture+partial+rest'
  | 'capture+full'
  | 'partial-capture+rest'
  | 'capture+failed+rest'
  | 'refund-fail-card'
  | 'cancel'
  | 'capture+partial+failed';
const PLANS: Plan[] = [
  'capture',
  'capture+partial',
  'capture+two-partials',
  'capture+partial+rest',
  'capture+full',
  'partial-capture+rest',
  'capture+failed+rest',
  'refund-fail-card',
  'cancel',
  'capture+partial+failed',
];

const usd = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** Creates N manual-capture payments through the engine, then moves each at the sandbox like a dashboard user. */
async function buildHistory(tender: Tender, rng: () => number, seed: number): Promise<Array<{ payment: Payment; plan: Plan }>> {
  const made: Array<{ payment: Payment; plan: Plan }> = [];
  for (let i = 0; i < N; i++) {
    const plan = PLANS[i % PLANS.length]!;
    const cents = 1000 + Math.floor(rng() * 49_000);
    const payment = await tender.payments.create({
      amount: usd(cents),
      currency: 'USD',
      paymentMethod: plan === 'refund-fail-card' ? 'pm_card_refundFail' : 'pm_card_visa',
      captureMethod: 'manual',
      gateway: 'stripe',
      orderId: `ORD-ORDER-${seed}-${i}`,
    });
    expect(payment.status).toBe('AUTHORIZED');
    made.push({ payment, plan });
  }
  const part = (of: number) => Math.max(100, Math.floor(of * (0.1 + rng() * 0.4)));
  for (const { payment, plan } of made) {
    const pi = payment.gatewayReference!;
    const amount = Math.round(Number(payment.amount) * 100);
    if (plan === 'cancel') {
      await stripe.paymentIntents.cancel(pi);
      continue;
    }
    const captured = plan === 'partial-capture+rest' ? part(amount) : amount;
    await stripe.paymentIntents.capture(pi, plan === 'partial-capture+rest' ? { amount_to_capture: captured } : {});
    switch (plan) {
      case 'capture':
        break;
      case 'capture+partial':
        await stripe.refunds.create({ payment_intent: pi, amount: part(captured) });
        break;
      case 'capture+two-partials': {
        const a = part(captured);
        await stripe.refunds.create({ payment_intent: pi, amount: a });
        await stripe.refunds.create({ payment_intent: pi, amount: part(captured - a) });
        break;
      }
      case 'capture+partial+rest':
        await stripe.refunds.create({ payment_intent: pi, amount: part(captured) });
        await stripe.refunds.create({ payment_intent: pi });
        break;
      case 'capture+full':
      case 'partial-capture+rest':
        await stripe.refunds.create({ payment_intent: pi });
        break;
      case 'capture+failed+rest': {
        // A refund the card could not take (refund.updated + refund.failed), then the whole amount refunded.
        const first = await stripe.refunds.create({ payment_intent: pi, amount: part(captured) });
        sandbox.account.failRefund(first.id, 'expired_or_canceled_card');
        await stripe.refunds.create({ payment_intent: pi });
        break;
      }
      case 'refund-fail-card':
        // pm_card_refundFail: the refund succeeds, then fails moments later.
        await stripe.refunds.create({ payment_intent: pi });
        break;
      case 'capture+partial+failed': {
        const a = part(captured);
        await stripe.refunds.create({ payment_intent: pi, amount: a });
        const second = await stripe.refunds.create({ payment_intent: pi, amount: part(captured - a) });
        sandbox.account.failRefund(second.id, 'lost_or_stolen_card');
        break;
      }
    }
  }
  // pm_card_refundFail fails its refunds on a later tick: wait for the sandbox to have done so.
  for (let spin = 0; spin < 1000; spin++) {
    const pending = made.filter((m) => m.plan === 'refund-fail-card').some((m) => sandbox.account.listRefunds({ paymentIntent: m.payment.gatewayReference! }).some((r) => r.status !== 'failed'));
    if (!pending) break;
    await new Promise((r) => setImmediate(r));
  }
  return made;
}

interface View {
  status: string;
  amountCaptured: string;
  amountRefunded: string;
  refunds: Array<{ gatewayReference: string | null; amount: string; status: string }>;
}

const byRef = (a: { gatewayReference: string | null }, b: { gatewayReference: string | null }) => String(a.gatewayReference).localeCompare(String(b.gatewayReference));

/** What Stripe (the sandbox, through the official client) says the payment is. */
async function stripeView(pi: string): Promise<View> {
  const intent = await stripe.paymentIntents.retrieve(pi);
  const list = await stripe.refunds.list({ payment_intent: pi, limit: 100 });
  const refunds = list.data
    .map((r) => ({ gatewayReference: r.id, amount: usd(r.amount), status: r.status === 'succeeded' ? 'SUCCEEDED' : r.status === 'failed' || r.status === 'canceled' ? 'FAILED' : 'PENDING' }))
    .sort(byRef);
  const refundedCents = list.data.filter((r) => r.status !== 'failed' && r.status !== 'canceled').reduce((s, r) => s + r.amount, 0);
  let status: string;
  let capturedCents = 0;
  switch (intent.status) {
    case 'requires_capture':
      status = 'AUTHORIZED';
      break;
    case 'canceled':
      status = 'CANCELLED';
      break;
    case 'succeeded':
      capturedCents = intent.amount_received;
      status = refundedCents === 0 ? 'CAPTURED' : refundedCents >= capturedCents ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
      break;
    default:
      status = `unexpected:${intent.status}`;
  }
  return { status, amountCaptured: usd(capturedCents), amountRefunded: usd(refundedCents), refunds };
}

async function engineView(tender: Tender, paymentId: string): Promise<View> {
  const p = await tender.payments.get(paymentId);
  const refunds = (await tender.refunds.list(paymentId)).map((r) => ({ gatewayReference: r.gatewayReference, amount: r.amount, status: r.status })).sort(byRef);
  return { status: p.status, amountCaptured: p.amountCaptured, amountRefunded: p.amountRefunded, refunds };
}

interface DeliveryReport {
  rounds: number;
  deliveries: number;
  redelivered: number;
  /** Events still refused with a retryable error after the last round. */
  undelivered: string[];
  /** Non-retryable refusals (a 4xx from the server): Stripe would retry them, but they can never apply. */
  rejected: Array<{ eventId: string; type: string; error: string }>;
  outcomes: Record<string, number>;
}

/**
 * Delivers `stream` to the engine `concurrency` at a time. A retryable refusal (what the server turns
 * into a 5xx, e.g. 503 webhook_deferred) puts the request back for a later round, as Stripe redelivers.
 */
async function deliver(tender: Tender, stream: Recorded[], concurrency: number, rng: (() => number) | null): Promise<DeliveryReport> {
  const report: DeliveryReport = { rounds: 0, deliveries: 0, redelivered: 0, undelivered: [], rejected: [], outcomes: {} };
  let queue = stream;
  while (queue.length > 0 && report.rounds < MAX_ROUNDS) {
    report.rounds++;
    const retry: Recorded[] = [];
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const item = queue[next++]!;
        report.deliveries++;
        try {
          const handled = await tender.webhooks.handle('stripe', { headers: item.headers, rawBody: new Uint8Array(item.rawBody) });
          if (handled.status < 200 || handled.status >= 300) retry.push(item);
          for (const o of handled.outcomes) report.outcomes[o.outcome] = (report.outcomes[o.outcome] ?? 0) + 1;
        } catch (error) {
          const e = error as TenderError;
          const retryable = TenderError.isInstance(error) ? e.retryable || e.status >= 500 : true;
          if (retryable) retry.push(item);
          else report.rejected.push({ eventId: item.eventId, type: item.type, error: `${e.status} ${e.code}: ${e.message}` });
          const key = TenderError.isInstance(error) ? `threw:${e.code}` : 'threw:non-tender';
          report.outcomes[key] = (report.outcomes[key] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    report.redelivered += retry.length;
    queue = rng ? shuffle(retry, rng) : retry;
  }
  report.undelivered = queue.map((q) => `${q.type} ${q.eventId}`);
  return report;
}

async function compareAll(tender: Tender, made: Array<{ payment: Payment; plan: Plan }>) {
  const mismatches: Array<{ payment: string; plan: Plan; stripe: View; engine: View }> = [];
  for (const { payment, plan } of made) {
    const expected = await stripeView(payment.gatewayReference!);
    const actual = await engineView(tender, payment.id);
    if (JSON.stringify(expected) !== JSON.stringify(actual)) mismatches.push({ payment: `${payment.id} ${payment.gatewayReference}`, plan, stripe: expected, engine: actual });
  }
  return mismatches;
}

describe('Stripe webhooks in any order, duplicated and concurrent, converge on what Stripe says', () => {
  it('control: the recorded stream in creation order, one at a time', async () => {
    const rng = prng(SEED);
    const e = engine();
    try {
      recorded = [];
      const made = await buildHistory(e.tender, rng, SEED);
      const stream = await takeRecorded();
      // The stream holds every kind of event the brief names (and the sandbox's others, ignored by Tender).
      const types = new Set(stream.map((s) => s.type));
      expect(
        [
          'payment_intent.created',
          'charge.succeeded',
          'payment_intent.amount_capturable_updated',
          'charge.captured',
          'payment_intent.succeeded',
          'payment_intent.canceled',
          'refund.created',
          'charge.refunded',
          'refund.updated',
          'refund.failed',
        ].filter((t) => !types.has(t)),
      ).toEqual([]);
      const report = await deliver(e.tender, stream, 1, null);
      console.log(`[webhook-order] control seed=${SEED}: ${stream.length} events, ${JSON.stringify(report)}`);
      expect(report.rejected).toEqual([]);
      expect(report.undelivered).toEqual([]);
      expect(await compareAll(e.tender, made)).toEqual([]);
    } finally {
      await e.close();
    }
  });

  const runs: Array<[number, 'MemoryStore' | 'Postgres']> = [...SEEDS.map((s) => [s, 'MemoryStore'] as [number, 'MemoryStore']), [SEED, 'Postgres']];
  it.each(runs)(`shuffled (seed %i, %s), 30%% duplicates, 16 concurrent, retryable refusals redelivered, requeries failing now and then`, async (seed, storeKind) => {
    const rng = prng(seed ^ 0x9e3779b9);
    const pgStore = storeKind === 'Postgres' ? await postgresStore() : null;
    const e = pgStore ? engine(pgStore.store, pgStore.drop) : engine();
    try {
      recorded = [];
      const made = await buildHistory(e.tender, rng, seed);
      const stream = await takeRecorded();
      const withDuplicates = [...stream, ...stream.filter(() => rng() < DUPLICATE_SHARE)];
      const shuffled = shuffle(withDuplicates, rng);
      // A few requeries fail (Stripe 503, transport retries exhausted) so the engine must answer
      // `webhook_deferred` and rely on the redelivery.
      sandbox.faults.add({ kind: 'error', status: 503, shouldRetry: true, match: /^GET \/v1\/payment_intents\/pi_/, count: 8 });
      sandbox.faults.add({ kind: 'error', status: 503, shouldRetry: true, match: /^GET \/v1\/refunds$/, count: 4 });
      const report = await deliver(e.tender, shuffled, CONCURRENCY, rng);
      sandbox.faults.clear();
      console.log(`[webhook-order] shuffled seed=${seed} ${storeKind}: ${shuffled.length} deliveries queued (${stream.length} events), ${JSON.stringify(report)}`);
      expect(report.rejected).toEqual([]);
      expect(report.undelivered).toEqual([]);
      const mismatches = await compareAll(e.tender, made);
      if (mismatches.length > 0) console.log(`[webhook-order] seed=${seed} ${storeKind} mismatches:\n${JSON.stringify(mismatches, null, 2)}`);
      expect(mismatches).toEqual([]);
      // One effect per event: a refund the sandbox made once is one Refund record here.
      for (const { payment } of made) {
        const refs = (await e.tender.refunds.list(payment.id)).map((r) => r.gatewayReference);
        expect(new Set(refs).size).toBe(refs.length);
      }
    } finally {
      sandbox.faults.clear();
      await e.close();
    }
  }, 60_000);
});

describe('refund.failed before its refund.created', () => {
  /** The recorded requests of one PaymentIntent, by type. */
  const ofIntent = (stream: Recorded[], pi: string) => (type: string) => stream.filter((s) => s.paymentIntent === pi && s.type === type);
  const handle = (tender: Tender, r: Recorded) => tender.webhooks.handle('stripe', { headers: r.headers, rawBody: new Uint8Array(r.rawBody) });

  it('a dashboard refund that failed: refund.failed first records it FAILED, and the late refund.created does not revive it', async () => {
    const e = engine();
    try {
      recorded = [];
      const payment = await e.tender.payments.create({ amount: '64.00', currency: 'USD', paymentMethod: 'pm_card_visa', gateway: 'stripe', orderId: `ORD-RF-${SEED}` });
      expect(payment.status).toBe('CAPTURED');
      const refund = await stripe.refunds.create({ payment_intent: payment.gatewayReference!, amount: 2500 });
      sandbox.account.failRefund(refund.id, 'expired_or_canceled_card');
      const pick = ofIntent(await takeRecorded(), payment.gatewayReference!);
      const [failed] = pick('refund.failed');
      const [created] = pick('refund.created');
      expect(failed && created).toBeTruthy();
      // The sandbox's own events: created says succeeded, failed says failed.
      expect(JSON.parse(created!.rawBody.toString()).data.object.status).toBe('succeeded');
      expect(JSON.parse(failed!.rawBody.toString()).data.object.status).toBe('failed');

      await handle(e.tender, failed!);
      let refunds = await e.tender.refunds.list(payment.id);
      expect(refunds).toMatchObject([{ gatewayReference: refund.id, status: 'FAILED', amount: '25.00' }]);
      for (const r of [created!, ...pick('charge.refunded'), ...pick('refund.updated'), failed!]) await handle(e.tender, r);
      refunds = await e.tender.refunds.list(payment.id);
      expect(refunds).toHaveLength(1);
      expect(refunds[0]).toMatchObject({ gatewayReference: refund.id, status: 'FAILED', failure: { code: 'expired_or_canceled_card' } });
      expect(await e.tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', amountRefunded: '0.00', amountCaptured: '64.00' });
      expect(await engineView(e.tender, payment.id)).toEqual(await stripeView(payment.gatewayReference!));
    } finally {
      await e.close();
    }
  });

  it('a refund that only fits once an earlier refund has failed, arriving before that failure, is not lost', async () => {
    // Stripe: R1 (30.00) succeeded then failed, which gave the money back; R2 then refunded all 100.00.
    // Delivered: R1 created, R2 created, then R1's failure. R2 exceeds the captured amount only while
    // R1's failure is unknown here; the engine must requery or defer, not acknowledge and drop it.
    const e = engine();
    try {
      recorded = [];
      const payment = await e.tender.payments.create({ amount: '100.00', currency: 'USD', paymentMethod: 'pm_card_visa', gateway: 'stripe', orderId: `ORD-OVERLAP-${SEED}` });
      expect(payment.status).toBe('CAPTURED');
      const r1 = await stripe.refunds.create({ payment_intent: payment.gatewayReference!, amount: 3000 });
      sandbox.account.failRefund(r1.id, 'expired_or_canceled_card');
      const r2 = await stripe.refunds.create({ payment_intent: payment.gatewayReference! });
      expect(r2.amount).toBe(10000);
      const stream = (await takeRecorded()).filter((s) => s.paymentIntent === payment.gatewayReference);
      const refundEvent = (type: string, id: string) => stream.find((s) => s.type === type && JSON.parse(s.rawBody.toString()).data.object.id === id)!;
      const ordered = [refundEvent('refund.created', r1.id), refundEvent('refund.created', r2.id), refundEvent('refund.updated', r1.id), refundEvent('refund.failed', r1.id), ...stream.filter((s) => s.type === 'charge.refunded')];
      const report = await deliver(e.tender, ordered, 1, null);
      expect(report.rejected).toEqual([]);
      expect(report.undelivered).toEqual([]);
      expect(await engineView(e.tender, payment.id)).toEqual(await stripeView(payment.gatewayReference!));
    } finally {
      await e.close();
    }
  });

  it('the same with events crafted and signed with the webhook secret, before the engine has seen the capture', async () => {
    const e = engine();
    try {
      recorded = [];
      const payment = await e.tender.payments.create({ amount: '30.00', currency: 'USD', paymentMethod: 'pm_card_visa', captureMethod: 'manual', gateway: 'stripe', orderId: `ORD-RF2-${SEED}` });
      expect(payment.status).toBe('AUTHORIZED');
      await stripe.paymentIntents.capture(payment.gatewayReference!);
      const refund = await stripe.refunds.create({ payment_intent: payment.gatewayReference!, amount: 3000 });
      sandbox.account.failRefund(refund.id, 'lost_or_stolen_card');
      await takeRecorded();
      const stored = sandbox.account.refunds.get(refund.id)!;
      const craft = (type: string, object: Record<string, unknown>) => {
        const body = JSON.stringify({ id: `evt_crafted_${type.replace('.', '_')}_${refund.id}`, object: 'event', api_version: '2026-10-28.endive', created: Math.floor(Date.now() / 1000), data: { object }, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type });
        return { headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload({ payload: body, secret: webhookSecret }) }, rawBody: new TextEncoder().encode(body) };
      };
      // refund.failed reaches us while the engine still thinks the payment is only AUTHORIZED.
      await e.tender.webhooks.handle('stripe', craft('refund.failed', { ...stored, status: 'failed', failure_reason: 'lost_or_stolen_card' }));
      await e.tender.webhooks.handle('stripe', craft('refund.created', { ...stored, status: 'succeeded', failure_reason: undefined }));
      const refunds = await e.tender.refunds.list(payment.id);
      expect(refunds).toMatchObject([{ gatewayReference: refund.id, status: 'FAILED', amount: '30.00' }]);
      expect(await e.tender.payments.get(payment.id)).toMatchObject({ status: 'CAPTURED', amountCaptured: '30.00', amountRefunded: '0.00' });
    } finally {
      await e.close();
    }
  });
});
