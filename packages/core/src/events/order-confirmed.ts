/**
 * The inbound `order.confirmed` event (the order service's "payment required"): parsed,
 * validated and turned into a payment — exactly one per event, however often the broker delivers it.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isCurrency, currencyExponent } from '../currencies';
import { TenderError } from '../errors';
import type { Tender } from '../engine/create-tender';
import type { CaptureMethod, Payment } from '../payment';
import type { ConsumeOutcome, ReceivedMessage } from '../spec/event-broker/v1/index';

/** Metadata key holding the event id on the payment an `order.confirmed` created. */
export const ORDER_EVENT_ID_METADATA = 'order_event_id';
/** Metadata key holding the event's `userId` (the order service's customer reference). */
export const ORDER_CUSTOMER_METADATA = 'customer_id';

/** Largest `order.confirmed` body accepted (bytes); larger is dead-lettered unread. */
const MAX_BODY_BYTES = 64 * 1024;
/**
 * A JSON number is a double: beyond 15 significant digits its decimal text may not be the one the
 * producer wrote (IEEE 754 binary64 keeps 15 decimal digits exactly), so such totals are refused
 * rather than guessed.
 */
const MAX_SIGNIFICANT_DIGITS = 15;
/** The engine's idempotency keys are 1-255 visible ASCII characters. */
const MAX_KEY_LENGTH = 255;

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters');

/**
 * The order service's `OrderConfirmedEvent`: `{ eventId, orderId, userId, total, currency, timestamp }`, with
 * `total` a JSON number in major units (the Go producer's float64) and `timestamp` RFC 3339 (Go's
 * `time.Time`). Unknown fields are ignored, so the producer can add some.
 */
export const OrderConfirmedSchema = z.object({
  /** Kept in the payment's metadata (values are at most 500 characters). */
  eventId: text(500),
  /** The engine's order reference limit is 64 characters. */
  orderId: text(64),
  userId: text(500),
  total: z.number().finite().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an upper-case ISO 4217 code').refine(isCurrency, 'unknown ISO 4217 currency'),
  timestamp: z.iso.datetime({ offset: true }),
});

/** A parsed `order.confirmed` event, its total as an exact decimal string. */
export interface OrderConfirmedEvent {
  eventId: string;
  orderId: string;
  userId: string;
  /** Major units as the producer wrote them (`"100.5"`), never through float arithmetic. */
  total: string;
  currency: string;
  timestamp: string;
}

/** Options of {@link handleOrderConfirmed}. */
export interface OrderConfirmedOptions {
  /** The merchant the payments are created for. */
  merchantId: string;
  /** Payment method of the created payments (e.g. a saved token or `card`); routing uses it. */
  paymentMethod?: string | null;
  /** Force a gateway; otherwise routing picks one. */
  gateway?: string | null;
  /**
   * `manual` (default): authorise now, capture when the order ships — order confirmed, payment
   * authorisation initiated. `automatic` charges at once.
   */
  captureMethod?: CaptureMethod;
  returnUrl?: string | null;
  notifyUrl?: string | null;
  /** Extra metadata put on every created payment (at most 48 keys, as the engine allows 50). */
  metadata?: Record<string, string>;
  /** Delay of a retry when the error gives none (default 2000 ms). */
  retryDelayMs?: number;
}

/** The outcome, plus the payment for an `ack`. */
export type OrderConfirmedOutcome = ConsumeOutcome & {
  /** The payment this event created (or created before, for a redelivery). */
  payment?: Payment;
  /** True when the payment existed already: this delivery changed nothing. */
  replayed?: boolean;
};

/** A parse failure: `reason` names fields and problems, never values (no personal data). */
export class OrderEventError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'OrderEventError';
  }
}

/** The decimal text of a positive JSON number, checked against the currency's decimals. */
function exactTotal(total: number, currency: string): string {
  // Number#toString is the shortest text that reads back as the same double (ECMA-262
  // Number::toString): for a total of at most 15 significant digits, exactly what was sent.
  const shortest = total.toString();
  if (!/^[0-9]+(\.[0-9]+)?$/.test(shortest)) throw new OrderEventError('total: too large or too small to be an exact amount');
  const digits = shortest.replace('.', '').replace(/^0+/, '');
  if (digits.length > MAX_SIGNIFICANT_DIGITS) throw new OrderEventError(`total: more than ${MAX_SIGNIFICANT_DIGITS} significant digits cannot be carried exactly by a JSON number`);
  const decimals = shortest.includes('.') ? shortest.length - shortest.indexOf('.') - 1 : 0;
  const allowed = currencyExponent(currency);
  if (decimals > allowed) throw new OrderEventError(`total: ${currency} allows ${allowed} decimal place${allowed === 1 ? '' : 's'}, the total has more`);
  return shortest;
}

/**
 * Parses and validates an `order.confirmed` body (UTF-8 JSON).
 * @throws OrderEventError naming what is wrong (never a value from the body).
 */
export function parseOrderConfirmed(body: Uint8Array): OrderConfirmedEvent {
  if (body.byteLength > MAX_BODY_BYTES) throw new OrderEventError(`body larger than ${MAX_BODY_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new OrderEventError('body is not UTF-8 JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new OrderEventError('body is not a JSON object');
  const parsed = OrderConfirmedSchema.safeParse(json);
  if (!parsed.success) {
    // Paths and zod's codes only: a message could quote the value, and the values are order data.
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.code === 'custom' ? 'invalid' : i.code}`);
    throw new OrderEventError(`invalid order.confirmed: ${[...new Set(issues)].join('; ')}`);
  }
  const event = parsed.data;
  return { ...event, total: exactTotal(event.total, event.currency) };
}

/**
 * The idempotency key of an event's payment: `order.confirmed:<eventId>`, or, for an id that would
 * not fit the engine's 255 visible ASCII characters, `order.confirmed:sha256:<hex of the id>`.
 */
export function orderConfirmedIdempotencyKey(eventId: string): string {
  const plain = `order.confirmed:${eventId}`;
  if (plain.length <= MAX_KEY_LENGTH && /^[\x21-\x7e]+$/.test(plain)) return plain;
  return `order.confirmed:sha256:${createHash('sha256').update(eventId, 'utf8').digest('hex')}`;
}

/** Whether an error from the engine may pass on a later delivery. */
function transient(error: TenderError): boolean {
  if (error.code === 'idempotency_key_in_use') return true; // a concurrent delivery is creating it
  if (error.retryable) return true;
  if (error.type === 'storage_error' || error.type === 'gateway_unavailable' || error.type === 'gateway_error' || error.type === 'rate_limit_error' || error.type === 'api_error') return true;
  return error.status >= 500 || error.status === 429;
}

function describe(error: TenderError): string {
  return `${error.type}/${error.code}${error.param ? ` (${error.param})` : ''}`;
}

/**
 * Handles one `order.confirmed` message: creates the order's payment (authorised only, by default)
 * and says what the consumer should do with the message.
 *
 * - **Exactly one payment per event.** The create uses the idempotency key
 *   {@link orderConfirmedIdempotencyKey}(eventId), so a redelivery (a lost ack, a consumer killed
 *   after the create) replays the stored payment instead of charging again; and the order's payments
 *   are checked for one carrying the event id (metadata `order_event_id`) first, so a redelivery
 *   after the key's retention (24 h) creates nothing either.
 * - **Mapping.** `orderId` → the payment's order id, `userId` → metadata `customer_id` (Tender's
 *   Customer holds billing details, not a reference), `eventId` → metadata `order_event_id`, `total`
 *   → the amount, as the decimal text the producer sent.
 * - **Outcomes.** `ack` once the payment is stored (created, replayed, or declined by the gateway:
 *   a FAILED payment is the result, announced by its own event). `dead_letter` for a body that can
 *   never become a payment: not JSON, schema failures (missing fields, unknown currency, a negative or
 *   zero total, more decimals than the currency has, more than 15 significant digits), and requests
 *   the engine refuses for good (4xx: `amount_too_large`, no gateway for the method, the same
 *   event id with a different body). The reason names the fields and error codes, never a value.
 *   `retry` for what may pass later: storage unavailable, a gateway unavailable (nothing was sent),
 *   the same event being created by a concurrent delivery (409 `idempotency_key_in_use`), 5xx.
 *
 * The consumer acks only after this resolves, so the payment is durable before the message is gone.
 */
export async function handleOrderConfirmed(tender: Tender, message: ReceivedMessage, options: OrderConfirmedOptions): Promise<OrderConfirmedOutcome> {
  let event: OrderConfirmedEvent;
  try {
    event = parseOrderConfirmed(message.body);
  } catch (error) {
    if (error instanceof OrderEventError) return { action: 'dead_letter', reason: error.reason };
    return { action: 'dead_letter', reason: 'unparseable order.confirmed' };
  }
  const retryDelayMs = options.retryDelayMs ?? 2000;
  const { merchantId } = options;
  try {
    // A payment already made for this event (past the idempotency key's retention, or by a
    // delivery whose key record is gone): nothing to do.
    const existing = await tender.payments.list({ merchantId, orderId: event.orderId, limit: 100 });
    const made = existing.data.find((p) => p.metadata[ORDER_EVENT_ID_METADATA] === event.eventId);
    if (made) return { action: 'ack', payment: made, replayed: true };

    let replayed = false;
    const payment = await tender.payments.create(
      {
        amount: event.total,
        currency: event.currency,
        orderId: event.orderId,
        captureMethod: options.captureMethod ?? 'manual',
        ...(options.paymentMethod != null ? { paymentMethod: options.paymentMethod } : {}),
        ...(options.gateway != null ? { gateway: options.gateway } : {}),
        ...(options.returnUrl != null ? { returnUrl: options.returnUrl } : {}),
        ...(options.notifyUrl != null ? { notifyUrl: options.notifyUrl } : {}),
        metadata: {
          ...options.metadata,
          [ORDER_EVENT_ID_METADATA]: event.eventId,
          [ORDER_CUSTOMER_METADATA]: event.userId,
        },
      },
      {
        merchantId,
        idempotencyKey: orderConfirmedIdempotencyKey(event.eventId),
        actor: 'order.confirmed',
        onReplay: () => {
          replayed = true;
        },
      },
    );
    return { action: 'ack', payment, replayed };
  } catch (error) {
    if (!TenderError.isInstance(error)) return { action: 'retry', delayMs: retryDelayMs, reason: `unexpected ${error instanceof Error ? error.name : 'error'}` };
    if (transient(error)) {
      const delayMs = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : retryDelayMs;
      return { action: 'retry', delayMs, reason: describe(error) };
    }
    return { action: 'dead_letter', reason: `refused: ${describe(error)}` };
  }
}
