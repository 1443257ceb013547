import { describe, expect, it } from 'vitest';
import { ConfigError, isSimulation, loadConfig } from '@tender/server-express';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('server configuration from the environment', () => {
  it('fills in the documented defaults, treating empty variables as unset', () => {
    const c = loadConfig({ PORT: '', DATABASE_URL: 'postgres://tender@db:5432/tender' });
    expect(c.PORT).toBe(8080);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.DATABASE_POOL_MAX).toBe(10);
    expect(c.RECONCILE_INTERVAL).toBe(30_000);
    expect(c.RATE_LIMIT_PER_IP).toBe(600);
  });

  it('reads numbers and durations', () => {
    const c = loadConfig({ PORT: '9000', DATABASE_POOL_MAX: '4', OUTBOX_INTERVAL: '250ms', SHUTDOWN_TIMEOUT: '5s' });
    expect(c).toMatchObject({ PORT: 9000, DATABASE_POOL_MAX: 4, OUTBOX_INTERVAL: 250, SHUTDOWN_TIMEOUT: 5000 });
  });

  it('names every bad variable at once, with what is wrong', () => {
    const error = configError({ PORT: 'eighty', DATABASE_POOL_MAX: '0', DATABASE_URL: 'mysql://x', OUTBOX_INTERVAL: 'soon', LOG_LEVEL: 'loud' });
    const names = error.issues.map((issue) => issue.split(':')[0]);
    expect(names.sort()).toEqual(['DATABASE_POOL_MAX', 'DATABASE_URL', 'LOG_LEVEL', 'OUTBOX_INTERVAL', 'PORT']);
    expect(error.issues).toContain('DATABASE_POOL_MAX: must be positive');
    expect(error.message).toMatch(/^Invalid configuration:\n {2}- /);
  });

  it('never echoes a secret it rejects', () => {
    const secret = 'too-short-but-still-secret';
    const error = configError({ JWT_SECRET: secret, FIUU_SECRET_KEY: 'fiuu-secret-value' });
    expect(error.issues).toContain('JWT_SECRET: must be at least 32 characters (HS256)');
    // Partial Fiuu credentials: the missing ones are named, the given secret is not repeated.
    expect(error.issues).toEqual(expect.arrayContaining(['FIUU_MERCHANT_ID: is required when any FIUU_* credential is set', 'FIUU_VERIFY_KEY: is required when any FIUU_* credential is set']));
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('fiuu-secret-value');
  });

  it('turns PayPal and UPI on only with their whole credential set, naming what is missing', () => {
    const paypal = configError({ PAYPAL_CLIENT_ID: 'id', PAYPAL_CLIENT_SECRET: 'paypal-secret-value' });
    expect(paypal.issues).toEqual(['PAYPAL_WEBHOOK_ID: is required when any PAYPAL_* credential is set']);
    expect(paypal.message).not.toContain('paypal-secret-value');
    const razorpay = configError({ RAZORPAY_KEY_ID: 'rzp_test_1', UPI_BASE_URL: 'http://127.0.0.1:1' });
    expect(razorpay.issues.sort()).toEqual(['RAZORPAY_KEY_SECRET: is required when any RAZORPAY_* credential is set', 'RAZORPAY_WEBHOOK_SECRET: is required when any RAZORPAY_* credential is set']);
    expect(configError({ PAYPAL_BASE_URL: 'http://127.0.0.1:1' }).issues).toEqual(['PAYPAL_CLIENT_ID: is required when PAYPAL_BASE_URL is set']);
    expect(configError({ PAYPAL_WEBHOOK_VERIFICATION: 'maybe', PAYPAL_CLIENT_ID: 'a', PAYPAL_CLIENT_SECRET: 'b', PAYPAL_WEBHOOK_ID: 'c' }).issues[0]).toMatch(/^PAYPAL_WEBHOOK_VERIFICATION: /);
    const full = loadConfig({ PAYPAL_CLIENT_ID: 'a', PAYPAL_CLIENT_SECRET: 'b', PAYPAL_WEBHOOK_ID: 'c' });
    expect(full).toMatchObject({ PAYPAL_MODE: 'sandbox', PAYPAL_WEBHOOK_VERIFICATION: 'offline' });
    expect(isSimulation(full)).toBe(false);
    const upi = loadConfig({ RAZORPAY_KEY_ID: 'rzp_test_1', RAZORPAY_KEY_SECRET: 's', RAZORPAY_WEBHOOK_SECRET: 'w' });
    expect(upi).toMatchObject({ UPI_PROVIDER: 'razorpay', UPI_EXPIRY: 15 * 60_000 });
    expect(isSimulation(upi)).toBe(false);
    expect(isSimulation(loadConfig({}))).toBe(true);
  });

  it('reads GATEWAY_ROUTING as JSON rules and names what is wrong with them', () => {
    const c = loadConfig({ GATEWAY_ROUTING: '[{"currencies":["USD","EUR"],"gateways":["stripe","paypal"]},{"paymentMethods":["upi"],"gateways":["upi"]}]' });
    expect(c.GATEWAY_ROUTING).toEqual([{ currencies: ['USD', 'EUR'], gateways: ['stripe', 'paypal'] }, { paymentMethods: ['upi'], gateways: ['upi'] }]);
    expect(configError({ GATEWAY_ROUTING: 'stripe,paypal' }).issues).toEqual(['GATEWAY_ROUTING: must be a JSON array of rules']);
    expect(configError({ GATEWAY_ROUTING: '[{"gateways":["adyen"]}]' }).issues[0]).toMatch(/^GATEWAY_ROUTING: .*fiuu, stripe, paypal, upi/);
    expect(configError({ GATEWAY_ROUTING: '[{"currencies":["usd"],"gateways":["stripe"]}]' }).issues[0]).toMatch(/ISO 4217/);
    expect(configError({ GATEWAY_ROUTING: '[{"gateways":[]}]' }).issues[0]).toMatch(/at least one gateway/);
  });
});
