/**
 * Gateways from the environment, or — in simulation mode — from the packages' sandboxes started on
 * loopback. Each gateway talks through its own core transport so its circuit state is observable.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { Money, createHttpTransport, redactingLogger, transportOptionsFromEnv, type GatewayV1, type HttpTransport, type Logger, type RoutingRule } from '@tender/core';
import { createFiuuGateway } from '@tender/fiuu';
import { createPayPalGateway } from '@tender/paypal';
import { createStripeBilling, createStripeGateway } from '@tender/stripe';
import { createUpiGateway } from '@tender/upi';
import type { ServerConfig } from './config';

/** What {@link buildGateways} produced. */
export interface GatewaySetup {
  gateways: GatewayV1[];
  transports: HttpTransport[];
  routing: RoutingRule[];
  /** Set in simulation mode. */
  simulation: null | {
    fiuu: { url: string; merchantId: string };
    /** `prices`: the demo prices made in the Stripe sandbox, so `POST /subscriptions` has a `price_id` to name. */
    stripe: { url: string; publishableKey: string; prices: Array<{ id: string; description: string }> };
    paypal: { url: string };
    upi: { url: string; upiAppUrl(razorpayPaymentId: string): string };
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

function upiExpiryMinutes(config: ServerConfig): number {
  return Math.round(config.UPI_EXPIRY / 60_000);
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
  if (config.PAYPAL_CLIENT_ID && config.PAYPAL_CLIENT_SECRET && config.PAYPAL_WEBHOOK_ID) {
    const transport = transportFor('paypal', 'PAYPAL', env, logger);
    transports.push(transport);
    gateways.push(
      createPayPalGateway({
        clientId: config.PAYPAL_CLIENT_ID,
        clientSecret: config.PAYPAL_CLIENT_SECRET,
        webhookId: config.PAYPAL_WEBHOOK_ID,
        mode: config.PAYPAL_MODE,
        webhookVerification: config.PAYPAL_WEBHOOK_VERIFICATION,
        ...(config.PAYPAL_BASE_URL ? { baseUrl: config.PAYPAL_BASE_URL } : {}),
        transport,
      }),
    );
  }
  if (config.RAZORPAY_KEY_ID && config.RAZORPAY_KEY_SECRET && config.RAZORPAY_WEBHOOK_SECRET) {
    const transport = transportFor('upi', 'UPI', env, logger);
    transports.push(transport);
    gateways.push(
      createUpiGateway({
        provider: config.UPI_PROVIDER,
        keyId: config.RAZORPAY_KEY_ID,
        keySecret: config.RAZORPAY_KEY_SECRET,
        webhookSecret: config.RAZORPAY_WEBHOOK_SECRET,
        ...(config.RAZORPAY_PREVIOUS_WEBHOOK_SECRET ? { previousWebhookSecret: config.RAZORPAY_PREVIOUS_WEBHOOK_SECRET } : {}),
        ...(config.UPI_BASE_URL ? { baseUrl: config.UPI_BASE_URL } : {}),
        expiryMinutes: upiExpiryMinutes(config),
        ...(config.UPI_DEFAULT_EMAIL ? { defaultEmail: config.UPI_DEFAULT_EMAIL } : {}),
        ...(config.UPI_DEFAULT_CONTACT ? { defaultContact: config.UPI_DEFAULT_CONTACT } : {}),
        ...(config.UPI_DEFAULT_IP ? { defaultIp: config.UPI_DEFAULT_IP } : {}),
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
 * The demo plan's prices, made in the Stripe sandbox through its API as a merchant makes them in
 * Stripe: subscriptions need a price, and a sandbox starts empty.
 */
async function demoPrices(baseUrl: string, secretKey: string): Promise<Array<{ id: string; description: string }>> {
  const billing = createStripeBilling({ secretKey, baseUrl });
  try {
    const product = await billing.products.create({ name: 'Tender demo plan' });
    const plans = [
      { amount: Money.of('10.00', 'USD'), interval: 'month' as const, description: 'USD 10.00 a month' },
      { amount: Money.of('100.00', 'USD'), interval: 'year' as const, description: 'USD 100.00 a year' },
    ];
    const prices = [];
    for (const plan of plans) {
      const price = await billing.prices.create({ product: product.id, unitAmount: plan.amount, interval: plan.interval, nickname: plan.description });
      prices.push({ id: price.id, description: plan.description });
    }
    return prices;
  } finally {
    await billing.close();
  }
}

/**
 * Simulation mode: starts the Fiuu, Stripe, PayPal and Razorpay (UPI) sandboxes on loopback (fakes
 * speaking the real wire protocols), registers this server's webhook and return URLs with them, and
 * configures the gateways against them with freshly generated keys. PayPal's webhooks are verified
 * offline against the sandbox's own certificate authority, trusted for this run only.
 */
export async function simulatedGateways(urls: CallbackUrls, env: Readonly<Record<string, string | undefined>>, logger: Logger): Promise<GatewaySetup> {
  const [{ startFiuuSandbox }, { startStripeSandbox }, { startPayPalSandbox }, { startRazorpaySandbox }] = await Promise.all([
    import('@tender/fiuu/sandbox'),
    import('@tender/stripe/sandbox'),
    import('@tender/paypal/sandbox'),
    import('@tender/upi/sandbox'),
  ]);
  const merchant = {
    merchantId: 'SB_tender_simulation',
    verifyKey: randomBytes(16).toString('hex'),
    secretKey: randomBytes(16).toString('hex'),
    returnUrl: `${urls.publicUrl}/api/v1/payments/fiuu/return`,
    notificationUrl: `${urls.publicUrl}/api/v1/webhooks/fiuu`,
    callbackUrl: `${urls.publicUrl}/api/v1/webhooks/fiuu`,
  };
  const stripeWebhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
  const sandboxes: Array<{ close(): Promise<void> }> = [];
  const start = async <T extends { close(): Promise<void> }>(sandbox: Promise<T>): Promise<T> => {
    const started = await sandbox;
    sandboxes.push(started);
    return started;
  };
  const transports: HttpTransport[] = [];
  const transport = (gateway: string, prefix: string) => {
    const t = transportFor(gateway, prefix, env, logger);
    transports.push(t);
    return t;
  };
  try {
    const fiuuSandbox = await start(startFiuuSandbox({ merchants: [merchant] }));
    const stripeSandbox = await start(startStripeSandbox({ webhook: { url: `${urls.publicUrl}/api/v1/webhooks/stripe`, secret: stripeWebhookSecret } }));
    const paypalSandbox = await start(startPayPalSandbox({ clientId: `sim-${randomBytes(8).toString('hex')}`, clientSecret: randomBytes(24).toString('base64url'), webhook: { url: `${urls.publicUrl}/api/v1/webhooks/paypal` } }));
    const upiSandbox = await start(
      startRazorpaySandbox({
        keyId: `rzp_test_${randomBytes(7).toString('hex')}`,
        keySecret: randomBytes(18).toString('base64url'),
        webhookSecret: randomBytes(18).toString('base64url'),
        webhook: { url: `${urls.publicUrl}/api/v1/webhooks/upi` },
        merchantName: 'Tender Demo',
        merchantVpa: 'tenderdemo@razorpay',
      }),
    );
    const fiuu = createFiuuGateway({
      merchantId: merchant.merchantId,
      verifyKey: merchant.verifyKey,
      secretKey: merchant.secretKey,
      sandbox: true,
      paymentHost: fiuuSandbox.paymentHost,
      apiHost: fiuuSandbox.apiHost,
      // The sandbox's single-transaction requery limit is off; keep ours short so the demo resolves fast.
      requery: { minIntervalMs: 0 },
      transport: transport('fiuu', 'FIUU'),
    });
    const stripe = createStripeGateway({ secretKey: stripeSandbox.secretKey, webhookSecret: stripeWebhookSecret, baseUrl: stripeSandbox.url, transport: transport('stripe', 'STRIPE') });
    const prices = await demoPrices(stripeSandbox.url, stripeSandbox.secretKey);
    const paypal = createPayPalGateway({
      clientId: paypalSandbox.clientId,
      clientSecret: paypalSandbox.clientSecret,
      webhookId: paypalSandbox.webhookId,
      mode: 'sandbox',
      baseUrl: paypalSandbox.url,
      certTrust: paypalSandbox.certTrust,
      transport: transport('paypal', 'PAYPAL'),
    });
    const upi = createUpiGateway({
      provider: 'razorpay',
      keyId: upiSandbox.keyId,
      keySecret: upiSandbox.keySecret,
      webhookSecret: upiSandbox.webhookSecret,
      baseUrl: upiSandbox.url,
      expiryMinutes: 15,
      // The payer's details Razorpay requires, for requests that carry none (a UPI body in paise has none).
      defaultEmail: 'payer@example.com',
      defaultContact: '+919000000000',
      defaultIp: '127.0.0.1',
      transport: transport('upi', 'UPI'),
    });
    return {
      gateways: [fiuu, stripe, paypal, upi],
      transports,
      // Card payments go to Stripe; Fiuu's own channels (FPX, e-wallets...) to Fiuu; PayPal and UPI to
      // the only gateways that declare them.
      routing: [{ paymentMethods: ['card', 'CARD'], gateways: ['stripe', 'fiuu'] }],
      simulation: {
        fiuu: { url: fiuuSandbox.url, merchantId: merchant.merchantId },
        stripe: { url: stripeSandbox.url, publishableKey: stripeSandbox.publishableKey, prices },
        paypal: { url: paypalSandbox.url },
        upi: { url: upiSandbox.url, upiAppUrl: (id) => upiSandbox.upiAppUrl(id) },
      },
      async close() {
        await Promise.allSettled(sandboxes.map((s) => s.close()));
        await Promise.allSettled(transports.map((t) => t.close()));
      },
    };
  } catch (error) {
    await Promise.allSettled(sandboxes.map((s) => s.close()));
    await Promise.allSettled(transports.map((t) => t.close()));
    throw error;
  }
}
