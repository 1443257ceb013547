/**
 * Configuration from environment variables, with the names of the Fiuu deployment guide
 * (`FIUU_MERCHANT_ID`, `FIUU_VERIFY_KEY`, `FIUU_SECRET_KEY`, `FIUU_SANDBOX`, `FIUU_TIMEOUT`,
 * `FIUU_RETRY_ATTEMPTS`, `FIUU_RETRY_DELAY`) plus host overrides.
 *
 * @module
 */
import { parseDurationMs } from '@tender/core';
import type { FiuuConfig } from './config';

/**
 * Reads a Fiuu configuration from the environment; `null` when no credentials are set (the
 * reference server then runs the sandbox: simulation mode). `FIUU_BASE_URL` sets both hosts;
 * `FIUU_PAYMENT_HOST` / `FIUU_API_HOST` set one each. Durations accept `30s`, `500ms` or seconds.
 * The result is validated by `createFiuuGateway`.
 */
export function fiuuConfigFromEnv(env: Record<string, string | undefined> = process.env): FiuuConfig | null {
  if (!env.FIUU_MERCHANT_ID && !env.FIUU_VERIFY_KEY && !env.FIUU_SECRET_KEY) return null;
  const config: FiuuConfig = { merchantId: env.FIUU_MERCHANT_ID ?? '', verifyKey: env.FIUU_VERIFY_KEY ?? '' };
  if (env.FIUU_SECRET_KEY) config.secretKey = env.FIUU_SECRET_KEY;
  if (env.FIUU_SANDBOX) config.sandbox = /^(1|true|yes)$/i.test(env.FIUU_SANDBOX.trim());
  const paymentHost = env.FIUU_PAYMENT_HOST ?? env.FIUU_BASE_URL;
  const apiHost = env.FIUU_API_HOST ?? env.FIUU_BASE_URL;
  if (paymentHost) config.paymentHost = paymentHost;
  if (apiHost) config.apiHost = apiHost;
  if (env.FIUU_TIMEOUT) config.timeoutMs = parseDurationMs(env.FIUU_TIMEOUT, 'FIUU_TIMEOUT');
  if (env.FIUU_RETRY_ATTEMPTS) config.retryAttempts = Number.parseInt(env.FIUU_RETRY_ATTEMPTS, 10);
  if (env.FIUU_RETRY_DELAY) config.retryDelayMs = parseDurationMs(env.FIUU_RETRY_DELAY, 'FIUU_RETRY_DELAY');
  if (env.FIUU_LEGACY_SKEY) config.legacySkeyWithVerifyKey = /^(1|true|yes)$/i.test(env.FIUU_LEGACY_SKEY.trim());
  if (env.FIUU_EXTENDED_VCODE) config.extendedVcode = /^(1|true|yes)$/i.test(env.FIUU_EXTENDED_VCODE.trim());
  if (env.FIUU_PATH_PREFIX === 'RMS' || env.FIUU_PATH_PREFIX === 'MOLPay') config.pathPrefix = env.FIUU_PATH_PREFIX;
  return config;
}
