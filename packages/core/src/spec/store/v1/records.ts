/**
 * Store spec v1: the records a store keeps beside payments and refunds (idempotency keys, the
 * outbox and its delivery and relay state) and the options and results of its queries.
 *
 * @module
 */
import type { Payment, PaymentStatus, Refund } from '../../../payment';

/** The saved outcome of an idempotent request, replayed verbatim on a retry. */
export interface StoredResponse {
  /** HTTP-like status of the first outcome (201, 200, 402, 502...). */
  status: number;
  /** JSON-serialisable body. */
  body: unknown;
}

/** One idempotency key (Stripe semantics; unique per merchant + key). */
export interface IdempotencyRecord {
  merchantId: string;
  key: string;
  /** Hash of method, path and canonical body of the first request. */
  fingerprint: string;
  state: 'in_flight' | 'completed';
  /** While `in_flight`: the lease end; after it a retry may take the key over (crash recovery). */
  lockedUntil: string | null;
  /** How far a multi-step operation got (Brandur's recovery points): e.g. `started`, `payment_created`. */
  recoveryPoint: string;
  resourceType: 'payment' | 'refund' | null;
  resourceId: string | null;
  response: StoredResponse | null;
  createdAt: string;
  /** After this the record may be purged and the key reused. */
  expiresAt: string;
}

/** A state-change event for the merchant, written in the same transaction as the change. */
export interface OutboxEvent {
  id: string;
  merchantId: string;
  /** e.g. `payment.captured`, `refund.succeeded`. */
  type: string;
  paymentId: string | null;
  refundId: string | null;
  /** Snapshot of the resource after the change. */
  data: Record<string, unknown>;
  /**
   * The event as published (the message body a broker or a change-data-capture pipeline carries),
   * made by the engine's event encoder when the event is written; null for rows written before it
   * existed. Stored in the `payload` column that Debezium's outbox event router reads.
   */
  payload?: Record<string, unknown> | null;
  createdAt: string;
}

/** Relay (broker publishing) state of an outbox row: independent of merchant webhook delivery. */
export interface OutboxRelayState {
  status: 'pending' | 'published' | 'dead';
  attempts: number;
  nextAttemptAt: string;
  /** Claim lease of {@link Store.claimRelay}. */
  lockedUntil: string | null;
  lastError: string | null;
  publishedAt: string | null;
}

/** Outcome the relay reports for a claimed row. */
export type RelayCompletion =
  | { status: 'published'; at: string }
  | { status: 'pending'; nextAttemptAt: string; error: string }
  | { status: 'dead'; error: string };

/** Delivery state of an {@link OutboxEvent}. */
export interface OutboxRow extends OutboxEvent {
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  nextAttemptAt: string;
  /** Claim lease: another dispatcher will not take the row before this time. */
  lockedUntil: string | null;
  lastError: string | null;
  deliveredAt: string | null;
  /** Broker relay state (see {@link Store.claimRelay}). */
  relay: OutboxRelayState;
}

/** Outcome a dispatcher reports for a claimed outbox row. */
export type OutboxCompletion =
  | { status: 'delivered'; at: string }
  | { status: 'pending'; nextAttemptAt: string; error: string }
  | { status: 'dead'; error: string };

/** Options of {@link StoreReader.listPayments}. */
export interface ListPaymentsQuery {
  merchantId: string;
  limit: number;
  /** Return payments created before this payment id (newest first). */
  startingAfter?: string;
  orderId?: string;
  status?: PaymentStatus;
  /** Only payments of this user of the merchant ({@link Payment.userId}). */
  userId?: string;
  /** Only payments through this gateway (`Payment.gateway`, e.g. `stripe`). */
  gateway?: string;
  /** Only payments created at or after this ISO instant (inclusive). */
  createdFrom?: string;
  /** Only payments created before this ISO instant (exclusive). */
  createdBefore?: string;
}

/** Options of {@link StoreReader.listOutboxEvents}: a merchant's events, newest first. */
export interface ListOutboxEventsQuery {
  merchantId: string;
  limit: number;
  /** Return events created before this event id (newest first); an unknown id returns none. */
  startingAfter?: string;
  /** Only events of this type (e.g. `payment.captured`). */
  type?: string;
  /** Only events in this webhook delivery state. */
  deliveryStatus?: OutboxRow['status'];
  /** Only events about this payment (or its refunds). */
  paymentId?: string;
}

/** Options of {@link StoreReader.listPaymentsToReconcile}. */
export interface ReconcileQuery {
  statuses: readonly PaymentStatus[];
  /** Only payments last updated before this instant. */
  updatedBefore: string;
  limit: number;
}

/** The record kinds {@link Store.rewriteRecords} pages through, and the record each one is. */
export interface StoredRecords {
  payments: Payment;
  refunds: Refund;
  outbox: OutboxRow;
  idempotency: IdempotencyRecord;
}

/** One of the keys of {@link StoredRecords}. */
export type StoredRecordKind = keyof StoredRecords;

/** Options of {@link Store.rewriteRecords}. */
export interface RewriteRecordsOptions<K extends StoredRecordKind> {
  kind: K;
  /** The previous page's `next`; absent or null: from the first record. */
  after?: string | null;
  /** Records in this page (at most). */
  limit: number;
  /**
   * Called once per record of the page, synchronously, inside the page's transaction: returns the
   * record with its data fields replaced, or null to leave it as it is. Only these fields are written:
   * a payment's `customer`, `metadata`, `nextAction` and `gatewayData` (its version and `updatedAt`
   * stay), a refund's `metadata`, an outbox row's `data` and `payload`, an idempotency record's
   * `response`. A throw rolls the page back and is rethrown.
   */
  rewrite(record: StoredRecords[K]): StoredRecords[K] | null;
}

/** What one {@link Store.rewriteRecords} page did. */
export interface RewriteRecordsPage {
  /** Records the page read (passed to `rewrite`). */
  scanned: number;
  /** Records written back. */
  rewritten: number;
  /** Cursor of the next page, or null when this page reached the last record. */
  next: string | null;
}

/** What {@link Store.anonymizePayments} did (or, with `dryRun`, would do). */
export interface AnonymizeResult {
  /** Payments anonymised. */
  payments: number;
  /** Refunds of those payments (their metadata). */
  refunds: number;
  /** Outbox rows of those payments (`data` and `payload`). */
  outbox: number;
  /** Idempotency records of those payments or their refunds (the stored `response`). */
  idempotency: number;
  /** Ids of the payments anonymised (empty for a dry run). */
  paymentIds: string[];
}
