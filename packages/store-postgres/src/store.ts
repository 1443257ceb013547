/**
 * `PostgresStore`: core's Store spec on Postgres. The same statements run on node-postgres and PGlite
 * through a {@link Driver}.
 *
 * Where the guarantees live:
 * - one transaction per {@link PostgresStore.transaction} call (BEGIN/COMMIT on one connection), retried
 *   on serialisation failures and deadlocks;
 * - `lockPayment` is `SELECT ... FOR UPDATE`, the row lock behind the refund-total rule, which the
 *   `payments_refund_total_check` constraint backs up in the database itself;
 * - `updatePayment` is a conditional update on `version` (optimistic concurrency);
 * - idempotency keys are claimed with `INSERT ... ON CONFLICT DO NOTHING` then `SELECT ... FOR UPDATE`,
 *   so concurrent claimers of one key queue on the row;
 * - the outbox is claimed with `FOR UPDATE SKIP LOCKED` plus a lease, so dispatchers never share a row;
 * - a user's default saved method changes under a transaction-scoped advisory lock per (merchant,
 *   user), cleared before it is set, behind the partial unique index that allows one live default.
 *
 * @module
 */
import {
  anonymizePersonalData,
  notFound,
  stateConflict,
  TenderError,
  type AnonymizeResult,
  type BillingTransition,
  type Dispute,
  type DisputeTransition,
  type ListDisputesQuery,
  type GatewayCustomer,
  type Invoice,
  type ListInvoicesQuery,
  type ListSavedPaymentMethodsQuery,
  type ListSubscriptionsQuery,
  type SavedPaymentMethod,
  type Subscription,
  type IdempotencyRecord,
  type RewriteRecordsOptions,
  type RewriteRecordsPage,
  type StoredRecordKind,
  type ListOutboxEventsQuery,
  type ListPaymentsQuery,
  type OutboxCompletion,
  type OutboxEvent,
  type OutboxRow,
  type RelayCompletion,
  type Payment,
  type ReconcileQuery,
  type Refund,
  type Store,
  type StoreReader,
  type StoreTx,
  type Transition,
  type WebhookEndpoint,
  type WebhookEndpointStore,
} from '@tender/core';
import type { Driver, PoolStats, Queryable, Row, TxQueryable } from './driver';
import {
  billingTransitionParams,
  gatewayCustomerParams,
  invoiceParams,
  savedPaymentMethodParams,
  subscriptionParams,
  toBillingTransition,
  toGatewayCustomer,
  toInvoice,
  toSavedPaymentMethod,
  toSubscription,
} from './billing-rows';
import { disputeParams, disputeTransitionParams, toDispute, toDisputeTransition } from './dispute-rows';
import type { BillingListShape } from './billing-statements';
import { observedDriver, type ObservedDriver, type QueryListener } from './drivers/observed';
import { isSerializationFailure, toStoreError } from './errors';
import { GroupCommitter, type GroupCommitOptions, type GroupCommitStats } from './group-commit';
import { MIGRATIONS, runMigrations, type MigrationResult } from './migrate';
import {
  idempotencyParams,
  iso,
  isoOrNull,
  json,
  paymentParams,
  refundParams,
  toIdempotencyRecord,
  toOutboxRow,
  toPayment,
  toRefund,
  toTransition,
  toWebhookEndpoint,
} from './rows';
import { buildStatements, rowsOf, type Statements } from './statements';
import { PostgresVelocityStore } from './velocity-store';
import { PostgresSettlements } from './settlement-store';
import { buildAnalyticsStatements, postgresPaymentAnalytics, type AnalyticsStatements } from './analytics';
import type { AnalyticsStore, PaymentAnalyticsAggregate, PaymentAnalyticsQuery } from '@tender/core';
import type { SettledRecords, SettledRecordsQuery, SettlementRun, SettlementRunKey, SettlementRunSummary, SettlementStore } from '@tender/core';

/** How many times a transaction that hit a serialisation failure or deadlock is run in total. */
const TRANSACTION_ATTEMPTS = 4;
const DEFAULT_PURGE_BATCH = 1000;

async function run(q: Queryable, sql: string, params: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number }> {
  try {
    return await q.query(sql, params);
  } catch (error) {
    throw toStoreError(error);
  }
}

async function one<T>(q: Queryable, sql: string, params: readonly unknown[], map: (r: Row) => T): Promise<T | null> {
  const { rows } = await run(q, sql, params);
  return rows[0] === undefined ? null : map(rows[0]);
}

async function many<T>(q: Queryable, sql: string, params: readonly unknown[], map: (r: Row) => T): Promise<T[]> {
  const { rows } = await run(q, sql, params);
  return rows.map(map);
}

/** The record, or null when it is another merchant's (`merchantId` given). */
function ofMerchant<T extends { merchantId: string }>(record: T | null, merchantId: string | undefined): T | null {
  return record !== null && merchantId !== undefined && record.merchantId !== merchantId ? null : record;
}

/** A billing list's statement shape and parameters, in the order `billingStatements` numbers them. */
function listQuery(
  query: { merchantId: string; userId?: string; limit: number; startingAfter?: string },
  extra: string | undefined,
): { shape: BillingListShape; params: unknown[] } {
  const shape = { userId: query.userId !== undefined, extra: extra !== undefined, startingAfter: query.startingAfter !== undefined };
  const params: unknown[] = [query.merchantId];
  if (shape.userId) params.push(query.userId);
  if (shape.extra) params.push(extra);
  if (shape.startingAfter) params.push(query.startingAfter);
  params.push(Math.max(0, Math.floor(query.limit)));
  return { shape, params };
}

/** Reads, shared by the store (autocommit, pool) and transactions (one connection). */
class Reader implements StoreReader {
  constructor(
    protected readonly q: Queryable,
    protected readonly st: Statements,
  ) {}

  /** Runs before every statement; a transaction sends its queued writes here. */
  protected async ready(): Promise<void> {}

  async getPayment(id: string, merchantId?: string): Promise<Payment | null> {
    await this.ready();
    // By primary key alone, the merchant checked here: see `updatePayment` in statements.ts for why a
    // merchant condition does not go in the SQL.
    const payment = await one(this.q, this.st.getPayment, [id], toPayment);
    return payment !== null && merchantId !== undefined && payment.merchantId !== merchantId ? null : payment;
  }

  async findPaymentByGatewayReference(gateway: string, gatewayReference: string): Promise<Payment | null> {
    await this.ready();
    return one(this.q, this.st.findByGatewayReference, [gateway, gatewayReference], toPayment);
  }

  async findPaymentByOrderId(merchantId: string, orderId: string): Promise<Payment | null> {
    await this.ready();
    return one(this.q, this.st.findByOrderId, [merchantId, orderId], toPayment);
  }

  async listPaymentsByGatewayOrder(gateway: string, reference: string, limit: number): Promise<Payment[]> {
    await this.ready();
    return many(this.q, this.st.listByGatewayOrder, [gateway, reference, Math.max(0, Math.floor(limit))], toPayment);
  }

  async listPayments(query: ListPaymentsQuery): Promise<Payment[]> {
    await this.ready();
    const filters = {
      userId: query.userId !== undefined,
      orderId: query.orderId !== undefined,
      status: query.status !== undefined,
      gateway: query.gateway !== undefined,
      createdFrom: query.createdFrom !== undefined,
      createdBefore: query.createdBefore !== undefined,
      startingAfter: query.startingAfter !== undefined,
    };
    const { sql } = this.st.listPayments(filters);
    const params: unknown[] = [query.merchantId];
    if (filters.userId) params.push(query.userId);
    if (filters.orderId) params.push(query.orderId);
    if (filters.status) params.push(query.status);
    if (filters.gateway) params.push(query.gateway);
    if (filters.createdFrom) params.push(query.createdFrom);
    if (filters.createdBefore) params.push(query.createdBefore);
    if (filters.startingAfter) params.push(query.startingAfter);
    params.push(Math.max(0, Math.floor(query.limit)));
    return many(this.q, sql, params, toPayment);
  }

  async listPaymentsToReconcile(query: ReconcileQuery): Promise<Payment[]> {
    if (query.statuses.length === 0) return [];
    await this.ready();
    return many(this.q, this.st.listToReconcile, [[...query.statuses], query.updatedBefore, Math.max(0, Math.floor(query.limit))], toPayment);
  }

  async getRefund(id: string, merchantId?: string): Promise<Refund | null> {
    await this.ready();
    return merchantId === undefined
      ? one(this.q, this.st.getRefund, [id], toRefund)
      : one(this.q, this.st.getRefundOfMerchant, [id, merchantId], toRefund);
  }

  async listRefunds(paymentId: string): Promise<Refund[]> {
    await this.ready();
    return many(this.q, this.st.listRefunds, [paymentId], toRefund);
  }

  async listPendingRefunds(query: { createdBefore: string; limit: number }): Promise<Refund[]> {
    await this.ready();
    return many(this.q, this.st.listPendingRefunds, [query.createdBefore, Math.max(0, Math.floor(query.limit))], toRefund);
  }

  async listTransitions(paymentId: string): Promise<Transition[]> {
    await this.ready();
    return many(this.q, this.st.listTransitions, [paymentId], toTransition);
  }

  async getIdempotencyRecord(merchantId: string, key: string): Promise<IdempotencyRecord | null> {
    await this.ready();
    return one(this.q, this.st.getIdempotency, [merchantId, key], toIdempotencyRecord);
  }

  async getOutboxEvent(id: string): Promise<OutboxRow | null> {
    await this.ready();
    return one(this.q, this.st.getOutbox, [id], toOutboxRow);
  }

  async listOutboxEvents(query: ListOutboxEventsQuery): Promise<OutboxRow[]> {
    await this.ready();
    const filters = {
      type: query.type !== undefined,
      deliveryStatus: query.deliveryStatus !== undefined,
      paymentId: query.paymentId !== undefined,
      startingAfter: query.startingAfter !== undefined,
    };
    const params: unknown[] = [query.merchantId];
    if (filters.type) params.push(query.type);
    if (filters.deliveryStatus) params.push(query.deliveryStatus);
    if (filters.paymentId) params.push(query.paymentId);
    if (filters.startingAfter) params.push(query.startingAfter);
    params.push(Math.max(0, Math.floor(query.limit)));
    return many(this.q, this.st.listOutboxEvents(filters), params, toOutboxRow);
  }

  // Billing (migration 10). Reads by primary key check the merchant here, as getPayment does.

  async getGatewayCustomer(merchantId: string, userId: string, gateway: string): Promise<GatewayCustomer | null> {
    await this.ready();
    return one(this.q, this.st.billing.getCustomer, [merchantId, userId, gateway], toGatewayCustomer);
  }

  async getSavedPaymentMethod(id: string, merchantId?: string): Promise<SavedPaymentMethod | null> {
    await this.ready();
    return ofMerchant(await one(this.q, this.st.billing.getMethod, [id], toSavedPaymentMethod), merchantId);
  }

  async findSavedPaymentMethodByToken(merchantId: string, gateway: string, token: string): Promise<SavedPaymentMethod | null> {
    await this.ready();
    return one(this.q, this.st.billing.findMethodByToken, [merchantId, gateway, token], toSavedPaymentMethod);
  }

  async listSavedPaymentMethods(query: ListSavedPaymentMethodsQuery): Promise<SavedPaymentMethod[]> {
    await this.ready();
    const { shape, params } = listQuery(query, undefined);
    return many(this.q, this.st.billing.listMethods(shape), params, toSavedPaymentMethod);
  }

  async getSubscription(id: string, merchantId?: string): Promise<Subscription | null> {
    await this.ready();
    return ofMerchant(await one(this.q, this.st.billing.getSubscription, [id], toSubscription), merchantId);
  }

  async findSubscriptionByGatewayReference(gateway: string, gatewayReference: string): Promise<Subscription | null> {
    await this.ready();
    return one(this.q, this.st.billing.findSubscriptionByReference, [gateway, gatewayReference], toSubscription);
  }

  async listSubscriptions(query: ListSubscriptionsQuery): Promise<Subscription[]> {
    await this.ready();
    const { shape, params } = listQuery(query, query.status);
    return many(this.q, this.st.billing.listSubscriptions(shape), params, toSubscription);
  }

  async getInvoice(id: string, merchantId?: string): Promise<Invoice | null> {
    await this.ready();
    return ofMerchant(await one(this.q, this.st.billing.getInvoice, [id], toInvoice), merchantId);
  }

  async findInvoiceByGatewayReference(gateway: string, gatewayReference: string): Promise<Invoice | null> {
    await this.ready();
    return one(this.q, this.st.billing.findInvoiceByReference, [gateway, gatewayReference], toInvoice);
  }

  async listInvoices(query: ListInvoicesQuery): Promise<Invoice[]> {
    await this.ready();
    const { shape, params } = listQuery(query, query.subscriptionId);
    return many(this.q, this.st.billing.listInvoices(shape), params, toInvoice);
  }

  async listBillingTransitions(resourceId: string): Promise<BillingTransition[]> {
    await this.ready();
    return many(this.q, this.st.billing.listTransitions, [resourceId], toBillingTransition);
  }

  // Disputes (migration 12).

  async getDispute(id: string, merchantId?: string): Promise<Dispute | null> {
    await this.ready();
    return ofMerchant(await one(this.q, this.st.disputes.get, [id], toDispute), merchantId);
  }

  async findDisputeByGatewayReference(gateway: string, gatewayReference: string): Promise<Dispute | null> {
    await this.ready();
    return one(this.q, this.st.disputes.findByReference, [gateway, gatewayReference], toDispute);
  }

  async listDisputes(query: ListDisputesQuery): Promise<Dispute[]> {
    await this.ready();
    const shape = {
      merchantId: query.merchantId !== undefined,
      paymentId: query.paymentId !== undefined,
      status: query.status !== undefined,
      from: query.from !== undefined,
      to: query.to !== undefined,
      startingAfter: query.startingAfter !== undefined,
      limit: query.limit !== undefined,
    };
    const params: unknown[] = [];
    if (shape.merchantId) params.push(query.merchantId);
    if (shape.paymentId) params.push(query.paymentId);
    if (shape.status) params.push(query.status);
    if (shape.from) params.push(query.from);
    if (shape.to) params.push(query.to);
    if (shape.startingAfter) params.push(query.startingAfter);
    if (shape.limit) params.push(Math.max(0, Math.floor(query.limit!)));
    return many(this.q, this.st.disputes.list(shape), params, toDispute);
  }

  async listDisputeTransitions(disputeId: string): Promise<DisputeTransition[]> {
    await this.ready();
    return many(this.q, this.st.disputes.listTransitions, [disputeId], toDisputeTransition);
  }
}

type QueuedKey = Omit<IdempotencyRecord, 'response'> & { response: string | null };

type QueuedEvent = Omit<OutboxEvent, 'data' | 'payload'> & { data: string | null; payload: string | null };

// The flush statement's parameter columns of each queued table (same order as its row sources).
const TRANSITION_PARAMS: ReadonlyArray<(t: Transition) => unknown> = [
  (t) => t.id, (t) => t.merchantId, (t) => t.paymentId, (t) => t.refundId, (t) => t.from, (t) => t.to, (t) => t.reason, (t) => t.actor, (t) => t.at,
];
const OUTBOX_PARAMS: ReadonlyArray<(e: QueuedEvent) => unknown> = [
  (e) => e.id, (e) => e.merchantId, (e) => e.type, (e) => e.paymentId, (e) => e.refundId, (e) => e.data, (e) => e.payload, (e) => e.createdAt,
];
const KEY_PARAMS: ReadonlyArray<(k: QueuedKey) => unknown> = [
  (k) => k.merchantId, (k) => k.key, (k) => k.fingerprint, (k) => k.state, (k) => k.lockedUntil, (k) => k.recoveryPoint,
  (k) => k.resourceType, (k) => k.resourceId, (k) => k.response, (k) => k.createdAt, (k) => k.expiresAt,
];
const EXPECTED_PARAMS: ReadonlyArray<(e: { id: string; version: number }) => unknown> = [(e) => e.id, (e) => e.version];

/** The per-table counts carried by a `flush_conflict` error, or null for any other error. */
function flushConflictCounts(error: unknown): Row | null {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  const prefix = 'tender_flush_conflict ';
  if (code !== 'P0001' || typeof message !== 'string' || !message.startsWith(prefix)) return null;
  return JSON.parse(message.slice(prefix.length)) as Row;
}

/** The payment id of a transition that failed its foreign key, or null for any other error. */
function missingPaymentOfTransition(error: unknown): string | null {
  const { code, constraint, detail } = (error ?? {}) as { code?: string; constraint?: string; detail?: string };
  if (code !== '23503' || constraint !== 'transitions_payment_fkey') return null;
  return /\(payment_id\)=\((.*)\)/.exec(detail ?? '')?.[1] ?? 'unknown';
}

function duplicate(code: string, message: string): TenderError {
  return stateConflict(code, message);
}

function duplicateReference(payment: Payment): TenderError {
  return duplicate('duplicate_gateway_reference', `A ${payment.gateway} payment with reference '${payment.gatewayReference}' already exists`);
}

/**
 * Writes inside one transaction. Writes that return nothing the caller needs (payment inserts and
 * updates, transitions, outbox events, idempotency record updates) are queued and sent together in one
 * statement just before the transaction's next statement or its COMMIT: an engine unit of work (status
 * change, audit entry, outbox event, idempotency update) then costs one round trip instead of four.
 * Their errors (`duplicate_*`, `version_conflict`...) surface from that next call or from
 * `transaction()`, and always roll the whole transaction back. Every read sees the queued writes.
 */
class Tx extends Reader implements StoreTx {
  // Queued rows hold their JSON already serialised: a snapshot at call time, cheaper than a deep copy.
  #transitions: Transition[] = [];
  #outbox: QueuedEvent[] = [];
  #idempotency = new Map<string, QueuedKey>();
  #expected: Array<{ id: string; version: number }> = [];
  #newKeys = new Map<string, QueuedKey>();
  /** At most one queued payment write; a second one flushes the first (two writes of one row cannot share a statement). */
  #payment: { kind: 'insert' | 'update'; payment: Payment; params: unknown[] } | null = null;

  constructor(
    protected override readonly q: TxQueryable,
    st: Statements,
  ) {
    super(q, st);
  }

  protected override ready(): Promise<void> {
    return this.flush(false);
  }

  /**
   * Sends the queued writes (no-op when none). `last`: nothing follows before COMMIT, so when the
   * transaction has sent nothing yet the batch goes alone, as one atomic statement without BEGIN/COMMIT.
   */
  async flush(last: boolean): Promise<void> {
    if (this.#payment === null && this.#transitions.length === 0 && this.#outbox.length === 0 && this.#idempotency.size === 0 && this.#expected.length === 0 && this.#newKeys.size === 0) {
      return;
    }
    const newKeys = [...this.#newKeys.values()];
    this.#newKeys = new Map();
    const payment = this.#payment;
    const expected = this.#expected;
    this.#expected = [];
    const transitions = this.#transitions;
    const outbox = this.#outbox;
    const idempotency = [...this.#idempotency.values()];
    this.#transitions = [];
    this.#outbox = [];
    this.#idempotency = new Map();
    this.#payment = null;
    const params: unknown[] = payment ? [...payment.params] : [];
    // One row: its values as scalar parameters; several: one array per column (see flushWrites).
    const add = <T>(rows: readonly T[], pickers: ReadonlyArray<(row: T) => unknown>) => {
      if (rows.length === 1) for (const pick of pickers) params.push(pick(rows[0]!));
      else if (rows.length > 1) for (const pick of pickers) params.push(rows.map(pick));
    };
    add(transitions, TRANSITION_PARAMS);
    add(outbox, OUTBOX_PARAMS);
    add(idempotency, KEY_PARAMS);
    add(expected, EXPECTED_PARAMS);
    add(newKeys, KEY_PARAMS);
    const alone = last && !this.q.begun;
    const sql = this.st.flushWrites(
      {
        payment: payment?.kind ?? null,
        transitions: rowsOf(transitions.length),
        outbox: rowsOf(outbox.length),
        idempotency: rowsOf(idempotency.length),
        expected: rowsOf(expected.length),
        newKeys: rowsOf(newKeys.length),
      },
      alone,
    );
    let written: Row;
    try {
      written = (alone ? await this.q.last(sql, params) : (await this.q.query(sql, params))).rows[0] ?? {};
    } catch (error) {
      // Sent alone, a conflict fails the statement (nothing of it was written); its counts say which.
      const counts = flushConflictCounts(error);
      if (counts !== null) {
        written = counts;
      } else {
        const missing = missingPaymentOfTransition(error);
        throw missing === null ? toStoreError(error) : notFound('payment', missing);
      }
    }
    if (payment && Number(written.payment) !== 1) {
      throw payment.kind === 'insert' ? await this.insertFailure(payment.payment) : await this.updateFailure(payment.payment);
    }
    if (expected.length > 0 && Number(written.expected) !== expected.length) {
      for (const e of expected) {
        const { rows: found } = await run(this.q, this.st.paymentConflicts, [e.id, null, null]);
        const version = found[0]?.version;
        if (version === null || version === undefined) throw notFound('payment', e.id);
        if (Number(version) !== e.version) {
          throw stateConflict('version_conflict', `Payment ${e.id} was changed concurrently (stored version ${String(version)}, expected ${e.version})`, { paymentId: e.id });
        }
      }
    }
    if (newKeys.length > 0 && Number(written.new_keys) !== newKeys.length) {
      throw duplicate('duplicate_idempotency_key', `Idempotency key ${newKeys.map((k) => `'${k.key}'`).join(', ')} already exists`);
    }
    if (transitions.length > 0 && Number(written.transitions) !== transitions.length) {
      throw duplicate('duplicate_transition', `A transition id was already used (${transitions.map((t) => t.id).join(', ')})`);
    }
    if (outbox.length > 0 && Number(written.outbox) !== outbox.length) {
      throw duplicate('duplicate_outbox_event', `An outbox event id was already used (${outbox.map((e) => e.id).join(', ')})`);
    }
  }

  async lockPayment(id: string): Promise<Payment | null> {
    await this.ready();
    return one(this.q, this.st.lockPayment, [id], toPayment);
  }

  async expectPaymentVersion(id: string, version: number): Promise<void> {
    // Checked with the next flush, against the rows as they were before it (so not after an insert of
    // the same payment queued in the same batch).
    this.#expected.push({ id, version });
  }

  async insertPayment(payment: Payment): Promise<void> {
    const params = paymentParams(payment); // validates amounts now, not at the flush
    await this.queuePayment({ kind: 'insert', payment: { ...payment }, params });
  }

  async updatePayment(payment: Payment): Promise<void> {
    const params = paymentParams(payment);
    // merchant_id and created_at never change.
    params.splice(20, 1);
    params.splice(1, 1);
    await this.queuePayment({ kind: 'update', payment: { ...payment }, params });
  }

  private async queuePayment(write: { kind: 'insert' | 'update'; payment: Payment; params: unknown[] }): Promise<void> {
    if (this.#payment !== null) await this.flush(false);
    this.#payment = write;
  }

  /** Why a queued insert wrote nothing: an existing id or gateway reference. */
  private async insertFailure(payment: Payment): Promise<TenderError> {
    const conflict = await this.paymentConflicts(payment);
    if (conflict.version !== null) return duplicate('duplicate_payment', `Payment ${payment.id} already exists`);
    if (conflict.reference_taken) return duplicateReference(payment);
    // Collided with a row that was deleted again before we looked: report it as the id.
    return duplicate('duplicate_payment', `Payment ${payment.id} collided with an existing row`);
  }

  /** Why a queued update wrote nothing: a missing row, a stale version or a taken gateway reference. */
  private async updateFailure(payment: Payment): Promise<TenderError> {
    const conflict = await this.paymentConflicts(payment);
    if (conflict.version === null) return notFound('payment', payment.id);
    if (Number(conflict.version) === payment.version - 1 && conflict.reference_taken) return duplicateReference(payment);
    return stateConflict(
      'version_conflict',
      `Payment ${payment.id} was changed concurrently (stored version ${String(conflict.version)}, this write expected ${payment.version - 1})`,
      { paymentId: payment.id },
    );
  }

  private async paymentConflicts(payment: Payment): Promise<Row> {
    const { rows } = await run(this.q, this.st.paymentConflicts, [payment.id, payment.gateway, payment.gatewayReference]);
    return rows[0] ?? { version: null };
  }

  private async assertPaymentExists(paymentId: string): Promise<void> {
    const { rows } = await run(this.q, this.st.paymentExists, [paymentId]);
    if (rows[0]?.payment_exists !== true) throw notFound('payment', paymentId);
  }

  async insertRefund(refund: Refund): Promise<void> {
    await this.ready();
    const { rowCount } = await run(this.q, this.st.insertRefund, refundParams(refund));
    if (rowCount === 1) return;
    await this.assertPaymentExists(refund.paymentId);
    throw duplicate('duplicate_refund', `Refund ${refund.id} already exists`);
  }

  async updateRefund(refund: Refund): Promise<void> {
    await this.ready();
    const params = refundParams(refund);
    params.splice(10, 1); // created_at never changes
    const { rowCount } = await run(this.q, this.st.updateRefund, params);
    if (rowCount === 0) throw notFound('refund', refund.id);
  }

  async appendTransition(transition: Transition): Promise<void> {
    this.#transitions.push({ ...transition });
  }

  async claimIdempotencyKey(record: IdempotencyRecord): Promise<{ created: boolean; record: IdempotencyRecord }> {
    await this.ready();
    // Usually one pass; a second only when a purge deleted the existing row between the two statements.
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await one(this.q, this.st.insertIdempotency, idempotencyParams(record), toIdempotencyRecord);
      if (inserted) return { created: true, record: inserted };
      const existing = await one(this.q, this.st.lockIdempotency, [record.merchantId, record.key], toIdempotencyRecord);
      if (existing) return { created: false, record: existing };
    }
    throw new TenderError({
      type: 'storage_error',
      code: 'storage_conflict',
      message: `Idempotency key '${record.key}' kept changing while being claimed`,
      retryable: true,
    });
  }

  async insertIdempotencyRecord(record: IdempotencyRecord): Promise<void> {
    this.#newKeys.set(`${record.merchantId}\u0000${record.key}`, { ...record, response: json(record.response) });
  }

  async updateIdempotencyRecord(record: IdempotencyRecord): Promise<void> {
    // One row per key per flush (an upsert cannot touch a row twice in one statement); the last wins,
    // and a record still queued as new is replaced there.
    const id = `${record.merchantId}\u0000${record.key}`;
    const queued = { ...record, response: json(record.response) };
    if (this.#newKeys.has(id)) this.#newKeys.set(id, queued);
    else this.#idempotency.set(id, queued);
  }

  async deleteIdempotencyRecord(merchantId: string, key: string): Promise<void> {
    await this.ready();
    await run(this.q, this.st.deleteIdempotency, [merchantId, key]);
  }

  async recordInboundEvent(gateway: string, eventId: string, receivedAt: string): Promise<boolean> {
    await this.ready();
    const { rowCount } = await run(this.q, this.st.recordInbound, [gateway, eventId, receivedAt]);
    return rowCount === 1;
  }

  // Billing writes (migration 10): sent at once, after the queued writes, since each answers something
  // (a row, or whether it was written) the caller or the next step needs.

  async insertGatewayCustomer(customer: GatewayCustomer): Promise<{ created: boolean; customer: GatewayCustomer }> {
    await this.ready();
    // Usually one pass: ON CONFLICT waits for a concurrent inserter, whose row the next statement sees.
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await one(this.q, this.st.billing.insertCustomer, gatewayCustomerParams(customer), toGatewayCustomer);
      if (inserted) return { created: true, customer: inserted };
      const existing = await one(this.q, this.st.billing.getCustomer, [customer.merchantId, customer.userId, customer.gateway], toGatewayCustomer);
      if (existing) return { created: false, customer: existing };
    }
    throw new TenderError({
      type: 'storage_error',
      code: 'storage_conflict',
      message: `The gateway customer of user '${customer.userId}' kept changing while being created`,
      retryable: true,
    });
  }

  async insertSavedPaymentMethod(method: SavedPaymentMethod): Promise<void> {
    await this.ready();
    // A live default is inserted as not the default, then made it: a duplicate fails before the
    // user's other default is touched, so a refused insert changes nothing.
    const makeDefault = method.isDefault && method.deletedAt === null;
    if (makeDefault) await run(this.q, this.st.billing.lockUserDefault, [method.merchantId, method.userId]);
    const { rowCount } = await run(this.q, this.st.billing.insertMethod, savedPaymentMethodParams(method, makeDefault ? false : method.isDefault));
    if (rowCount === 0) {
      const { rows } = await run(this.q, this.st.billing.methodIdTaken, [method.id]);
      throw rows[0]?.taken === true
        ? duplicate('duplicate_saved_payment_method', `Saved payment method ${method.id} already exists`)
        : duplicate('duplicate_saved_payment_method', `This ${method.gateway} payment method is already saved`);
    }
    if (!makeDefault) return;
    await run(this.q, this.st.billing.clearOtherDefaults, [method.merchantId, method.userId, method.id, method.updatedAt]);
    await run(this.q, this.st.billing.setDefault, [method.id, method.merchantId, method.updatedAt]);
  }

  async setDefaultSavedPaymentMethod(merchantId: string, id: string, now: string): Promise<SavedPaymentMethod | null> {
    await this.ready();
    const found = await this.getSavedPaymentMethod(id, merchantId);
    if (found === null || found.deletedAt !== null) return null;
    // The user's lock first, then the method's row (a removal waits for this transaction), read again
    // from the snapshot taken after the lock: it may have been removed or made default meanwhile.
    await run(this.q, this.st.billing.lockUserDefault, [merchantId, found.userId]);
    const method = await one(this.q, this.st.billing.lockMethod, [id, merchantId], toSavedPaymentMethod);
    if (method === null || method.deletedAt !== null) return null;
    await run(this.q, this.st.billing.clearOtherDefaults, [merchantId, method.userId, id, now]);
    if (method.isDefault) return method;
    await run(this.q, this.st.billing.setDefault, [id, merchantId, now]);
    return one(this.q, this.st.billing.getMethod, [id], toSavedPaymentMethod);
  }

  async removeSavedPaymentMethod(merchantId: string, id: string, now: string): Promise<SavedPaymentMethod | null> {
    await this.ready();
    // Clearing a default never breaks the one-default index, so no user lock is needed.
    const removed = await one(this.q, this.st.billing.removeMethod, [id, merchantId, now], toSavedPaymentMethod);
    return removed ?? (await this.getSavedPaymentMethod(id, merchantId));
  }

  async lockSubscription(id: string): Promise<Subscription | null> {
    await this.ready();
    return one(this.q, this.st.billing.lockSubscription, [id], toSubscription);
  }

  async insertSubscription(subscription: Subscription): Promise<void> {
    await this.ready();
    const { rowCount } = await run(this.q, this.st.billing.insertSubscription, subscriptionParams(subscription));
    if (rowCount === 1) return;
    const conflict = await this.billingConflict('subscription', subscription);
    throw conflict.version !== null
      ? duplicate('duplicate_subscription', `Subscription ${subscription.id} already exists`)
      : duplicate('duplicate_gateway_reference', `A ${subscription.gateway} subscription with reference '${subscription.gatewayReference}' already exists`);
  }

  async updateSubscription(subscription: Subscription): Promise<void> {
    await this.ready();
    const params = subscriptionParams(subscription);
    // merchant_id and created_at never change.
    params.splice(23, 1);
    params.splice(1, 1);
    const { rowCount } = await run(this.q, this.st.billing.updateSubscription, params);
    if (rowCount === 0) throw await this.updateConflict('subscription', subscription);
  }

  async lockInvoice(id: string): Promise<Invoice | null> {
    await this.ready();
    return one(this.q, this.st.billing.lockInvoice, [id], toInvoice);
  }

  async insertInvoice(invoice: Invoice): Promise<void> {
    await this.ready();
    const { rowCount } = await run(this.q, this.st.billing.insertInvoice, invoiceParams(invoice));
    if (rowCount === 1) return;
    const conflict = await this.billingConflict('invoice', invoice);
    throw conflict.version !== null
      ? duplicate('duplicate_invoice', `Invoice ${invoice.id} already exists`)
      : duplicate('duplicate_gateway_reference', `A ${invoice.gateway} invoice with reference '${invoice.gatewayReference}' already exists`);
  }

  async updateInvoice(invoice: Invoice): Promise<void> {
    await this.ready();
    const params = invoiceParams(invoice);
    params.splice(20, 1);
    params.splice(1, 1);
    const { rowCount } = await run(this.q, this.st.billing.updateInvoice, params);
    if (rowCount === 0) throw await this.updateConflict('invoice', invoice);
  }

  async appendBillingTransition(transition: BillingTransition): Promise<void> {
    await this.ready();
    const { rowCount } = await run(this.q, this.st.billing.insertTransition, billingTransitionParams(transition));
    if (rowCount === 0) throw duplicate('duplicate_transition', `A transition id was already used (${transition.id})`);
  }

  async lockDispute(id: string): Promise<Dispute | null> {
    await this.ready();
    return one(this.q, this.st.disputes.lock, [id], toDispute);
  }

  async insertDispute(dispute: Dispute): Promise<void> {
    await this.ready();
    const { rows: payment } = await run(this.q, this.st.disputes.paymentExists, [dispute.paymentId]);
    if (payment[0]?.found !== true) throw notFound('payment', dispute.paymentId);
    const { rowCount } = await run(this.q, this.st.disputes.insert, disputeParams(dispute));
    if (rowCount === 1) return;
    const conflict = await this.disputeConflict(dispute);
    throw conflict.version !== null
      ? duplicate('duplicate_dispute', `Dispute ${dispute.id} already exists`)
      : duplicate('duplicate_gateway_reference', `A ${dispute.gateway} dispute with reference '${dispute.gatewayReference}' already exists`);
  }

  async updateDispute(dispute: Dispute): Promise<void> {
    await this.ready();
    const params = disputeParams(dispute);
    // merchant_id, payment_id and created_at never change.
    params.splice(13, 1);
    params.splice(1, 2);
    const { rowCount } = await run(this.q, this.st.disputes.update, params);
    if (rowCount === 1) return;
    const conflict = await this.disputeConflict(dispute);
    if (conflict.version === null) throw notFound('dispute', dispute.id);
    if (conflict.version === dispute.version - 1 && conflict.referenceTaken) {
      throw duplicate('duplicate_gateway_reference', `A ${dispute.gateway} dispute with reference '${dispute.gatewayReference}' already exists`);
    }
    throw stateConflict('version_conflict', `Dispute ${dispute.id} was changed concurrently (stored version ${conflict.version}, this write expected ${dispute.version - 1})`, { disputeId: dispute.id });
  }

  async appendDisputeTransition(transition: DisputeTransition): Promise<void> {
    await this.ready();
    const { rowCount } = await run(this.q, this.st.disputes.insertTransition, disputeTransitionParams(transition));
    if (rowCount === 0) throw duplicate('duplicate_transition', `A transition id was already used (${transition.id})`);
  }

  private async disputeConflict(dispute: Dispute): Promise<{ version: number | null; referenceTaken: boolean }> {
    const { rows } = await run(this.q, this.st.disputes.conflicts, [dispute.id, dispute.gateway, dispute.gatewayReference]);
    const version = rows[0]?.version;
    return { version: version === null || version === undefined ? null : Number(version), referenceTaken: rows[0]?.reference_taken === true };
  }

  /** The stored version of the record's id (null when none) and whether its gateway reference is another's. */
  private async billingConflict(kind: 'subscription' | 'invoice', record: Subscription | Invoice): Promise<{ version: number | null; referenceTaken: boolean }> {
    const sql = kind === 'subscription' ? this.st.billing.subscriptionConflicts : this.st.billing.invoiceConflicts;
    const { rows } = await run(this.q, sql, [record.id, record.gateway, record.gatewayReference]);
    const version = rows[0]?.version;
    return { version: version === null || version === undefined ? null : Number(version), referenceTaken: rows[0]?.reference_taken === true };
  }

  /** Why a conditional update of a subscription or invoice wrote nothing. */
  private async updateConflict(kind: 'subscription' | 'invoice', record: Subscription | Invoice): Promise<TenderError> {
    const conflict = await this.billingConflict(kind, record);
    if (conflict.version === null) return notFound(kind, record.id);
    if (conflict.version === record.version - 1 && conflict.referenceTaken) {
      return duplicate('duplicate_gateway_reference', `A ${record.gateway} ${kind} with reference '${record.gatewayReference}' already exists`);
    }
    return stateConflict(
      'version_conflict',
      `${kind === 'subscription' ? 'Subscription' : 'Invoice'} ${record.id} was changed concurrently (stored version ${conflict.version}, this write expected ${record.version - 1})`,
      { [`${kind}Id`]: record.id },
    );
  }

  /** Runs a statement of another part of the store (settlements) in this transaction, after the queued writes. */
  async statement(sql: string, params: readonly unknown[]): Promise<{ rowCount: number }> {
    await this.ready();
    return run(this.q, sql, params);
  }

  async enqueueOutbox(event: OutboxEvent): Promise<void> {
    // A payload whose `data` is the snapshot itself (the default envelope) holds it already: the
    // snapshot is stored once, in the published document, and read back from it (toOutboxRow). Half
    // the bytes an event costs to send and store, and one serialisation fewer. A payload with data of
    // its own (the server's API shape, an encrypting store's copies) leaves both stored.
    const once = event.payload !== null && event.payload !== undefined && event.payload.data === event.data && event.data !== undefined;
    this.#outbox.push({ ...event, data: once ? null : json(event.data ?? {}), payload: event.payload ? json(event.payload) : null });
  }
}

/**
 * `q` with its {@link TxQueryable.last} statement handed to group commit when it is the transaction's
 * only one (nothing sent before it, so it is atomic alone and holds no locks yet); anything else goes
 * to `q` itself.
 */
function batched(q: TxQueryable, batcher: GroupCommitter): TxQueryable {
  return {
    get begun() {
      return q.begun;
    },
    query: <R = Row>(sql: string, params?: readonly unknown[]) => q.query<R>(sql, params),
    exec: (sql: string) => q.exec(sql),
    last: <R = Row>(sql: string, params: readonly unknown[]) =>
      q.begun ? q.last<R>(sql, params) : (batcher.submit(sql, params) as Promise<{ rows: R[]; rowCount: number }>),
  };
}

/** The data columns of payments as the rewrite statement's arrays ($1 ids .. $5 gateway data). */
function paymentDataColumns(payments: readonly Payment[]): unknown[] {
  return [
    payments.map((p) => p.id),
    payments.map((p) => json(p.customer ?? {})),
    payments.map((p) => json(p.metadata ?? {})),
    payments.map((p) => json(p.nextAction)),
    payments.map((p) => json(p.gatewayData ?? {})),
  ];
}

/** An idempotency page cursor: `[merchantId, key]` as JSON. */
function parseKeyCursor(cursor: string): [string, string] {
  try {
    const parsed: unknown = JSON.parse(cursor);
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') return [parsed[0], parsed[1]];
  } catch {
    // reported below
  }
  throw new TenderError({ type: 'invalid_request_error', code: 'invalid_cursor', message: 'Not a cursor of idempotency records', param: 'after' });
}

/** Options shared by both store factories. */
export interface PostgresStoreOptions {
  /**
   * Postgres schema holding Tender's tables (default `tender`); created by the first migration. Use one
   * schema per isolated copy (tests, several environments in one database).
   */
  schema?: string;
  /** Run pending migrations when the store is created (default true). */
  migrate?: boolean;
  /**
   * Group commit (default off): units of work of concurrent callers that each come down to one
   * statement (the engine's write-only units) are written together in one transaction and one COMMIT,
   * each caller answered once that COMMIT returned; a unit whose write conflicts fails alone. A caller
   * that finds nothing in flight is sent at once, so a lone request waits for no one. Units that read
   * or lock rows first run in transactions of their own, as without it. On node-postgres batches go
   * in one round trip over up to two extra pipelined connections of their own. `true` takes the
   * defaults of {@link GroupCommitOptions}. node-postgres only: PGlite, one connection whose
   * transactions already run one at a time, accepts the option and runs each unit alone.
   */
  groupCommit?: boolean | GroupCommitOptions;
}

/**
 * A Tender {@link Store} on Postgres or PGlite. Create it with `createPostgresStore` or
 * `createPGliteStore`. Every failure is a `TenderError`: unique violations `state_error`/`duplicate_*`,
 * lost or refused connections `storage_error`/`storage_unavailable` with `retryable: true`. When a
 * connection drops during COMMIT the outcome is unknown to the caller but never partial.
 */
export class PostgresStore extends Reader implements Store, WebhookEndpointStore, SettlementStore, AnalyticsStore {
  /** The schema holding the tables. */
  readonly schema: string;
  /** `pg` or `pglite`. */
  readonly driverKind: 'pg' | 'pglite';
  readonly #driver: Driver;
  #closed = false;

  readonly #observed: ObservedDriver;
  readonly #batcher: GroupCommitter | null;
  /** The `SettlementStore` part (migration 14). */
  readonly #settlements: PostgresSettlements;
  /** The `AnalyticsStore` part's statements (migration 13). */
  readonly #analytics: AnalyticsStatements;

  /** Prefer the factories; this does not migrate. */
  constructor(driver: Driver, schema: string, options: Pick<PostgresStoreOptions, 'groupCommit'> = {}) {
    const st = buildStatements(schema);
    const observed = observedDriver(driver);
    super(observed, st);
    this.#driver = observed;
    this.#observed = observed;
    this.schema = schema;
    this.driverKind = driver.kind;
    const group = options.groupCommit;
    // PGlite runs each unit alone, as without the option (see GroupCommitter.supports).
    this.#batcher = group && GroupCommitter.supports(observed) ? new GroupCommitter(observed, group === true ? {} : group) : null;
    this.#settlements = new PostgresSettlements(observed, schema, (fn) => this.transaction((tx) => fn(tx, (sql, params) => (tx as Tx).statement(sql, params))));
    this.#analytics = buildAnalyticsStatements(schema);
  }

  /** The `AnalyticsStore` part: whole days from the daily rollup, cut edges from the records (see `analytics.ts`). */
  paymentAnalytics(query: PaymentAnalyticsQuery): Promise<PaymentAnalyticsAggregate[]> {
    return postgresPaymentAnalytics(this.#driver, this.#analytics, query);
  }

  listSettledRecords(query: SettledRecordsQuery): Promise<SettledRecords> {
    return this.#settlements.listSettledRecords(query);
  }

  insertSettlementRun(run: SettlementRun, events: readonly OutboxEvent[]): Promise<void> {
    return this.#settlements.insertSettlementRun(run, events);
  }

  latestSettlementRun(key: SettlementRunKey): Promise<SettlementRun | null> {
    return this.#settlements.latestSettlementRun(key);
  }

  getSettlementRun(id: string, merchantId?: string | null): Promise<SettlementRun | null> {
    return this.#settlements.getSettlementRun(id, merchantId);
  }

  listSettlementRuns(key: SettlementRunKey): Promise<SettlementRunSummary[]> {
    return this.#settlements.listSettlementRuns(key);
  }

  /** Counters of group commit (batches, units, the largest batch...), or null when it is off (always on PGlite). */
  groupCommitStats(): GroupCommitStats | null {
    return this.#batcher?.stats() ?? null;
  }

  /**
   * The risk engine's velocity store over this store's connections and schema (migration 11), shared
   * by every instance on the same database. `close()` of it leaves the store open.
   */
  velocityStore(): PostgresVelocityStore {
    return new PostgresVelocityStore(this.#driver, this.schema);
  }

  /** The pool's connections (`pg`), or null for PGlite (one connection, no pool). */
  poolStats(): PoolStats | null {
    return this.#observed.poolStats?.() ?? null;
  }

  /** Calls `listener` with each statement's duration in seconds and whether it failed; returns an unsubscribe function. */
  observeQueries(listener: QueryListener): () => void {
    return this.#observed.observe(listener);
  }

  /** Bytes on disk of this schema's tables, their indexes and TOAST included. */
  async schemaSizeBytes(): Promise<number> {
    const { rows } = await run(this.#driver, this.st.schemaSize, [this.schema]);
    return Number(rows[0]?.bytes ?? 0);
  }

  /**
   * How many payments in `statuses` were last updated before `updatedBefore` (what
   * `listPaymentsToReconcile` would return without a limit), counting at most `cap` (an index range
   * per status, so a large backlog costs no more than `cap` index entries).
   */
  async countPaymentsToReconcile(query: { statuses: readonly string[]; updatedBefore: string; cap?: number }): Promise<number> {
    if (query.statuses.length === 0) return 0;
    const { rows } = await run(this.#driver, this.st.countToReconcile, [[...query.statuses], query.updatedBefore, Math.max(1, Math.floor(query.cap ?? 10_000))]);
    return Number(rows[0]?.n ?? 0);
  }

  /** Applies pending migrations to this store's schema (safe to run from several instances at once). */
  migrate(): Promise<MigrationResult> {
    return runMigrations(this.#driver, this.schema);
  }

  /**
   * Readiness probe: resolves when the database answers and the schema has every shipped migration.
   * @throws TenderError `storage_error`/`migrations_pending` (retryable) on an unmigrated schema.
   */
  async ping(): Promise<void> {
    let version: number;
    try {
      const { rows } = await this.#driver.query(this.st.ping, []);
      version = Number(rows[0]?.version ?? 0);
    } catch (error) {
      // An unmigrated schema has no schema_migrations table (42P01): not ready, for the same reason.
      if ((error as { code?: string }).code !== '42P01') throw toStoreError(error);
      version = 0;
    }
    const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    if (version < latest) {
      throw new TenderError({
        type: 'storage_error',
        code: 'migrations_pending',
        message: `Schema '${this.schema}' is at migration ${version}; this version of @tender/store-postgres needs ${latest} (run tender-server migrate)`,
        retryable: true,
      });
    }
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      // What `fn` threw goes back to the caller untouched; only the driver's own failures are mapped.
      let thrownByFn: { error: unknown } | undefined;
      try {
        return await this.#driver.transaction(async (q) => {
          const tx = new Tx(this.#batcher ? batched(q, this.#batcher) : q, this.st);
          let result: T;
          try {
            result = await fn(tx);
          } catch (error) {
            thrownByFn = { error };
            throw error;
          }
          await tx.flush(true);
          return result;
        });
      } catch (error) {
        if (attempt < TRANSACTION_ATTEMPTS && isSerializationFailure(error)) {
          // Jittered pause so the transactions that collided do not collide again in lockstep.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
          continue;
        }
        if (thrownByFn && thrownByFn.error === error) throw error;
        throw toStoreError(error);
      }
    }
  }

  async claimOutbox(options: { limit: number; now: string; leaseUntil: string }): Promise<OutboxRow[]> {
    if (options.limit <= 0) return [];
    const { rows } = await run(this.#driver, this.st.claimOutbox, [options.now, Math.floor(options.limit), options.leaseUntil]);
    // RETURNING has no order; hand rows out oldest-due first.
    rows.sort((a, b) => {
      const due = iso(a.next_attempt_at).localeCompare(iso(b.next_attempt_at));
      return due !== 0 ? due : String(a.id) < String(b.id) ? -1 : 1;
    });
    return rows.map(toOutboxRow);
  }

  /** An unknown id is ignored, as by `MemoryStore`: the row may have been purged meanwhile. */
  async completeOutbox(id: string, completion: OutboxCompletion): Promise<void> {
    switch (completion.status) {
      case 'delivered':
        await run(this.#driver, this.st.completeDelivered, [id, completion.at]);
        return;
      case 'pending':
        await run(this.#driver, this.st.completePending, [id, completion.nextAttemptAt, completion.error]);
        return;
      case 'dead':
        await run(this.#driver, this.st.completeDead, [id, completion.error]);
        return;
    }
  }

  async requeueOutbox(id: string, now: string): Promise<boolean> {
    const { rows } = await run(this.#driver, this.st.requeueOutbox, [id, now]);
    return Number(rows[0]?.n ?? 0) > 0;
  }

  async listEventDeliveries(eventId: string): Promise<string[]> {
    const { rows } = await run(this.#driver, this.st.listEventDeliveries, [eventId]);
    return rows.map((r) => String(r.endpoint_id));
  }

  async recordEventDelivery(eventId: string, endpointId: string, at: string): Promise<void> {
    await run(this.#driver, this.st.recordEventDelivery, [eventId, endpointId, at]);
  }

  async claimRelay(options: { limit: number; now: string; leaseUntil: string }): Promise<OutboxRow[]> {
    if (options.limit <= 0) return [];
    const { rows } = await run(this.#driver, this.st.claimRelay, [options.now, Math.floor(options.limit), options.leaseUntil]);
    // RETURNING has no order; hand rows out in the order they were written.
    return rows.map(toOutboxRow).sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
  }

  /** An unknown id is ignored: the row may have been purged meanwhile. */
  async completeRelay(id: string, completion: RelayCompletion): Promise<void> {
    switch (completion.status) {
      case 'published':
        await run(this.#driver, this.st.completeRelayPublished, [id, completion.at]);
        return;
      case 'pending':
        await run(this.#driver, this.st.completeRelayPending, [id, completion.nextAttemptAt, completion.error]);
        return;
      case 'dead':
        await run(this.#driver, this.st.completeRelayDead, [id, completion.error]);
        return;
    }
  }

  async relayBacklog(): Promise<{ pending: number; oldestCreatedAt: string | null }> {
    const { rows } = await run(this.#driver, this.st.relayBacklog, []);
    return { pending: Number(rows[0]?.n ?? 0), oldestCreatedAt: isoOrNull(rows[0]?.oldest) };
  }

  async purge(options: { now: string; deliveredBefore: string; batchSize?: number; keepUnpublished?: boolean; dryRun?: boolean }): Promise<{ idempotency: number; outbox: number }> {
    if (options.dryRun) {
      const count = async (sql: string, cutoff: string) => Number((await run(this.#driver, sql, [cutoff])).rows[0]?.n ?? 0);
      return {
        idempotency: await count(this.st.purgeCountIdempotency, options.now),
        outbox: await count(options.keepUnpublished ? this.st.purgeCountOutboxPublished : this.st.purgeCountOutbox, options.deliveredBefore),
      };
    }
    const batch = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_PURGE_BATCH));
    const drain = async (sql: string, cutoff: string) => {
      let total = 0;
      for (;;) {
        const { rowCount } = await run(this.#driver, sql, [cutoff, batch]);
        total += rowCount;
        if (rowCount < batch) return total;
      }
    };
    const idempotency = await drain(this.st.purgeIdempotency, options.now);
    const outbox = await drain(options.keepUnpublished ? this.st.purgeOutboxPublished : this.st.purgeOutbox, options.deliveredBefore);
    return { idempotency, outbox };
  }

  /** A maintenance transaction on one connection, run again on serialisation failures and deadlocks. */
  async #maintenance<T>(fn: (q: TxQueryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let thrownByFn: { error: unknown } | undefined;
      try {
        return await this.#driver.transaction(async (q) => {
          try {
            return await fn(q);
          } catch (error) {
            if (!isSerializationFailure(error)) thrownByFn = { error };
            throw error;
          }
        });
      } catch (error) {
        if (attempt < TRANSACTION_ATTEMPTS && isSerializationFailure(error)) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
          continue;
        }
        if (thrownByFn && thrownByFn.error === error) throw error;
        throw toStoreError(error);
      }
    }
  }

  async rewriteRecords<K extends StoredRecordKind>(options: RewriteRecordsOptions<K>): Promise<RewriteRecordsPage> {
    const limit = Math.max(0, Math.floor(options.limit));
    if (limit === 0) return { scanned: 0, rewritten: 0, next: null };
    const after = options.after ?? null;
    const rewrite = options.rewrite as unknown as (record: unknown) => unknown;
    return this.#maintenance(async (q) => {
      // Every decision first, then one write per table: a throw from `rewrite` rolls the page back.
      const decide = <R>(records: R[]): Array<{ record: R; next: R }> => {
        const changed: Array<{ record: R; next: R }> = [];
        for (const record of records) {
          const next = rewrite(record) as R | null | undefined;
          if (next !== null && next !== undefined) changed.push({ record, next });
        }
        return changed;
      };
      const page = (scanned: number, rewritten: number, last: string | null): RewriteRecordsPage => ({ scanned, rewritten, next: scanned < limit ? null : last });
      switch (options.kind) {
        case 'payments': {
          const { rows } = await run(q, this.st.pagePayments, [after ?? '', limit]);
          const changed = decide(rows.map(toPayment)).map((c) => c.next);
          if (changed.length > 0) await run(q, this.st.rewritePayments(false), paymentDataColumns(changed));
          return page(rows.length, changed.length, rows.length > 0 ? String(rows[rows.length - 1]!.id) : null);
        }
        case 'refunds': {
          const { rows } = await run(q, this.st.pageRefunds, [after ?? '', limit]);
          const changed = decide(rows.map(toRefund)).map((c) => c.next);
          if (changed.length > 0) await run(q, this.st.rewriteRefunds, [changed.map((r) => r.id), changed.map((r) => json(r.metadata ?? {}))]);
          return page(rows.length, changed.length, rows.length > 0 ? String(rows[rows.length - 1]!.id) : null);
        }
        case 'outbox': {
          const { rows } = await run(q, this.st.pageOutbox, [after ?? '', limit]);
          const changed = decide(rows.map(toOutboxRow)).map((c) => c.next);
          if (changed.length > 0) {
            await run(q, this.st.rewriteOutbox, [changed.map((e) => e.id), changed.map((e) => json(e.data ?? {})), changed.map((e) => json(e.payload ?? null))]);
          }
          return page(rows.length, changed.length, rows.length > 0 ? String(rows[rows.length - 1]!.id) : null);
        }
        case 'idempotency': {
          const [merchant, key] = after === null ? ['', ''] : parseKeyCursor(after);
          const { rows } = await run(q, this.st.pageIdempotency, [merchant, key, limit]);
          const changed = decide(rows.map(toIdempotencyRecord));
          if (changed.length > 0) {
            // The key is the stored row's, whatever `rewrite` returned.
            await run(q, this.st.rewriteIdempotency, [changed.map((c) => c.record.merchantId), changed.map((c) => c.record.key), changed.map((c) => json(c.next.response))]);
          }
          const last = rows[rows.length - 1];
          return page(rows.length, changed.length, last ? JSON.stringify([String(last.merchant_id), String(last.key)]) : null);
        }
        default:
          throw new TypeError(`Unknown record kind: ${String(options.kind)}`);
      }
    });
  }

  async anonymizePayments(options: { createdBefore: string; limit: number; dryRun?: boolean }): Promise<AnonymizeResult> {
    if (options.dryRun) {
      const { rows } = await run(this.#driver, this.st.anonymizeCounts, [options.createdBefore]);
      const r = rows[0] ?? {};
      return { payments: Number(r.payments ?? 0), refunds: Number(r.refunds ?? 0), outbox: Number(r.outbox ?? 0), idempotency: Number(r.idempotency ?? 0), paymentIds: [] };
    }
    const limit = Math.max(0, Math.floor(options.limit));
    if (limit === 0) return { payments: 0, refunds: 0, outbox: 0, idempotency: 0, paymentIds: [] };
    return this.#maintenance(async (q) => {
      const { rows } = await run(q, this.st.anonymizeDue, [options.createdBefore, limit]);
      if (rows.length === 0) return { payments: 0, refunds: 0, outbox: 0, idempotency: 0, paymentIds: [] };
      const payments = rows.map(toPayment).map((p) => ({ ...p, ...anonymizePersonalData({ customer: p.customer, metadata: p.metadata, nextAction: p.nextAction, gatewayData: p.gatewayData }) }));
      const ids = payments.map((p) => p.id);
      await run(q, this.st.rewritePayments(true), paymentDataColumns(payments));
      const { rows: refunds } = await run(q, this.st.refundsOfPayments, [ids]);
      if (refunds.length > 0) await run(q, this.st.rewriteRefunds, [refunds.map((r) => String(r.id)), refunds.map((r) => json(anonymizePersonalData(r.metadata ?? {})))]);
      const { rows: events } = await run(q, this.st.outboxOfPayments, [ids]);
      if (events.length > 0) {
        await run(q, this.st.rewriteOutbox, [
          events.map((e) => String(e.id)),
          // A row without its own snapshot (migration 9) keeps none: the payload's, anonymised, is it.
          events.map((e) => (e.data === null || e.data === undefined ? null : json(anonymizePersonalData(e.data)))),
          events.map((e) => json(anonymizePersonalData(e.payload ?? null))),
        ]);
      }
      const { rows: keys } = await run(q, this.st.idempotencyOfResources, [[...ids, ...refunds.map((r) => String(r.id))]]);
      if (keys.length > 0) {
        await run(q, this.st.rewriteIdempotency, [keys.map((k) => String(k.merchant_id)), keys.map((k) => String(k.key)), keys.map((k) => json(anonymizePersonalData(k.response ?? null)))]);
      }
      return { payments: payments.length, refunds: refunds.length, outbox: events.length, idempotency: keys.length, paymentIds: ids };
    });
  }

  async countOutboxBacklog(): Promise<number> {
    const { rows } = await run(this.#driver, this.st.countOutboxBacklog, []);
    return Number(rows[0]?.n ?? 0);
  }

  async createWebhookEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    const { rowCount } = await run(this.#driver, this.st.insertWebhookEndpoint, [
      endpoint.id,
      endpoint.merchantId,
      endpoint.url,
      JSON.stringify(endpoint.events),
      endpoint.secret,
      endpoint.description,
      endpoint.createdAt,
    ]);
    if (rowCount === 0) throw duplicate('duplicate_webhook_endpoint', `Webhook endpoint ${endpoint.id} already exists`);
  }

  listWebhookEndpoints(merchantId: string): Promise<WebhookEndpoint[]> {
    return many(this.#driver, this.st.listWebhookEndpoints, [merchantId], toWebhookEndpoint);
  }

  getWebhookEndpoint(merchantId: string, id: string): Promise<WebhookEndpoint | null> {
    return one(this.#driver, this.st.getWebhookEndpoint, [merchantId, id], toWebhookEndpoint);
  }

  async deleteWebhookEndpoint(merchantId: string, id: string): Promise<boolean> {
    const { rowCount } = await run(this.#driver, this.st.deleteWebhookEndpoint, [merchantId, id]);
    return rowCount > 0;
  }

  /** Releases the pool or PGlite instance if the store created it; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Units already handed to a batch are answered before the connections go.
    await this.#batcher?.drain();
    await this.#driver.close();
  }
}
