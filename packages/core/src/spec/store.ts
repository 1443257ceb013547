/**
 * Store spec: the persistence contract. `MemoryStore` (in `@tender/core/testing`) and
 * `PostgresStore` (`@tender/store-postgres`) implement it and both pass `runStoreConformance`.
 *
 * Rules every implementation follows:
 * - Everything done through one {@link StoreTx} commits or rolls back together.
 * - {@link StoreTx.lockPayment} holds the payment exclusively until the transaction ends; the engine
 *   relies on it for the refund-total rule and for serialising transitions of one payment.
 * - Timestamps are ISO-8601 strings in UTC with millisecond precision; amounts are decimal strings.
 * - Reads return copies: mutating a returned object never changes the store.
 * - Unique violations surface as `TenderError`s with type `state_error` and code `duplicate_*`;
 *   lost connections as `storage_error` with `retryable: true`.
 *
 * @module
 */
import type { Payment, PaymentStatus, Refund, Transition } from '../payment';

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

/** A URL a merchant registered to receive outbox events (merchant webhooks). */
export interface WebhookEndpoint {
  id: string;
  merchantId: string;
  url: string;
  /** Event types, `payment.*`-style prefixes, or `*`. */
  events: string[];
  /** HMAC-SHA256 signing secret (needed to sign deliveries, so stored as is). */
  secret: string;
  description: string | null;
  createdAt: string;
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

/** Reads available both on the store and inside a transaction. */
export interface StoreReader {
  /** A payment by id; with `merchantId`, only if it belongs to that merchant. */
  getPayment(id: string, merchantId?: string): Promise<Payment | null>;
  findPaymentByGatewayReference(gateway: string, gatewayReference: string): Promise<Payment | null>;
  /** The newest payment of the merchant with this order id (an order may have several payment attempts). */
  findPaymentByOrderId(merchantId: string, orderId: string): Promise<Payment | null>;
  /**
   * Payments of `gateway`, of any merchant, whose `orderId` is `reference`, or whose id is `reference`
   * when they have no order id: the merchant reference a gateway echoes back in its signed results
   * (Fiuu's `orderid`). Newest first, at most `limit`.
   */
  listPaymentsByGatewayOrder(gateway: string, reference: string, limit: number): Promise<Payment[]>;
  /** Newest first, by `createdAt` then `id`. */
  listPayments(query: ListPaymentsQuery): Promise<Payment[]>;
  /** Payments in the given statuses not updated since `updatedBefore`, oldest first. */
  listPaymentsToReconcile(query: ReconcileQuery): Promise<Payment[]>;
  getRefund(id: string, merchantId?: string): Promise<Refund | null>;
  /** Oldest first. */
  listRefunds(paymentId: string): Promise<Refund[]>;
  /** `PENDING` refunds created before `createdBefore`, oldest first (the reconciler requeries them). */
  listPendingRefunds(query: { createdBefore: string; limit: number }): Promise<Refund[]>;
  /** The audit trail of a payment and its refunds, oldest first. */
  listTransitions(paymentId: string): Promise<Transition[]>;
  getIdempotencyRecord(merchantId: string, key: string): Promise<IdempotencyRecord | null>;
  getOutboxEvent(id: string): Promise<OutboxRow | null>;
}

/** Writes; only available inside {@link Store.transaction}. */
export interface StoreTx extends StoreReader {
  /** Reads the payment and holds it exclusively until the transaction ends. */
  lockPayment(id: string): Promise<Payment | null>;
  /** @throws `duplicate_payment` when the id exists; `duplicate_gateway_reference` when (gateway, gatewayReference) exists. */
  insertPayment(payment: Payment): Promise<void>;
  /**
   * Writes the payment if the stored version is `payment.version - 1` (callers bump the version).
   * @throws TenderError `state_error`/`version_conflict` otherwise.
   */
  updatePayment(payment: Payment): Promise<void>;
  /**
   * Makes the transaction fail unless the payment is still at `version` (checked by commit at the
   * latest; a store may check it with the transaction's next statement). Optimistic concurrency for a
   * unit of work that acts on a payment it read earlier, without locking it, even when it does not
   * write the payment itself.
   * @throws TenderError `state_error`/`version_conflict` (or `not_found_error` for an unknown id).
   */
  expectPaymentVersion(id: string, version: number): Promise<void>;
  insertRefund(refund: Refund): Promise<void>;
  updateRefund(refund: Refund): Promise<void>;
  appendTransition(transition: Transition): Promise<void>;
  /**
   * Inserts the record unless (merchantId, key) exists; returns the stored record either way, locked
   * until the transaction ends. Concurrent callers with one key serialise here.
   */
  claimIdempotencyKey(record: IdempotencyRecord): Promise<{ created: boolean; record: IdempotencyRecord }>;
  /**
   * Inserts the record of a key expected to be new; the transaction fails with
   * `state_error`/`duplicate_idempotency_key` when (merchantId, key) exists (checked by commit at the
   * latest). The cheap path for the usual case, where a store can send it together with the other
   * writes; callers fall back to {@link StoreTx.claimIdempotencyKey} on that error.
   */
  insertIdempotencyRecord(record: IdempotencyRecord): Promise<void>;
  /** Replaces the stored record of (merchantId, key). */
  updateIdempotencyRecord(record: IdempotencyRecord): Promise<void>;
  deleteIdempotencyRecord(merchantId: string, key: string): Promise<void>;
  /**
   * Records an inbound webhook event id in the inbox.
   * @returns false when (gateway, eventId) was already recorded (a duplicate delivery).
   */
  recordInboundEvent(gateway: string, eventId: string, receivedAt: string): Promise<boolean>;
  /** Adds an event to the outbox, due at once. */
  enqueueOutbox(event: OutboxEvent): Promise<void>;
}

/** A Tender store. */
export interface Store extends StoreReader {
  /**
   * Runs `fn` in one transaction. A thrown error rolls everything back and is rethrown.
   * Implementations may retry `fn` on serialisation failures, so `fn` must only touch the store.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Claims up to `limit` due outbox rows (`pending`, `nextAttemptAt <= now`, lease free) and leases them
   * until `leaseUntil`; concurrent claimers never receive the same row (Postgres: `FOR UPDATE SKIP LOCKED`).
   */
  claimOutbox(options: { limit: number; now: string; leaseUntil: string }): Promise<OutboxRow[]>;
  /** Records a delivery attempt's outcome for a claimed row (increments `attempts`, clears the lease). */
  completeOutbox(id: string, completion: OutboxCompletion): Promise<void>;
  /**
   * Makes a row due again (manual redelivery) and forgets which endpoints acknowledged it, so every
   * subscribed endpoint receives it again. Returns false when unknown.
   */
  requeueOutbox(id: string, now: string): Promise<boolean>;
  /** Ids of the webhook endpoints that acknowledged an outbox event (a retry of the event skips them). */
  listEventDeliveries(eventId: string): Promise<string[]>;
  /** Records that a webhook endpoint acknowledged an outbox event; idempotent; ignored for an unknown event. */
  recordEventDelivery(eventId: string, endpointId: string, at: string): Promise<void>;
  /**
   * Claims the relay's next rows: per payment (the ordering key) only its oldest row still `pending` for
   * the relay, and only when that row is due and its lease free; up to `limit` rows (so at most one per
   * payment), oldest first, leased until `leaseUntil`. A payment's next event is therefore never claimed
   * before its previous one is published (or dead-lettered); concurrent claimers never share a row.
   * Order within a payment is the order the events were written.
   */
  claimRelay(options: { limit: number; now: string; leaseUntil: string }): Promise<OutboxRow[]>;
  /**
   * Records a publish attempt's outcome for a claimed row (increments relay attempts, clears the
   * lease). A `pending` or `dead` outcome for a row no longer pending (another relay published it after
   * this one's lease ran out) changes nothing.
   */
  completeRelay(id: string, completion: RelayCompletion): Promise<void>;
  /** Rows still `pending` for the relay, and the oldest one's `createdAt` (the relay lag). */
  relayBacklog(): Promise<{ pending: number; oldestCreatedAt: string | null }>;
  /**
   * Deletes expired idempotency records and delivered outbox rows older than `deliveredBefore`, in batches.
   * With `keepUnpublished`, a row the relay has not yet published (or dead-lettered) is kept. With
   * `dryRun`, nothing is deleted and the counts say what would be.
   */
  purge(options: { now: string; deliveredBefore: string; batchSize?: number; keepUnpublished?: boolean; dryRun?: boolean }): Promise<{ idempotency: number; outbox: number }>;
  /**
   * Maintenance (key rotation, data repair): one page of records of `kind` in primary-key order, each
   * locked while `rewrite` decides on it, written back in place (see {@link RewriteRecordsOptions}).
   * Safe beside live traffic and other callers: a record changed concurrently is read as it is after
   * that change. Page on with `next` until it is null.
   */
  rewriteRecords<K extends StoredRecordKind>(options: RewriteRecordsOptions<K>): Promise<RewriteRecordsPage>;
  /**
   * Retention: anonymises up to `limit` payments created before `createdBefore` that are not
   * anonymised yet, oldest first, with `anonymizePersonalData` (personal-data strings become
   * `[anonymised]`, whether plaintext or ciphertext): the payment's customer, metadata, next action
   * and gateway data (its version is incremented, `updatedAt` kept), its refunds' metadata, and the
   * copies in its outbox rows and in the idempotency records of it or its refunds. Amounts, statuses,
   * references and the audit trail stay. Payments another caller holds are skipped (concurrent callers
   * take disjoint batches). With `dryRun`, nothing changes and the counts cover every payment that is
   * due (`limit` ignored).
   */
  anonymizePayments(options: { createdBefore: string; limit: number; dryRun?: boolean }): Promise<AnonymizeResult>;
  /** Number of `pending` outbox rows (the backlog gauge). */
  countOutboxBacklog(): Promise<number>;
  /** @throws `duplicate_webhook_endpoint` when the id exists. */
  createWebhookEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** A merchant's endpoints, oldest first. */
  listWebhookEndpoints(merchantId: string): Promise<WebhookEndpoint[]>;
  getWebhookEndpoint(merchantId: string, id: string): Promise<WebhookEndpoint | null>;
  /** @returns false when the merchant has no such endpoint. */
  deleteWebhookEndpoint(merchantId: string, id: string): Promise<boolean>;
  /** Releases connections. */
  close?(): Promise<void>;
}
