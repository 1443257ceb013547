/**
 * The billing part of the store conformance suite (gateway customers, saved payment methods,
 * subscriptions, invoices and their audit trail; the spec is `spec/store/v1/billing.ts`), with the
 * sample records store and engine tests build on. {@link runStoreConformance} registers it; it is not
 * called on its own.
 *
 * @module
 */
import { vitestApi } from './vitest-api';
import type { BillingTransition, GatewayCustomer, Invoice, SavedPaymentMethod, Subscription } from '../billing';
import { newId } from '../ids';
import { Money } from '../money';
import type { Payment } from '../payment';
import type { Store, StoreTx } from '../spec/store/v1/index';
import { at, expectTenderError, samplePayment } from './store-conformance';

const DAY = 86_400_000;

/** A valid gateway customer mapping for store tests (merchant `m_1`, user `user_1`, gateway `test`). */
export function sampleCustomer(overrides: Partial<GatewayCustomer> = {}): GatewayCustomer {
  return { merchantId: 'm_1', userId: 'user_1', gateway: 'test', gatewayCustomerId: newId('cus'), createdAt: at(), ...overrides };
}

/** A valid saved card (not the default) of `user_1` for store tests, with a fresh gateway token. */
export function sampleSavedMethod(overrides: Partial<SavedPaymentMethod> = {}): SavedPaymentMethod {
  return {
    id: newId('spm'),
    merchantId: 'm_1',
    userId: 'user_1',
    gateway: 'test',
    token: newId('pm'),
    type: 'card',
    card: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034, funding: 'credit', country: 'US' },
    walletEmail: null,
    isDefault: false,
    createdAt: at(),
    updatedAt: at(),
    deletedAt: null,
    ...overrides,
  };
}

/** A valid trialing monthly subscription of `user_1` for store tests (version 1). */
export function sampleSubscription(overrides: Partial<Subscription> = {}): Subscription {
  const currency = overrides.currency ?? 'USD';
  return {
    id: newId('subs'),
    merchantId: 'm_1',
    userId: 'user_1',
    gateway: 'test',
    gatewayReference: newId('sub'),
    gatewayCustomerId: 'cus_test_1',
    status: 'trialing',
    priceId: 'price_monthly',
    quantity: 1,
    amount: Money.of('10.00', 'USD').toString(),
    currency,
    interval: 'month',
    intervalCount: 1,
    paymentMethodId: null,
    trialStart: at(),
    trialEnd: at(14 * DAY),
    currentPeriodStart: at(),
    currentPeriodEnd: at(14 * DAY),
    cancelAtPeriodEnd: false,
    canceledAt: null,
    endedAt: null,
    latestInvoiceReference: null,
    metadata: { plan: 'pro' },
    createdAt: at(),
    updatedAt: at(),
    syncedAt: at(),
    version: 1,
    ...overrides,
  };
}

/** A valid open invoice of `user_1` for store tests (no subscription, version 1). */
export function sampleInvoice(overrides: Partial<Invoice> = {}): Invoice {
  return {
    id: newId('inv'),
    merchantId: 'm_1',
    userId: 'user_1',
    gateway: 'test',
    gatewayReference: newId('in'),
    subscriptionId: null,
    status: 'open',
    currency: 'USD',
    amountDue: '10.00',
    amountPaid: '0.00',
    amountRemaining: '10.00',
    billingReason: 'subscription_create',
    number: 'INV-0001',
    hostedInvoiceUrl: 'https://invoice.example/i/1',
    periodStart: at(),
    periodEnd: at(30 * DAY),
    attemptCount: 0,
    nextPaymentAttempt: null,
    paymentId: null,
    paidAt: null,
    createdAt: at(),
    updatedAt: at(),
    syncedAt: at(),
    version: 1,
    ...overrides,
  };
}

function transition(resourceType: BillingTransition['resourceType'], resourceId: string, from: string | null, to: string, offsetMs: number): BillingTransition {
  return { id: newId('btr'), merchantId: 'm_1', resourceType, resourceId, from, to, reason: 'webhook', actor: 'gateway', at: at(offsetMs) };
}

/**
 * Registers the billing tests inside the current `describe` of {@link runStoreConformance};
 * `current()` is the store under test of the running test.
 * @internal
 */
export function runBillingStoreConformance(current: () => Store): void {
  const { describe, expect, it } = vitestApi();

  describe('billing', () => {
    const tx = <T>(fn: (t: StoreTx) => Promise<T>) => current().transaction(fn);
    const insertMethod = (m: SavedPaymentMethod) => tx((t) => t.insertSavedPaymentMethod(m));
    const defaults = async (merchantId: string, userId: string) =>
      (await current().listSavedPaymentMethods({ merchantId, userId, limit: 100 })).filter((m) => m.isDefault).map((m) => m.id);

    it('maps a user to one gateway customer, the first insert winning, also under concurrency', async () => {
      const store = current();
      const c1 = sampleCustomer();
      expect(await tx((t) => t.insertGatewayCustomer(c1))).toEqual({ created: true, customer: c1 });
      expect(await tx((t) => t.insertGatewayCustomer({ ...c1, gatewayCustomerId: 'cus_other', createdAt: at(5) }))).toEqual({ created: false, customer: c1 });
      expect(await store.getGatewayCustomer('m_1', 'user_1', 'test')).toEqual(c1);
      expect(await store.getGatewayCustomer('m_2', 'user_1', 'test')).toBeNull();
      expect(await store.getGatewayCustomer('m_1', 'user_1', 'other')).toBeNull();
      expect(await store.getGatewayCustomer('m_1', 'user_2', 'test')).toBeNull();
      const otherGateway = sampleCustomer({ gateway: 'other' });
      const otherMerchant = sampleCustomer({ merchantId: 'm_2' });
      expect((await tx((t) => t.insertGatewayCustomer(otherGateway))).created).toBe(true);
      expect((await tx((t) => t.insertGatewayCustomer(otherMerchant))).created).toBe(true);
      expect(await store.getGatewayCustomer('m_1', 'user_1', 'other')).toEqual(otherGateway);

      // Two first uses at once: one insert wins, both callers get its record.
      for (const n of [2, 10]) {
        const userId = `user_race_${n}`;
        const results = await Promise.all(Array.from({ length: n }, () => tx((t) => t.insertGatewayCustomer(sampleCustomer({ userId })))));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const winner = results.find((r) => r.created)!.customer;
        for (const r of results) expect(r.customer).toEqual(winner);
        expect(await store.getGatewayCustomer('m_1', userId, 'test')).toEqual(winner);
      }
    });

    it('stores saved payment methods exactly, scoped by merchant, and refuses a token saved twice', async () => {
      const store = current();
      const card = sampleSavedMethod({ isDefault: true });
      const wallet = sampleSavedMethod({ type: 'paypal', card: null, walletEmail: 'payer.one@example.com', token: 'B-7YX12345' });
      await insertMethod(card);
      await insertMethod(wallet);
      expect(await store.getSavedPaymentMethod(card.id)).toEqual(card);
      expect(await store.getSavedPaymentMethod(card.id, 'm_1')).toEqual(card);
      expect(await store.getSavedPaymentMethod(wallet.id)).toEqual(wallet);
      expect(await store.getSavedPaymentMethod(card.id, 'm_other')).toBeNull();
      expect(await store.getSavedPaymentMethod('spm_missing')).toBeNull();
      const copy = (await store.getSavedPaymentMethod(card.id))!;
      copy.card!.last4 = '0000';
      copy.isDefault = false;
      expect(await store.getSavedPaymentMethod(card.id)).toEqual(card);

      const dup = await expectTenderError(insertMethod(sampleSavedMethod({ token: card.token, userId: 'user_2' })), 'state_error');
      expect(dup.code).toBe('duplicate_saved_payment_method');
      // The token is unique per merchant and gateway.
      const elsewhere = sampleSavedMethod({ token: card.token, merchantId: 'm_2' });
      const otherGateway = sampleSavedMethod({ token: card.token, gateway: 'other' });
      await insertMethod(elsewhere);
      await insertMethod(otherGateway);
      expect(await store.findSavedPaymentMethodByToken('m_1', 'test', card.token)).toEqual(card);
      expect((await store.findSavedPaymentMethodByToken('m_2', 'test', card.token))!.id).toBe(elsewhere.id);
      expect((await store.findSavedPaymentMethodByToken('m_1', 'other', card.token))!.id).toBe(otherGateway.id);
      expect(await store.findSavedPaymentMethodByToken('m_3', 'test', card.token)).toBeNull();
      expect(await store.findSavedPaymentMethodByToken('m_1', 'test', 'pm_unknown')).toBeNull();
    });

    it('lists saved methods newest first by page, per user, leaving removed ones out', async () => {
      const store = current();
      const mine = Array.from({ length: 5 }, (_, i) => sampleSavedMethod({ createdAt: at(i * 1000), updatedAt: at(i * 1000) }));
      // Same createdAt: the greater id first.
      const tie = sampleSavedMethod({ createdAt: at(4000), updatedAt: at(4000) });
      for (const m of [...mine, tie]) await insertMethod(m);
      const theirs = sampleSavedMethod({ userId: 'user_2', createdAt: at(2500) });
      const removed = sampleSavedMethod({ createdAt: at(3500) });
      await insertMethod(theirs);
      await insertMethod(removed);
      await insertMethod(sampleSavedMethod({ merchantId: 'm_2', createdAt: at(9000) }));
      await tx((t) => t.removeSavedPaymentMethod('m_1', removed.id, at(6000)));

      const [first, second] = tie.id > mine[4]!.id ? [tie, mine[4]!] : [mine[4]!, tie];
      const all = await store.listSavedPaymentMethods({ merchantId: 'm_1', limit: 100 });
      expect(all.map((m) => m.id)).toEqual([first.id, second.id, mine[3]!.id, theirs.id, mine[2]!.id, mine[1]!.id, mine[0]!.id]);
      expect(all[2]).toEqual(mine[3]);
      const page1 = await store.listSavedPaymentMethods({ merchantId: 'm_1', userId: 'user_1', limit: 2 });
      expect(page1.map((m) => m.id)).toEqual([first.id, second.id]);
      const page2 = await store.listSavedPaymentMethods({ merchantId: 'm_1', userId: 'user_1', limit: 2, startingAfter: page1[1]!.id });
      expect(page2.map((m) => m.id)).toEqual([mine[3]!.id, mine[2]!.id]);
      const page3 = await store.listSavedPaymentMethods({ merchantId: 'm_1', userId: 'user_1', limit: 2, startingAfter: page2[1]!.id });
      expect(page3.map((m) => m.id)).toEqual([mine[1]!.id, mine[0]!.id]);
      expect(await store.listSavedPaymentMethods({ merchantId: 'm_1', userId: 'user_1', limit: 2, startingAfter: page3[1]!.id })).toEqual([]);
      expect((await store.listSavedPaymentMethods({ merchantId: 'm_1', userId: 'user_2', limit: 10 })).map((m) => m.id)).toEqual([theirs.id]);
      expect(await store.listSavedPaymentMethods({ merchantId: 'm_1', userId: 'user_3', limit: 10 })).toEqual([]);
      expect(await store.listSavedPaymentMethods({ merchantId: 'm_2', userId: 'user_2', limit: 10 })).toEqual([]);
    });

    it('removes a saved method softly and once; a removed method is never the default', async () => {
      const store = current();
      const chosen = sampleSavedMethod({ isDefault: true });
      const other = sampleSavedMethod();
      await insertMethod(chosen);
      await insertMethod(other);
      const removed = await tx((t) => t.removeSavedPaymentMethod('m_1', chosen.id, at(5000)));
      expect(removed).toEqual({ ...chosen, isDefault: false, deletedAt: at(5000), updatedAt: at(5000) });
      expect(await store.getSavedPaymentMethod(chosen.id)).toEqual(removed);
      expect(await store.findSavedPaymentMethodByToken('m_1', 'test', chosen.token)).toEqual(removed);
      // Removing again returns the first removal.
      expect(await tx((t) => t.removeSavedPaymentMethod('m_1', chosen.id, at(9000)))).toEqual(removed);
      expect(await tx((t) => t.removeSavedPaymentMethod('m_other', other.id, at(9000)))).toBeNull();
      expect(await tx((t) => t.removeSavedPaymentMethod('m_1', 'spm_missing', at(9000)))).toBeNull();
      expect(await store.getSavedPaymentMethod(other.id)).toEqual(other);
      expect((await store.listSavedPaymentMethods({ merchantId: 'm_1', userId: 'user_1', limit: 10 })).map((m) => m.id)).toEqual([other.id]);
      expect(await defaults('m_1', 'user_1')).toEqual([]);
      expect(await tx((t) => t.setDefaultSavedPaymentMethod('m_1', chosen.id, at(9500)))).toBeNull();
      expect(await store.getSavedPaymentMethod(chosen.id)).toEqual(removed);
      // The token stays taken: a removed method still names the payments made with it.
      expect((await expectTenderError(insertMethod(sampleSavedMethod({ token: chosen.token })), 'state_error')).code).toBe('duplicate_saved_payment_method');
    });

    it("makes a method the user's only default; unknown, removed or another merchant's methods are null", async () => {
      const store = current();
      const a = sampleSavedMethod({ isDefault: true, createdAt: at(0) });
      const b = sampleSavedMethod({ createdAt: at(1) });
      const c = sampleSavedMethod({ createdAt: at(2) });
      const theirs = sampleSavedMethod({ userId: 'user_2', isDefault: true });
      for (const m of [a, b, c, theirs]) await insertMethod(m);
      const made = await tx((t) => t.setDefaultSavedPaymentMethod('m_1', b.id, at(100)));
      expect(made).toEqual({ ...b, isDefault: true, updatedAt: at(100) });
      expect(await store.getSavedPaymentMethod(b.id)).toEqual(made);
      expect(await store.getSavedPaymentMethod(a.id)).toEqual({ ...a, isDefault: false, updatedAt: at(100) });
      expect(await store.getSavedPaymentMethod(c.id)).toEqual(c);
      expect(await store.getSavedPaymentMethod(theirs.id)).toEqual(theirs);
      expect(await defaults('m_1', 'user_1')).toEqual([b.id]);
      // Again on the default: still the only one.
      expect((await tx((t) => t.setDefaultSavedPaymentMethod('m_1', b.id, at(200))))!.isDefault).toBe(true);
      expect(await defaults('m_1', 'user_1')).toEqual([b.id]);
      expect(await tx((t) => t.setDefaultSavedPaymentMethod('m_other', c.id, at(300)))).toBeNull();
      expect(await tx((t) => t.setDefaultSavedPaymentMethod('m_1', 'spm_missing', at(300)))).toBeNull();
      expect(await defaults('m_1', 'user_1')).toEqual([b.id]);
      expect(await defaults('m_1', 'user_2')).toEqual([theirs.id]);
    });

    it('inserting a default method makes it the only default of its user', async () => {
      const store = current();
      const first = sampleSavedMethod({ isDefault: true, createdAt: at(0) });
      const theirs = sampleSavedMethod({ userId: 'user_2', isDefault: true });
      await insertMethod(first);
      await insertMethod(theirs);
      const second = sampleSavedMethod({ isDefault: true, createdAt: at(10) });
      await insertMethod(second);
      expect(await defaults('m_1', 'user_1')).toEqual([second.id]);
      expect((await store.getSavedPaymentMethod(first.id))!.isDefault).toBe(false);
      expect(await store.getSavedPaymentMethod(second.id)).toEqual(second);
      // Not the default: the default stays.
      await insertMethod(sampleSavedMethod({ createdAt: at(20) }));
      expect(await defaults('m_1', 'user_1')).toEqual([second.id]);
      expect(await defaults('m_1', 'user_2')).toEqual([theirs.id]);
    });

    it('20 concurrent "set default" calls (and default inserts) end with exactly one default', async () => {
      const store = current();
      const methods = Array.from({ length: 5 }, (_, i) => sampleSavedMethod({ isDefault: i === 0, createdAt: at(i) }));
      for (const m of methods) await insertMethod(m);
      // A fixed spread over the five (no randomness: the run is the same every time).
      const targets = Array.from({ length: 20 }, (_, i) => methods[(i * 3 + 1) % methods.length]!);
      const inserted = Array.from({ length: 3 }, (_, i) => sampleSavedMethod({ isDefault: true, createdAt: at(100 + i) }));
      const results = await Promise.all([
        ...targets.map((m, i) => tx((t) => t.setDefaultSavedPaymentMethod('m_1', m.id, at(1000 + i)))),
        ...inserted.map((m) => tx((t) => t.insertSavedPaymentMethod(m)).then(() => m)),
      ]);
      for (const [i, r] of results.entries()) expect(r?.id).toBe([...targets, ...inserted][i]!.id);
      const left = await defaults('m_1', 'user_1');
      expect(left).toHaveLength(1);
      expect([...targets, ...inserted].map((m) => m.id)).toContain(left[0]);
      const each = await Promise.all([...methods, ...inserted].map((m) => store.getSavedPaymentMethod(m.id)));
      expect(each.filter((m) => m!.isDefault).map((m) => m!.id)).toEqual(left);
    });

    it('stores subscriptions exactly, scoped by merchant, unique by id and by gateway reference', async () => {
      const store = current();
      const method = sampleSavedMethod();
      await insertMethod(method);
      const s = sampleSubscription({ paymentMethodId: method.id, latestInvoiceReference: 'in_1' });
      await tx((t) => t.insertSubscription(s));
      expect(await store.getSubscription(s.id)).toEqual(s);
      expect(await store.getSubscription(s.id, 'm_1')).toEqual(s);
      expect(await store.getSubscription(s.id, 'm_other')).toBeNull();
      expect(await store.getSubscription('subs_missing')).toBeNull();
      expect(await store.findSubscriptionByGatewayReference('test', s.gatewayReference)).toEqual(s);
      expect(await store.findSubscriptionByGatewayReference('other', s.gatewayReference)).toBeNull();
      expect(await store.findSubscriptionByGatewayReference('test', 'sub_missing')).toBeNull();
      const bare = sampleSubscription({ amount: null, currency: null, interval: null, intervalCount: null, trialStart: null, trialEnd: null, currentPeriodStart: null, currentPeriodEnd: null, metadata: {} });
      await tx((t) => t.insertSubscription(bare));
      expect(await store.getSubscription(bare.id)).toEqual(bare);
      const copy = (await store.getSubscription(s.id))!;
      copy.metadata.plan = 'changed';
      expect((await store.getSubscription(s.id))!.metadata.plan).toBe('pro');

      const dupId = await expectTenderError(tx((t) => t.insertSubscription({ ...s, gatewayReference: 'sub_fresh' })), 'state_error');
      expect(dupId.code).toBe('duplicate_subscription');
      const dupRef = await expectTenderError(tx((t) => t.insertSubscription(sampleSubscription({ gatewayReference: s.gatewayReference, merchantId: 'm_2' }))), 'state_error');
      expect(dupRef.code).toBe('duplicate_gateway_reference');
      await tx((t) => t.insertSubscription(sampleSubscription({ gatewayReference: s.gatewayReference, gateway: 'other' })));
      expect((await store.findSubscriptionByGatewayReference('test', s.gatewayReference))!.id).toBe(s.id);
    });

    it('updates a subscription only from the expected version, serialised by its lock', async () => {
      const store = current();
      const s = sampleSubscription();
      await tx((t) => t.insertSubscription(s));
      const active = { ...s, status: 'active' as const, trialEnd: at(1000), cancelAtPeriodEnd: true, updatedAt: at(1000), syncedAt: at(900), version: 2 };
      await tx((t) => t.updateSubscription(active));
      expect(await store.getSubscription(s.id)).toEqual(active);
      const stale = await expectTenderError(tx((t) => t.updateSubscription({ ...s, status: 'canceled', version: 2 })), 'state_error');
      expect(stale.code).toBe('version_conflict');
      expect(await store.getSubscription(s.id)).toEqual(active);
      expect(await tx((t) => t.lockSubscription(s.id))).toEqual(active);
      expect(await tx((t) => t.lockSubscription('subs_missing'))).toBeNull();

      // Concurrent read-modify-writes under the lock: none lost.
      await Promise.all(
        Array.from({ length: 10 }, () =>
          tx(async (t) => {
            const locked = (await t.lockSubscription(s.id))!;
            await t.updateSubscription({ ...locked, quantity: locked.quantity + 1, version: locked.version + 1 });
          }),
        ),
      );
      expect(await store.getSubscription(s.id)).toMatchObject({ quantity: 11, version: 12, status: 'active' });
    });

    it('stores invoices exactly, scoped by merchant, unique by id and by gateway reference, versioned', async () => {
      const store = current();
      const s = sampleSubscription();
      await tx((t) => t.insertSubscription(s));
      const inv = sampleInvoice({ subscriptionId: s.id });
      await tx((t) => t.insertInvoice(inv));
      expect(await store.getInvoice(inv.id)).toEqual(inv);
      expect(await store.getInvoice(inv.id, 'm_1')).toEqual(inv);
      expect(await store.getInvoice(inv.id, 'm_other')).toBeNull();
      expect(await store.getInvoice('inv_missing')).toBeNull();
      expect(await store.findInvoiceByGatewayReference('test', inv.gatewayReference)).toEqual(inv);
      expect(await store.findInvoiceByGatewayReference('other', inv.gatewayReference)).toBeNull();
      const bare = sampleInvoice({ billingReason: null, number: null, hostedInvoiceUrl: null, periodStart: null, periodEnd: null, currency: 'JPY', amountDue: '1000', amountPaid: '0', amountRemaining: '1000' });
      await tx((t) => t.insertInvoice(bare));
      expect(await store.getInvoice(bare.id)).toEqual(bare);

      const dupId = await expectTenderError(tx((t) => t.insertInvoice({ ...inv, gatewayReference: 'in_fresh' })), 'state_error');
      expect(dupId.code).toBe('duplicate_invoice');
      const dupRef = await expectTenderError(tx((t) => t.insertInvoice(sampleInvoice({ gatewayReference: inv.gatewayReference }))), 'state_error');
      expect(dupRef.code).toBe('duplicate_gateway_reference');
      await tx((t) => t.insertInvoice(sampleInvoice({ gatewayReference: inv.gatewayReference, gateway: 'other' })));

      const pay = samplePayment({ currency: 'USD', amount: '10.00', amountCaptured: '10.00', amountRefunded: '0.00', status: 'CAPTURED', userId: 'user_1' });
      const paid = { ...inv, status: 'paid' as const, amountPaid: '10.00', amountRemaining: '0.00', attemptCount: 1, paymentId: pay.id, paidAt: at(2000), updatedAt: at(2000), syncedAt: at(1900), version: 2 };
      await tx(async (t) => {
        await t.insertPayment(pay);
        await t.updateInvoice(paid);
      });
      expect(await store.getInvoice(inv.id)).toEqual(paid);
      const stale = await expectTenderError(tx((t) => t.updateInvoice({ ...inv, status: 'void', version: 2 })), 'state_error');
      expect(stale.code).toBe('version_conflict');
      expect(await store.getInvoice(inv.id)).toEqual(paid);
      expect(await tx((t) => t.lockInvoice(inv.id))).toEqual(paid);
      expect(await tx((t) => t.lockInvoice('inv_missing'))).toBeNull();
      await Promise.all(
        Array.from({ length: 10 }, () =>
          tx(async (t) => {
            const locked = (await t.lockInvoice(inv.id))!;
            await t.updateInvoice({ ...locked, attemptCount: locked.attemptCount + 1, version: locked.version + 1 });
          }),
        ),
      );
      expect(await store.getInvoice(inv.id)).toMatchObject({ attemptCount: 11, version: 12, status: 'paid' });
    });

    it('lists subscriptions newest first by page, by user and by status', async () => {
      const store = current();
      const mine = Array.from({ length: 4 }, (_, i) => sampleSubscription({ status: i % 2 === 0 ? 'trialing' : 'active', createdAt: at(i * 1000) }));
      const theirs = sampleSubscription({ userId: 'user_2', status: 'active', createdAt: at(1500) });
      for (const s of [...mine, theirs, sampleSubscription({ merchantId: 'm_2', createdAt: at(9000) })]) await tx((t) => t.insertSubscription(s));
      const ids = (list: Subscription[]) => list.map((s) => s.id);
      expect(ids(await store.listSubscriptions({ merchantId: 'm_1', limit: 10 }))).toEqual([mine[3]!.id, mine[2]!.id, theirs.id, mine[1]!.id, mine[0]!.id]);
      const page1 = await store.listSubscriptions({ merchantId: 'm_1', userId: 'user_1', limit: 3 });
      expect(ids(page1)).toEqual([mine[3]!.id, mine[2]!.id, mine[1]!.id]);
      expect(page1[0]).toEqual(mine[3]);
      expect(ids(await store.listSubscriptions({ merchantId: 'm_1', userId: 'user_1', limit: 3, startingAfter: page1[2]!.id }))).toEqual([mine[0]!.id]);
      expect(ids(await store.listSubscriptions({ merchantId: 'm_1', status: 'active', limit: 10 }))).toEqual([mine[3]!.id, theirs.id, mine[1]!.id]);
      expect(ids(await store.listSubscriptions({ merchantId: 'm_1', userId: 'user_1', status: 'trialing', limit: 10 }))).toEqual([mine[2]!.id, mine[0]!.id]);
      expect(ids(await store.listSubscriptions({ merchantId: 'm_1', userId: 'user_1', status: 'active', limit: 1, startingAfter: mine[3]!.id }))).toEqual([mine[1]!.id]);
      expect(await store.listSubscriptions({ merchantId: 'm_1', status: 'canceled', limit: 10 })).toEqual([]);
      expect(await store.listSubscriptions({ merchantId: 'm_2', userId: 'user_2', limit: 10 })).toEqual([]);
    });

    it('lists invoices newest first by page, by user and by subscription', async () => {
      const store = current();
      const s1 = sampleSubscription();
      const s2 = sampleSubscription();
      const mine = Array.from({ length: 4 }, (_, i) => sampleInvoice({ subscriptionId: i < 3 ? s1.id : s2.id, createdAt: at(i * 1000) }));
      const loose = sampleInvoice({ createdAt: at(500) });
      const theirs = sampleInvoice({ userId: 'user_2', createdAt: at(2500) });
      await tx(async (t) => {
        await t.insertSubscription(s1);
        await t.insertSubscription(s2);
        for (const inv of [...mine, loose, theirs, sampleInvoice({ merchantId: 'm_2', subscriptionId: s1.id, createdAt: at(9000) })]) await t.insertInvoice(inv);
      });
      const ids = (list: Invoice[]) => list.map((i) => i.id);
      expect(ids(await store.listInvoices({ merchantId: 'm_1', limit: 10 }))).toEqual([mine[3]!.id, theirs.id, mine[2]!.id, mine[1]!.id, loose.id, mine[0]!.id]);
      const page1 = await store.listInvoices({ merchantId: 'm_1', userId: 'user_1', limit: 2 });
      expect(ids(page1)).toEqual([mine[3]!.id, mine[2]!.id]);
      expect(page1[1]).toEqual(mine[2]);
      expect(ids(await store.listInvoices({ merchantId: 'm_1', userId: 'user_1', limit: 2, startingAfter: page1[1]!.id }))).toEqual([mine[1]!.id, loose.id]);
      expect(ids(await store.listInvoices({ merchantId: 'm_1', subscriptionId: s1.id, limit: 10 }))).toEqual([mine[2]!.id, mine[1]!.id, mine[0]!.id]);
      expect(ids(await store.listInvoices({ merchantId: 'm_1', subscriptionId: s1.id, limit: 2, startingAfter: mine[2]!.id }))).toEqual([mine[1]!.id, mine[0]!.id]);
      expect(ids(await store.listInvoices({ merchantId: 'm_1', userId: 'user_1', subscriptionId: s2.id, limit: 10 }))).toEqual([mine[3]!.id]);
      expect(await store.listInvoices({ merchantId: 'm_1', userId: 'user_2', subscriptionId: s1.id, limit: 10 })).toEqual([]);
    });

    it('keeps the billing audit trail per resource, oldest first', async () => {
      const store = current();
      const s = sampleSubscription();
      const inv = sampleInvoice({ subscriptionId: s.id });
      const t1 = transition('subscription', s.id, null, 'trialing', 0);
      const t2 = transition('invoice', inv.id, null, 'open', 10);
      const t3 = transition('subscription', s.id, 'trialing', 'active', 20);
      const t4 = transition('invoice', inv.id, 'open', 'paid', 30);
      await tx(async (t) => {
        await t.insertSubscription(s);
        await t.insertInvoice(inv);
        await t.appendBillingTransition(t1);
        await t.appendBillingTransition(t2);
      });
      await tx(async (t) => {
        await t.appendBillingTransition(t3);
        await t.appendBillingTransition(t4);
      });
      expect(await store.listBillingTransitions(s.id)).toEqual([t1, t3]);
      expect(await store.listBillingTransitions(inv.id)).toEqual([t2, t4]);
      expect(await store.listBillingTransitions('subs_missing')).toEqual([]);
      expect(await tx((t) => t.listBillingTransitions(s.id))).toEqual([t1, t3]);
    });

    it("keeps a payment's user and saved method and lists payments by user", async () => {
      const store = current();
      const insert = (p: Payment) => tx((t) => t.insertPayment(p));
      const m1 = sampleSavedMethod();
      const m2 = sampleSavedMethod();
      await insertMethod(m1);
      await insertMethod(m2);
      const withMethod = samplePayment({ userId: 'user_1', savedPaymentMethodId: m1.id, createdAt: at(0) });
      const second = samplePayment({ userId: 'user_1', createdAt: at(1000) });
      const theirs = samplePayment({ userId: 'user_2', createdAt: at(2000) });
      const anonymous = samplePayment({ createdAt: at(3000) });
      // Written by a caller that knows nothing of the fields: read back as null.
      const legacy = samplePayment({ createdAt: at(4000) });
      delete legacy.userId;
      delete legacy.savedPaymentMethodId;
      for (const p of [withMethod, second, theirs, anonymous, legacy]) await insert(p);
      await insert(samplePayment({ merchantId: 'm_2', userId: 'user_1', createdAt: at(5000) }));
      expect(await store.getPayment(withMethod.id)).toEqual(withMethod);
      expect(await store.getPayment(anonymous.id)).toMatchObject({ userId: null, savedPaymentMethodId: null });
      expect(await store.getPayment(legacy.id)).toMatchObject({ userId: null, savedPaymentMethodId: null });
      const ids = (list: Payment[]) => list.map((p) => p.id);
      expect(ids(await store.listPayments({ merchantId: 'm_1', userId: 'user_1', limit: 10 }))).toEqual([second.id, withMethod.id]);
      expect(ids(await store.listPayments({ merchantId: 'm_1', userId: 'user_1', limit: 1, startingAfter: second.id }))).toEqual([withMethod.id]);
      expect(ids(await store.listPayments({ merchantId: 'm_1', userId: 'user_2', status: 'PENDING', limit: 10 }))).toEqual([theirs.id]);
      expect(await store.listPayments({ merchantId: 'm_1', userId: 'user_3', limit: 10 })).toEqual([]);
      expect(await store.listPayments({ merchantId: 'm_1', limit: 10 })).toHaveLength(5);
      // The link is kept through updates.
      await tx((t) => t.updatePayment({ ...second, savedPaymentMethodId: m2.id, status: 'CAPTURED', amountCaptured: '100.50', version: 2 }));
      expect(await store.getPayment(second.id)).toMatchObject({ userId: 'user_1', savedPaymentMethodId: m2.id, status: 'CAPTURED' });
    });

    it('rolls back billing writes when a transaction throws', async () => {
      const store = current();
      const kept = sampleSavedMethod({ isDefault: true, createdAt: at(0) });
      const other = sampleSavedMethod({ createdAt: at(1) });
      const s = sampleSubscription();
      const inv = sampleInvoice({ subscriptionId: s.id });
      await tx(async (t) => {
        await t.insertSavedPaymentMethod(kept);
        await t.insertSavedPaymentMethod(other);
        await t.insertSubscription(s);
        await t.insertInvoice(inv);
      });
      const customer = sampleCustomer();
      const fresh = sampleSavedMethod({ isDefault: true, createdAt: at(2) });
      const s2 = sampleSubscription();
      const inv2 = sampleInvoice();
      await expect(
        tx(async (t) => {
          await t.insertGatewayCustomer(customer);
          await t.setDefaultSavedPaymentMethod('m_1', other.id, at(100));
          await t.removeSavedPaymentMethod('m_1', kept.id, at(100));
          await t.insertSavedPaymentMethod(fresh);
          await t.insertSubscription(s2);
          await t.updateSubscription({ ...s, status: 'active', version: 2 });
          await t.insertInvoice(inv2);
          await t.updateInvoice({ ...inv, status: 'paid', version: 2 });
          await t.appendBillingTransition(transition('subscription', s.id, 'trialing', 'active', 100));
          // Its own writes are visible inside the transaction.
          expect((await t.getSavedPaymentMethod(fresh.id))!.isDefault).toBe(true);
          expect((await t.getSubscription(s.id))!.status).toBe('active');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.getGatewayCustomer('m_1', customer.userId, 'test')).toBeNull();
      expect(await store.getSavedPaymentMethod(kept.id)).toEqual(kept);
      expect(await store.getSavedPaymentMethod(other.id)).toEqual(other);
      expect(await store.getSavedPaymentMethod(fresh.id)).toBeNull();
      expect(await store.findSavedPaymentMethodByToken('m_1', 'test', fresh.token)).toBeNull();
      expect(await defaults('m_1', 'user_1')).toEqual([kept.id]);
      expect(await store.getSubscription(s.id)).toEqual(s);
      expect(await store.getSubscription(s2.id)).toBeNull();
      expect(await store.findSubscriptionByGatewayReference('test', s2.gatewayReference)).toBeNull();
      expect(await store.getInvoice(inv.id)).toEqual(inv);
      expect(await store.getInvoice(inv2.id)).toBeNull();
      expect(await store.findInvoiceByGatewayReference('test', inv2.gatewayReference)).toBeNull();
      expect(await store.listBillingTransitions(s.id)).toEqual([]);
      // Nothing is left holding the unique keys.
      await tx(async (t) => {
        expect((await t.insertGatewayCustomer(customer)).created).toBe(true);
        await t.insertSavedPaymentMethod(fresh);
        await t.insertSubscription(s2);
        await t.insertInvoice(inv2);
      });
    });
  });
}
