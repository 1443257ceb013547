/**
 * The engine's billing operations without a real billing engine: input validation and capability
 * checks (typed 400s before any I/O), the stale-read and transition-table rules of the mirror, and
 * how subscription/invoice webhooks bind, defer and dedupe. The gateway is core's TestGateway plus
 * an in-memory billing side whose answers each test sets (and can hold, to finish reads out of
 * order), over a real MemoryStore and a FakeClock.
 */
import { describe, expect, it } from 'vitest';
import {
  createTender,
  hmacSha256,
  Money,
  TenderError,
  type GatewayInvoiceResult,
  type GatewaySubscriptionResult,
  type GatewayV1,
  type OutboxEvent,
  type Tender,
  type WebhookRequest,
} from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway } from '@tender/core/testing';

const SECRET = 'whsec_billing_unit';

/** An in-memory billing side: customers, saved tokens and subscriptions as a gateway would hold them. */
function billingGateway() {
  const base = createTestGateway({ id: 'bill', webhookSecret: SECRET });
  const calls: string[] = [];
  const subscriptions = new Map<string, GatewaySubscriptionResult>();
  const invoices = new Map<string, GatewayInvoiceResult>();
  /** A pending release per subscription reference: its next `retrieve` answers once released. */
  const holds = new Map<string, { answer: GatewaySubscriptionResult; release: () => void; started: Promise<void> }>();
  let failRetrieve = false;
  let n = 0;
  const gateway: GatewayV1 = {
    ...base,
    capabilities: { ...base.capabilities, customers: true, savedMethods: true, subscriptions: true },
    parseWebhook(request) {
      const body = JSON.parse(new TextDecoder().decode(request.rawBody)) as { kind: 'subscription' | 'invoice'; eventId: string; gatewayReference: string; type: string };
      return { events: [body], acknowledgement: { status: 200, body: 'ok' } };
    },
    customers: {
      async create(input) {
        calls.push('customers.create');
        return { gatewayCustomerId: `cus_${input.userId.length}_${++n}` };
      },
    },
    savedMethods: {
      async save(input) {
        calls.push('savedMethods.save');
        return { token: input.token, type: 'card', card: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 }, walletEmail: null };
      },
      async remove() {
        calls.push('savedMethods.remove');
      },
      async setDefault() {
        calls.push('savedMethods.setDefault');
      },
    },
    subscriptions: {
      async create(input) {
        calls.push('subscriptions.create');
        const result = subscriptionResult(`sub_${++n}`, input.gatewayCustomerId, input.trialDays ? 'trialing' : 'active', {
          ...input.metadata,
          tender_subscription_id: input.subscriptionId,
          tender_merchant_id: input.merchantId,
          tender_user_id: input.userId,
        });
        subscriptions.set(result.gatewayReference, result);
        return result;
      },
      async retrieve(input) {
        calls.push('subscriptions.retrieve');
        if (failRetrieve) throw new TenderError({ type: 'gateway_unavailable', code: 'gateway_timeout', message: 'timed out', retryable: true });
        const held = holds.get(input.gatewayReference);
        if (held) {
          holds.delete(input.gatewayReference);
          const answer = held.answer;
          await new Promise<void>((resolve) => {
            held.release = resolve;
            (held as { signal?: () => void }).signal?.();
          });
          return answer;
        }
        const found = subscriptions.get(input.gatewayReference);
        if (!found) throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: 'No such subscription' });
        return found;
      },
      async cancel(input) {
        calls.push('subscriptions.cancel');
        const found = subscriptions.get(input.gatewayReference)!;
        const next = input.atPeriodEnd ? { ...found, cancelAtPeriodEnd: true } : { ...found, status: 'canceled' as const, canceledAt: '2026-12-01T00:00:00.000Z', endedAt: '2026-12-01T00:00:00.000Z' };
        subscriptions.set(input.gatewayReference, next);
        return next;
      },
      async retrieveInvoice(input) {
        calls.push('subscriptions.retrieveInvoice');
        const found = invoices.get(input.gatewayReference);
        if (!found) throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: 'No such invoice' });
        return found;
      },
      async listInvoices() {
        return [...invoices.values()];
      },
    },
  };
  return {
    gateway,
    calls,
    subscriptions,
    invoices,
    setFailRetrieve(fail: boolean) {
      failRetrieve = fail;
    },
    /**
     * Makes the next `retrieve` of `reference` answer `answer` only once released; resolves `started`
     * when that retrieve has begun.
     */
    hold(reference: string, answer: GatewaySubscriptionResult) {
      let signal!: () => void;
      const started = new Promise<void>((resolve) => (signal = resolve));
      const entry = { answer, release: () => undefined, started, signal };
      holds.set(reference, entry);
      return { started, release: () => entry.release() };
    },
  };
}

function subscriptionResult(reference: string, customer: string, status: GatewaySubscriptionResult['status'], metadata: Record<string, string>): GatewaySubscriptionResult {
  return {
    gatewayReference: reference,
    gatewayCustomerId: customer,
    status,
    priceId: 'price_1',
    quantity: 1,
    amount: Money.of('12.00', 'USD'),
    interval: 'month',
    intervalCount: 1,
    defaultPaymentMethod: null,
    trialStart: null,
    trialEnd: null,
    currentPeriodStart: '2026-12-01T00:00:00.000Z',
    currentPeriodEnd: '2027-01-01T00:00:00.000Z',
    cancelAtPeriodEnd: false,
    canceledAt: null,
    endedAt: null,
    latestInvoiceReference: null,
    metadata,
    createdAt: '2026-12-01T00:00:00.000Z',
  };
}

function invoiceResult(reference: string, subscription: GatewaySubscriptionResult, status: GatewayInvoiceResult['status'], extra: Partial<GatewayInvoiceResult> = {}): GatewayInvoiceResult {
  const paid = status === 'paid';
  return {
    gatewayReference: reference,
    gatewayCustomerId: subscription.gatewayCustomerId,
    subscriptionReference: subscription.gatewayReference,
    status,
    amountDue: Money.of('12.00', 'USD'),
    amountPaid: Money.of(paid ? '12.00' : '0', 'USD'),
    amountRemaining: Money.of(paid ? '0' : '12.00', 'USD'),
    billingReason: 'subscription_cycle',
    number: 'INV-1',
    hostedInvoiceUrl: null,
    periodStart: '2026-12-01T00:00:00.000Z',
    periodEnd: '2027-01-01T00:00:00.000Z',
    attemptCount: paid ? 1 : 0,
    nextPaymentAttempt: null,
    paidAt: paid ? '2026-12-01T01:00:00.000Z' : null,
    paymentReference: paid ? `pi_${reference}` : null,
    paymentMethod: paid ? 'pm_1' : null,
    createdAt: '2026-12-01T00:00:00.000Z',
    ...extra,
  };
}

function setup() {
  const billing = billingGateway();
  const clock = new FakeClock(new Date('2026-12-01T00:00:00.000Z'));
  const store = new MemoryStore();
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (_: unknown, msg?: string) => void warnings.push(msg ?? ''), error: (_: unknown, msg?: string) => void warnings.push(msg ?? '') };
  const tender = createTender({ gateways: [createTestGateway(), billing.gateway], store, clock, logger });
  const events: OutboxEvent[] = [];
  tender.events.on((e) => events.push(e));
  return { billing, clock, store, tender, events, warnings };
}

function webhook(body: Record<string, string>): WebhookRequest {
  const rawBody = new TextEncoder().encode(JSON.stringify(body));
  return { headers: { 'x-test-signature': hmacSha256(SECRET, rawBody) }, rawBody };
}

async function rejection(promise: Promise<unknown>): Promise<TenderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!TenderError.isInstance(error)) throw new Error(`expected a TenderError, got ${String(error)}`);
  return error;
}

describe('billing: gateway choice', () => {
  it('a gateway without the capability is a 400 naming gateway; an unknown one a 404; none named picks the first that has it', async () => {
    const { tender, billing } = setup();
    for (const [call, code] of [
      [tender.customers.ensure({ userId: 'u1', gateway: 'test' }), 'customers_not_supported'],
      [tender.paymentMethods.save({ userId: 'u1', token: 'tok_1', gateway: 'test' }), 'saved_methods_not_supported'],
      [tender.subscriptions.create({ userId: 'u1', priceId: 'price_1', gateway: 'test' }), 'subscriptions_not_supported'],
    ] as const) {
      expect(await rejection(call)).toMatchObject({ type: 'invalid_request_error', status: 400, code, param: 'gateway' });
    }
    expect(await rejection(tender.customers.ensure({ userId: 'u1', gateway: 'nope' }))).toMatchObject({ status: 404 });
    expect(billing.calls).toEqual([]);
    expect((await tender.customers.ensure({ userId: 'u1' })).gateway).toBe('bill');
  });

  it('an engine whose only gateway has no billing refuses each operation with its code', async () => {
    const tender = createTender({ gateways: [createTestGateway()], store: new MemoryStore() });
    expect(await rejection(tender.customers.ensure({ userId: 'u1' }))).toMatchObject({ status: 400, code: 'customers_not_supported', param: 'gateway' });
    expect(await rejection(tender.paymentMethods.save({ userId: 'u1', token: 'tok_1' }))).toMatchObject({ status: 400, code: 'saved_methods_not_supported' });
    expect(await rejection(tender.subscriptions.create({ userId: 'u1', priceId: 'p' }))).toMatchObject({ status: 400, code: 'subscriptions_not_supported' });
  });
});

describe('billing: validation before any I/O', () => {
  const cases: Array<[string, (t: Tender) => Promise<unknown>, string, string]> = [
    ['empty user_id', (t) => t.customers.ensure({ userId: '' }), 'user_id', 'parameter_missing'],
    ['blank user_id', (t) => t.paymentMethods.save({ userId: '   ', token: 'tok' }), 'user_id', 'invalid_string'],
    ['user_id too long', (t) => t.customers.ensure({ userId: 'u'.repeat(256) }), 'user_id', 'string_too_long'],
    ['user_id with a control character', (t) => t.customers.ensure({ userId: 'a\nb' }), 'user_id', 'invalid_string'],
    ['user_id not a string', (t) => t.customers.ensure({ userId: 42 as unknown as string }), 'user_id', 'invalid_string'],
    ['bad email', (t) => t.customers.ensure({ userId: 'u', email: 'not-an-email' }), 'email', 'invalid_email'],
    ['missing token', (t) => t.paymentMethods.save({ userId: 'u', token: '' }), 'token', 'parameter_missing'],
    ['a card number as the token', (t) => t.paymentMethods.save({ userId: 'u', token: '4242 4242 4242 4242' }), 'token', 'raw_card_data_not_allowed'],
    ['set_default not a boolean', (t) => t.paymentMethods.save({ userId: 'u', token: 'tok', setDefault: 'yes' as unknown as boolean }), 'set_default', 'invalid_boolean'],
    ['missing price_id', (t) => t.subscriptions.create({ userId: 'u', priceId: '' }), 'price_id', 'parameter_missing'],
    ['trial_days negative', (t) => t.subscriptions.create({ userId: 'u', priceId: 'p', trialDays: -1 }), 'trial_days', 'invalid_integer'],
    ['trial_days over 730', (t) => t.subscriptions.create({ userId: 'u', priceId: 'p', trialDays: 731 }), 'trial_days', 'invalid_integer'],
    ['trial_days fractional', (t) => t.subscriptions.create({ userId: 'u', priceId: 'p', trialDays: 1.5 }), 'trial_days', 'invalid_integer'],
    ['quantity zero', (t) => t.subscriptions.create({ userId: 'u', priceId: 'p', quantity: 0 }), 'quantity', 'invalid_integer'],
    ['quantity over 10000', (t) => t.subscriptions.create({ userId: 'u', priceId: 'p', quantity: 10_001 }), 'quantity', 'invalid_integer'],
    ['metadata not strings', (t) => t.subscriptions.create({ userId: 'u', priceId: 'p', metadata: { a: 1 as unknown as string } }), 'metadata[a]', 'invalid_metadata'],
    ["metadata with Tender's own key", (t) => t.subscriptions.create({ userId: 'u', priceId: 'p', metadata: { tender_user_id: 'x' } }), 'metadata[tender_user_id]', 'invalid_metadata'],
    ['payment_method a card number', (t) => t.subscriptions.create({ userId: 'u', priceId: 'p', paymentMethod: '4000056655665556' }), 'payment_method', 'raw_card_data_not_allowed'],
    ['at_period_end not a boolean', (t) => t.subscriptions.cancel('subs_x', { atPeriodEnd: 1 as unknown as boolean }), 'at_period_end', 'invalid_boolean'],
    ['limit 0', (t) => t.paymentMethods.list({ limit: 0 }), 'limit', 'invalid_limit'],
    ['limit 101', (t) => t.invoices.list({ limit: 101 }), 'limit', 'invalid_limit'],
    ['unknown status', (t) => t.subscriptions.list({ status: 'gone' as 'active' }), 'status', 'invalid_status'],
  ];
  for (const [name, call, param, code] of cases) {
    it(`${name}: 400 ${code} naming ${param}, nothing sent or stored`, async () => {
      const { tender, billing, store } = setup();
      expect(await rejection(call(tender))).toMatchObject({ type: 'invalid_request_error', status: 400, param, code });
      expect(billing.calls).toEqual([]);
      expect(await store.listSavedPaymentMethods({ merchantId: 'default', limit: 10 })).toEqual([]);
      expect(await store.listSubscriptions({ merchantId: 'default', limit: 10 })).toEqual([]);
    });
  }

  it('the card-number refusal never repeats the number', async () => {
    const { tender } = setup();
    const error = await rejection(tender.paymentMethods.save({ userId: 'u', token: '4242424242424242' }));
    expect(JSON.stringify(error.toJSON())).not.toContain('4242424242424242');
  });
});

describe('billing: the mirror', () => {
  it('an older read that finishes after a newer one is not applied', async () => {
    const { tender, billing, clock } = setup();
    const created = await tender.subscriptions.create({ userId: 'u1', priceId: 'price_1' });
    expect(created.status).toBe('active');
    const remote = billing.subscriptions.get(created.gatewayReference)!;
    // Read A starts first and sees `active` with a new period; read B starts later and sees past_due.
    const a = billing.hold(created.gatewayReference, { ...remote, currentPeriodEnd: '2027-02-01T00:00:00.000Z' });
    clock.advance(1000);
    const older = tender.subscriptions.sync(created.id);
    await a.started;
    clock.advance(1000);
    billing.subscriptions.set(created.gatewayReference, { ...remote, status: 'past_due' });
    const newer = await tender.subscriptions.sync(created.id);
    expect(newer.status).toBe('past_due');
    a.release();
    const after = await older;
    expect(after).toMatchObject({ status: 'past_due', currentPeriodEnd: remote.currentPeriodEnd });
    expect(await tender.subscriptions.get(created.id)).toMatchObject({ status: 'past_due', syncedAt: newer.syncedAt, version: newer.version });
    expect((await tender.subscriptions.transitions(created.id)).map((t) => [t.from, t.to])).toEqual([
      [null, 'active'],
      ['active', 'past_due'],
    ]);
  });

  it('a move the transition table forbids is logged and not applied; an unchanged read moves only syncedAt, with no event', async () => {
    const { tender, billing, clock, events, warnings } = setup();
    const created = await tender.subscriptions.create({ userId: 'u1', priceId: 'price_1' });
    clock.advance(1000);
    const canceled = await tender.subscriptions.cancel(created.id);
    expect(canceled.status).toBe('canceled');
    expect(events.map((e) => e.type)).toEqual(['subscription.created', 'subscription.canceled']);
    billing.subscriptions.set(created.gatewayReference, { ...billing.subscriptions.get(created.gatewayReference)!, status: 'active' });
    clock.advance(1000);
    const synced = await tender.subscriptions.sync(created.id);
    expect(synced.status).toBe('canceled');
    expect(warnings).toContain('subscription report not allowed by the transition table; not applied');

    const other = await tender.subscriptions.create({ userId: 'u2', priceId: 'price_1' });
    const before = events.length;
    clock.advance(1000);
    const again = await tender.subscriptions.sync(other.id);
    expect(again).toMatchObject({ version: other.version + 1, updatedAt: other.updatedAt, syncedAt: clock.now().toISOString() });
    expect(events.length).toBe(before);
  });

  it('a create retried under its key answers the record as it is now, without asking the gateway again', async () => {
    const { tender, billing, clock } = setup();
    const first = await tender.subscriptions.create({ userId: 'u1', priceId: 'price_1' }, { idempotencyKey: 'k-1' });
    billing.subscriptions.set(first.gatewayReference, { ...billing.subscriptions.get(first.gatewayReference)!, status: 'past_due' });
    clock.advance(1000);
    await tender.subscriptions.sync(first.id);
    const again = await tender.subscriptions.create({ userId: 'u1', priceId: 'price_1' }, { idempotencyKey: 'k-1' });
    expect(again).toMatchObject({ id: first.id, status: 'past_due' });
    expect(billing.calls.filter((c) => c === 'subscriptions.create')).toHaveLength(1);
    // Another merchant's same key is another subscription.
    const theirs = await tender.subscriptions.create({ userId: 'u1', priceId: 'price_1' }, { idempotencyKey: 'k-1', merchantId: 'm2' });
    expect(theirs.id).not.toBe(first.id);
  });

  it('a paid invoice becomes one CAPTURED payment of the user, linked, once however often it is reported', async () => {
    const { tender, billing, clock, events } = setup();
    const method = await tender.paymentMethods.save({ userId: 'u1', token: 'pm_1' });
    const created = await tender.subscriptions.create({ userId: 'u1', priceId: 'price_1' });
    const remote = billing.subscriptions.get(created.gatewayReference)!;
    billing.invoices.set('in_1', invoiceResult('in_1', remote, 'open', { attemptCount: 1 }));
    clock.advance(1000);
    expect(await tender.webhooks.handle('bill', webhook({ kind: 'invoice', eventId: 'evt_1', gatewayReference: 'in_1', type: 'invoice.payment_failed' }))).toMatchObject({ outcomes: [{ outcome: 'applied' }] });
    const [open] = (await tender.invoices.list({ subscriptionId: created.id })).data;
    expect(open).toMatchObject({ status: 'open', attemptCount: 1, paymentId: null });
    expect((await tender.payments.list({ userId: 'u1' })).data).toEqual([]);

    billing.invoices.set('in_1', invoiceResult('in_1', remote, 'paid', { attemptCount: 2 }));
    for (const eventId of ['evt_2', 'evt_3']) {
      clock.advance(1000);
      await tender.webhooks.handle('bill', webhook({ kind: 'invoice', eventId, gatewayReference: 'in_1', type: 'invoice.paid' }));
    }
    const paid = await tender.invoices.get(open!.id);
    expect(paid).toMatchObject({ status: 'paid', amountPaid: '12.00' });
    const payments = (await tender.payments.list({ userId: 'u1' })).data;
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ id: paid.paymentId, status: 'CAPTURED', amount: '12.00', amountCaptured: '12.00', gatewayReference: 'pi_in_1', savedPaymentMethodId: method.id, metadata: { invoice_id: paid.id, subscription_id: created.id } });
    expect(events.filter((e) => e.type.startsWith('invoice.') || e.type.startsWith('payment.')).map((e) => e.type)).toEqual([
      'invoice.created',
      'invoice.finalized',
      'invoice.payment_failed',
      'payment.captured',
      'invoice.paid',
    ]);
    expect((await tender.invoices.transitions(paid.id)).map((t) => [t.from, t.to, t.actor])).toEqual([
      [null, 'open', 'webhook'],
      ['open', 'paid', 'webhook'],
    ]);
  });
});

describe('billing: webhooks', () => {
  it('a subscription not stored yet is bound only through the requeried tender_* metadata; without it the event is ignored', async () => {
    const { tender, billing, store } = setup();
    const customer = await tender.customers.ensure({ userId: 'u9' });
    billing.subscriptions.set('sub_bound', subscriptionResult('sub_bound', customer.gatewayCustomerId, 'active', { tender_subscription_id: 'subs_FROMMETADATA0000000000000000', tender_merchant_id: 'default', tender_user_id: 'u9' }));
    billing.subscriptions.set('sub_foreign', subscriptionResult('sub_foreign', 'cus_x', 'active', {}));
    const bound = await tender.webhooks.handle('bill', webhook({ kind: 'subscription', eventId: 'evt_a', gatewayReference: 'sub_bound', type: 'customer.subscription.created' }));
    expect(bound.outcomes).toEqual([{ eventId: 'evt_a', outcome: 'applied' }]);
    expect(await tender.subscriptions.get('subs_FROMMETADATA0000000000000000')).toMatchObject({ userId: 'u9', gatewayReference: 'sub_bound', status: 'active' });
    const foreign = await tender.webhooks.handle('bill', webhook({ kind: 'subscription', eventId: 'evt_b', gatewayReference: 'sub_foreign', type: 'customer.subscription.created' }));
    expect(foreign.outcomes).toEqual([{ eventId: 'evt_b', outcome: 'ignored' }]);
    expect(await store.findSubscriptionByGatewayReference('bill', 'sub_foreign')).toBeNull();
    // Redelivered: recorded the first time, a duplicate now.
    expect((await tender.webhooks.handle('bill', webhook({ kind: 'subscription', eventId: 'evt_a', gatewayReference: 'sub_bound', type: 'customer.subscription.created' }))).outcomes).toEqual([{ eventId: 'evt_a', outcome: 'duplicate' }]);
  });

  it('an object the gateway says does not exist is ignored and recorded, not retried', async () => {
    const { tender } = setup();
    const gone = webhook({ kind: 'subscription', eventId: 'evt_gone', gatewayReference: 'sub_missing', type: 'customer.subscription.updated' });
    expect((await tender.webhooks.handle('bill', gone)).outcomes).toEqual([{ eventId: 'evt_gone', outcome: 'ignored' }]);
    expect((await tender.webhooks.handle('bill', gone)).outcomes).toEqual([{ eventId: 'evt_gone', outcome: 'duplicate' }]);
  });

  it('an open invoice voided at the gateway is void, with invoice.voided and no payment', async () => {
    const { tender, billing, clock, events } = setup();
    const created = await tender.subscriptions.create({ userId: 'u3', priceId: 'price_1' });
    const remote = billing.subscriptions.get(created.gatewayReference)!;
    billing.invoices.set('in_v', invoiceResult('in_v', remote, 'open'));
    await tender.webhooks.handle('bill', webhook({ kind: 'invoice', eventId: 'evt_v1', gatewayReference: 'in_v', type: 'invoice.finalized' }));
    billing.invoices.set('in_v', invoiceResult('in_v', remote, 'void'));
    clock.advance(1000);
    await tender.webhooks.handle('bill', webhook({ kind: 'invoice', eventId: 'evt_v2', gatewayReference: 'in_v', type: 'invoice.voided' }));
    const [invoice] = (await tender.invoices.list({ userId: 'u3' })).data;
    expect(invoice).toMatchObject({ status: 'void', paymentId: null });
    expect(events.filter((e) => e.type.startsWith('invoice.')).map((e) => [e.type, e.paymentId])).toEqual([
      ['invoice.created', null],
      ['invoice.finalized', null],
      ['invoice.voided', null],
    ]);
    // A later report that it is paid: void is final, so it is logged and not applied.
    billing.invoices.set('in_v', invoiceResult('in_v', remote, 'paid'));
    clock.advance(1000);
    await tender.webhooks.handle('bill', webhook({ kind: 'invoice', eventId: 'evt_v3', gatewayReference: 'in_v', type: 'invoice.paid' }));
    expect(await tender.invoices.get(invoice!.id)).toMatchObject({ status: 'void', paymentId: null });
    expect((await tender.payments.list({ userId: 'u3' })).data).toEqual([]);
  });

  it("an invoice of a subscription not stored yet mirrors the subscription first; a failed requery is a retryable 503 that records nothing", async () => {
    const { tender, billing } = setup();
    const customer = await tender.customers.ensure({ userId: 'u7' });
    const remote = subscriptionResult('sub_late', customer.gatewayCustomerId, 'active', { tender_subscription_id: 'subs_LATE00000000000000000000000', tender_merchant_id: 'default', tender_user_id: 'u7' });
    billing.subscriptions.set('sub_late', remote);
    billing.invoices.set('in_late', invoiceResult('in_late', remote, 'paid'));
    billing.setFailRetrieve(true);
    const deferred = await rejection(tender.webhooks.handle('bill', webhook({ kind: 'invoice', eventId: 'evt_i', gatewayReference: 'in_late', type: 'invoice.paid' })));
    expect(deferred).toMatchObject({ status: 503, code: 'webhook_deferred', retryable: true });
    billing.setFailRetrieve(false);
    const applied = await tender.webhooks.handle('bill', webhook({ kind: 'invoice', eventId: 'evt_i', gatewayReference: 'in_late', type: 'invoice.paid' }));
    expect(applied.outcomes).toEqual([{ eventId: 'evt_i', outcome: 'applied' }]);
    const [invoice] = (await tender.invoices.list({ subscriptionId: 'subs_LATE00000000000000000000000' })).data;
    expect(invoice).toMatchObject({ status: 'paid', userId: 'u7', subscriptionId: 'subs_LATE00000000000000000000000' });
    expect((await tender.payments.get(invoice!.paymentId!)).userId).toBe('u7');

    billing.invoices.set('in_orphan', { ...invoiceResult('in_orphan', remote, 'open'), subscriptionReference: null });
    expect((await tender.webhooks.handle('bill', webhook({ kind: 'invoice', eventId: 'evt_o', gatewayReference: 'in_orphan', type: 'invoice.created' }))).outcomes).toEqual([{ eventId: 'evt_o', outcome: 'ignored' }]);
  });
});
