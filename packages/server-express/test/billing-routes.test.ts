/**
 * The billing REST routes (#15) over HTTP on loopback: saved payment methods, subscriptions and
 * invoices of a merchant's users, against the reference server whose Stripe gateway talks to a
 * Stripe sandbox (customers on a test clock). Each route's success and error answers: validation
 * 400s, another merchant's record as a 404, the scopes, and a gateway without the capability as a 400.
 */
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@tender/core/testing';
import { eventJsonSchemas } from '../src/event-schemas';
import { createRecurringPrice, startBillingServer, waitForBody, type BillingServer } from './billing-helpers';
import { startHarness, type Harness } from './helpers';

let s: BillingServer;
let h: Harness;
let plain: Harness;
let priceId: string;
let other: string;

beforeAll(async () => {
  s = await startBillingServer();
  h = s.harness;
  // The harness's test gateway declares no billing capability.
  plain = await startHarness();
  priceId = await createRecurringPrice(s.sandbox, { unitAmount: 1000, currency: 'usd' });
  other = await h.token('m2');
});
afterAll(async () => {
  await s?.close();
  await plain?.close();
});

const save = (userId: string, token: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  h.call('POST', '/api/v1/payment-methods', { body: { user_id: userId, payment_method: token, ...extra }, headers });

describe('saved payment methods', () => {
  it("save, list (all and one user's), read, make default, remove", async () => {
    const first = await save('user_pm', 'pm_card_visa');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({
      object: 'payment_method',
      user_id: 'user_pm',
      gateway: 'stripe',
      type: 'card',
      card: { brand: 'visa', last4: '4242', exp_month: expect.any(Number), exp_year: expect.any(Number) },
      is_default: true,
      deleted: false,
    });
    expect(first.body.id).toMatch(/^spm_/);
    expect(first.body.gateway_token).toMatch(/^pm_/);
    const second = await save('user_pm', 'pm_card_mastercard', { set_default: false });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ card: { brand: 'mastercard', last4: '4444' }, is_default: false });
    await save('user_pm_other', 'pm_card_amex');

    const mine = await h.call('GET', '/api/v1/users/user_pm/payment-methods');
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    expect(mine.body.data.map((m: any) => m.id).sort()).toEqual([first.body.id, second.body.id].sort());
    const filtered = await h.call('GET', '/api/v1/payment-methods?user_id=user_pm');
    expect(filtered.body.data.map((m: any) => m.id).sort()).toEqual([first.body.id, second.body.id].sort());
    const all = await h.call('GET', '/api/v1/payment-methods');
    expect(all.body.data.length).toBeGreaterThanOrEqual(3);
    const paged = await h.call('GET', '/api/v1/users/user_pm/payment-methods?limit=1');
    expect(paged.body).toMatchObject({ has_more: true, next_cursor: paged.body.data[0].id });
    const rest = await h.call('GET', `/api/v1/users/user_pm/payment-methods?limit=1&starting_after=${paged.body.next_cursor}`);
    expect(rest.body.data).toHaveLength(1);
    expect(rest.body.data[0].id).not.toBe(paged.body.data[0].id);

    expect((await h.call('GET', `/api/v1/payment-methods/${second.body.id}`)).body).toEqual(second.body);

    const made = await h.call('POST', `/api/v1/payment-methods/${second.body.id}/default`);
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({ id: second.body.id, is_default: true });
    expect((await h.call('GET', `/api/v1/payment-methods/${first.body.id}`)).body.is_default).toBe(false);

    const removed = await h.call('DELETE', `/api/v1/payment-methods/${first.body.id}`);
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ id: first.body.id, object: 'payment_method', deleted: true, is_default: false });
    expect((await h.call('GET', `/api/v1/payment-methods/${first.body.id}`)).body.error.code).toBe('resource_missing');
    expect((await h.call('GET', '/api/v1/users/user_pm/payment-methods')).body.data.map((m: any) => m.id)).toEqual([second.body.id]);
    // Removing it again answers the removed method (a retry after a lost answer is safe).
    const again = await h.call('DELETE', `/api/v1/payment-methods/${first.body.id}`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, deleted: true });
  });

  it('a user id any id of your system: percent-encoded in the path', async () => {
    const user = 'Customer #7 <ops@example.com>';
    expect((await save(user, 'pm_card_visa')).status).toBe(201);
    const listed = await h.call('GET', `/api/v1/users/${encodeURIComponent(user)}/payment-methods`);
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.data[0].user_id).toBe(user);
  });

  it('an Idempotency-Key saves once', async () => {
    const a = await save('user_pm_idem', 'pm_card_visa', {}, { 'idempotency-key': 'pm-idem-1' });
    const b = await save('user_pm_idem', 'pm_card_visa', {}, { 'idempotency-key': 'pm-idem-1' });
    expect(a.status).toBe(201);
    expect(b.body.id).toBe(a.body.id);
    expect((await h.call('GET', '/api/v1/users/user_pm_idem/payment-methods')).body.data).toHaveLength(1);
  });

  it('400 for a body that is not a save, naming the field, and nothing saved', async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ payment_method: 'pm_card_visa' }, 'parameter_missing', 'user_id'],
      [{ user_id: 'user_bad' }, 'parameter_missing', 'payment_method'],
      [{ user_id: 'user_bad', payment_method: 'pm_card_visa', set_default: 'yes' }, 'parameter_invalid', 'set_default'],
      [{ user_id: 'user_bad', payment_method: 'pm card visa' }, 'parameter_invalid', 'payment_method'],
      [{ user_id: 'user_bad', payment_method: 'pm_card_visa', nickname: 'mine' }, 'unknown_parameter', 'nickname'],
      [{ user_id: '', payment_method: 'pm_card_visa' }, 'parameter_invalid', 'user_id'],
    ];
    for (const [body, code, param] of cases) {
      const res = await h.call('POST', '/api/v1/payment-methods', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toMatchObject({ type: 'invalid_request_error', code, param });
    }
    expect((await h.call('GET', '/api/v1/users/user_bad/payment-methods')).body.data).toEqual([]);
    const control = await h.call('GET', '/api/v1/users/%01bad/payment-methods');
    expect(control.status).toBe(400);
    expect(control.body.error).toMatchObject({ code: 'invalid_user_id', param: 'user_id' });
    expect((await h.call('GET', '/api/v1/payment-methods?limit=0')).body.error).toMatchObject({ code: 'invalid_limit', param: 'limit' });
    expect((await h.call('GET', '/api/v1/users/user_bad/invoices?limit=101')).body.error).toMatchObject({ code: 'invalid_limit', param: 'limit' });
    expect((await h.call('POST', '/api/v1/payment-methods/spm_nope/default', { body: { now: true } })).body.error.code).toBe('unknown_parameter');
  });

  it("another merchant's method is a 404 on every route, and its lists are empty", async () => {
    const mine = await save('user_pm_iso', 'pm_card_visa');
    for (const [method, path] of [
      ['GET', `/api/v1/payment-methods/${mine.body.id}`],
      ['POST', `/api/v1/payment-methods/${mine.body.id}/default`],
      ['DELETE', `/api/v1/payment-methods/${mine.body.id}`],
    ] as const) {
      const res = await h.call(method, path, { token: other });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error).toMatchObject({ type: 'not_found_error', code: 'resource_missing' });
    }
    expect((await h.call('GET', '/api/v1/users/user_pm_iso/payment-methods', { token: other })).body.data).toEqual([]);
    expect((await h.call('GET', '/api/v1/payment-methods', { token: other })).body.data).toEqual([]);
    // Still there, still the default.
    expect((await h.call('GET', `/api/v1/payment-methods/${mine.body.id}`)).body).toMatchObject({ is_default: true, deleted: false });
  });

  it("the gateway's and the engine's refusals: a declined card 402, an unknown gateway 404, another user's token 409", async () => {
    const declined = await save('user_pm_refused', 'pm_card_chargeDeclined');
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({ type: 'gateway_error', code: 'card_declined' });
    const sca = await save('user_pm_refused', 'pm_card_authenticationRequiredOnSetup');
    expect(sca.status).toBe(402);
    expect(sca.body.error.code).toBe('authentication_required');
    const unknown = await save('user_pm_refused', 'pm_card_visa', { gateway: 'nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('resource_missing');
    expect((await h.call('GET', '/api/v1/users/user_pm_refused/payment-methods')).body.data).toEqual([]);

    const mine = await save('user_pm_owner', 'pm_card_visa');
    const theirs = await save('user_pm_thief', mine.body.gateway_token);
    expect(theirs.status).toBe(409);
    expect(theirs.body.error.code).toBe('payment_method_in_use');
  });

  it('publishes payment_method.* events in the API shape, valid against their schema (GET /events/:id)', async () => {
    const seen: Array<{ id: string; type: string; of: unknown }> = [];
    const off = h.tender.events.on((event) => seen.push({ id: event.id, type: event.type, of: (event.data as { id?: unknown }).id }));
    try {
      const method = (await save('user_pm_events', 'pm_card_visa')).body;
      await h.call('DELETE', `/api/v1/payment-methods/${method.id}`);
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      const schemas = eventJsonSchemas().tender;
      for (const type of ['payment_method.saved', 'payment_method.default_changed', 'payment_method.removed']) {
        const event = seen.find((e) => e.type === type && e.of === method.id);
        expect(event, type).toBeDefined();
        const served = await h.call('GET', `/api/v1/events/${event!.id}`);
        expect(served.status).toBe(200);
        expect(served.body).toMatchObject({ type, payment_id: null, refund_id: null, data: { id: method.id, object: 'payment_method', user_id: 'user_pm_events' } });
        const validate = ajv.compile(schemas[type] as object);
        expect(validate({ ...served.body, delivery: undefined, relay: undefined }), ajv.errorsText(validate.errors)).toBe(true);
        expect((await h.call('GET', `/api/v1/events/${event!.id}`, { token: other })).status).toBe(404);
      }
      expect((await h.call('GET', `/api/v1/events/${seen.find((e) => e.type === 'payment_method.removed' && e.of === method.id)!.id}`)).body.data.deleted).toBe(true);
    } finally {
      off();
    }
  });

  it('403 without the scope', async () => {
    const reader = await h.token('m1', ['payments:read']);
    const writer = await h.token('m1', ['payments:write']);
    for (const [method, path, token] of [
      ['POST', '/api/v1/payment-methods', reader],
      ['POST', '/api/v1/payment-methods/tokenize', reader],
      ['POST', '/api/v1/payment-methods/spm_x/default', reader],
      ['DELETE', '/api/v1/payment-methods/spm_x', reader],
      ['GET', '/api/v1/payment-methods', writer],
      ['GET', '/api/v1/payment-methods/spm_x', writer],
      ['GET', '/api/v1/users/u1/payment-methods', writer],
    ] as const) {
      const res = await h.call(method, path, { token, ...(method === 'POST' ? { body: { user_id: 'u1', payment_method: 'pm_card_visa' } } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('insufficient_scope');
    }
  });

  it('a gateway that cannot save methods: 400 *_not_supported', async () => {
    const res = await plain.call('POST', '/api/v1/payment-methods', { body: { user_id: 'u1', payment_method: 'pm_card_visa' } });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toMatch(/^(customers|saved_methods)_not_supported$/);
  });
});

describe('subscriptions and invoices', () => {
  it('start with a trial, read, list, audit trail, invoices; cancel at period end, then now', async () => {
    const created = await h.call('POST', '/api/v1/subscriptions', {
      body: { user_id: 'user_sub', price_id: priceId, payment_method: 'pm_card_visa', trial_days: 14, metadata: { plan: 'pro' } },
      headers: { 'idempotency-key': 'sub-create-1' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const sub = created.body;
    expect(sub).toMatchObject({
      object: 'subscription',
      user_id: 'user_sub',
      gateway: 'stripe',
      status: 'trialing',
      price_id: priceId,
      quantity: 1,
      amount: '10.00',
      amount_minor: 1000,
      interval: 'month',
      cancel_at_period_end: false,
      metadata: { plan: 'pro' },
    });
    expect(String(sub.currency).toUpperCase()).toBe('USD');
    expect(sub.gateway_reference).toMatch(/^sub_/);
    expect(sub.payment_method_id).toMatch(/^spm_/);
    expect(Date.parse(sub.trial_end) - Date.parse(sub.trial_start)).toBe(14 * 86_400_000);
    // The same key: the same subscription, not a second one.
    const again = await h.call('POST', '/api/v1/subscriptions', {
      body: { user_id: 'user_sub', price_id: priceId, payment_method: 'pm_card_visa', trial_days: 14, metadata: { plan: 'pro' } },
      headers: { 'idempotency-key': 'sub-create-1' },
    });
    expect(again.body.id).toBe(sub.id);

    expect((await h.call('GET', `/api/v1/subscriptions/${sub.id}`)).body).toMatchObject({ id: sub.id, status: 'trialing' });
    const listed = await h.call('GET', '/api/v1/users/user_sub/subscriptions');
    expect(listed.body.data.map((x: any) => x.id)).toEqual([sub.id]);
    expect((await h.call('GET', '/api/v1/users/user_sub/subscriptions?status=trialing')).body.data).toHaveLength(1);
    expect((await h.call('GET', '/api/v1/users/user_sub/subscriptions?status=active')).body.data).toEqual([]);
    expect((await h.call('GET', '/api/v1/users/user_sub/subscriptions?status=nope')).body.error).toMatchObject({ code: 'parameter_invalid', param: 'status' });

    const trail = await h.call('GET', `/api/v1/subscriptions/${sub.id}/transitions`);
    expect(trail.status).toBe(200);
    expect(trail.body.data[0]).toMatchObject({ resource_type: 'subscription', resource_id: sub.id, from: null, to: expect.any(String) });
    expect(trail.body.data.at(-1).to).toBe('trialing');

    // The trial's invoice (0.00), once the gateway's webhooks are mirrored.
    const invoices = await waitForBody(h, `/api/v1/subscriptions/${sub.id}/invoices`, (b) => b.data.length > 0, 'the trial invoice');
    const invoice = invoices.data[0];
    expect(invoice).toMatchObject({ object: 'invoice', user_id: 'user_sub', subscription_id: sub.id, gateway: 'stripe', amount_due_minor: 0, billing_reason: 'subscription_create' });
    expect(invoice.gateway_reference).toMatch(/^in_/);
    expect((await h.call('GET', `/api/v1/invoices/${invoice.id}`)).body).toMatchObject({ id: invoice.id, status: invoice.status });
    expect((await h.call('GET', '/api/v1/users/user_sub/invoices')).body.data.map((i: any) => i.id)).toContain(invoice.id);
    const invoiceTrail = await h.call('GET', `/api/v1/invoices/${invoice.id}/transitions`);
    expect(invoiceTrail.status).toBe(200);
    expect(invoiceTrail.body.data[0]).toMatchObject({ resource_type: 'invoice', resource_id: invoice.id, from: null });

    const conflicting = await h.call('DELETE', `/api/v1/subscriptions/${sub.id}?at_period_end=true`, { body: { at_period_end: false } });
    expect(conflicting.status).toBe(400);
    expect(conflicting.body.error).toMatchObject({ code: 'ambiguous_parameter', param: 'at_period_end' });
    expect((await h.call('DELETE', `/api/v1/subscriptions/${sub.id}?at_period_end=yes`)).body.error).toMatchObject({ code: 'parameter_invalid', param: 'at_period_end' });

    const atEnd = await h.call('DELETE', `/api/v1/subscriptions/${sub.id}?at_period_end=true`);
    expect(atEnd.status, JSON.stringify(atEnd.body)).toBe(200);
    expect(atEnd.body).toMatchObject({ id: sub.id, status: 'trialing', cancel_at_period_end: true });
    const now = await h.call('DELETE', `/api/v1/subscriptions/${sub.id}`);
    expect(now.status).toBe(200);
    expect(now.body).toMatchObject({ id: sub.id, status: 'canceled' });
    expect(now.body.canceled_at).toEqual(expect.any(String));
  });

  it('cancel at period end from the body', async () => {
    const sub = (await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_sub_body', price_id: priceId, payment_method: 'pm_card_visa', trial_days: 7 } })).body;
    const res = await h.call('DELETE', `/api/v1/subscriptions/${sub.id}`, { body: { at_period_end: true } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.cancel_at_period_end).toBe(true);
  });

  it('charges a saved method given by its id, quantity and all; subscription.* and invoice.* events in the API shape', async () => {
    const seen: Array<{ id: string; type: string; of: unknown }> = [];
    const off = h.tender.events.on((event) => seen.push({ id: event.id, type: event.type, of: (event.data as { id?: unknown }).id }));
    try {
      const method = (await save('user_sub_spm', 'pm_card_visa')).body;
      const res = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_sub_spm', price_id: priceId, payment_method: method.id, quantity: 2 } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ status: 'active', quantity: 2, payment_method_id: method.id });
      const paid = await waitForBody(h, `/api/v1/subscriptions/${res.body.id}/invoices`, (b) => b.data.some((i: any) => i.status === 'paid'), 'the first invoice paid');
      const invoice = paid.data.find((i: any) => i.status === 'paid');
      expect(invoice).toMatchObject({ amount_paid: '20.00', amount_paid_minor: 2000, amount_remaining_minor: 0 });
      // The money is a Tender payment of the user.
      expect(invoice.payment_id).toEqual(expect.any(String));
      expect((await h.call('GET', `/api/v1/payments/${invoice.payment_id}`)).body).toMatchObject({ status: 'CAPTURED', amount: '20.00', user_id: 'user_sub_spm' });

      const ajv = new Ajv2020({ strict: false, allErrors: true });
      const schemas = eventJsonSchemas().tender;
      await waitFor(() => seen.some((e) => e.type === 'invoice.paid' && e.of === invoice.id), 'the invoice.paid event');
      for (const [type, id] of [['subscription.created', res.body.id], ['invoice.paid', invoice.id]] as const) {
        const event = seen.find((e) => e.type === type && e.of === id)!;
        const served = (await h.call('GET', `/api/v1/events/${event.id}`)).body;
        expect(served).toMatchObject({ type, data: { id } });
        const validate = ajv.compile(schemas[type] as object);
        expect(validate({ ...served, delivery: undefined, relay: undefined }), `${type}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      }
    } finally {
      off();
    }
  });

  it('400 for a body that is not a subscription, naming the field', async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ price_id: priceId }, 'parameter_missing', 'user_id'],
      [{ user_id: 'u_bad' }, 'parameter_missing', 'price_id'],
      [{ user_id: 'u_bad', price_id: priceId, trial_days: -1 }, 'parameter_invalid', 'trial_days'],
      [{ user_id: 'u_bad', price_id: priceId, trial_days: 1.5 }, 'parameter_invalid', 'trial_days'],
      [{ user_id: 'u_bad', price_id: priceId, quantity: 0 }, 'parameter_invalid', 'quantity'],
      [{ user_id: 'u_bad', price_id: priceId, plan: 'gold' }, 'unknown_parameter', 'plan'],
    ];
    for (const [body, code, param] of cases) {
      const res = await h.call('POST', '/api/v1/subscriptions', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toMatchObject({ code, param });
    }
    // A saved method that is not the merchant's: a 404.
    const missing = await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'u_bad', price_id: priceId, payment_method: 'spm_nope' } });
    expect(missing.status).toBe(404);
    expect((await h.call('GET', '/api/v1/users/u_bad/subscriptions')).body.data).toEqual([]);
  });

  it("another merchant's subscription and invoice are 404 on every route, and its lists are empty", async () => {
    const sub = (await h.call('POST', '/api/v1/subscriptions', { body: { user_id: 'user_sub_iso', price_id: priceId, payment_method: 'pm_card_visa' } })).body;
    const invoices = await waitForBody(h, `/api/v1/subscriptions/${sub.id}/invoices`, (b) => b.data.length > 0, 'an invoice');
    const invoiceId = invoices.data[0].id;
    for (const [method, path] of [
      ['GET', `/api/v1/subscriptions/${sub.id}`],
      ['DELETE', `/api/v1/subscriptions/${sub.id}`],
      ['GET', `/api/v1/subscriptions/${sub.id}/transitions`],
      ['GET', `/api/v1/subscriptions/${sub.id}/invoices`],
      ['GET', `/api/v1/invoices/${invoiceId}`],
      ['GET', `/api/v1/invoices/${invoiceId}/transitions`],
    ] as const) {
      const res = await h.call(method, path, { token: other });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('resource_missing');
    }
    expect((await h.call('GET', '/api/v1/users/user_sub_iso/subscriptions', { token: other })).body.data).toEqual([]);
    expect((await h.call('GET', '/api/v1/users/user_sub_iso/invoices', { token: other })).body.data).toEqual([]);
    expect((await h.call('GET', `/api/v1/subscriptions/${sub.id}`)).body.status).toBe('active');
  });

  it('403 without the scope; unknown ids are 404', async () => {
    const reader = await h.token('m1', ['payments:read']);
    const writer = await h.token('m1', ['payments:write']);
    for (const [method, path, token] of [
      ['POST', '/api/v1/subscriptions', reader],
      ['DELETE', '/api/v1/subscriptions/subs_x', reader],
      ['GET', '/api/v1/subscriptions/subs_x', writer],
      ['GET', '/api/v1/subscriptions/subs_x/invoices', writer],
      ['GET', '/api/v1/subscriptions/subs_x/transitions', writer],
      ['GET', '/api/v1/users/u1/subscriptions', writer],
      ['GET', '/api/v1/invoices/inv_x', writer],
      ['GET', '/api/v1/invoices/inv_x/transitions', writer],
      ['GET', '/api/v1/users/u1/invoices', writer],
    ] as const) {
      const res = await h.call(method, path, { token, ...(method === 'POST' ? { body: { user_id: 'u1', price_id: priceId } } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    for (const path of ['/api/v1/subscriptions/subs_nope', '/api/v1/invoices/inv_nope', '/api/v1/subscriptions/subs_nope/invoices', '/api/v1/invoices/inv_nope/transitions']) {
      expect((await h.call('GET', path)).body.error.code, path).toBe('resource_missing');
    }
  });

  it('a gateway that runs no subscriptions: 400 *_not_supported', async () => {
    const res = await plain.call('POST', '/api/v1/subscriptions', { body: { user_id: 'u1', price_id: 'price_x', payment_method: 'pm_card_visa' } });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toMatch(/^(customers|saved_methods|subscriptions)_not_supported$/);
  });
});
