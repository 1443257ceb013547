/**
 * The gRPC listener's life: a key still in use while its first call waits at Stripe (ABORTED), the
 * health service following the store's readiness, the per-merchant rate limit, and graceful
 * shutdown (health NOT_SERVING told to watchers, calls in flight finished, new ones refused). Against
 * a Stripe sandbox this test starts, so it can hold a request at the gateway.
 */
import { Writable } from 'node:stream';
import { status as Status, type ClientReadableStream } from '@grpc/grpc-js';
import { MemoryStore } from '@tender/core/testing';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';
import { healthClient, paymentClient, richStatus, text, type PaymentClient } from './grpc-client';

const SECRET = 'grpc-life-secret-grpc-life-secret-0123456789';
const MERCHANT_LIMIT = 30;

/** A store whose readiness check can be made to fail (a database that went away). */
class FlakyStore extends MemoryStore {
  down = false;
  async ping(): Promise<void> {
    if (this.down) throw new Error('connection refused');
  }
}

let stripe: StripeSandbox;
let store: FlakyStore;
let server: TenderServer;
let grpc: PaymentClient;

beforeAll(async () => {
  stripe = await startStripeSandbox();
  store = new FlakyStore();
  server = await startTenderServer({
    store,
    logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    env: {
      PORT: '0',
      GRPC_PORT: '0',
      JWT_SECRET: SECRET,
      RECONCILE_INTERVAL: '0',
      OUTBOX_INTERVAL: '1h',
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_BASE_URL: stripe.url,
      RATE_LIMIT_PER_IP: '100000',
      RATE_LIMIT_PER_MERCHANT: String(MERCHANT_LIMIT),
    },
  });
  grpc = paymentClient(server.grpcAddress!, await signToken({ secret: SECRET, merchantId: 'shop' }));
});
afterAll(async () => {
  grpc?.close();
  await server?.close();
  await stripe?.close();
});

const card = { amount: '12.00', currency: 'USD', payment_method: 'pm_card_visa' };

async function until(condition: () => Promise<boolean> | boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Holds the next PaymentIntent create at the sandbox for `ms`, and says when it has arrived there. */
function stallNextCreate(ms: number): () => boolean {
  stripe.faults.add({ kind: 'stall', delayMs: ms, match: /^POST \/v1\/payment_intents$/ });
  return () => stripe.faults.pending.length === 0;
}

describe('gRPC lifecycle', () => {
  it('answers ABORTED idempotency_key_in_use (with a retry delay) while the first call with the key is at the gateway', async () => {
    // Long enough that the second call, a few milliseconds of local work, is surely answered first.
    const arrived = stallNextCreate(2500);
    const first = grpc.call('CreatePayment', card, { 'idempotency-key': 'life-1' });
    await until(arrived, 'the create to reach Stripe');
    const second = await grpc.call('CreatePayment', card, { 'idempotency-key': 'life-1' });
    expect(second.error?.code).toBe(Status.ABORTED);
    expect(text(second.error!.metadata, 'error-code')).toBe('idempotency_key_in_use');
    expect(Number(text(second.error!.metadata, 'retry-after'))).toBeGreaterThan(0);
    expect(Number(richStatus(second.error!.metadata)!.details.RetryInfo.retry_delay.seconds)).toBeGreaterThan(0);
    const done = await first;
    expect(done.error).toBeNull();
    expect(done.response.payment.status).toBe('PAYMENT_STATUS_CAPTURED');
    const third = await grpc.call('CreatePayment', card, { 'idempotency-key': 'life-1' });
    expect(third.response.payment.id).toBe(done.response.payment.id);
    expect(text(third.headers, 'idempotent-replayed')).toBe('true');
  });

  it("health follows the store's readiness: NOT_SERVING while it is down, SERVING once it is back", async () => {
    const health = healthClient(server.grpcAddress!);
    const check = () => new Promise<string>((resolve, reject) => health.Check({ service: '' }, (error: Error | null, res: any) => (error ? reject(error) : resolve(res.status))));
    try {
      expect(await check()).toBe('SERVING');
      store.down = true;
      await until(async () => (await check()) === 'NOT_SERVING', 'NOT_SERVING');
      store.down = false;
      await until(async () => (await check()) === 'SERVING', 'SERVING again');
    } finally {
      store.down = false;
      health.close();
    }
  });

  it('limits calls per merchant as REST does: RESOURCE_EXHAUSTED rate_limited with retry-after', async () => {
    const flooder = paymentClient(server.grpcAddress!, await signToken({ secret: SECRET, merchantId: 'flood' }));
    try {
      const codes: number[] = [];
      for (let i = 0; i <= MERCHANT_LIMIT; i++) codes.push((await flooder.call('GetPayment', { payment_id: 'pay_none' })).error!.code);
      expect(codes.slice(0, MERCHANT_LIMIT).every((c) => c === Status.NOT_FOUND)).toBe(true);
      const limited = await flooder.call('GetPayment', { payment_id: 'pay_none' });
      expect(limited.error?.code).toBe(Status.RESOURCE_EXHAUSTED);
      expect(text(limited.error!.metadata, 'error-code')).toBe('rate_limited');
      expect(Number(text(limited.error!.metadata, 'retry-after'))).toBeGreaterThan(0);
      // Another merchant has its own budget.
      expect((await grpc.call('GetPayment', { payment_id: 'pay_none' })).error?.code).toBe(Status.NOT_FOUND);
    } finally {
      flooder.close();
    }
  });

  it('shuts down gracefully: watchers see NOT_SERVING, the call in flight completes, new calls are refused', async () => {
    const health = healthClient(server.grpcAddress!);
    const seen: string[] = [];
    const watch = health.Watch({ service: '' }) as ClientReadableStream<{ status: string }>;
    const ended = new Promise<number>((resolve) => watch.on('status', (s) => resolve(s.code)));
    watch.on('data', (m) => seen.push(m.status));
    watch.on('error', () => undefined);
    try {
      await until(() => seen.includes('SERVING'), 'the watch to report SERVING');
      const arrived = stallNextCreate(500);
      const inFlight = grpc.call('CreatePayment', { ...card, order_id: 'ORD-DRAIN' });
      await until(arrived, 'the create to reach Stripe');
      const closed = server.close();
      await until(() => seen.includes('NOT_SERVING'), 'the watch to report NOT_SERVING');
      expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
      expect(await ended).toBe(Status.OK);
      const done = await inFlight;
      expect(done.error).toBeNull();
      expect(done.response.payment.status).toBe('PAYMENT_STATUS_CAPTURED');
      const refused = await grpc.call('GetPayment', { payment_id: done.response.payment.id });
      expect(refused.error?.code).toBe(Status.UNAVAILABLE);
      await closed;
    } finally {
      health.close();
    }
  });
});
