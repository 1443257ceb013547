/**
 * Store spec v1: the `Store` interface, its reads (`StoreReader`) and its transaction (`StoreTx`).
 *
 * @module
 */
import type { Payment, Refund, Transition } from '../../../payment';
import type { BillingReader, BillingTx } from './billing';
import type { DisputeReader, DisputeTx } from './disputes';
import type {
  AnonymizeResult,
  IdempotencyRecord,
  ListOutboxEventsQuery,
  ListPaymentsQuery,
  OutboxCompletion,
  OutboxEvent,
  OutboxRow,
  ReconcileQuery,
  RelayCompletion,
  RewriteRecordsOptions,
  RewriteRecordsPage,
  StoredRecordKind,
} from './records';

/** Reads available both on the store and inside a transaction. */
export interface StoreReader extends BillingReader, DisputeReader {
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
  /** A merchant's outbox events with their webhook delivery state, newest first by `createdAt` then `id`. */
  listOutboxEvents(query: ListOutboxEventsQuery): Promise<OutboxRow[]>;
}

/** Writes; only available inside {@link Store.transaction}. */
export interface StoreTx extends StoreReader, BillingTx, DisputeTx {
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
   * Makes a row due again (manual redelivery). A store that also implements `WebhookEndpointStore`
   * forgets which endpoints acknowledged it, so every subscribed endpoint receives it again. Returns
   * false when unknown.
   */
  requeueOutbox(id: string, now: string): Promise<boolean>;
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
  /** Releases connections. */
  close?(): Promise<void>;
}
