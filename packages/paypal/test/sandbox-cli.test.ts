import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { createPayPalGateway } from '@tender/paypal';

it('the sandbox CLI prints its URL, credentials and certTrust; a gateway configured from them works; SIGTERM stops it', async () => {
  const cli = fileURLToPath(new URL('../src/sandbox/cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PAYPAL_SANDBOX_CLIENT_ID: 'cli-client' } });
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const info = JSON.parse(line) as { url: string; clientId: string; clientSecret: string; webhookId: string; certUrl: string; certTrust: { hosts: string[]; caCertificatesPem: string[]; allowHttpLoopback: boolean } };
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.clientId).toBe('cli-client');
    expect(info.certTrust.hosts).toEqual([new URL(info.url).host]);
    const gateway = createPayPalGateway({ clientId: info.clientId, clientSecret: info.clientSecret, webhookId: info.webhookId, mode: 'sandbox', baseUrl: info.url, certTrust: info.certTrust });
    const ctx = { idempotencyKey: 'cli-1', now: new Date() };
    const { Money } = await import('@tender/core');
    const created = await gateway.createPayment(
      { paymentId: 'pay_cli', merchantId: 'm', orderId: null, amount: Money.of('3.00', 'USD'), captureMethod: 'automatic', paymentMethod: 'paypal', description: null, customer: {} as never, returnUrl: null, notifyUrl: null, metadata: {} },
      ctx,
    );
    expect(created).toMatchObject({ status: 'REQUIRES_ACTION', nextAction: { type: 'redirect' } });
    await gateway.close();
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(0);
});

it('with --tls it also prints the TLS port and the CA that signed its api-m.sandbox.paypal.com certificate', async () => {
  const cli = fileURLToPath(new URL('../src/sandbox/cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--tls', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const info = JSON.parse(line) as { tlsPort: number; caPem: string };
    expect(info.tlsPort).toBeGreaterThan(0);
    expect(info.caPem).toContain('BEGIN CERTIFICATE');
    const { connect } = await import('node:tls');
    const socket = connect({ host: '127.0.0.1', port: info.tlsPort, servername: 'api-m.sandbox.paypal.com', ca: info.caPem });
    await once(socket, 'secureConnect');
    expect(socket.authorized).toBe(true);
    socket.destroy();
  } finally {
    child.kill('SIGTERM');
  }
  await once(child, 'exit');
});
