/**
 * stripe-webhook: `Stripe-Signature` verifications per second with `@tender/stripe` against stripe-node's
 * `webhooks.constructEvent` on the same signed payloads in the same run. Both sides verify and parse
 * the event (constructEvent always parses), so the work compared is the same.
 */
import { readFileSync } from 'node:fs';
import Stripe from 'stripe';
import { signStripePayload, verifyStripeSignature } from '@tender/stripe';
import { compare, type BenchResult } from './lib';

const SECRET = 'whsec_bench_secret_0123456789abcdef';
const ITERATIONS = 30_000;
/** The `stripe` package this folder has installed: the figure names what it measured. */
const STRIPE_VERSION = (JSON.parse(readFileSync(new URL('./node_modules/stripe/package.json', import.meta.url), 'utf8')) as { version: string }).version;

function payloads(): Array<{ raw: Buffer; header: string }> {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: 64 }, (_, i) => {
    const event = {
      id: `evt_bench_${i}`,
      object: 'event',
      api_version: '2025-08-27.basil',
      created: now,
      data: { object: { id: `pi_bench_${i}`, object: 'payment_intent', amount: 1000 + i, currency: 'usd', status: 'succeeded', metadata: { tender_payment_id: `pay_${i}` } } },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'payment_intent.succeeded',
    };
    const text = JSON.stringify(event, null, 2);
    return { raw: Buffer.from(text), header: signStripePayload({ payload: text, secret: SECRET, timestamp: now }) };
  });
}

function rate(fn: (i: number) => unknown): number {
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i++) fn(i);
  return ITERATIONS / ((performance.now() - start) / 1000);
}

export default async function run(): Promise<BenchResult[]> {
  const items = payloads();
  const stripe = new Stripe('sk_test_bench');
  const ours = (i: number) => {
    const { raw, header } = items[i & 63]!;
    verifyStripeSignature(raw, header, SECRET);
    return JSON.parse(raw.toString('utf8'));
  };
  const theirs = (i: number) => {
    const { raw, header } = items[i & 63]!;
    return stripe.webhooks.constructEvent(raw, header, SECRET);
  };
  // Warm up, then alternate rounds so machine noise hits both alike.
  rate(ours);
  rate(theirs);
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 7; round++) {
    a.push(rate(ours));
    b.push(rate(theirs));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return [
    compare('stripe-webhook', median(a), 'verifications/s (verify + parse)', `stripe-node ${STRIPE_VERSION} webhooks.constructEvent`, median(b), {
      payloadBytes: items[0]!.raw.length,
      rounds: a.map((v, i) => `${v.toFixed(0)} vs ${b[i]!.toFixed(0)}`).join(', '),
    }),
  ];
}
