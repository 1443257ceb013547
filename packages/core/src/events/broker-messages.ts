/**
 * Turns outbox rows into broker messages: Tender's version 1 envelope (the stored payload), or the
 * order-service event contract's `payment.successful` / `payment.failed` / `payment.refunded`.
 *
 * @module
 */
import type { BrokerMessage } from '../spec/event-broker/v1/index';
import type { OutboxRow, StoreReader } from '../spec/store/v1/index';
import { EVENT_VERSION, defaultEventPayload } from './envelope';
import { seedEventOf } from './seed-events';

/** `tender`: every event, as its version 1 envelope. `seed`: only the order-service event contract's three events. */
export type EventFormat = 'tender' | 'seed';

/** The event formats, for configuration checks. */
export const EVENT_FORMATS: readonly EventFormat[] = ['tender', 'seed'];

/** Makes the broker message of an outbox row; null: this format publishes nothing for the row. */
export type BrokerEncoder = (row: OutboxRow) => Promise<BrokerMessage | null>;

/** Options of {@link createBrokerEncoder}. */
export interface BrokerEncoderOptions {
  /** Default `tender`. */
  format?: EventFormat;
  /** Needed by the `seed` format (a failed payment's earlier attempts for its order). */
  reader?: Pick<StoreReader, 'listPayments'>;
  /**
   * The `tender` format's document for a row (default: its stored payload, or the default envelope
   * for rows written before payloads were stored).
   */
  document?: (row: OutboxRow) => Record<string, unknown>;
}

const encoder = new TextEncoder();

function headersOf(row: OutboxRow, format: EventFormat): Record<string, string> {
  const headers: Record<string, string> = {
    'tender-event-id': row.id,
    'tender-event-type': row.type,
    'tender-event-version': String(EVENT_VERSION),
    'tender-event-format': format,
    'tender-merchant-id': row.merchantId,
  };
  if (row.paymentId) headers['tender-payment-id'] = row.paymentId;
  return headers;
}

/** Creates the encoder the relay uses for `options.format`. */
export function createBrokerEncoder(options: BrokerEncoderOptions = {}): BrokerEncoder {
  const format = options.format ?? 'tender';
  if (!EVENT_FORMATS.includes(format)) throw new Error(`Unknown event format '${String(format)}'`);
  if (format === 'seed') {
    const reader = options.reader;
    if (!reader) throw new Error("The 'seed' event format needs a store reader");
    return async (row) => {
      const seed = await seedEventOf(row, reader);
      if (!seed) return null;
      return {
        id: row.id,
        type: seed.type,
        key: row.paymentId ?? row.id,
        body: encoder.encode(JSON.stringify(seed.body)),
        contentType: 'application/json',
        headers: headersOf(row, format),
        createdAt: row.createdAt,
      };
    };
  }
  const document = options.document ?? ((row: OutboxRow) => row.payload ?? defaultEventPayload(row));
  return async (row) => ({
    id: row.id,
    type: row.type,
    key: row.paymentId ?? row.id,
    body: encoder.encode(JSON.stringify(document(row))),
    contentType: 'application/json',
    headers: headersOf(row, format),
    createdAt: row.createdAt,
  });
}
