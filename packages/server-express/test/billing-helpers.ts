/**
 * Helpers of the billing end-to-end tests: a reference server (the test harness's `createApp` on
 * loopback) whose Stripe gateway talks to a Stripe sandbox of its own, with every customer on one
 * test clock (https://docs.stripe.com/billing/testing/test-clocks) so a test moves the customers'
 * time forward; the merchant's dashboard steps (a product and a price) as Stripe API calls; and a
 * loopback recorder that keeps the signed webhook deliveries the sandbox made, to replay them later
 * duplicated and in a seeded shuffled order.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from '@tender/core';
import { waitFor } from '@tender/core/testing';
import { createStripeGateway, encodeForm, type FormValue } from '@tender/stripe';
import { startStripeSandbox, type StripeSandbox, type StripeSandboxOptions } from '@tender/stripe/sandbox';
import { startHarness, type Harness } from './helpers';

/** One day in seconds. */
export const DAY = 86_400;
/** One hour in seconds. */
export const HOUR = 3_600;

/** A Stripe API call to the sandbox with the secret key (form body on POST, query on GET); throws on a non-2xx answer. */
export async function stripeApi(sandbox: StripeSandbox, method: 'GET' | 'POST' | 'DELETE', path: string, params: Record<string, FormValue> = {}): Promise<any> {
  const form = encodeForm(params);
  const url = method === 'GET' && form ? `${sandbox.url}${path}?${form}` : `${sandbox.url}${path}`;
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${sandbox.secretKey}`, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(method === 'POST' ? { body: form } : {}),
  });
  const body = (await response.json()) as any;
  if (!response.ok) throw new Error(`Stripe sandbox ${method} ${path}: HTTP ${response.status} ${JSON.stringify(body.error)}`);
  return body;
}

/** The merchant's dashboard step: a product with a recurring price (`unit_amount` in minor units); returns the price id. */
export async function createRecurringPrice(sandbox: StripeSandbox, options: { unitAmount: number; currency: string; interval?: 'day' | 'week' | 'month' | 'year'; name?: string }): Promise<string> {
  const price = await stripeApi(sandbox, 'POST', '/v1/prices', {
    currency: options.currency,
    unit_amount: options.unitAmount,
    recurring: { interval: options.interval ?? 'month' },
    product_data: { name: options.name ?? 'Tender Pro' },
  });
  return price.id as string;
}

/** A signed webhook request as the sandbox sent it. */
export interface RecordedDelivery {
  body: string;
  headers: Record<string, string>;
  /** The event's id and type, for messages. */
  eventId: string;
  type: string;
}

/** A loopback endpoint that keeps every request it receives and answers 200, standing in for the server. */
export interface WebhookRecorder {
  url: string;
  readonly deliveries: RecordedDelivery[];
  close(): Promise<void>;
}

/** Starts a {@link WebhookRecorder}. */
export async function startWebhookRecorder(): Promise<WebhookRecorder> {
  const deliveries: RecordedDelivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'stripe-signature', 'user-agent']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const event = JSON.parse(body) as { id: string; type: string };
      deliveries.push({ body, headers, eventId: event.id, type: event.type });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliveries,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

/** A deterministic PRNG (mulberry32, https://gist.github.com/tommyettinger/46a874533244883189143505d203312c) for seeded shuffles. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each delivery two or three times (chosen by `seed`), the whole list shuffled (Fisher–Yates with the same seed). */
export function duplicateAndShuffle<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out: T[] = [];
  for (const item of items) {
    const copies = random() < 0.5 ? 2 : 3;
    for (let i = 0; i < copies; i++) out.push(item);
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** What a replay saw: the HTTP status of each request, in order. */
export interface ReplayOutcome {
  sent: number;
  statuses: number[];
  /** Deliveries still refused after every retry. */
  refused: Array<{ eventId: string; type: string; status: number; body: string }>;
}

/**
 * POSTs the deliveries to `url` in the order given, with their recorded bytes and signature: one
 * after the other, or `concurrency` at a time (each sender takes the next one as it finishes). A
 * delivery answered with a non-2xx status is queued again at the end, as Stripe retries a failed
 * delivery later (https://docs.stripe.com/webhooks#automatic-retries), up to `maxAttempts` times.
 */
export async function replayDeliveries(url: string, deliveries: readonly RecordedDelivery[], options: { concurrency?: number; maxAttempts?: number } = {}): Promise<ReplayOutcome> {
  const maxAttempts = options.maxAttempts ?? 5;
  const queue = deliveries.map((delivery) => ({ delivery, attempt: 1 }));
  const statuses: number[] = [];
  const refused: ReplayOutcome['refused'] = [];
  let sent = 0;
  const send = async (next: { delivery: RecordedDelivery; attempt: number }): Promise<void> => {
    const response = await fetch(url, { method: 'POST', headers: next.delivery.headers, body: next.delivery.body });
    const text = await response.text();
    sent++;
    statuses.push(response.status);
    if (response.ok) return;
    if (next.attempt < maxAttempts) queue.push({ delivery: next.delivery, attempt: next.attempt + 1 });
    else refused.push({ eventId: next.delivery.eventId, type: next.delivery.type, status: response.status, body: text.slice(0, 500) });
  };
  const limit = Math.max(1, options.concurrency ?? 1);
  const running = new Set<Promise<void>>();
  // A delivery in flight may be refused and queued again, so the queue is done only when nothing runs.
  while (queue.length > 0 || running.size > 0) {
    while (queue.length > 0 && running.size < limit) {
      const sending: Promise<void> = send(queue.shift()!).finally(() => running.delete(sending));
      running.add(sending);
    }
    await Promise.race(running);
  }
  return { sent, statuses, refused };
}

/** Options of {@link startBillingServer}. */
export interface BillingServerOptions {
  /** The store (default: the harness's MemoryStore). The caller closes it. */
  store?: Store;
  /** The test clock's start (Unix seconds; default now). Runs that must compare times use one value. */
  frozenTime?: number;
  /** `live` (default): the sandbox delivers webhooks to the server; `record`: to a recorder instead. */
  webhooks?: 'live' | 'record';
  /** Options of the server's own Stripe sandbox. */
  sandbox?: StripeSandboxOptions;
}

/** A reference server with a Stripe sandbox of its own and one test clock every customer lives on. */
export interface BillingServer {
  harness: Harness;
  sandbox: StripeSandbox;
  /** The test clock's id (`clock_...`). */
  clockId: string;
  webhookSecret: string;
  /** Set with `webhooks: 'record'`. */
  recorder: WebhookRecorder | null;
  /** The server's Stripe webhook URL. */
  webhookUrl: string;
  /** The clock's current time (Unix seconds). */
  now(): Promise<number>;
  /**
   * Advances the clock to `time` (Unix seconds), waits until the sandbox played everything due
   * (clock `ready`) and delivered the webhooks that made.
   */
  advanceTo(time: number): Promise<void>;
  /** {@link advanceTo} `seconds` past the clock's current time. */
  advanceBy(seconds: number): Promise<void>;
  /**
   * The events the endpoint still refuses (no 2xx) after the sandbox delivered everything and sent
   * each refused one once more: Stripe would retry those for days and flag the endpoint as failing.
   */
  unacknowledged(): Promise<Array<{ eventId: string; type: string; status: number | null }>>;
  close(): Promise<void>;
}

/**
 * Starts a {@link BillingServer}: a Stripe sandbox, a test clock on it, the Stripe gateway built with
 * that clock (so the customers Tender creates live on it) and the sandbox's webhook signing secret,
 * and the harness's server on loopback with that gateway only.
 */
export async function startBillingServer(options: BillingServerOptions = {}): Promise<BillingServer> {
  const sandbox = await startStripeSandbox(options.sandbox);
  const webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
  const clock = await stripeApi(sandbox, 'POST', '/v1/test_helpers/test_clocks', { frozen_time: options.frozenTime ?? Math.floor(Date.now() / 1000), name: 'tender-e2e' });
  const clockId = clock.id as string;
  const gateway = createStripeGateway({ secretKey: sandbox.secretKey, baseUrl: sandbox.url, webhookSecret, testClock: clockId });
  const harness = await startHarness({ gateways: [gateway], ...(options.store ? { store: options.store } : {}) });
  const webhookUrl = `${harness.url}/api/v1/webhooks/stripe`;
  const recorder = options.webhooks === 'record' ? await startWebhookRecorder() : null;
  sandbox.webhooks.configure({ url: recorder ? recorder.url : webhookUrl, secret: webhookSecret });
  const now = async () => (await stripeApi(sandbox, 'GET', `/v1/test_helpers/test_clocks/${clockId}`)).frozen_time as number;
  const advanceTo = async (time: number) => {
    await stripeApi(sandbox, 'POST', `/v1/test_helpers/test_clocks/${clockId}/advance`, { frozen_time: time });
    await waitFor(async () => {
      const current = await stripeApi(sandbox, 'GET', `/v1/test_helpers/test_clocks/${clockId}`);
      if (current.status === 'internal_failure') throw new Error(`test clock ${clockId} failed advancing to ${time}`);
      return current.status === 'ready';
    }, `test clock ${clockId} ready at ${time}`);
    await sandbox.webhooks.idle();
  };
  return {
    harness,
    sandbox,
    clockId,
    webhookSecret,
    recorder,
    webhookUrl,
    now,
    advanceTo,
    advanceBy: async (seconds) => advanceTo((await now()) + seconds),
    async unacknowledged() {
      const failing = async () => {
        await sandbox.webhooks.idle();
        const last = new Map<string, { eventId: string; type: string; status: number | null }>();
        for (const d of sandbox.webhooks.deliveries) last.set(d.eventId, { eventId: d.eventId, type: d.type, status: d.status });
        return [...last.values()].filter((d) => d.status === null || d.status < 200 || d.status > 299);
      };
      // The sandbox retries within milliseconds; Stripe retries over hours, so an event that came
      // before what it depends on is sent once more, as Stripe's later retry would, before judging.
      for (const d of await failing()) sandbox.webhooks.redeliver(await stripeApi(sandbox, 'GET', `/v1/events/${d.eventId}`));
      return failing();
    },
    async close() {
      await harness.close();
      await recorder?.close();
      await sandbox.close();
    },
  };
}

/**
 * GETs `path` until `ok` holds for its body (each answer must be 200), and returns that body; on a
 * timeout, the error names `what` and the last body seen.
 */
export async function waitForBody(harness: Harness, path: string, ok: (body: any) => boolean, what: string, timeoutMs = 20_000): Promise<any> {
  let last: unknown;
  try {
    return await waitFor(async () => {
      const res = await harness.call('GET', path);
      last = res.body;
      return res.status === 200 && ok(res.body) ? res.body : null;
    }, what, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; last answer of GET ${path}: ${JSON.stringify(last)}`);
  }
}

/** The fields of a subscription, its invoices and the user's payments that two runs of one scenario must agree on (no ids, no wall-clock times). */
export interface BillingSnapshot {
  subscription: Record<string, unknown>;
  invoices: Array<Record<string, unknown>>;
  payments: Array<Record<string, unknown>>;
}

/** Reads a {@link BillingSnapshot} of `subscriptionId` and `userId` over the REST API. */
export async function billingSnapshot(harness: Harness, subscriptionId: string, userId: string): Promise<BillingSnapshot> {
  const sub = (await harness.call('GET', `/api/v1/subscriptions/${subscriptionId}`)).body;
  const invoices = (await harness.call('GET', `/api/v1/subscriptions/${subscriptionId}/invoices?limit=100`)).body.data as any[];
  const payments = (await harness.call('GET', `/api/v1/users/${encodeURIComponent(userId)}/payments?limit=100`)).body.data as any[];
  const paymentById = new Map(payments.map((p) => [p.id, p]));
  const pick = (record: any, keys: string[]): Record<string, unknown> => Object.fromEntries(keys.map((k) => [k, record[k]]));
  return {
    subscription: pick(sub, [
      'status', 'user_id', 'gateway', 'quantity', 'amount', 'amount_minor', 'currency', 'interval', 'interval_count',
      'trial_start', 'trial_end', 'current_period_start', 'current_period_end', 'cancel_at_period_end', 'canceled_at', 'ended_at',
    ]),
    invoices: invoices
      .map((inv): Record<string, unknown> => ({
        ...pick(inv, [
          'status', 'user_id', 'currency', 'amount_due', 'amount_due_minor', 'amount_paid', 'amount_paid_minor', 'amount_remaining',
          'amount_remaining_minor', 'billing_reason', 'period_start', 'period_end', 'attempt_count', 'next_payment_attempt',
        ]),
        // The payment the invoice names, as the user's payment list shows it.
        payment: inv.payment_id ? pick(paymentById.get(inv.payment_id) ?? { missing: inv.payment_id }, ['status', 'amount_minor', 'currency', 'missing']) : null,
      }))
      .sort((a, b) => String(a.period_end).localeCompare(String(b.period_end)) || String(a.billing_reason).localeCompare(String(b.billing_reason))),
    payments: payments
      .map((p) => pick(p, ['status', 'amount', 'amount_minor', 'currency', 'gateway', 'user_id']))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  };
}
