/**
 * `runGatewayConformance`: the vitest suite every gateway package runs against its own sandbox. It
 * drives the gateway through the real engine (with a MemoryStore), so what it proves is what users get.
 *
 * ```ts
 * runGatewayConformance({
 *   name: 'fiuu',
 *   setup: async () => {
 *     const sandbox = await startFiuuSandbox(...);
 *     return { gateway: createFiuuGateway(...), currency: 'MYR', paymentMethod: 'FPX',
 *              completeAction: (payment, outcome) => sandbox.complete(payment, outcome),
 *              teardown: () => sandbox.close() };
 *   },
 * });
 * ```
 *
 * @module
 */
import { vitestApi } from './vitest-api';
import { TenderError } from '../errors';
import { createTender, type Tender } from '../engine/create-tender';
import type { Payment } from '../payment';
import type { GatewayV1 } from '../spec/gateway/v1/index';
import { MemoryStore } from './memory-store';

/** What a gateway package's `setup` returns. */
export interface GatewayUnderTest {
  gateway: GatewayV1;
  /** A currency the gateway accepts. */
  currency: string;
  /** A payment method that the sandbox can approve or decline. */
  paymentMethod: string | null;
  /** A major-unit amount valid in `currency` (default `"100.00"`, or `"100"` for 0-decimal currencies). */
  amount?: string;
  /** Finishes the customer's part of a `REQUIRES_ACTION` payment in the sandbox. */
  completeAction(payment: Payment, outcome: 'approve' | 'decline'): Promise<void>;
  teardown(): Promise<void>;
}

/** Options of {@link runGatewayConformance}. */
export interface GatewayConformanceOptions {
  name: string;
  setup: () => Promise<GatewayUnderTest>;
  /** Test titles to skip, with the reason in a comment at the call site. */
  skip?: readonly string[];
}

/** Registers the gateway conformance suite. */
export function runGatewayConformance(options: GatewayConformanceOptions): void {
  const { afterEach, beforeEach, describe, expect, it } = vitestApi();
  describe(`Gateway conformance: ${options.name}`, () => {
    let subject: GatewayUnderTest;
    let tender: Tender;
    const test = (title: string, fn: () => Promise<void>) => (options.skip?.includes(title) ? it.skip(title, fn) : it(title, fn));

    beforeEach(async () => {
      subject = await options.setup();
      tender = createTender({ gateways: [subject.gateway], store: new MemoryStore() });
    });
    afterEach(async () => {
      await subject.teardown();
    });

    const create = (extra: Record<string, unknown> = {}) =>
      tender.payments.create({
        amount: subject.amount ?? '100.00',
        currency: subject.currency,
        paymentMethod: subject.paymentMethod,
        orderId: `ORD-${Math.random().toString(36).slice(2, 10)}`,
        customer: { name: 'Conformance Tester', email: 'tester@example.com', phone: '+60123456789' },
        returnUrl: 'https://merchant.example/return',
        description: 'conformance',
        ...extra,
      });

    /** Pays a payment through the sandbox and lets the engine learn the outcome by requery. */
    const pay = async (outcome: 'approve' | 'decline', extra: Record<string, unknown> = {}) => {
      let payment = await create(extra);
      if (payment.status === 'REQUIRES_ACTION') {
        expect(payment.nextAction).not.toBeNull();
        await subject.completeAction(payment, outcome);
        await tender.reconcile({ processingAfterMs: 0, requiresActionTtlMs: 0 });
        payment = await tender.payments.get(payment.id);
      }
      return payment;
    };

    test('declares spec v1, an id and coherent capabilities', async () => {
      const g = subject.gateway;
      expect(g.specVersion).toBe('v1');
      expect(g.id).toMatch(/^[a-z][a-z0-9_-]*$/);
      if (g.capabilities.manualCapture) expect(typeof g.capture).toBe('function');
      if (g.capabilities.cancel) expect(typeof g.cancel).toBe('function');
      expect(typeof g.refund).toBe('function');
      expect(typeof g.retrieve).toBe('function');
      if (g.capabilities.currencies !== '*') expect(g.capabilities.currencies).toContain(subject.currency);
    });

    test('an approved payment ends CAPTURED with the exact amount', async () => {
      const payment = await pay('approve');
      expect(payment.status).toBe('CAPTURED');
      expect(payment.gatewayReference).toBeTruthy();
      expect(payment.amountCaptured).toBe(payment.amount);
    });

    test('a declined payment ends FAILED with a reason', async () => {
      const payment = await pay('decline');
      expect(payment.status).toBe('FAILED');
      expect(payment.failure?.code).toBeTruthy();
    });

    test('partial refunds up to the captured amount, never beyond', async () => {
      if (!subject.gateway.capabilities.partialRefund) return;
      const payment = await pay('approve');
      expect(payment.status).toBe('CAPTURED');
      const first = await tender.payments.refund(payment.id, { amount: subject.amount === '100' ? '30' : '30.00' });
      expect(first.status).not.toBe('FAILED');
      expect((await tender.payments.get(payment.id)).status).toBe('PARTIALLY_REFUNDED');
      await expect(tender.payments.refund(payment.id, { amount: subject.amount === '100' ? '80' : '80.00' })).rejects.toMatchObject({ code: 'amount_too_large' });
      const rest = await tender.payments.refund(payment.id);
      expect(rest.status).not.toBe('FAILED');
      expect((await tender.payments.get(payment.id)).status).toBe('REFUNDED');
    });

    test('a repeated create with one idempotency key makes one payment', async () => {
      const body = { amount: subject.amount ?? '100.00', currency: subject.currency, paymentMethod: subject.paymentMethod, orderId: 'ORD-IDEM' };
      const a = await tender.payments.create(body, { idempotencyKey: 'conformance-key' });
      let replayed = false;
      const b = await tender.payments.create(body, { idempotencyKey: 'conformance-key', onReplay: () => (replayed = true) });
      expect(replayed).toBe(true);
      expect(b).toEqual(a);
      expect((await tender.payments.list({ limit: 10 })).data).toHaveLength(1);
    });

    test('requery of a payment the gateway never saw is "not found", not a success', async () => {
      const outcome = subject.gateway.retrieve(
        { paymentId: 'pay_never_sent', orderId: 'ORD-NEVER', gatewayReference: null, amount: (await import('../money')).Money.of('1.00', subject.currency === 'JPY' ? 'MYR' : subject.currency), gatewayData: {} },
        { idempotencyKey: 'never', now: new Date() },
      );
      await expect(outcome).rejects.toSatisfy((e: unknown) => TenderError.isInstance(e) && e.type === 'not_found_error');
    });

    test('webhooks with a bad signature are rejected as webhook_signature_error', async () => {
      const bad = tender.webhooks.handle(subject.gateway.id, { headers: {}, rawBody: new TextEncoder().encode('forged=1&status=00') });
      await expect(bad).rejects.toSatisfy((e: unknown) => TenderError.isInstance(e) && e.type === 'webhook_signature_error');
    });
  });
}
