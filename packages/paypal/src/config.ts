/**
 * Configuration of the PayPal gateway, validated at construction, and the wire constants it pins.
 *
 * @module
 */
import { invalidRequest, type Clock, type HttpTransport } from '@tender/core';
import { z } from 'zod';

/** PayPal's REST hosts (https://developer.paypal.com/api/rest/requests/). */
export const PAYPAL_BASE_URLS = Object.freeze({ live: 'https://api-m.paypal.com', sandbox: 'https://api-m.sandbox.paypal.com' });

/**
 * Hosts PayPal serves webhook signing certificates from (the `PAYPAL-CERT-URL` header), per mode. A
 * certificate is fetched only from `https://<one of these>/v1/notifications/certs/...`.
 */
export const PAYPAL_CERT_HOSTS = Object.freeze({
  live: Object.freeze(['api.paypal.com', 'api-m.paypal.com']),
  sandbox: Object.freeze(['api.sandbox.paypal.com', 'api-m.sandbox.paypal.com']),
});

/** Path prefix of PayPal's webhook certificate URLs. */
export const PAYPAL_CERT_PATH_PREFIX = '/v1/notifications/certs/';

/**
 * Default age limit of a webhook's `PAYPAL-TRANSMISSION-TIME`: three days, the window over which PayPal
 * redelivers a webhook that was not acknowledged (https://developer.paypal.com/api/rest/webhooks/).
 * Replays inside it are harmless: events are deduplicated by their id.
 */
export const PAYPAL_DEFAULT_WEBHOOK_MAX_AGE_SECONDS = 3 * 24 * 3600;
/** How far in the future a transmission time may be (clock skew). */
export const PAYPAL_DEFAULT_WEBHOOK_MAX_FUTURE_SECONDS = 300;

/**
 * Extra trust for webhook certificates, for a sandbox you run yourself (simulation mode). Refused in
 * `live` mode: live webhooks are verified only against PayPal's hosts and the public root CAs.
 */
export interface PayPalCertTrust {
  /** Extra cert hosts, `host` or `host:port` (e.g. `127.0.0.1:8123`); the path rule still applies. */
  hosts?: readonly string[];
  /** Extra trust anchors (PEM); the certificate chain must end at one of them or at a public root. */
  caCertificatesPem?: readonly string[];
  /** Allows `http:` cert URLs, and only on loopback hosts listed in `hosts` (127.0.0.1, ::1, localhost). */
  allowHttpLoopback?: boolean;
}

/** Options of {@link createPayPalGateway}. */
export interface PayPalGatewayOptions {
  /** REST app client id. */
  clientId: string;
  /** REST app secret. Never logged. */
  clientSecret: string;
  /** The id of the webhook (as PayPal lists it for your app); part of what PayPal signs. */
  webhookId: string;
  /** `sandbox` (api-m.sandbox.paypal.com) or `live` (api-m.paypal.com). */
  mode: 'sandbox' | 'live';
  /** Overrides the API host (a sandbox you run yourself). Default from `mode`. */
  baseUrl?: string;
  /**
   * `offline` (default): verify the RSA signature against PayPal's certificate locally.
   * `online`: ask PayPal (`POST /v1/notifications/verify-webhook-signature`).
   */
  webhookVerification?: 'offline' | 'online';
  /** Simulation only: trust a sandbox's certificate. See {@link PayPalCertTrust}. */
  certTrust?: PayPalCertTrust;
  /** Oldest accepted transmission time, in seconds before now (default three days). */
  webhookMaxAgeSeconds?: number;
  /** Latest accepted transmission time, in seconds after now (default 300). */
  webhookMaxFutureSeconds?: number;
  /** Transport; default `createHttpTransport({ gateway: 'paypal' })`. */
  transport?: HttpTransport;
  /** Per-request timeout in ms passed to the transport. */
  timeoutMs?: number;
  /** Refresh the access token this many seconds before it expires (default 300, at most half its life). */
  tokenRefreshMarginSeconds?: number;
  /** Time source of token expiry (default the wall clock). Webhook checks use the engine's `now`. */
  clock?: Clock;
  /** Brand shown on PayPal's approval page (`experience_context.brand_name`). */
  brandName?: string;
}

const nonEmpty = z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') }).trim().min(1, 'must not be empty');
const url = z.string().refine((u) => {
  try {
    const p = new URL(u);
    return p.protocol === 'https:' || p.protocol === 'http:';
  } catch {
    return false;
  }
}, 'must be an http(s) URL');
const seconds = z.number().int('must be an integer').min(0, 'must not be negative');

const OptionsSchema = z
  .object({
    clientId: nonEmpty,
    clientSecret: nonEmpty,
    webhookId: nonEmpty.regex(/^[A-Za-z0-9]+$/, 'must be letters and digits (PayPal webhook id)'),
    mode: z.enum(['sandbox', 'live'], { error: "must be 'sandbox' or 'live'" }),
    baseUrl: url.optional(),
    webhookVerification: z.enum(['offline', 'online'], { error: "must be 'offline' or 'online'" }).optional(),
    certTrust: z
      .object({
        hosts: z.array(z.string().regex(/^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$/, 'must be host or host:port')).optional(),
        caCertificatesPem: z.array(z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'must be PEM certificates' })).optional(),
        allowHttpLoopback: z.boolean().optional(),
      })
      .strict()
      .optional(),
    webhookMaxAgeSeconds: seconds.optional(),
    webhookMaxFutureSeconds: seconds.optional(),
    timeoutMs: z.number().int().positive().optional(),
    tokenRefreshMarginSeconds: seconds.optional(),
    brandName: z.string().max(127).optional(),
    transport: z.unknown().optional(),
    clock: z.unknown().optional(),
  })
  .strict();

/**
 * Validates {@link PayPalGatewayOptions}.
 * @throws TenderError `invalid_request_error` `invalid_configuration` whose `param` names the bad field.
 */
export function validatePayPalOptions(options: PayPalGatewayOptions): void {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys?.join(', ') ?? '(options)' : '(options)');
    throw invalidRequest('invalid_configuration', `PayPal gateway option ${field} ${issue.message}`, field);
  }
  if (options.mode === 'live' && options.certTrust !== undefined) {
    throw invalidRequest('invalid_configuration', 'PayPal gateway option certTrust is refused in live mode: live webhook certificates are trusted only from PayPal hosts and public roots', 'certTrust');
  }
}
