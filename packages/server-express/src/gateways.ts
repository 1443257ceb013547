/**
 * Gateways from the environment, or — in simulation mode — from the packages' sandboxes started on
 * loopback. Each gateway talks through its own core transport so its circuit state is observable.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createHttpTransport, redactingLogger, transportOptionsFromEnv, type GatewayV1, type HttpTransport, type Logger, type RoutingRule } from '@tender/core';
import { createFiuuGateway } from '@tender/fiuu';
import { createStripeGateway } from '@tender/stripe';
import type { ServerConfig } from './config';

/** What {@link buildGateways} produced. */
export interface GatewaySetup {
  gateways: GatewayV1[];
  transports: HttpTransport[];
  routing: RoutingRule[];
  /** Set in simulation mode. */
  simulation: null | {
    fiuu: { url: string; merchantId: string };
    stripe: { url: string; publishableKey: string };
  };
  /** Stops sandboxes and closes transports. */
  close(): Promise<void>;
}

/** Where the server is reachable, for the URLs gateways call back. */
export interface CallbackUrls {
  publicUrl: string;
}

function transportFor(gateway: string, prefix: string, env: Readonly<Record<string, string | undefined>>, logger: Logger): HttpTransport {
  return createHttpTransport({ ...transportOptionsFromEnv(gateway, prefix, env), logger: redactingLogger(logger) });
}

/** Builds the configured gateways (real credentials). */
export function gatewaysFromConfig(config: ServerConfig, env: Readonly<Record<string, string | undefined>>, logger: Logger): GatewaySetup {
  const gateways: GatewayV1[] = [];
  const transports: HttpTransport[] = [];
  if (config.FIUU_MERCHANT_ID && config.FIUU_VERIFY_KEY && config.FIUU_SECRET_KEY) {
    const transport = transportFor('fiuu', 'FIUU', env, logger);
    transports.push(transport);
    gateways.push(
      createFiuuGateway({
        merchantId: config.FIUU_MERCHANT_ID,
        verifyKey: config.FIUU_VERIFY_KEY,
        secretKey: config.FIUU_SECRET_KEY,
        sandbox: config.FIUU_SANDBOX ?? false,
        ...(config.FIUU_BASE_URL ? { paymentHost: config.FIUU_BASE_URL, apiHost: config.FIUU_API_URL ?? config.FIUU_BASE_URL } : {}),
        ...(config.FIUU_API_URL && !config.FIUU_BASE_URL ? { apiHost: config.FIUU_API_URL } : {}),
        transport,
      }),
    );
  }
  if (config.STRIPE_SECRET_KEY) {
    const transport = transportFor('stripe', 'STRIPE', env, logger);
    transports.push(transport);
    gateways.push(
      createStripeGateway({
        secretKey: config.STRIPE_SECRET_KEY,
        ...(config.STRIPE_WEBHOOK_SECRET ? { webhookSecret: config.STRIPE_WEBHOOK_SECRET } : {}),
        ...(config.STRIPE_BASE_URL ? { baseUrl: config.STRIPE_BASE_URL } : {}),
        transport,
      }),
    );
  }
  return {
    gateways,
    transports,
    routing: [],
    simulation: null,
    async close() {
      await Promise.allSettled(transports.map((t) => t.close()));
    },
  };
}

/**
 * Simulation mode: starts the Fiuu and Stripe sandboxes on loopback (fakes speaking the real wire
 * protocols), registers this server's webhook and return URLs with them, and configures the gateways
 * against them with freshly generated keys.
 */
export async function simulatedGateways(urls: CallbackUrls, env: Readonly<Record<string, string | undefined>>, logger: Logger): Promise<GatewaySetup> {
  const { startFiuuSandbox } = await import('@tender/fiuu/sandbox');
  const { startStripeSandbox } = await import('@tender/stripe/sandbox');
  const merchant = {
    merchantId: 'SB_tender_simulation',
    verifyKey: randomBytes(16).toString('hex'),
    secretKey: randomBytes(16).toString('hex'),
    returnUrl: `${urls.publicUrl}/api/v1/payments/fiuu/return`,
    notificationUrl: `${urls.publicUrl}/api/v1/webhooks/fiuu`,
    callbackUrl: `${urls.publicUrl}/api/v1/webhooks/fiuu`,
  };
  const fiuuSandbox = await startFiuuSandbox({ merchants: [merchant] });
  const stripeWebhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
  let stripeSandbox;
  try {
    stripeSandbox = await startStripeSandbox({ webhook: { url: `${urls.publicUrl}/api/v1/webhooks/stripe`, secret: stripeWebhookSecret } });
  } catch (error) {
    await fiuuSandbox.close();
    throw error;
  }
  const fiuuTransport = transportFor('fiuu', 'FIUU', env, logger);
  const stripeTransport = transportFor('stripe', 'STRIPE', env, logger);
  const fiuu = createFiuuGateway({
    merchantId: merchant.merchantId,
    verifyKey: merchant.verifyKey,
    secretKey: merchant.secretKey,
    sandbox: true,
    paymentHost: fiuuSandbox.paymentHost,
    apiHost: fiuuSandbox.apiHost,
    // The sandbox's single-transaction requery limit is off; keep ours short so the demo resolves fast.
    requery: { minIntervalMs: 0 },
    transport: fiuuTransport,
  });
  const stripe = createStripeGateway({ secretKey: stripeSandbox.secretKey, webhookSecret: stripeWebhookSecret, baseUrl: stripeSandbox.url, transport: stripeTransport });
  const sandboxes = [fiuuSandbox, stripeSandbox];
  return {
    gateways: [fiuu, stripe],
    transports: [fiuuTransport, stripeTransport],
    // Card payments go to Stripe; Fiuu's own channels (FPX, e-wallets...) to Fiuu.
    routing: [{ paymentMethods: ['card', 'CARD'], gateways: ['stripe', 'fiuu'] }],
    simulation: { fiuu: { url: fiuuSandbox.url, merchantId: merchant.merchantId }, stripe: { url: stripeSandbox.url, publishableKey: stripeSandbox.publishableKey } },
    async close() {
      await Promise.allSettled(sandboxes.map((s) => s.close()));
      await Promise.allSettled([fiuuTransport.close(), stripeTransport.close()]);
    },
  };
}
