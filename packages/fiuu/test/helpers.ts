import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpTransport } from '@tender/core';
import { createFiuuGateway } from '@tender/fiuu';
import type { FiuuConfig, FiuuGatewayOptions } from '@tender/fiuu';
import { startFiuuSandbox } from '@tender/fiuu/sandbox';
import type { FiuuSandbox, FiuuSandboxOptions, SandboxMerchant } from '@tender/fiuu/sandbox';

export const MERCHANT = { merchantId: 'SB_tender', verifyKey: 'vk_0123456789abcdef0123456789abcdef', secretKey: 'sk_fedcba9876543210fedcba9876543210' };

/** A sandbox plus a gateway pointed at it through core's real transport. */
export async function sandboxAndGateway(options: {
  merchant?: Partial<SandboxMerchant>;
  sandbox?: Partial<FiuuSandboxOptions>;
  gateway?: Partial<FiuuConfig>;
  gatewayOptions?: FiuuGatewayOptions;
} = {}) {
  const sandbox = await startFiuuSandbox({ merchants: [{ ...MERCHANT, ...options.merchant }], ...options.sandbox });
  const transport = createHttpTransport({ gateway: 'fiuu', timeoutMs: 1000, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 } });
  const gateway = createFiuuGateway(
    { ...MERCHANT, sandbox: true, paymentHost: sandbox.paymentHost, apiHost: sandbox.apiHost, transport, requery: { minIntervalMs: 0, perSecond: 1000 }, ...options.gateway },
    options.gatewayOptions,
  );
  return {
    sandbox,
    gateway,
    transport,
    async close() {
      await sandbox.close();
      await transport.close();
    },
  };
}

/** A loopback HTTP server for the merchant side; resolves its base URL. */
export async function merchantServer(handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void | Promise<void>) {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      await handler(req, Buffer.concat(chunks), res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** Resolves when `predicate` holds for the sandbox's deliveries (event-driven, no sleeps). */
export function waitForDeliveries(sandbox: FiuuSandbox, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sandbox.events.off('delivery', check);
      reject(new Error(`deliveries not as expected after ${timeoutMs} ms: ${JSON.stringify(sandbox.deliveries.map((d) => [d.kind, d.status, d.httpStatus]))}`));
    }, timeoutMs);
    const check = () => {
      if (!predicate()) return;
      clearTimeout(timer);
      sandbox.events.off('delivery', check);
      resolve();
    };
    sandbox.events.on('delivery', check);
  });
}
