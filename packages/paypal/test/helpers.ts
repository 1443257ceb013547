/** Shared test setup: a sandbox and a gateway that trusts its certificate. */
import { createHttpTransport } from '@tender/core';
import { createPayPalGateway, type PayPalGateway, type PayPalGatewayOptions } from '@tender/paypal';
import { startPayPalSandbox, type PayPalSandbox, type PayPalSandboxOptions } from '@tender/paypal/sandbox';

/** A gateway for `sandbox` (fast retries; simulation trust of the sandbox's certificate). */
export function gatewayFor(sandbox: PayPalSandbox, extra: Partial<PayPalGatewayOptions> = {}): PayPalGateway {
  return createPayPalGateway({
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    webhookId: sandbox.webhookId,
    mode: 'sandbox',
    baseUrl: sandbox.url,
    certTrust: sandbox.certTrust,
    transport: createHttpTransport({ gateway: 'paypal', retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }),
    ...extra,
  });
}

/** A sandbox and a gateway over it. */
export async function sandboxAndGateway(options: PayPalSandboxOptions = {}, extra: Partial<PayPalGatewayOptions> = {}): Promise<{ sandbox: PayPalSandbox; gateway: PayPalGateway; close(): Promise<void> }> {
  const sandbox = await startPayPalSandbox(options);
  const gateway = gatewayFor(sandbox, extra);
  return {
    sandbox,
    gateway,
    async close() {
      await gateway.close();
      await sandbox.close();
    },
  };
}

/** Polls `check` until true (webhook deliveries settle in between). */
export async function waitFor(check: () => Promise<boolean> | boolean, sandbox?: PayPalSandbox, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sandbox?.webhooks.idle();
    await new Promise((r) => setTimeout(r, 5));
  }
}
