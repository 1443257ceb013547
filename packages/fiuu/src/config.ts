/**
 * Gateway configuration and its validation. Points where Fiuu's own sources disagree (sandbox API host,
 * `/RMS/` vs `/MOLPay/` prefix, `currency` vs `cur`, legacy skey key, IPN echo) are options here,
 * each defaulting to the reading of the Fiuu API Spec v13.86.
 *
 * @module
 */
import { TenderError } from '@tender/core';
import type { HttpTransport } from '@tender/core';

/** Production payment host (payment page, seamless script, `returnipn.php`). */
export const PRODUCTION_PAYMENT_HOST = 'https://pay.fiuu.com';
/** Production merchant-API host (requery, refund, capture). */
export const PRODUCTION_API_HOST = 'https://api.fiuu.com';
/** Sandbox payment host. */
export const SANDBOX_PAYMENT_HOST = 'https://sandbox-payment.fiuu.com';
/**
 * Sandbox API host. Disputed: the spec (p.66) says `sandbox-payment.fiuu.com`, the official XDK and
 * WooCommerce plugin use `sandbox-api.fiuu.com`; we follow the code and let `apiHost` override it.
 */
export const SANDBOX_API_HOST = 'https://sandbox-api.fiuu.com';

/** What {@link createFiuuGateway} accepts. */
export interface FiuuConfig {
  /** Fiuu merchant ID (`domain` on the wire); sandbox IDs start with `SB_`. */
  merchantId: string;
  /** Verify Key: seeds `vcode`/`mpsvcode` and most API request hashes. Never sent to a browser. */
  verifyKey: string;
  /**
   * Secret Key: verifies payment-result `skey`s and API response `VrfKey`s, signs refunds and
   * reversals. Optional only with `legacySkeyWithVerifyKey`, where it defaults to the verify key.
   */
  secretKey?: string;
  /** Use the sandbox hosts. Default false. */
  sandbox?: boolean;
  /** Payment host override (scheme + host [+ port]), e.g. the local sandbox's `paymentHost`. */
  paymentHost?: string;
  /** Merchant-API host override; see {@link SANDBOX_API_HOST} for why this exists. */
  apiHost?: string;
  /** Path prefix: `RMS` (current docs, default) or `MOLPay` (official plugins, legacy). */
  pathPrefix?: 'RMS' | 'MOLPay';
  /** Extended vcode: append the currency to the vcode input (enabled per account by Fiuu support). */
  extendedVcode?: boolean;
  /** Old (pre-v13.3) accounts: the payment-result `skey` is keyed with the Verify Key. */
  legacySkeyWithVerifyKey?: boolean;
  /**
   * Name of the currency field on the payment page: `currency` (spec v13.86, default), `cur` (older
   * spec and official plugins) or `both`.
   */
  currencyField?: 'currency' | 'cur' | 'both';
  /** Post back notifications with `treq=1` (back-end IPN). Default true; turn off if IPN is disabled in the portal. */
  notificationIpn?: boolean;
  /** Also post back verified return-URL results with `treq=1`. Default false. */
  returnIpn?: boolean;
  /** Version segment of the official seamless script URL. Default `3.28` (production) / `latest` (sandbox). */
  seamlessVersion?: string;
  /** Payment-page language (`en` or `cn`). */
  langcode?: 'en' | 'cn';
  /**
   * Requery rate limits. Fiuu allows "at most 1 query every 5 s" (Fiuu API Spec v13.86 p.66) and blocks the IP of
   * massive queriers; the per-API limits are 30/s (q_by_tid) and 10/s (q_by_oid).
   */
  requery?: { minIntervalMs?: number; perSecond?: number };
  /** Transport to use (core's `createHttpTransport` is created when absent). */
  transport?: HttpTransport;
  /** Timeout per API request, ms (used when this package creates the transport). Default 30 000. */
  timeoutMs?: number;
  /** Retry attempts (used when this package creates the transport). Default 3. */
  retryAttempts?: number;
  /** Base retry delay, ms (used when this package creates the transport). Default 1000. */
  retryDelayMs?: number;
}

/** A validated configuration with every default filled in. */
export interface ResolvedFiuuConfig {
  merchantId: string;
  verifyKey: string;
  secretKey: string;
  sandbox: boolean;
  paymentHost: string;
  apiHost: string;
  pathPrefix: 'RMS' | 'MOLPay';
  extendedVcode: boolean;
  legacySkeyWithVerifyKey: boolean;
  currencyField: 'currency' | 'cur' | 'both';
  notificationIpn: boolean;
  returnIpn: boolean;
  seamlessVersion: string;
  langcode: 'en' | 'cn' | undefined;
  requeryMinIntervalMs: number;
  requeryPerSecond: number;
  timeoutMs: number;
  retryAttempts: number;
  retryDelayMs: number;
}

function configError(field: string, message: string): TenderError {
  return new TenderError({
    type: 'invalid_request_error',
    code: 'invalid_gateway_config',
    message: `Fiuu config: ${field} ${message}`,
    param: field,
  });
}

function requireString(config: Record<string, unknown>, field: string): string {
  const value = config[field];
  if (value === undefined || value === null || value === '') throw configError(field, 'is required');
  if (typeof value !== 'string') throw configError(field, `must be a string, got ${typeof value}`);
  if (value.trim() !== value || /\s/.test(value)) throw configError(field, 'must not contain whitespace');
  return value;
}

function host(config: Record<string, unknown>, field: string, fallback: string): string {
  const value = config[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw configError(field, 'must be a URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(field, `is not a valid URL: '${value}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError(field, 'must use http or https');
  if (url.search || url.hash) throw configError(field, 'must not carry a query or fragment');
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function positive(config: Record<string, unknown>, field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw configError(field, 'must be a non-negative number');
  return value;
}

function oneOf<T extends string>(config: Record<string, unknown>, field: string, allowed: readonly T[], fallback: T): T {
  const value = config[field];
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw configError(field, `must be one of ${allowed.join(', ')}; got '${String(value)}'`);
  return value as T;
}

function flag(config: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const value = config[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw configError(field, 'must be a boolean');
  return value;
}

/**
 * Validates a configuration and fills defaults.
 * @throws TenderError `invalid_gateway_config` whose `param` names the missing or malformed field.
 */
export function resolveFiuuConfig(input: FiuuConfig): ResolvedFiuuConfig {
  if (typeof input !== 'object' || input === null) throw configError('config', 'must be an object');
  const config = input as unknown as Record<string, unknown>;
  const merchantId = requireString(config, 'merchantId');
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(merchantId)) throw configError('merchantId', `must be 1-32 letters, digits, '_' or '-'; got '${merchantId}'`);
  const verifyKey = requireString(config, 'verifyKey');
  const legacySkeyWithVerifyKey = flag(config, 'legacySkeyWithVerifyKey', false);
  const secretKey = config.secretKey === undefined && legacySkeyWithVerifyKey ? verifyKey : requireString(config, 'secretKey');
  const sandbox = flag(config, 'sandbox', false);
  const requery = (config.requery ?? {}) as Record<string, unknown>;
  if (typeof requery !== 'object') throw configError('requery', 'must be an object');
  const requeryPerSecond = positive(config, 'requery.perSecond', requery.perSecond, 10);
  if (requeryPerSecond === 0) throw configError('requery.perSecond', 'must be greater than 0');
  if (config.transport !== undefined) {
    const t = config.transport as Record<string, unknown>;
    if (typeof t !== 'object' || t === null || typeof t.request !== 'function') throw configError('transport', 'must implement HttpTransport');
  }
  const langcode = config.langcode === undefined ? undefined : oneOf(config, 'langcode', ['en', 'cn'] as const, 'en');
  return {
    merchantId,
    verifyKey,
    secretKey,
    sandbox,
    paymentHost: host(config, 'paymentHost', sandbox ? SANDBOX_PAYMENT_HOST : PRODUCTION_PAYMENT_HOST),
    apiHost: host(config, 'apiHost', sandbox ? SANDBOX_API_HOST : PRODUCTION_API_HOST),
    pathPrefix: oneOf(config, 'pathPrefix', ['RMS', 'MOLPay'] as const, 'RMS'),
    extendedVcode: flag(config, 'extendedVcode', false),
    legacySkeyWithVerifyKey,
    currencyField: oneOf(config, 'currencyField', ['currency', 'cur', 'both'] as const, 'currency'),
    notificationIpn: flag(config, 'notificationIpn', true),
    returnIpn: flag(config, 'returnIpn', false),
    seamlessVersion:
      config.seamlessVersion === undefined ? (sandbox ? 'latest' : '3.28') : requireString(config, 'seamlessVersion'),
    langcode,
    requeryMinIntervalMs: positive(config, 'requery.minIntervalMs', requery.minIntervalMs, 5000),
    requeryPerSecond,
    timeoutMs: positive(config, 'timeoutMs', config.timeoutMs, 30_000),
    retryAttempts: positive(config, 'retryAttempts', config.retryAttempts, 3),
    retryDelayMs: positive(config, 'retryDelayMs', config.retryDelayMs, 1000),
  };
}

/** The key that verifies payment-result `skey`s for this account. */
export function skeyKey(config: ResolvedFiuuConfig): string {
  return config.legacySkeyWithVerifyKey ? config.verifyKey : config.secretKey;
}

/** URL paths of Fiuu endpoints, under the configured prefix. */
export function endpoints(config: ResolvedFiuuConfig) {
  const pay = `${config.paymentHost}/${config.pathPrefix}`;
  const api = `${config.apiHost}/${config.pathPrefix}`;
  return {
    /** Hosted payment page (POST; the trailing `/` is required with POST, Fiuu API Spec v13.86 p.23). */
    payment: `${pay}/pay/${encodeURIComponent(config.merchantId)}/`,
    returnIpn: `${pay}/API/chkstat/returnipn.php`,
    seamlessScript: `${pay}/API/seamless/${config.seamlessVersion}/js/MOLPay_seamless.deco.js`,
    qByTid: `${api}/q_by_tid.php`,
    qByOid: `${api}/query/q_by_oid.php`,
    capture: `${api}/API/capstxn/index.php`,
    reversal: `${api}/API/refundAPI/refund.php`,
    refund: `${api}/API/refundAPI/index.php`,
    refundByRefId: `${api}/API/refundAPI/q_by_refID.php`,
    refundByTxn: `${api}/API/refundAPI/q_by_txn.php`,
    settlementReport: `${api}/API/settlement/report.php`,
  };
}
