/**
 * A Stripe sandbox, the official `stripe` client pointed at it, and a webhook endpoint that accepts
 * only what `stripe.webhooks.constructEvent` verifies: what the billing tests share.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { waitFor } from '@tender/core/testing';
import { startStripeSandbox, type StripeSandbox, type StripeSandboxOptions } from '@tender/stripe/sandbox';

/** What a billing test gets. */
export interface BillingHarness {
  sandbox: StripeSandbox;
  stripe: Stripe;
  /** Verified events, in arrival order. */
  received: Stripe.Event[];
  /** Messages of deliveries `constructEvent` rejected. */
  rejected: string[];
  /** The first verified event matching, once it arrives. */
  event(predicate: (e: Stripe.Event) => boolean, what: string): Promise<Stripe.Event>;
  /** Advances a test clock to `frozenTime` and waits until it is ready again. */
  advance(clock: string, frozenTime: number): Promise<Stripe.TestHelpers.TestClock>;
  close(): Promise<void>;
}

const SECRET = 'whsec_billing_harness';

/** Starts the sandbox and the verifying webhook endpoint. */
export async function startBillingHarness(options: StripeSandboxOptions = {}): Promise<BillingHarness> {
  const received: Stripe.Event[] = [];
  const rejected: string[] = [];
  let stripe: Stripe | null = null;
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        received.push(stripe!.webhooks.constructEvent(Buffer.concat(chunks), String(req.headers['stripe-signature']), SECRET));
        res.writeHead(200).end('{"received":true}');
      } catch (error) {
        rejected.push((error as Error).message);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const sandbox = await startStripeSandbox({ ...options, webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, secret: SECRET } });
  stripe = new Stripe(sandbox.secretKey, { host: sandbox.host, port: sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
  const client = stripe;
  return {
    sandbox,
    stripe: client,
    received,
    rejected,
    event: (predicate, what) => waitFor(() => received.find(predicate), what, 10_000, 10),
    async advance(clock, frozenTime) {
      const started = await client.testHelpers.testClocks.advance(clock, { frozen_time: frozenTime });
      if (started.status !== 'advancing') throw new Error(`advance answered status ${started.status}`);
      return waitFor(async () => {
        const now = await client.testHelpers.testClocks.retrieve(clock);
        if (now.status === 'internal_failure') throw new Error(`test clock ${clock} failed`);
        return now.status === 'ready' ? now : null;
      }, `test clock ${clock} ready`, 10_000, 10);
    },
    async close() {
      await sandbox.close();
      await new Promise((resolve) => receiver.close(resolve));
    },
  };
}

/** One day in seconds. */
export const DAY = 86_400;
