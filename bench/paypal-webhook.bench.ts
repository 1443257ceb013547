/**
 * paypal-webhook: offline PayPal webhook verifications per second with `@tender/paypal`'s
 * `verifyWebhook` (header reading, transmission-time window, cert URL rule, certificate chain and
 * validity, CRC-32 of the raw body, SHA256withRSA) against a straightforward `node:crypto` check of
 * the same signed string in the same run: CRC-32 with `zlib.crc32`, the
 * `transmission_id|transmission_time|webhook_id|crc32` string, `crypto.verify` with the signing
 * certificate's public key parsed once and kept (the fastest a hand-written verifier gets: no URL
 * rule, no time window, no chain check). PayPal's SDKs have no offline verifier to compare with. The
 * certificate is served by an in-memory transport (no socket), from the sandbox's CA, so both sides
 * verify the same 2048-bit RSA signature. `extra` also reports a verifier that parses the PEM on every
 * call, as a naive one would.
 *
 * `@tender/paypal` is loaded from its built `dist` by path (it is not a dependency of this folder).
 */
import { createPublicKey, verify } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type * as PayPal from '@tender/paypal';
import type * as PayPalSandbox from '@tender/paypal/sandbox';
import type { HttpRequest, HttpResponse, HttpTransport } from '@tender/core';
import { compare, type BenchResult } from './lib';

const ITERATIONS = 4_000;
const WEBHOOK_ID = 'BENCHWEBHOOK1';
const CERT_URL = 'http://127.0.0.1:1/v1/notifications/certs/CERT-360caa42-bench-0001';

function pemTransport(pem: string): HttpTransport {
  const body = new TextEncoder().encode(pem);
  const response: HttpResponse = { status: 200, headers: {}, body, text: () => pem, json: <T>() => ({}) as T, attempts: 1 };
  return {
    gateway: 'paypal',
    circuitState: 'closed',
    worstCaseMs: 1000,
    async request(request: HttpRequest) {
      if (request.url !== CERT_URL) throw new Error(`unexpected request ${request.url}`);
      return response;
    },
    onEvent: () => () => {},
    close: async () => {},
  };
}

async function rate(fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i++) await fn(i);
  return ITERATIONS / ((performance.now() - start) / 1000);
}

export default async function run(): Promise<BenchResult[]> {
  const paypal = (await import(new URL('../packages/paypal/dist/index.js', import.meta.url).href)) as typeof PayPal;
  const sandbox = (await import(new URL('../packages/paypal/dist/sandbox/index.js', import.meta.url).href)) as typeof PayPalSandbox;
  const certificates = sandbox.createSandboxCertificates();
  const leafPem = certificates.signing.certificatePem;
  const gateway = paypal.createPayPalGateway({
    clientId: 'bench',
    clientSecret: 'bench',
    webhookId: WEBHOOK_ID,
    mode: 'sandbox',
    transport: pemTransport(leafPem + certificates.ca.certificatePem),
    certTrust: { hosts: ['127.0.0.1:1'], caCertificatesPem: [certificates.ca.certificatePem], allowHttpLoopback: true },
  });

  const now = new Date();
  const transmissionTime = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const items = Array.from({ length: 64 }, (_, i) => {
    const event = {
      id: `WH-BENCH${i}`,
      event_version: '1.0',
      create_time: transmissionTime,
      resource_type: 'capture',
      resource_version: '2.0',
      event_type: 'PAYMENT.CAPTURE.COMPLETED',
      summary: 'Payment completed for $ 10.0 USD',
      resource: { id: `CAP${i}`, status: 'COMPLETED', amount: { currency_code: 'USD', value: `${10 + i}.00` }, final_capture: true, custom_id: `pay_bench_${i}`, supplementary_data: { related_ids: { order_id: `ORDER${i}` } } },
      links: [{ href: `https://api.sandbox.paypal.com/v1/notifications/webhooks-events/WH-BENCH${i}`, rel: 'self', method: 'GET' }],
    };
    const rawBody = new TextEncoder().encode(JSON.stringify(event));
    const transmissionId = `0000${i}-1584-11e7-abf0-6b62a8a99ac4`;
    const headers = {
      'paypal-transmission-id': transmissionId,
      'paypal-transmission-time': transmissionTime,
      'paypal-transmission-sig': paypal.signPayPalWebhook({ transmissionId, transmissionTime, webhookId: WEBHOOK_ID, body: rawBody, privateKeyPem: certificates.signing.privateKeyPem }),
      'paypal-cert-url': CERT_URL,
      'paypal-auth-algo': 'SHA256withRSA',
    };
    return { rawBody, headers };
  });

  const ours = (i: number) => {
    const item = items[i & 63]!;
    return gateway.verifyWebhook({ headers: item.headers, rawBody: item.rawBody }, now);
  };
  const naive = (i: number) => {
    const { rawBody, headers } = items[i & 63]!;
    const message = `${headers['paypal-transmission-id']}|${headers['paypal-transmission-time']}|${WEBHOOK_ID}|${crc32(rawBody) >>> 0}`;
    if (!verify('sha256', Buffer.from(message), leafPem, Buffer.from(headers['paypal-transmission-sig'], 'base64'))) throw new Error('baseline did not verify');
  };
  // The baseline: the same check with the public key parsed once.
  const key = createPublicKey(leafPem);
  const theirs = (i: number) => {
    const { rawBody, headers } = items[i & 63]!;
    const message = `${headers['paypal-transmission-id']}|${headers['paypal-transmission-time']}|${WEBHOOK_ID}|${crc32(rawBody) >>> 0}`;
    if (!verify('sha256', Buffer.from(message), key, Buffer.from(headers['paypal-transmission-sig'], 'base64'))) throw new Error('baseline did not verify');
  };
  // Both must verify before anything is timed.
  await ours(0);
  theirs(0);
  await rate(ours);
  await rate(theirs);
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 7; round++) {
    a.push(await rate(ours));
    b.push(await rate(theirs));
  }
  const c: number[] = [];
  for (let round = 0; round < 3; round++) c.push(await rate(naive));
  await gateway.close();
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return [
    compare('paypal-webhook', median(a), 'verifications/s (offline, cached certificate)', 'node:crypto verify of the same signed string (key parsed once; no URL rule, time window or chain check)', median(b), {
      payloadBytes: items[0]!.rawBody.length,
      nodeCryptoPemParsedPerCallPerSecond: Math.round(median(c)),
      rounds: a.map((v, i) => `${v.toFixed(0)} vs ${b[i]!.toFixed(0)}`).join(', '),
    }),
  ];
}
