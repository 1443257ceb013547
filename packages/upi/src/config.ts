/**
 * Configuration of the UPI gateway (Razorpay provider), validated with zod, and the constants it pins.
 *
 * @module
 */
import { invalidRequest, type HttpTransport } from '@tender/core';
import { z } from 'zod';

/** Razorpay's API host (https://razorpay.com/docs/api/). */
export const RAZORPAY_DEFAULT_BASE_URL = 'https://api.razorpay.com';

/**
 * UPI's general per-transaction limit: ₹1,00,000 (NPCI, https://www.npci.org.in/what-we-do/upi/faqs),
 * in paise. Some categories (capital markets, insurance, hospitals, tax) allow more; raise it with
 * `maxAmountMinor` when your category and your PSP allow it.
 */
export const UPI_MAX_AMOUNT_PAISE = 1_00_000_00;

/** Razorpay's minimum payment: ₹1 = 100 paise (https://razorpay.com/docs/api/orders/create/). */
export const RAZORPAY_MIN_AMOUNT_PAISE = 100;

/** Default lifetime of a UPI intent or collect request, in minutes (Razorpay's `expiry_time` default is 5). */
export const UPI_DEFAULT_EXPIRY_MINUTES = 5;

/** Notes key carrying Tender's payment id on Razorpay orders and payments (notes are echoed in webhooks). */
export const NOTES_PAYMENT_ID = 'tender_payment_id';
/** Notes key carrying Tender's refund id on Razorpay refunds. */
export const NOTES_REFUND_ID = 'tender_refund_id';
/** Notes key carrying the merchant's order id. */
export const NOTES_ORDER_ID = 'tender_order_id';

/** Which UPI flow a payment uses. */
export type UpiFlow = 'intent' | 'collect';

/** Options of {@link createUpiGateway}. */
export interface UpiGatewayOptions {
  /** The PSP that runs the payment; only `razorpay` today. */
  provider: 'razorpay';
  /** Razorpay API key id (`rzp_test_...` / `rzp_live_...`). */
  keyId: string;
  /** Razorpay API key secret. Never logged; also the key of checkout callback signatures. */
  keySecret: string;
  /** The webhook secret set on the Razorpay dashboard's webhook. Required for `verifyWebhook`. */
  webhookSecret?: string;
  /**
   * The previous webhook secret, accepted too while a rotation is under way (Razorpay signs the
   * retries of older events with the secret they were first sent with). Remove it once those retries
   * are over (Razorpay retries for 24 h), or set {@link previousWebhookSecretExpiresAt} so the window
   * ends by itself.
   */
  previousWebhookSecret?: string;
  /**
   * When the rotation window ends: from this instant (the engine's clock) the previous secret no longer
   * verifies anything, even if it is still configured. Set it to the rotation time plus 24 h (Razorpay
   * retries a failed delivery for 24 h, https://razorpay.com/docs/webhooks/best-practices/); absent, the
   * previous secret is accepted until it is removed.
   */
  previousWebhookSecretExpiresAt?: Date | string;
  /** API base URL; defaults to `https://api.razorpay.com`. Point it at the sandbox in tests. */
  baseUrl?: string;
  /**
   * Flow of a payment whose method is plain `upi` and whose customer has no VPA: `intent` (default; a
   * `upi://pay` link and QR code) or `collect` (then `customer.vpa` is required). Plain `upi` with a
   * `customer.vpa` is a collect request to it; methods `upi_intent`, `upi_qr` and `upi_collect` choose
   * the flow outright. NPCI stops most P2M collect requests from 28 February 2026; see the README.
   */
  flow?: UpiFlow;
  /** Lifetime of an intent link or collect request in minutes (1-60, Razorpay's `upi.expiry_time`); default 5. */
  expiryMinutes?: number;
  /** Check the customer's VPA with Razorpay (`payments/validate/vpa`) before a collect request; default true. */
  validateVpa?: boolean;
  /** Largest amount in paise; default {@link UPI_MAX_AMOUNT_PAISE}. */
  maxAmountMinor?: number;
  /** E-mail sent when the customer has none (Razorpay requires `email` on S2S payments). */
  defaultEmail?: string;
  /** Phone sent when the customer has none (Razorpay requires `contact` on S2S payments). */
  defaultContact?: string;
  /**
   * The customer's IP when the payment's metadata has no `customer_ip` (Razorpay requires `ip`).
   * Tender's create input carries no client IP; pass it as `metadata.customer_ip` when you have it.
   */
  defaultIp?: string;
  /** `user_agent` when the metadata has no `customer_user_agent`; default `tender-upi/0.1`. */
  defaultUserAgent?: string;
  /** Refund speed: `normal` (default) or `optimum` (instant where possible, at a fee). */
  refundSpeed?: 'normal' | 'optimum';
  /** Transport to send requests through; a default `createHttpTransport({ gateway: 'upi' })` otherwise. */
  transport?: HttpTransport;
  /** Per-request timeout in ms passed to the transport (default: the transport's). */
  timeoutMs?: number;
  /** Render the intent link's QR code into the next action (`qrCode`); default true. */
  qrCode?: boolean;
}

const nonEmpty = z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') }).trim().min(1, 'must not be empty');

/** The zod schema of {@link UpiGatewayOptions} (the transport is checked by shape only). */
export const UpiGatewayOptionsSchema = z.object({
  provider: z.literal('razorpay', { error: "must be 'razorpay'" }),
  keyId: nonEmpty,
  keySecret: nonEmpty,
  webhookSecret: nonEmpty.optional(),
  previousWebhookSecret: nonEmpty.optional(),
  previousWebhookSecretExpiresAt: z
    .union([z.date(), z.iso.datetime({ offset: true })], { error: 'must be a Date or an ISO 8601 date-time' })
    .refine((v) => !Number.isNaN(new Date(v).getTime()), 'must be a valid date')
    .optional(),
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  flow: z.enum(['intent', 'collect'], { error: "must be 'intent' or 'collect'" }).optional(),
  expiryMinutes: z.number({ error: 'must be a number' }).int('must be an integer').min(1, 'must be at least 1').max(60, 'must be at most 60').optional(),
  validateVpa: z.boolean({ error: 'must be a boolean' }).optional(),
  maxAmountMinor: z.number({ error: 'must be a number' }).int('must be an integer').min(RAZORPAY_MIN_AMOUNT_PAISE, `must be at least ${RAZORPAY_MIN_AMOUNT_PAISE}`).optional(),
  defaultEmail: z.email({ error: 'must be an e-mail address' }).optional(),
  defaultContact: z.string({ error: 'must be a string' }).regex(/^\+?[0-9 ()-]{5,32}$/, 'must be a phone number').optional(),
  defaultIp: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IP address' }).optional(),
  defaultUserAgent: nonEmpty.optional(),
  refundSpeed: z.enum(['normal', 'optimum'], { error: "must be 'normal' or 'optimum'" }).optional(),
  transport: z.custom<HttpTransport>((t) => typeof t === 'object' && t !== null && typeof (t as HttpTransport).request === 'function', 'must be an HttpTransport').optional(),
  timeoutMs: z.number({ error: 'must be a number' }).int('must be an integer').positive('must be positive').optional(),
  qrCode: z.boolean({ error: 'must be a boolean' }).optional(),
});

/**
 * Validates the options, throwing an `invalid_request_error` (`invalid_configuration`) whose `param`
 * and message name the first field at fault (`keySecret is required`). Secrets never appear in it.
 */
export function parseUpiGatewayOptions(options: unknown): UpiGatewayOptions {
  const parsed = UpiGatewayOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data as UpiGatewayOptions;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || 'options';
  throw invalidRequest('invalid_configuration', `UPI gateway option ${field} ${issue.message}`, field);
}
