/**
 * The billing end-to-end scenarios (#15), run by `billing-e2e.test.ts` on PGlite and by
 * `billing-e2e.pg.test.ts` on real Postgres: a merchant's calls over HTTP on loopback to the reference
 * server, whose Stripe gateway talks to a Stripe sandbox with every customer on a test clock; the
 * sandbox delivers its signed webhooks to the server's `POST /api/v1/webhooks/stripe`. Each scenario
 * has a server (and a clock) of its own, so advancing one scenario's time moves no other's.
 *
 * @module
 */
import type { Store } from '@tender/core';
import { waitFor } from '@tender/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DAY,
  HOUR,
  billingSnapshot,
  createRecurringPrice,
  duplicateAndShuffle,
  replayDeliveries,
  startBillingServer,
  stripeApi,
  waitForBody,
  type BillingServer,
  type BillingSnapshot,
} from './billing-helpers';

/** A store a scenario file runs on, with a way to read every row of its schema. */
export interface E2EStore {
  store: Store;
  /** The schema the store's tables are in. */
  schema: string;
  /** Runs one SQL statement on the store's database and returns its rows. */
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** The price every scenario subscribes to: USD 10.00 a month. */
const PRICE_MINOR = 1000;
const CURRENCY = 'usd';

/**
 * The start of every test clock (the last full hour, so at most an hour behind the wall clock), one
 * value for the file so runs of one scenario on different servers see the same times.
 */
const T0 = Math.floor(Date.now() / 1000 / HOUR) * HOUR;

const seconds = (iso: unknown) => Math.floor(Date.parse(String(iso)) / 1000);

/** Seed 001's tokenize body: raw card data, which Tender must refuse without keeping it anywhere. */
const SEED_001_TOKENIZE = {
  user_id: '123e4567-e89b-12d3-a456-426614174000',
  type: 'CARD',
  details: { card_number: '4111111111111111', expiry_month: '12', expiry_year: '25', cvv: '123', holder_name: 'John Doe' },
  display_name: '**** **** **** 1111',
};
const PAN = '4111111111111111';
const SPACED_PAN = '4111 1111 1111 1111';

/** Counts the rows of every table of `schema` whose text form contains `needle`, by table. */
async function rowsContaining(db: E2EStore, needle: string): Promise<Record<string, number>> {
  const tables = await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${db.schema}' AND table_type = 'BASE TABLE' ORDER BY table_name`);
  expect(tables.length).toBeGreaterThan(0);
  const found: Record<string, number> = {};
  for (const { table_name } of tables) {
    const rows = await db.query(`SELECT count(*)::int AS n FROM "${db.schema}"."${String(table_name)}" t WHERE t::text LIKE '%${needle.replace(/'/g, "''")}%'`);
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) found[String(table_name)] = n;
  }
  return found;
}

/**
 * A subscription's whole life on `server`: a card that saves but declines every charge, a 14-day
 * trial whose first renewal fails (past_due), a good card made the default and the retry paid
 * (active), a cancel at period end and the period's end (canceled). With `live`, waits after each
 * step until the server shows what the webhooks said; without (webhooks recorded, not delivered),
 * only until the sandbox has played the step.
 */
async function subscriptionLife(server: BillingServer, priceId: string, userId: string, live: boolean): Promise<{ subscriptionId: string }> {
  const h = server.harness;
  const failing = await h.call('POST', '/api/v1/payment-methods', { body: { user_id: userId, payment_method: 'pm_card_chargeCustomerFail' } });
  expect(failing.status, JSON.stringify(failing.body)).toBe(201);
  const created = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: userId, price_id: priceId, trial_days: 14 } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const sub = created.body;
  expect(sub.status).toBe('trialing');

  await server.advanceTo(T0 + 15 * DAY);
  if (live) await waitForBody(h, `/api/v1/subscriptions/${sub.id}`, (b) => b.status === 'past_due', 'past_due after the failed renewal');

  const good = await h.call('POST', '/api/v1/payment-methods', { body: { user_id: userId, payment_method: 'pm_card_visa', set_default: true } });
  expect(good.status, JSON.stringify(good.body)).toBe(201);
  const open = (await stripeApi(server.sandbox, 'GET', '/v1/invoices', { subscription: sub.gateway_reference, status: 'open' })).data[0];
  expect(open?.next_payment_attempt).toBeGreaterThan(T0 + 15 * DAY);
  await server.advanceTo((open.next_payment_attempt as number) + HOUR);
  if (live) await waitForBody(h, `/api/v1/subscriptions/${sub.id}`, (b) => b.status === 'active', 'active after the retry paid');

  const canceling = await h.call('DELETE', `/api/v1/subscriptions/${sub.id}?at_period_end=true`);
  expect(canceling.status, JSON.stringify(canceling.body)).toBe(200);
  const atStripe = await stripeApi(server.sandbox, 'GET', `/v1/subscriptions/${sub.gateway_reference}`);
  const periodEnd = (atStripe.items?.data?.[0]?.current_period_end ?? atStripe.current_period_end) as number;
  await server.advanceTo(periodEnd + HOUR);
  if (live) await waitForBody(h, `/api/v1/subscriptions/${sub.id}`, (b) => b.status === 'canceled', 'canceled at the period end');
  await server.sandbox.webhooks.idle();
  return { subscriptionId: sub.id };
}

/** Defines the scenarios on stores from `open` (one store per scenario server; fresh ones for the replays). */
export function describeBillingScenarios(label: string, open: () => Promise<E2EStore>): void {
  describe(`billing end to end over sockets (${label}, Stripe sandbox with a test clock)`, () => {
    let db: E2EStore;
    const servers: BillingServer[] = [];
    const extraStores: E2EStore[] = [];
    const server = async (options: Parameters<typeof startBillingServer>[0] = {}) => {
      const s = await startBillingServer({ store: db.store, frozenTime: T0, ...options });
      servers.push(s);
      return s;
    };

    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await Promise.allSettled(servers.map((s) => s.close()));
      await Promise.allSettled(extraStores.map((s) => s.close()));
      await db?.close();
    });

    it('saves a card for user_123 (the default) and charges it off session: CAPTURED, listed under the user, the money taken at Stripe from that customer and card', async () => {
      const s = await server();
      const h = s.harness;
      const saved = await h.call('POST', '/api/v1/payment-methods', { body: { user_id: 'user_123', payment_method: 'pm_card_visa' } });
      expect(saved.status, JSON.stringify(saved.body)).toBe(201);
      expect(saved.body).toMatchObject({ object: 'payment_method', user_id: 'user_123', gateway: 'stripe', type: 'card', is_default: true, deleted: false });
      expect(saved.body.id).toMatch(/^spm_/);
      expect(saved.body.card).toMatchObject({ brand: 'visa', last4: '4242' });
      expect(saved.body.gateway_token).toMatch(/^pm_/);

      const methods = await h.call('GET', '/api/v1/users/user_123/payment-methods');
      expect(methods.status).toBe(200);
      expect(methods.body.data.map((m: any) => [m.id, m.is_default])).toEqual([[saved.body.id, true]]);

      const charged = await h.call('POST', '/api/v1/payments', { body: { user_id: 'user_123', payment_method: saved.body.id, amount_minor: 2500, currency: 'USD' } });
      expect(charged.status, JSON.stringify(charged.body)).toBe(201);
      expect(charged.body).toMatchObject({ status: 'CAPTURED', amount_minor: 2500, currency: 'USD', gateway: 'stripe', user_id: 'user_123', saved_payment_method_id: saved.body.id });

      // Where the money is: the PaymentIntent charged the saved card of the user's customer, off session.
      const pi = await stripeApi(s.sandbox, 'GET', `/v1/payment_intents/${charged.body.gateway_reference}`);
      expect(pi).toMatchObject({ status: 'succeeded', amount: 2500, currency: 'usd', payment_method: saved.body.gateway_token });
      const customer = await stripeApi(s.sandbox, 'GET', `/v1/customers/${pi.customer}`);
      expect(customer.test_clock).toBe(s.clockId);

      const payments = await h.call('GET', '/api/v1/users/user_123/payments');
      expect(payments.status).toBe(200);
      expect(payments.body.data.map((p: any) => p.id)).toContain(charged.body.id);
      expect(payments.body.data.every((p: any) => p.user_id === 'user_123')).toBe(true);

      // Removed: detached at Stripe, off the user's list, and never charged again.
      const removed = await h.call('DELETE', `/api/v1/payment-methods/${saved.body.id}`);
      expect(removed.status, JSON.stringify(removed.body)).toBe(200);
      expect(removed.body).toMatchObject({ id: saved.body.id, deleted: true, is_default: false });
      expect((await stripeApi(s.sandbox, 'GET', `/v1/payment_methods/${saved.body.gateway_token}`)).customer).toBeNull();
      expect((await h.call('GET', '/api/v1/users/user_123/payment-methods')).body.data).toEqual([]);
      const intentsOf = async (customerId: string) => ((await stripeApi(s.sandbox, 'GET', '/v1/payment_intents', { limit: 100 })).data as any[]).filter((i) => i.customer === customerId);
      const intentsBefore = (await intentsOf(pi.customer)).length;
      const again = await h.call('POST', '/api/v1/payments', { body: { user_id: 'user_123', payment_method: saved.body.id, amount_minor: 2500, currency: 'USD' } });
      expect(again.status, JSON.stringify(again.body)).toBe(404);
      expect(await intentsOf(pi.customer)).toHaveLength(intentsBefore);
      // Every signed webhook the sandbox sent was acknowledged (none left for Stripe to retry).
      expect(await s.unacknowledged()).toEqual([]);
    });

    it('a 14-day trial converts once the clock passes it: active, the invoice paid, its CAPTURED payment under the user', async () => {
      const s = await server();
      const h = s.harness;
      const priceId = await createRecurringPrice(s.sandbox, { unitAmount: PRICE_MINOR, currency: CURRENCY });
      const created = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_trial', price_id: priceId, payment_method: 'pm_card_visa', trial_days: 14 } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const sub = created.body;
      expect(sub).toMatchObject({ object: 'subscription', user_id: 'user_trial', gateway: 'stripe', status: 'trialing', price_id: priceId, amount_minor: PRICE_MINOR, interval: 'month', cancel_at_period_end: false });
      expect(sub.gateway_reference).toMatch(/^sub_/);
      expect(seconds(sub.trial_end) - seconds(sub.trial_start)).toBe(14 * DAY);

      await s.advanceTo(T0 + 15 * DAY);
      const active = await waitForBody(h, `/api/v1/subscriptions/${sub.id}`, (b) => b.status === 'active', 'the subscription active after the trial');
      expect(seconds(active.current_period_start)).toBe(seconds(sub.trial_end));
      const invoices = await waitForBody(h, `/api/v1/subscriptions/${sub.id}/invoices`, (b) => b.data.some((i: any) => i.status === 'paid' && i.amount_paid_minor === PRICE_MINOR && i.payment_id), 'a paid invoice of the first period');
      const paid = invoices.data.find((i: any) => i.status === 'paid' && i.amount_paid_minor === PRICE_MINOR);
      expect(paid).toMatchObject({ object: 'invoice', user_id: 'user_trial', subscription_id: sub.id, status: 'paid', amount_due_minor: PRICE_MINOR, amount_remaining_minor: 0, attempt_count: 1 });
      expect((await h.call('GET', `/api/v1/invoices/${paid.id}`)).body).toMatchObject({ id: paid.id, status: 'paid' });

      const payment = await h.call('GET', `/api/v1/payments/${paid.payment_id}`);
      expect(payment.body).toMatchObject({ status: 'CAPTURED', amount_minor: PRICE_MINOR, currency: 'USD', user_id: 'user_trial' });
      const byUser = await h.call('GET', '/api/v1/users/user_trial/payments');
      expect(byUser.body.data.map((p: any) => p.id)).toContain(paid.payment_id);
      // The money Stripe took for that invoice is the payment Tender shows.
      const atStripe = await stripeApi(s.sandbox, 'GET', `/v1/invoices/${paid.gateway_reference}`);
      expect(atStripe).toMatchObject({ status: 'paid', amount_paid: PRICE_MINOR });
      expect((await h.call('GET', `/api/v1/users/user_trial/invoices`)).body.data.map((i: any) => i.id)).toContain(paid.id);
      // Every signed webhook the sandbox sent was acknowledged (none left for Stripe to retry).
      expect(await s.unacknowledged()).toEqual([]);
    });

    it('a renewal whose charge fails goes past_due with the invoice open after one attempt, and recovers on the retry once a good card is the default', async () => {
      const s = await server();
      const h = s.harness;
      const priceId = await createRecurringPrice(s.sandbox, { unitAmount: PRICE_MINOR, currency: CURRENCY });
      const failing = await h.call('POST', '/api/v1/payment-methods', { body: { user_id: 'user_fail', payment_method: 'pm_card_chargeCustomerFail' } });
      expect(failing.status, JSON.stringify(failing.body)).toBe(201);
      const created = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_fail', price_id: priceId, payment_method: failing.body.id, trial_days: 14 } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const sub = created.body;

      await s.advanceTo(T0 + 15 * DAY);
      await waitForBody(h, `/api/v1/subscriptions/${sub.id}`, (b) => b.status === 'past_due', 'past_due after the failed renewal');
      const list = await waitForBody(h, `/api/v1/subscriptions/${sub.id}/invoices`, (b) => b.data.some((i: any) => i.status === 'open' && i.attempt_count === 1), 'the renewal invoice open after one attempt');
      const open = list.data.find((i: any) => i.status === 'open');
      expect(open).toMatchObject({ amount_due_minor: PRICE_MINOR, amount_paid_minor: 0, amount_remaining_minor: PRICE_MINOR, attempt_count: 1, payment_id: null });
      expect(open.next_payment_attempt).not.toBeNull();

      const good = await h.call('POST', '/api/v1/payment-methods', { body: { user_id: 'user_fail', payment_method: 'pm_card_mastercard' } });
      expect(good.status, JSON.stringify(good.body)).toBe(201);
      expect(good.body.is_default).toBe(false);
      const made = await h.call('POST', `/api/v1/payment-methods/${good.body.id}/default`);
      expect(made.status, JSON.stringify(made.body)).toBe(200);
      expect(made.body.is_default).toBe(true);
      const methods = (await h.call('GET', '/api/v1/users/user_fail/payment-methods')).body.data;
      expect(methods.filter((m: any) => m.is_default).map((m: any) => m.id)).toEqual([good.body.id]);

      await s.advanceTo(seconds(open.next_payment_attempt) + HOUR);
      const paid = await waitForBody(h, `/api/v1/invoices/${open.id}`, (b) => b.status === 'paid', 'the renewal invoice paid on the retry');
      expect(paid).toMatchObject({ amount_paid_minor: PRICE_MINOR, amount_remaining_minor: 0, attempt_count: 2 });
      await waitForBody(h, `/api/v1/subscriptions/${sub.id}`, (b) => b.status === 'active', 'active again');
      const payment = (await h.call('GET', `/api/v1/payments/${paid.payment_id}`)).body;
      expect(payment).toMatchObject({ status: 'CAPTURED', amount_minor: PRICE_MINOR, user_id: 'user_fail' });
      // The retry charged the new default card at Stripe.
      const pi = await stripeApi(s.sandbox, 'GET', `/v1/payment_intents/${payment.gateway_reference}`);
      expect(pi).toMatchObject({ status: 'succeeded', payment_method: good.body.gateway_token });
      // The audit trails: each status the subscription and the invoice went through, in order.
      const subTrail = (await h.call('GET', `/api/v1/subscriptions/${sub.id}/transitions`)).body.data;
      expect(subTrail.map((t: any) => [t.from, t.to])).toEqual([[null, 'trialing'], ['trialing', 'past_due'], ['past_due', 'active']]);
      const invoiceTrail = (await h.call('GET', `/api/v1/invoices/${open.id}/transitions`)).body.data;
      expect(invoiceTrail.at(-1)).toMatchObject({ from: 'open', to: 'paid' });
      // Every signed webhook the sandbox sent was acknowledged (none left for Stripe to retry).
      expect(await s.unacknowledged()).toEqual([]);
    });

    it('a renewal that fails on every retry: past_due through the retries, then canceled as Stripe settles it, the invoice never paid and no payment', async () => {
      const s = await server();
      const h = s.harness;
      const priceId = await createRecurringPrice(s.sandbox, { unitAmount: PRICE_MINOR, currency: CURRENCY });
      const created = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_exhausted', price_id: priceId, payment_method: 'pm_card_chargeCustomerFail', trial_days: 14 } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const sub = created.body;
      await s.advanceTo(T0 + 15 * DAY);
      await waitForBody(h, `/api/v1/subscriptions/${sub.id}`, (b) => b.status === 'past_due', 'past_due after the failed renewal');
      // The sandbox's (and Stripe's default) schedule: retries 3, 5 and 7 days after the first attempt, then the subscription is canceled.
      for (let attempt = 2; ; attempt++) {
        const open = (await stripeApi(s.sandbox, 'GET', '/v1/invoices', { subscription: sub.gateway_reference, status: 'open' })).data[0];
        if (!open?.next_payment_attempt) break;
        expect(attempt).toBeLessThanOrEqual(4);
        await s.advanceTo((open.next_payment_attempt as number) + HOUR);
      }
      const ended = await waitForBody(h, `/api/v1/subscriptions/${sub.id}`, (b) => b.status === 'canceled', 'canceled once the retries are exhausted');
      expect(ended.ended_at).not.toBeNull();
      const cycle = (await h.call('GET', `/api/v1/subscriptions/${sub.id}/invoices`)).body.data.find((i: any) => i.billing_reason === 'subscription_cycle');
      const atStripe = await stripeApi(s.sandbox, 'GET', `/v1/invoices/${cycle.gateway_reference}`);
      expect(cycle).toMatchObject({ status: atStripe.status, attempt_count: atStripe.attempt_count, amount_paid_minor: 0, payment_id: null });
      expect(cycle.status).not.toBe('paid');
      expect((await h.call('GET', '/api/v1/users/user_exhausted/payments')).body.data).toEqual([]);
      expect(await s.unacknowledged()).toEqual([]);
    });

    it('cancel at period end: still active with cancel_at_period_end, then canceled once the clock passes the period end, with no further invoice', async () => {
      const s = await server();
      const h = s.harness;
      const priceId = await createRecurringPrice(s.sandbox, { unitAmount: PRICE_MINOR, currency: CURRENCY });
      const created = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_cancel', price_id: priceId, payment_method: 'pm_card_visa' } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const sub = await waitForBody(h, `/api/v1/subscriptions/${created.body.id}`, (b) => b.status === 'active', 'active after the first invoice paid');

      const canceling = await h.call('DELETE', `/api/v1/subscriptions/${sub.id}?at_period_end=true`);
      expect(canceling.status, JSON.stringify(canceling.body)).toBe(200);
      expect(canceling.body).toMatchObject({ id: sub.id, status: 'active', cancel_at_period_end: true, ended_at: null });
      expect((await h.call('GET', `/api/v1/subscriptions/${sub.id}`)).body).toMatchObject({ status: 'active', cancel_at_period_end: true });

      await s.advanceTo(seconds(canceling.body.current_period_end) + HOUR);
      const ended = await waitForBody(h, `/api/v1/subscriptions/${sub.id}`, (b) => b.status === 'canceled', 'canceled at the period end');
      expect(seconds(ended.ended_at)).toBe(seconds(canceling.body.current_period_end));
      const invoices = (await h.call('GET', `/api/v1/subscriptions/${sub.id}/invoices`)).body.data;
      expect(invoices.map((i: any) => [i.billing_reason, i.status])).toEqual([['subscription_create', 'paid']]);
      const payments = (await h.call('GET', '/api/v1/users/user_cancel/payments')).body.data;
      expect(payments.map((p: any) => [p.status, p.amount_minor])).toEqual([['CAPTURED', PRICE_MINOR]]);
      // Every signed webhook the sandbox sent was acknowledged (none left for Stripe to retry).
      expect(await s.unacknowledged()).toEqual([]);
    });

    it('one Idempotency-Key, the same subscribe and the same saved-card charge sent three times at once: one subscription and one charge at Stripe, every answer the same record', async () => {
      const s = await server();
      const h = s.harness;
      const priceId = await createRecurringPrice(s.sandbox, { unitAmount: PRICE_MINOR, currency: CURRENCY });
      const method = await h.call('POST', '/api/v1/payment-methods', { body: { user_id: 'user_idem', payment_method: 'pm_card_visa' }, headers: { 'idempotency-key': 'idem-save-1' } });
      expect(method.status, JSON.stringify(method.body)).toBe(201);
      const subscribe = () => h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_idem', price_id: priceId, payment_method: method.body.id }, headers: { 'idempotency-key': 'idem-sub-1' } });
      const subs = await Promise.all([subscribe(), subscribe(), subscribe()]);
      const created = subs.filter((r) => r.status === 201);
      // A copy that arrives while the first is in flight may be told so (409, retry); none makes a second subscription.
      for (const r of subs) expect([201, 409], JSON.stringify(r.body)).toContain(r.status);
      expect(created.length).toBeGreaterThanOrEqual(1);
      expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
      const retried = await subscribe();
      expect(retried.status).toBe(201);
      expect(retried.body.id).toBe(created[0]!.body.id);
      const customer = (await stripeApi(s.sandbox, 'GET', `/v1/subscriptions/${retried.body.gateway_reference}`)).customer as string;
      expect((await stripeApi(s.sandbox, 'GET', '/v1/subscriptions', { customer, status: 'all' })).data).toHaveLength(1);
      expect((await h.call('GET', '/api/v1/users/user_idem/subscriptions')).body.data).toHaveLength(1);

      const charge = () => h.call('POST', '/api/v1/payments', { body: { user_id: 'user_idem', payment_method: method.body.id, amount_minor: 700, currency: 'USD' }, headers: { 'idempotency-key': 'idem-pay-1' } });
      const charges = await Promise.all([charge(), charge(), charge()]);
      for (const r of charges) expect([201, 409], JSON.stringify(r.body)).toContain(r.status);
      const paid = (await charge()).body;
      expect(paid).toMatchObject({ status: 'CAPTURED', amount_minor: 700 });
      for (const r of charges.filter((c) => c.status === 201)) expect(r.body.id).toBe(paid.id);
      await waitForBody(h, '/api/v1/users/user_idem/payments', (b) => b.data.length === 2, 'the first invoice payment and the one charge');
      const intents = ((await stripeApi(s.sandbox, 'GET', '/v1/payment_intents', { limit: 100 })).data as any[]).filter((i) => i.customer === customer);
      expect(intents.filter((i) => i.amount === 700)).toHaveLength(1);
      expect(await s.unacknowledged()).toEqual([]);
    });

    it("another merchant's token: 404 for the customer's method, subscription and invoice, empty lists for the user, no charge on the method, and its own user of the same id is another Stripe customer", async () => {
      const s = await server();
      const h = s.harness;
      const priceId = await createRecurringPrice(s.sandbox, { unitAmount: PRICE_MINOR, currency: CURRENCY });
      const method = (await h.call('POST', '/api/v1/payment-methods', { body: { user_id: 'user_iso', payment_method: 'pm_card_visa' } })).body;
      expect(method.id).toMatch(/^spm_/);
      const created = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_iso', price_id: priceId, payment_method: method.id } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const invoices = await waitForBody(h, `/api/v1/subscriptions/${created.body.id}/invoices`, (b) => b.data.some((i: any) => i.status === 'paid'), 'the first invoice paid');
      const invoice = invoices.data[0];
      await waitForBody(h, '/api/v1/users/user_iso/payments', (b) => b.data.length === 1, 'the invoice payment under the user');

      const other = await h.token('m2');
      const as = (method_: string, path: string, body?: unknown) => h.call(method_, path, { token: other, ...(body ? { body } : {}) });
      for (const path of [`/api/v1/payment-methods/${method.id}`, `/api/v1/subscriptions/${created.body.id}`, `/api/v1/invoices/${invoice.id}`, `/api/v1/subscriptions/${created.body.id}/invoices`]) {
        const res = await as('GET', path);
        expect(res.status, path).toBe(404);
        expect(JSON.stringify(res.body)).not.toContain('user_iso');
      }
      expect((await as('DELETE', `/api/v1/subscriptions/${created.body.id}`)).status).toBe(404);
      expect((await as('DELETE', `/api/v1/payment-methods/${method.id}`)).status).toBe(404);
      expect((await as('POST', `/api/v1/payment-methods/${method.id}/default`)).status).toBe(404);
      for (const list of ['payment-methods', 'subscriptions', 'invoices', 'payments']) {
        const res = await as('GET', `/api/v1/users/user_iso/${list}`);
        expect(res.status, list).toBe(200);
        expect(res.body.data, list).toEqual([]);
      }
      expect((await as('GET', '/api/v1/payment-methods')).body.data).toEqual([]);
      const charge = await as('POST', '/api/v1/payments', { user_id: 'user_iso', payment_method: method.id, amount_minor: 500, currency: 'USD' });
      expect(charge.status, JSON.stringify(charge.body)).toBe(404);
      // The same user id at another merchant is another customer at Stripe: its card is not on the first merchant's customer.
      const theirs = await as('POST', '/api/v1/payment-methods', { user_id: 'user_iso', payment_method: 'pm_card_mastercard' });
      expect(theirs.status, JSON.stringify(theirs.body)).toBe(201);
      expect(theirs.body.is_default).toBe(true);
      const ownCustomer = (await stripeApi(s.sandbox, 'GET', `/v1/payment_methods/${method.gateway_token}`)).customer;
      const theirCustomer = (await stripeApi(s.sandbox, 'GET', `/v1/payment_methods/${theirs.body.gateway_token}`)).customer;
      expect(theirCustomer).toMatch(/^cus_/);
      expect(theirCustomer).not.toBe(ownCustomer);
      expect((await as('GET', '/api/v1/users/user_iso/payment-methods')).body.data.map((m: any) => m.id)).toEqual([theirs.body.id]);
      expect((await h.call('GET', '/api/v1/users/user_iso/payment-methods')).body.data.map((m: any) => m.id)).toEqual([method.id]);
      // Nothing changed for the owner: the subscription still runs, one payment, the method still the default.
      expect((await h.call('GET', `/api/v1/subscriptions/${created.body.id}`)).body.status).toBe('active');
      expect((await h.call('GET', '/api/v1/users/user_iso/payments')).body.data).toHaveLength(1);
      expect((await h.call('GET', `/api/v1/payment-methods/${method.id}`)).body).toMatchObject({ is_default: true, deleted: false });
      // Every signed webhook the sandbox sent was acknowledged (none left for Stripe to retry).
      expect(await s.unacknowledged()).toEqual([]);
    });

    it('the same life with its signed webhooks delivered again duplicated and shuffled (seeds 1, 2, 3 one at a time; seed 4 four at a time) to a fresh server and store ends in the same subscription, invoices and payments', { timeout: 180_000 }, async () => {
      // The reference: webhooks delivered as the sandbox sends them.
      const live = await server();
      const livePrice = await createRecurringPrice(live.sandbox, { unitAmount: PRICE_MINOR, currency: CURRENCY });
      const reference = await subscriptionLife(live, livePrice, 'user_shuffle', true);
      const expected = await billingSnapshot(live.harness, reference.subscriptionId, 'user_shuffle');
      expect(expected.subscription).toMatchObject({ status: 'canceled', cancel_at_period_end: true });
      expect(expected.invoices.map((i) => [i.billing_reason, i.status])).toEqual([
        ['subscription_create', 'paid'],
        ['subscription_cycle', 'paid'],
      ]);
      expect(expected.invoices[1]).toMatchObject({ amount_paid_minor: PRICE_MINOR, attempt_count: 2, payment: { status: 'CAPTURED', amount_minor: PRICE_MINOR } });
      expect(expected.payments.map((p) => [p.status, p.amount_minor])).toEqual([['CAPTURED', PRICE_MINOR]]);
      // Every signed webhook the sandbox sent was acknowledged (none left for Stripe to retry).
      expect(await live.unacknowledged()).toEqual([]);

      for (const [seed, concurrency] of [[1, 1], [2, 1], [3, 1], [4, 4]] as const) {
        // The same calls on a fresh server and store, its webhooks recorded instead of delivered ...
        const fresh = await open();
        extraStores.push(fresh);
        const run = await server({ store: fresh.store, webhooks: 'record' });
        const price = await createRecurringPrice(run.sandbox, { unitAmount: PRICE_MINOR, currency: CURRENCY });
        const { subscriptionId } = await subscriptionLife(run, price, 'user_shuffle', false);
        const recorded = run.recorder!.deliveries;
        expect(recorded.some((d) => d.type === 'invoice.payment_failed') && recorded.some((d) => d.type === 'customer.subscription.deleted')).toBe(true);
        // Before the replay the fresh server knows only what its calls answered: not the renewal, not the end.
        const before = await billingSnapshot(run.harness, subscriptionId, 'user_shuffle');
        expect(before.subscription).toMatchObject({ status: 'active', cancel_at_period_end: true });
        expect(before.invoices.map((i) => i.billing_reason)).not.toContain('subscription_cycle');
        expect(before.payments).toEqual([]);
        // ... then each delivered two or three times, in the seed's order, as the sandbox signed it
        // (seed 4: four senders at once, so copies of one event also race each other).
        const replay = await replayDeliveries(run.webhookUrl, duplicateAndShuffle(recorded, seed), { concurrency });
        expect(replay.refused, `seed ${seed}`).toEqual([]);
        let last: BillingSnapshot | null = null;
        await waitFor(async () => {
          last = await billingSnapshot(run.harness, subscriptionId, 'user_shuffle');
          return JSON.stringify(last) === JSON.stringify(expected);
        }, `seed ${seed}: the replayed server's records equal the reference's`, 10_000).catch(() => undefined);
        expect(last, `seed ${seed}`).toEqual(expected);
      }
    });

    it('refuses seed 001\'s tokenize body (raw card data) with 400 raw_card_data_not_allowed; the card number is in no answer, no log line and no table', async () => {
      const s = await server();
      const h = s.harness;
      // A saved method first, so the table scan below is shown to find what was stored.
      const saved = await h.call('POST', '/api/v1/payment-methods/tokenize', { body: { user_id: 'user_tok_scan', payment_method: 'pm_card_visa' } });
      expect(saved.status, JSON.stringify(saved.body)).toBe(201);
      expect(saved.body).toMatchObject({ object: 'payment_method', user_id: 'user_tok_scan' });
      expect(Object.keys(await rowsContaining(db, 'user_tok_scan')).length).toBeGreaterThan(0);

      const bodies = [
        SEED_001_TOKENIZE,
        { ...SEED_001_TOKENIZE, details: { nested: { card_number: PAN } } },
        { user_id: SEED_001_TOKENIZE.user_id, card_number: PAN, cvv: '123' },
      ];
      for (const [i, body] of bodies.entries()) {
        for (const headers of [{}, { 'idempotency-key': `tok-refusal-${i}` }] as Array<Record<string, string>>) {
          const res = await h.call('POST', '/api/v1/payment-methods/tokenize', { body, headers });
          expect(res.status, JSON.stringify(res.body)).toBe(400);
          expect(res.body.error).toMatchObject({ code: 'raw_card_data_not_allowed' });
          const text = JSON.stringify(res.body);
          expect(text).not.toContain(PAN);
          expect(text).not.toContain('John Doe');
        }
      }
      // Malformed JSON around a card number: the parser's message quotes the text it failed on, and
      // neither the answer nor the log may carry it.
      const malformed = await h.call('POST', '/api/v1/payment-methods/tokenize', { raw: `{"user_id":"u","details":{"card_number":"${PAN}",}}` });
      expect(malformed.status).toBe(400);
      expect(JSON.stringify(malformed.body)).not.toContain(PAN);
      const spaced = await h.call('POST', '/api/v1/payment-methods/tokenize', { body: { user_id: 'u', details: { card_number: SPACED_PAN, cvv: '123' } } });
      expect(spaced.status).toBe(400);
      expect(spaced.body.error.code).toBe('raw_card_data_not_allowed');
      // The same body on POST /payment-methods is refused too.
      const direct = await h.call('POST', '/api/v1/payment-methods', { body: SEED_001_TOKENIZE });
      expect(direct.status).toBe(400);
      expect(direct.body.error.code).toBe('raw_card_data_not_allowed');

      // The request log has the refusals' lines, and no card number in any form.
      expect(h.logs.filter((l) => l.includes('/api/v1/payment-methods/tokenize') && l.includes('"status":400')).length).toBeGreaterThanOrEqual(bodies.length * 2);
      const logText = h.logs.join('\n');
      expect(logText).not.toContain(PAN);
      expect(logText).not.toContain(SPACED_PAN);
      expect(await rowsContaining(db, PAN)).toEqual({});
      expect(await rowsContaining(db, SPACED_PAN)).toEqual({});
      expect(await rowsContaining(db, SEED_001_TOKENIZE.user_id)).toEqual({});
      expect((await h.call('GET', `/api/v1/users/${SEED_001_TOKENIZE.user_id}/payment-methods`)).body.data).toEqual([]);
    });
  });
}
