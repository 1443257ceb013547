import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { Money } from '@tender/core';
import { createUpiGateway } from '@tender/upi';

it('the sandbox CLI prints its URL and keys; a gateway configured from them takes a UPI payment the app page pays; SIGTERM stops it', async () => {
  const cli = fileURLToPath(new URL('../src/sandbox/cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RAZORPAY_SANDBOX_KEY_ID: 'rzp_test_cli' } });
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const info = JSON.parse(line) as { url: string; keyId: string; keySecret: string; webhookSecret: string; upiAppUrl: string };
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.keyId).toBe('rzp_test_cli');
    expect(info.upiAppUrl).toContain('{paymentId}');
    const gateway = createUpiGateway({ provider: 'razorpay', keyId: info.keyId, keySecret: info.keySecret, webhookSecret: info.webhookSecret, baseUrl: info.url, defaultIp: '127.0.0.1' });
    const created = await gateway.createPayment(
      { paymentId: 'pay_cli', merchantId: 'm', orderId: null, amount: Money.of('10.00', 'INR'), captureMethod: 'automatic', paymentMethod: 'upi', description: null, customer: { email: 'p@example.com', phone: '+919876543210' }, returnUrl: null, notifyUrl: null, metadata: {} },
      { idempotencyKey: 'cli-1', now: new Date() },
    );
    expect(created).toMatchObject({ status: 'REQUIRES_ACTION', nextAction: { type: 'upi_intent' } });
    const app = info.upiAppUrl.replace('{paymentId}', encodeURIComponent(created.gatewayReference!));
    const answer = await fetch(app, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=approve', redirect: 'manual' });
    await answer.arrayBuffer();
    expect(answer.status).toBeLessThan(400);
    const after = await gateway.retrieve({ paymentId: 'pay_cli', orderId: null, gatewayReference: created.gatewayReference!, amount: Money.of('10.00', 'INR'), gatewayData: created.gatewayData ?? {} }, { idempotencyKey: 'cli-2', now: new Date() });
    expect(after.status).toBe('CAPTURED');
    await gateway.close();
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(0);
});
