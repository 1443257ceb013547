/**
 * fiuu-webhook: Fiuu notifications (`nbcb=2`, status 00) verified and applied per second through the
 * engine (skey check, parse, inbox dedup, state transition, outbox; MemoryStore), against bare
 * `md5` skey computation of the same fields in the same run. The IPN echo is off (no network).
 */
import { createTender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createFiuuGateway, paymentSkey } from '@tender/fiuu';
import { compare, throughput, type BenchResult } from './lib';

const merchant = { merchantId: 'SB_bench', verifyKey: 'bench-verify-key-0123456789abcdef', secretKey: 'bench-secret-key-0123456789abcdef' };
const noNetwork = {
  gateway: 'fiuu',
  circuitState: 'closed' as const,
  request: () => Promise.reject(new Error('no network in this benchmark')),
  worstCaseMs: 0,
  onEvent: () => () => {},
  close: async () => {},
};

export default async function fiuuWebhook(): Promise<BenchResult> {
  const gateway = createFiuuGateway({ ...merchant, notificationIpn: false, transport: noNetwork });
  const tender = createTender({ gateways: [gateway], store: new MemoryStore() });
  const N = Number(process.env.FIUU_BENCH_N ?? 8000);
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < N; i++) {
    const p = await tender.payments.create({ amount: '100.50', currency: 'MYR', paymentMethod: 'FPX', gateway: 'fiuu', orderId: `ORD-${i}` });
    const f = { tranID: String(3_000_000_000 + i), orderid: `ORD-${i}`, status: '00', domain: merchant.merchantId, amount: '100.50', currency: 'MYR', paydate: '2025-05-15 10:00:00', appcode: '123456' };
    const fields = { nbcb: '2', ...f, skey: paymentSkey(f, merchant.secretKey), channel: 'fpx', extraP: JSON.stringify({ metadata: { tender_payment_id: p.id } }) };
    bodies.push(new TextEncoder().encode(new URLSearchParams(fields).toString()));
  }

  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const body = bodies[next++]!;
        const handled = await tender.webhooks.handle('fiuu', { headers: {}, rawBody: body });
        if (handled.outcomes[0]?.outcome !== 'applied') throw new Error(`unexpected outcome ${JSON.stringify(handled.outcomes)}`);
      }
    }),
  );
  const applied = N / ((performance.now() - started) / 1000);

  // Re-delivery of the same notifications: verified, recognised as duplicates, no effect.
  let d = 0;
  const duplicates = await throughput(() => tender.webhooks.handle('fiuu', { headers: {}, rawBody: bodies[d++ % N]! }), { ms: 1500, concurrency: 16 });

  const f = { tranID: '3000000001', orderid: 'ORD-1', status: '00', domain: merchant.merchantId, amount: '100.50', currency: 'MYR', paydate: '2025-05-15 10:00:00', appcode: '123456' };
  const bare = await throughput(async () => paymentSkey(f, merchant.secretKey), { ms: 1500, concurrency: 1 });
  return compare('fiuu-webhook', applied, 'notifications applied/s', 'bare md5 skey computations/s', bare, { duplicates_per_s: Math.round(duplicates), notifications: N });
}
