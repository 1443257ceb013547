/**
 * `runAnalyticsStoreConformance`: the vitest suite for a store that also implements `AnalyticsStore`.
 * It writes a few hundred generated payments through the store the way the engine does (inserted
 * `PENDING`, moved status by status with their audit trail, refunds that succeed or fail late) and
 * checks `paymentAnalytics` against sums computed from the generation plan itself, not from any
 * store: per merchant and for all merchants, whole days and windows cut inside days, every `groupBy`.
 *
 * ```ts
 * import { runAnalyticsStoreConformance } from '@tender/core/testing';
 * runAnalyticsStoreConformance('my store', async () => ({ store: await openStore(), teardown: () => closeStore() }));
 * ```
 *
 * @module
 */
import { newId } from '../ids';
import { Money } from '../money';
import type { FailureReason, Payment, PaymentStatus, Refund } from '../payment';
import { analyticsMethod, processingTimeBucket, type AnalyticsGroupBy, type AnalyticsStore, type PaymentAnalyticsAggregate, type PaymentAnalyticsQuery } from '../spec/store/v1/analytics';
import type { Store, StoreTx } from '../spec/store/v1/index';
import { samplePayment } from './store-conformance';
import { vitestApi } from './vitest-api';

/** What the factory passed to {@link runAnalyticsStoreConformance} returns. */
export interface AnalyticsStoreUnderTest {
  store: Store & AnalyticsStore;
  teardown(): Promise<void>;
}

/** One generated payment: what was written and what it should count as. */
export interface PlannedPayment {
  merchantId: string;
  gateway: string;
  method: string | null;
  currency: string;
  createdAt: string;
  status: PaymentStatus;
  captured: string;
  /** Sum of its refunds that ended `SUCCEEDED`. */
  refunded: string;
  /** ms from creation to the first transition to AUTHORIZED or CAPTURED, when it had one. */
  processingMs: number | null;
  declineCode: string | null;
}

/** The first day of the generated data (UTC); payments span three days from it. */
export const ANALYTICS_DAY0 = Date.UTC(2026, 2, 1);
const DAY = 86_400_000;

const GATEWAYS = ['stripe', 'fiuu', 'paypal', 'upi'] as const;
// A Stripe payment method id too: grouped as `token`, not as a group of its own.
const METHODS = ['card', 'FPX', null, 'upi', 'pm_card_visa', 'pm_1PgT2x2eZvKYlo2C'] as const;
const CURRENCIES = [
  { code: 'MYR', amounts: ['10.00', '25.50', '99.99', '120.05'] },
  { code: 'USD', amounts: ['5.00', '19.99', '250.00'] },
  { code: 'JPY', amounts: ['500', '1200', '9800'] },
  { code: 'KWD', amounts: ['1.250', '3.005', '10.000'] },
] as const;
const FAILURES: FailureReason[] = [
  { code: 'card_declined', message: 'Your card was declined.', declineCode: 'insufficient_funds' },
  { code: 'card_declined', message: 'Your card was declined.', declineCode: 'do_not_honor' },
  { code: 'expired_card', message: 'Your card has expired.' },
  { code: 'processing_error', message: 'An error occurred while processing your card.' },
];
type Fate = 'pending' | 'action' | 'authorized' | 'captured' | 'partial_refund' | 'full_refund' | 'failed' | 'voided' | 'expired' | 'late_success' | 'refund_failed_late';
const FATES: Fate[] = ['pending', 'action', 'authorized', 'captured', 'captured', 'captured', 'partial_refund', 'full_refund', 'failed', 'failed', 'voided', 'expired', 'late_success', 'refund_failed_late'];

/** A small deterministic PRNG (mulberry32, https://gist.github.com/tommyettinger/46a874533244883189143505d203312c). */
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

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Writes `count` generated payments through `store`, each in its own transactions as the engine would
 * (insert `PENDING`, then each status change with its transition), and returns the plan.
 */
export async function writeAnalyticsData(store: Store, count = 240, seed = 19, lanes = 4): Promise<PlannedPayment[]> {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const plan: PlannedPayment[] = [];
  // Every random choice is made before any write, so the data is the same however the lanes interleave.
  const jobs: Array<() => Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const merchantId = random() < 0.8 ? 'm_analytics_a' : 'm_analytics_b';
    const currency = pick(CURRENCIES);
    const amount = pick(currency.amounts);
    const createdMs = ANALYTICS_DAY0 + Math.floor(random() * 3 * DAY);
    const latency = pick([0, 7, 85, 140, 999, 1234, 2500, 4321, 15_000]);
    const fate = pick(FATES);
    const failure = pick(FAILURES);
    const gateway = pick(GATEWAYS);
    const method = pick(METHODS);
    jobs.push(async () => {
      let payment: Payment = samplePayment({
        id: newId('pay'),
        merchantId,
        gateway,
        paymentMethod: method,
        currency: currency.code,
        amount: Money.of(amount, currency.code).toString(),
        amountCaptured: Money.zero(currency.code).toString(),
        amountRefunded: Money.zero(currency.code).toString(),
        createdAt: iso(createdMs),
        updatedAt: iso(createdMs),
        version: 1,
      });
      await store.transaction(async (tx) => {
        await tx.insertPayment(payment);
        await tx.appendTransition({ id: newId('tr'), merchantId, paymentId: payment.id, refundId: null, from: null, to: 'PENDING', reason: 'created', actor: 'api', at: payment.createdAt });
      });
      let step = 0;
      const move = async (status: PaymentStatus, atMs: number, changes: Partial<Payment> = {}, extra?: (tx: StoreTx) => Promise<void>) => {
        const next: Payment = { ...payment, ...changes, status, version: payment.version + 1, updatedAt: iso(atMs) };
        await store.transaction(async (tx) => {
          await tx.updatePayment(next);
          await tx.appendTransition({ id: newId('tr'), merchantId, paymentId: payment.id, refundId: null, from: payment.status, to: status, reason: `step ${++step}`, actor: 'webhook', at: next.updatedAt });
          await extra?.(tx);
        });
        payment = next;
      };
      const authMs = createdMs + latency;
      const full = Money.of(amount, currency.code).toString();
      let refunded = Money.zero(currency.code);
      let processingMs: number | null = null;
      let declineCode: string | null = null;
      const refund = async (value: string, end: 'SUCCEEDED' | 'FAILED' | 'LATE_FAILED') => {
        const r: Refund = { id: newId('re'), merchantId, paymentId: payment.id, status: 'PENDING', amount: value, currency: currency.code, reason: null, gatewayReference: null, failure: null, metadata: {}, createdAt: iso(authMs + 1000), updatedAt: iso(authMs + 1000) };
        await store.transaction((tx) => tx.insertRefund(r));
        await store.transaction((tx) => tx.updateRefund({ ...r, status: end === 'FAILED' ? 'FAILED' : 'SUCCEEDED', updatedAt: iso(authMs + 2000) }));
        if (end === 'LATE_FAILED') await store.transaction((tx) => tx.updateRefund({ ...r, status: 'FAILED', updatedAt: iso(authMs + 3000) }));
        else if (end === 'SUCCEEDED') refunded = refunded.add(Money.of(value, currency.code));
      };
      switch (fate) {
        case 'pending':
          break;
        case 'action':
          await move('REQUIRES_ACTION', createdMs + 5);
          break;
        case 'authorized':
          await move('AUTHORIZED', authMs);
          processingMs = latency;
          break;
        case 'captured':
        case 'partial_refund':
        case 'full_refund':
        case 'refund_failed_late':
          await move('PROCESSING', createdMs + 1);
          await move('CAPTURED', authMs, { amountCaptured: full });
          processingMs = latency;
          if (fate === 'partial_refund') {
            const part = Money.fromMinor(Math.max(1, Math.floor(Money.of(amount, currency.code).toMinor() / 3)), currency.code).toString();
            await refund(part, 'SUCCEEDED');
            await refund(part, 'FAILED');
            await move('PARTIALLY_REFUNDED', authMs + 2500, { amountRefunded: part });
          } else if (fate === 'full_refund') {
            await refund(full, 'SUCCEEDED');
            await move('REFUNDED', authMs + 2500, { amountRefunded: full });
          } else if (fate === 'refund_failed_late') {
            await refund(full, 'LATE_FAILED');
          }
          break;
        case 'failed':
          await move('FAILED', createdMs + 300, { failure });
          declineCode = failure.declineCode ?? failure.code;
          break;
        case 'voided':
          await move('AUTHORIZED', authMs);
          await move('CANCELLED', authMs + 60_000);
          processingMs = latency;
          break;
        case 'expired':
          await move('REQUIRES_ACTION', createdMs + 5);
          await move('EXPIRED', createdMs + 900_000);
          break;
        case 'late_success':
          // Reported failed first, then captured after all (a late success the gateway reported).
          await move('FAILED', createdMs + 200, { failure });
          await move('CAPTURED', authMs + 500, { amountCaptured: full, failure: null });
          processingMs = latency + 500;
          break;
      }
      plan.push({
        merchantId,
        gateway: payment.gateway,
        method: payment.paymentMethod,
        currency: currency.code,
        createdAt: payment.createdAt,
        status: payment.status,
        captured: payment.amountCaptured,
        refunded: refunded.toString(),
        processingMs,
        declineCode,
      });
    });
  }
  // Several payments written at once (as concurrent requests do), each payment's steps in order.
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  return plan;
}

function groupKey(p: PlannedPayment, groupBy: AnalyticsGroupBy | undefined): string | null {
  if (!groupBy) return null;
  if (groupBy === 'gateway') return p.gateway;
  if (groupBy === 'method') return analyticsMethod(p.method);
  if (groupBy === 'currency') return p.currency;
  return p.createdAt.slice(0, 10);
}

/** The aggregates `query` should answer over `plan`, computed from the plan alone. */
export function expectedAggregates(plan: readonly PlannedPayment[], query: PaymentAnalyticsQuery): PaymentAnalyticsAggregate[] {
  const groups = new Map<string | null, PaymentAnalyticsAggregate>();
  for (const p of plan) {
    if (query.merchantId !== undefined && p.merchantId !== query.merchantId) continue;
    if (p.createdAt < query.from || p.createdAt >= query.to) continue;
    const key = groupKey(p, query.groupBy);
    const agg: PaymentAnalyticsAggregate = groups.get(key) ?? { group: key, statuses: {}, captured: {}, refunded: {}, processingMs: {}, declines: {} };
    groups.set(key, agg);
    agg.statuses[p.status] = (agg.statuses[p.status] ?? 0) + 1;
    agg.captured[p.currency] = Money.of(agg.captured[p.currency] ?? '0', p.currency).add(Money.of(p.captured, p.currency)).toString();
    agg.refunded[p.currency] = Money.of(agg.refunded[p.currency] ?? '0', p.currency).add(Money.of(p.refunded, p.currency)).toString();
    if (p.processingMs !== null) {
      const bucket = String(processingTimeBucket(p.processingMs));
      agg.processingMs[bucket] = (agg.processingMs[bucket] ?? 0) + 1;
    }
    if (p.status === 'FAILED') agg.declines[p.declineCode ?? 'unknown'] = (agg.declines[p.declineCode ?? 'unknown'] ?? 0) + 1;
  }
  return normaliseAggregates([...groups.values()]);
}

/**
 * Aggregates in one comparable form: groups sorted, zero counts and zero sums dropped, amounts at
 * their currency's decimals (a store may answer `100.5000` or leave a zero row behind).
 */
export function normaliseAggregates(aggregates: readonly PaymentAnalyticsAggregate[]): PaymentAnalyticsAggregate[] {
  const counts = (r: Readonly<Record<string, number | undefined>>): Record<string, number> =>
    Object.fromEntries(Object.entries(r).filter((e): e is [string, number] => e[1] !== undefined && e[1] !== 0).sort(([a], [b]) => (a < b ? -1 : 1)));
  const sums = (r: Readonly<Record<string, string>>): Record<string, string> =>
    Object.fromEntries(
      Object.entries(r)
        .map(([c, v]) => [c, Money.of(v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v, c)] as const)
        .filter(([, m]) => !m.isZero())
        .map(([c, m]): [string, string] => [c, m.toString()])
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  return aggregates
    .map((a) => ({ group: a.group, statuses: counts(a.statuses), captured: sums(a.captured), refunded: sums(a.refunded), processingMs: counts(a.processingMs), declines: counts(a.declines) }))
    .filter((a) => Object.keys(a.statuses).length > 0)
    .sort((a, b) => ((a.group ?? '') < (b.group ?? '') ? -1 : (a.group ?? '') > (b.group ?? '') ? 1 : 0));
}

/** Registers the analytics store conformance suite under `describe(name)`; one store for the whole suite. */
export function runAnalyticsStoreConformance(name: string, makeStore: () => Promise<AnalyticsStoreUnderTest>): void {
  const { afterAll, beforeAll, describe, expect, it } = vitestApi();
  describe(`AnalyticsStore conformance: ${name}`, () => {
    let subject: AnalyticsStoreUnderTest;
    let plan: PlannedPayment[];
    beforeAll(async () => {
      subject = await makeStore();
      plan = await writeAnalyticsData(subject.store);
    }, 120_000);
    afterAll(async () => {
      await subject?.teardown();
    });
    const whole = { from: iso(ANALYTICS_DAY0), to: iso(ANALYTICS_DAY0 + 3 * DAY) };
    // Cut inside the first and last day, so a store keeping whole-day sums must add the edges.
    const cut = { from: iso(ANALYTICS_DAY0 + 6 * 3_600_000 + 123), to: iso(ANALYTICS_DAY0 + 2 * DAY + 18 * 3_600_000) };
    const check = async (query: PaymentAnalyticsQuery) => {
      const expected = expectedAggregates(plan, query);
      expect(expected.length).toBeGreaterThan(0);
      expect(normaliseAggregates(await subject.store.paymentAnalytics(query))).toEqual(expected);
    };

    it('sums one merchant\'s payments of whole days (status counts, captured and refunded per currency, processing times, declines)', async () => {
      await check({ merchantId: 'm_analytics_a', ...whole });
    });
    it('sums every merchant\'s payments when no merchant is named', async () => {
      await check(whole);
    });
    it('sums a window cut inside days exactly', async () => {
      await check({ merchantId: 'm_analytics_a', ...cut });
      await check(cut);
    });
    for (const groupBy of ['gateway', 'method', 'currency', 'day'] as const) {
      it(`groups by ${groupBy}, on whole days and on a cut window`, async () => {
        await check({ merchantId: 'm_analytics_a', ...whole, groupBy });
        await check({ ...cut, groupBy });
      });
    }
    it('answers nothing for a window or a merchant without payments', async () => {
      expect(normaliseAggregates(await subject.store.paymentAnalytics({ merchantId: 'm_analytics_a', from: iso(ANALYTICS_DAY0 - DAY), to: iso(ANALYTICS_DAY0) }))).toEqual([]);
      expect(normaliseAggregates(await subject.store.paymentAnalytics({ merchantId: 'm_nobody', ...whole, groupBy: 'day' }))).toEqual([]);
    });
  });
}
