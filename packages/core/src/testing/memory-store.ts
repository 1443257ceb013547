/**
 * MemoryStore: a complete in-process implementation of the Store spec. Transactions and reads run one
 * at a time (a queue); a transaction writes in place and keeps an undo log, so a thrown error rolls
 * back everything, and concurrent async callers see serialisable behaviour without copying the data.
 *
 * @module
 */
import type { BillingTransition, GatewayCustomer, Invoice, SavedPaymentMethod, Subscription } from '../billing';
import { cloneData } from '../clone';
import type { Dispute, DisputeTransition } from '../dispute';
import { TenderError, stateConflict } from '../errors';
import type { Payment, Refund, Transition } from '../payment';
import { anonymizePersonalData } from '../store/personal-data';
import type {
  AnonymizeResult,
  BillingListQuery,
  IdempotencyRecord,
  ListDisputesQuery,
  ListInvoicesQuery,
  ListSavedPaymentMethodsQuery,
  ListSubscriptionsQuery,
  RewriteRecordsOptions,
  RewriteRecordsPage,
  StoredRecordKind,
  ListOutboxEventsQuery,
  ListPaymentsQuery,
  OutboxCompletion,
  OutboxEvent,
  OutboxRow,
  RelayCompletion,
  ReconcileQuery,
  Store,
  StoreReader,
  StoreTx,
} from '../spec/store/v1/index';
import type { WebhookEndpoint, WebhookEndpointStore } from '../spec/webhook-endpoints/v1/index';
import type { SettledRecords, SettledRecordsQuery, SettlementRun, SettlementRunKey, SettlementRunSummary, SettlementStore } from '../spec/store/v1/settlements';
import { MemorySettlements } from './memory-settlements';
import type { AnalyticsStore, PaymentAnalyticsAggregate, PaymentAnalyticsQuery } from '../spec/store/v1/analytics';
import { memoryPaymentAnalytics } from './memory-analytics';

interface Data {
  payments: Map<string, Payment>;
  /** (gateway, reference) -> payment id. */
  references: Map<string, string>;
  /** payment id -> refund ids, in insertion order. */
  refundsByPayment: Map<string, string[]>;
  /** order id (the payment id when it has none) -> payment ids: what a gateway echoes back. */
  byOrderReference: Map<string, string[]>;
  /** payment id -> its audit trail. */
  transitionsByPayment: Map<string, Transition[]>;
  refunds: Map<string, Refund>;
  idempotency: Map<string, IdempotencyRecord>;
  inbox: Set<string>;
  outbox: Map<string, OutboxRow>;
  /** (merchant, user, gateway) -> the user's customer at that gateway. */
  customers: Map<string, GatewayCustomer>;
  savedMethods: Map<string, SavedPaymentMethod>;
  /** (merchant, gateway, token) -> saved method id. */
  methodTokens: Map<string, string>;
  subscriptions: Map<string, Subscription>;
  /** (gateway, reference) -> subscription id. */
  subscriptionRefs: Map<string, string>;
  invoices: Map<string, Invoice>;
  /** (gateway, reference) -> invoice id. */
  invoiceRefs: Map<string, string>;
  /** subscription or invoice id -> its audit trail. */
  billingTransitions: Map<string, BillingTransition[]>;
  disputes: Map<string, Dispute>;
  /** (gateway, reference) -> dispute id. */
  disputeRefs: Map<string, string>;
  /** dispute id -> its audit trail. */
  disputeTransitions: Map<string, DisputeTransition[]>;
}

const clone = cloneData;
// Shape-aware copies of the hot records, spelled out field by field: one object shape, and no generic
// deep copy (a spread plus overrides is several times slower on this path). TypeScript flags a field
// added to Payment and missing here.
const copyPayment = (p: Payment): Payment => ({
  id: p.id,
  merchantId: p.merchantId,
  orderId: p.orderId,
  userId: p.userId ?? null,
  savedPaymentMethodId: p.savedPaymentMethodId ?? null,
  status: p.status,
  amount: p.amount,
  currency: p.currency,
  amountCaptured: p.amountCaptured,
  amountRefunded: p.amountRefunded,
  captureMethod: p.captureMethod,
  gateway: p.gateway,
  gatewayReference: p.gatewayReference,
  paymentMethod: p.paymentMethod,
  description: p.description,
  customer: { ...p.customer },
  returnUrl: p.returnUrl,
  notifyUrl: p.notifyUrl,
  metadata: { ...p.metadata },
  nextAction: p.nextAction === null ? null : cloneData(p.nextAction),
  failure: p.failure === null ? null : { ...p.failure },
  gatewayData: cloneData(p.gatewayData),
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
  version: p.version,
});
const copyIdempotency = (r: IdempotencyRecord): IdempotencyRecord => ({
  ...r,
  response: r.response === null ? null : { status: r.response.status, body: cloneData(r.response.body) },
});
const copyRefund = (r: Refund): Refund => ({ ...r, metadata: { ...r.metadata }, failure: r.failure === null ? null : { ...r.failure } });

const copyMethod = (m: SavedPaymentMethod): SavedPaymentMethod => ({ ...m, card: m.card === null ? null : { ...m.card } });
const copySubscription = (s: Subscription): Subscription => ({ ...s, metadata: { ...s.metadata } });
const copyInvoice = (i: Invoice): Invoice => ({ ...i });

const refKey = (gateway: string, reference: string) => `${gateway}\u0000${reference}`;
const customerKey = (merchantId: string, userId: string, gateway: string) => `${merchantId}\u0000${userId}\u0000${gateway}`;
const tokenKey = (merchantId: string, gateway: string, token: string) => `${merchantId}\u0000${gateway}\u0000${token}`;
const idemKey = (merchantId: string, key: string) => `${merchantId}\u0000${key}`;
/** Milliseconds of an ISO instant: bounds may carry another offset or precision than the stored `createdAt`. */
const instant = (iso: string) => Date.parse(iso);

const byNewest = (a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) =>
  a.createdAt === b.createdAt ? (a.id === b.id ? 0 : a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;

class Reader implements StoreReader {
  constructor(protected readonly data: () => Data) {}

  async getPayment(id: string, merchantId?: string): Promise<Payment | null> {
    const p = this.data().payments.get(id);
    return p && (merchantId === undefined || p.merchantId === merchantId) ? copyPayment(p) : null;
  }

  async findPaymentByGatewayReference(gateway: string, gatewayReference: string): Promise<Payment | null> {
    const id = this.data().references.get(refKey(gateway, gatewayReference));
    return id ? copyPayment(this.data().payments.get(id)!) : null;
  }

  async findPaymentByOrderId(merchantId: string, orderId: string): Promise<Payment | null> {
    const found = [...this.data().payments.values()].filter((p) => p.merchantId === merchantId && p.orderId === orderId).sort(byNewest);
    return found[0] ? copyPayment(found[0]) : null;
  }

  async listPaymentsByGatewayOrder(gateway: string, reference: string, limit: number): Promise<Payment[]> {
    return (this.data().byOrderReference.get(reference) ?? [])
      .map((id) => this.data().payments.get(id)!)
      .filter((p) => p.gateway === gateway && (p.orderId === reference || (p.orderId === null && p.id === reference)))
      .sort(byNewest)
      .slice(0, limit)
      .map(copyPayment);
  }

  async listPayments(query: ListPaymentsQuery): Promise<Payment[]> {
    let rows = [...this.data().payments.values()]
      .filter((p) => p.merchantId === query.merchantId)
      .filter((p) => query.orderId === undefined || p.orderId === query.orderId)
      .filter((p) => query.status === undefined || p.status === query.status)
      .filter((p) => query.userId === undefined || p.userId === query.userId)
      .filter((p) => query.gateway === undefined || p.gateway === query.gateway)
      .filter((p) => query.createdFrom === undefined || instant(p.createdAt) >= instant(query.createdFrom))
      .filter((p) => query.createdBefore === undefined || instant(p.createdAt) < instant(query.createdBefore))
      .sort(byNewest);
    if (query.startingAfter !== undefined) {
      const cursor = this.data().payments.get(query.startingAfter);
      if (!cursor) return [];
      rows = rows.filter((p) => byNewest(cursor, p) < 0);
    }
    return rows.slice(0, query.limit).map(copyPayment);
  }

  async listPaymentsToReconcile(query: ReconcileQuery): Promise<Payment[]> {
    return [...this.data().payments.values()]
      .filter((p) => query.statuses.includes(p.status) && p.updatedAt < query.updatedBefore)
      .sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : 0))
      .slice(0, query.limit)
      .map(copyPayment);
  }

  async getRefund(id: string, merchantId?: string): Promise<Refund | null> {
    const r = this.data().refunds.get(id);
    return r && (merchantId === undefined || r.merchantId === merchantId) ? copyRefund(r) : null;
  }

  async listRefunds(paymentId: string): Promise<Refund[]> {
    const ids = this.data().refundsByPayment.get(paymentId) ?? [];
    return ids
      .map((id) => this.data().refunds.get(id)!)
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1))
      .map(copyRefund);
  }

  async listPendingRefunds(query: { createdBefore: string; limit: number }): Promise<Refund[]> {
    return [...this.data().refunds.values()]
      .filter((r) => r.status === 'PENDING' && r.createdAt < query.createdBefore)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))
      .slice(0, query.limit)
      .map(copyRefund);
  }

  async listTransitions(paymentId: string): Promise<Transition[]> {
    return (this.data().transitionsByPayment.get(paymentId) ?? []).map((t) => ({ ...t }));
  }

  async getIdempotencyRecord(merchantId: string, key: string): Promise<IdempotencyRecord | null> {
    const r = this.data().idempotency.get(idemKey(merchantId, key));
    return r ? copyIdempotency(r) : null;
  }

  async getOutboxEvent(id: string): Promise<OutboxRow | null> {
    const r = this.data().outbox.get(id);
    return r ? clone(r) : null;
  }

  async listOutboxEvents(query: ListOutboxEventsQuery): Promise<OutboxRow[]> {
    let rows = [...this.data().outbox.values()]
      .filter((r) => r.merchantId === query.merchantId)
      .filter((r) => query.type === undefined || r.type === query.type)
      .filter((r) => query.deliveryStatus === undefined || r.status === query.deliveryStatus)
      .filter((r) => query.paymentId === undefined || r.paymentId === query.paymentId)
      .sort(byNewest);
    if (query.startingAfter !== undefined) {
      const cursor = this.data().outbox.get(query.startingAfter);
      if (!cursor || cursor.merchantId !== query.merchantId) return [];
      rows = rows.filter((r) => byNewest(cursor, r) < 0);
    }
    return rows.slice(0, Math.max(0, Math.floor(query.limit))).map(clone);
  }

  async getGatewayCustomer(merchantId: string, userId: string, gateway: string): Promise<GatewayCustomer | null> {
    const c = this.data().customers.get(customerKey(merchantId, userId, gateway));
    return c ? { ...c } : null;
  }

  async getSavedPaymentMethod(id: string, merchantId?: string): Promise<SavedPaymentMethod | null> {
    const m = this.data().savedMethods.get(id);
    return m && (merchantId === undefined || m.merchantId === merchantId) ? copyMethod(m) : null;
  }

  async findSavedPaymentMethodByToken(merchantId: string, gateway: string, token: string): Promise<SavedPaymentMethod | null> {
    const id = this.data().methodTokens.get(tokenKey(merchantId, gateway, token));
    return id ? copyMethod(this.data().savedMethods.get(id)!) : null;
  }

  async listSavedPaymentMethods(query: ListSavedPaymentMethodsQuery): Promise<SavedPaymentMethod[]> {
    return page(this.data().savedMethods, query, (m) => m.deletedAt === null).map(copyMethod);
  }

  async getSubscription(id: string, merchantId?: string): Promise<Subscription | null> {
    const s = this.data().subscriptions.get(id);
    return s && (merchantId === undefined || s.merchantId === merchantId) ? copySubscription(s) : null;
  }

  async findSubscriptionByGatewayReference(gateway: string, gatewayReference: string): Promise<Subscription | null> {
    const id = this.data().subscriptionRefs.get(refKey(gateway, gatewayReference));
    return id ? copySubscription(this.data().subscriptions.get(id)!) : null;
  }

  async listSubscriptions(query: ListSubscriptionsQuery): Promise<Subscription[]> {
    return page(this.data().subscriptions, query, (s) => query.status === undefined || s.status === query.status).map(copySubscription);
  }

  async getInvoice(id: string, merchantId?: string): Promise<Invoice | null> {
    const i = this.data().invoices.get(id);
    return i && (merchantId === undefined || i.merchantId === merchantId) ? copyInvoice(i) : null;
  }

  async findInvoiceByGatewayReference(gateway: string, gatewayReference: string): Promise<Invoice | null> {
    const id = this.data().invoiceRefs.get(refKey(gateway, gatewayReference));
    return id ? copyInvoice(this.data().invoices.get(id)!) : null;
  }

  async listInvoices(query: ListInvoicesQuery): Promise<Invoice[]> {
    return page(this.data().invoices, query, (i) => query.subscriptionId === undefined || i.subscriptionId === query.subscriptionId).map(copyInvoice);
  }

  async listBillingTransitions(resourceId: string): Promise<BillingTransition[]> {
    return (this.data().billingTransitions.get(resourceId) ?? []).map((t) => ({ ...t }));
  }

  async getDispute(id: string, merchantId?: string): Promise<Dispute | null> {
    const d = this.data().disputes.get(id);
    return d && (merchantId === undefined || d.merchantId === merchantId) ? { ...d } : null;
  }

  async findDisputeByGatewayReference(gateway: string, gatewayReference: string): Promise<Dispute | null> {
    const id = this.data().disputeRefs.get(refKey(gateway, gatewayReference));
    return id ? { ...this.data().disputes.get(id)! } : null;
  }

  async listDisputes(query: ListDisputesQuery): Promise<Dispute[]> {
    const newest = (a: Dispute, b: Dispute) => (a.openedAt === b.openedAt ? (a.id === b.id ? 0 : a.id < b.id ? 1 : -1) : a.openedAt < b.openedAt ? 1 : -1);
    let rows = [...this.data().disputes.values()]
      .filter((d) => query.merchantId === undefined || d.merchantId === query.merchantId)
      .filter((d) => query.paymentId === undefined || d.paymentId === query.paymentId)
      .filter((d) => query.status === undefined || d.status === query.status)
      .filter((d) => (query.from === undefined || d.openedAt >= query.from) && (query.to === undefined || d.openedAt < query.to))
      .sort(newest);
    if (query.startingAfter !== undefined) {
      const cursor = this.data().disputes.get(query.startingAfter);
      if (!cursor) return [];
      rows = rows.filter((d) => newest(cursor, d) < 0);
    }
    return (query.limit === undefined ? rows : rows.slice(0, query.limit)).map((d) => ({ ...d }));
  }

  async listDisputeTransitions(disputeId: string): Promise<DisputeTransition[]> {
    return (this.data().disputeTransitions.get(disputeId) ?? []).map((t) => ({ ...t }));
  }
}

/** One page of a merchant's billing records, newest first: {@link BillingListQuery} and `keep`. */
function page<R extends { id: string; merchantId: string; userId: string; createdAt: string }>(records: Map<string, R>, query: BillingListQuery, keep: (record: R) => boolean): R[] {
  let rows = [...records.values()].filter((r) => r.merchantId === query.merchantId && (query.userId === undefined || r.userId === query.userId) && keep(r)).sort(byNewest);
  if (query.startingAfter !== undefined) {
    const cursor = records.get(query.startingAfter);
    if (!cursor) return [];
    rows = rows.filter((r) => byNewest(cursor, r) < 0);
  }
  return rows.slice(0, query.limit);
}

type Undo = () => void;

class Tx extends Reader implements StoreTx {
  readonly undo: Undo[] = [];

  constructor(private readonly working: Data) {
    super(() => working);
  }

  private setIn<K, V>(map: Map<K, V>, key: K, value: V): void {
    const had = map.has(key);
    const old = map.get(key);
    map.set(key, value);
    this.undo.push(() => (had ? map.set(key, old as V) : map.delete(key)));
  }

  private deleteIn<K, V>(map: Map<K, V>, key: K): void {
    if (!map.has(key)) return;
    const old = map.get(key) as V;
    map.delete(key);
    this.undo.push(() => map.set(key, old));
  }

  async lockPayment(id: string): Promise<Payment | null> {
    // The whole transaction is exclusive, so reading is locking.
    return this.getPayment(id);
  }

  async insertPayment(payment: Payment): Promise<void> {
    if (this.working.payments.has(payment.id)) throw duplicate('duplicate_payment', `Payment ${payment.id} exists`);
    this.assertUniqueReference(payment);
    this.setIn(this.working.payments, payment.id, copyPayment(payment));
    this.indexReference(payment);
    this.pushIn(this.working.byOrderReference, payment.orderId ?? payment.id, payment.id);
  }

  async expectPaymentVersion(id: string, version: number): Promise<void> {
    const current = this.working.payments.get(id);
    if (!current) throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such payment: ${id}` });
    if (current.version !== version) throw stateConflict('version_conflict', `Payment ${id} was changed concurrently`);
  }

  async updatePayment(payment: Payment): Promise<void> {
    const current = this.working.payments.get(payment.id);
    if (!current) throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such payment: ${payment.id}` });
    if (current.version !== payment.version - 1) {
      throw stateConflict('version_conflict', `Payment ${payment.id} was changed concurrently`);
    }
    this.assertUniqueReference(payment);
    if (current.gatewayReference !== null && (current.gatewayReference !== payment.gatewayReference || current.gateway !== payment.gateway)) {
      this.deleteIn(this.working.references, refKey(current.gateway, current.gatewayReference));
    }
    this.setIn(this.working.payments, payment.id, copyPayment(payment));
    this.indexReference(payment);
  }

  private indexReference(payment: Payment): void {
    if (payment.gatewayReference !== null) this.setIn(this.working.references, refKey(payment.gateway, payment.gatewayReference), payment.id);
  }

  private assertUniqueReference(payment: Payment): void {
    if (payment.gatewayReference === null) return;
    const owner = this.working.references.get(refKey(payment.gateway, payment.gatewayReference));
    if (owner !== undefined && owner !== payment.id) {
      throw duplicate('duplicate_gateway_reference', `Gateway reference ${payment.gatewayReference} is already used`);
    }
  }

  async insertRefund(refund: Refund): Promise<void> {
    if (this.working.refunds.has(refund.id)) throw duplicate('duplicate_refund', `Refund ${refund.id} exists`);
    if (!this.working.payments.has(refund.paymentId)) {
      throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such payment: ${refund.paymentId}` });
    }
    this.setIn(this.working.refunds, refund.id, copyRefund(refund));
    this.pushIn(this.working.refundsByPayment, refund.paymentId, refund.id);
  }

  private pushIn<V>(map: Map<string, V[]>, key: string, value: V): void {
    let list = map.get(key);
    if (!list) {
      list = [];
      this.setIn(map, key, list);
    }
    const target = list;
    target.push(value);
    this.undo.push(() => target.pop());
  }

  async updateRefund(refund: Refund): Promise<void> {
    if (!this.working.refunds.has(refund.id)) {
      throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such refund: ${refund.id}` });
    }
    this.setIn(this.working.refunds, refund.id, copyRefund(refund));
  }

  async appendTransition(transition: Transition): Promise<void> {
    if (!this.working.payments.has(transition.paymentId)) {
      throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such payment: ${transition.paymentId}` });
    }
    this.pushIn(this.working.transitionsByPayment, transition.paymentId, transition);
  }

  async claimIdempotencyKey(record: IdempotencyRecord): Promise<{ created: boolean; record: IdempotencyRecord }> {
    const k = idemKey(record.merchantId, record.key);
    const existing = this.working.idempotency.get(k);
    if (existing) return { created: false, record: copyIdempotency(existing) };
    this.setIn(this.working.idempotency, k, copyIdempotency(record));
    return { created: true, record: copyIdempotency(record) };
  }

  async insertIdempotencyRecord(record: IdempotencyRecord): Promise<void> {
    const k = idemKey(record.merchantId, record.key);
    if (this.working.idempotency.has(k)) throw duplicate('duplicate_idempotency_key', `Idempotency key '${record.key}' exists`);
    this.setIn(this.working.idempotency, k, copyIdempotency(record));
  }

  async updateIdempotencyRecord(record: IdempotencyRecord): Promise<void> {
    this.setIn(this.working.idempotency, idemKey(record.merchantId, record.key), copyIdempotency(record));
  }

  async deleteIdempotencyRecord(merchantId: string, key: string): Promise<void> {
    this.deleteIn(this.working.idempotency, idemKey(merchantId, key));
  }

  async recordInboundEvent(gateway: string, eventId: string): Promise<boolean> {
    const k = `${gateway}\u0000${eventId}`;
    if (this.working.inbox.has(k)) return false;
    const inbox = this.working.inbox;
    inbox.add(k);
    this.undo.push(() => inbox.delete(k));
    return true;
  }

  async enqueueOutbox(event: OutboxEvent): Promise<void> {
    // Outbox rows and transitions are append-only and rarely read: copied when read, not when written.
    // The row is spelled out: adding new keys after an object spread is a slow path in V8 (~5 µs).
    const row: OutboxRow = {
      id: event.id,
      merchantId: event.merchantId,
      type: event.type,
      paymentId: event.paymentId,
      refundId: event.refundId,
      data: event.data,
      payload: event.payload ?? null,
      createdAt: event.createdAt,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: event.createdAt,
      lockedUntil: null,
      lastError: null,
      deliveredAt: null,
      relay: { status: 'pending', attempts: 0, nextAttemptAt: event.createdAt, lockedUntil: null, lastError: null, publishedAt: null },
    };
    const outbox = this.working.outbox;
    outbox.set(event.id, row);
    this.undo.push(() => outbox.delete(event.id));
  }

  async insertGatewayCustomer(customer: GatewayCustomer): Promise<{ created: boolean; customer: GatewayCustomer }> {
    const k = customerKey(customer.merchantId, customer.userId, customer.gateway);
    const existing = this.working.customers.get(k);
    if (existing) return { created: false, customer: { ...existing } };
    this.setIn(this.working.customers, k, { ...customer });
    return { created: true, customer: { ...customer } };
  }

  async insertSavedPaymentMethod(method: SavedPaymentMethod): Promise<void> {
    const k = tokenKey(method.merchantId, method.gateway, method.token);
    if (this.working.methodTokens.has(k)) throw duplicate('duplicate_saved_payment_method', 'This payment method is already saved');
    if (this.working.savedMethods.has(method.id)) throw duplicate('duplicate_saved_payment_method', `Saved payment method ${method.id} exists`);
    const isDefault = method.isDefault && method.deletedAt === null;
    if (isDefault) this.clearDefault(method.merchantId, method.userId, method.id, null);
    this.setIn(this.working.savedMethods, method.id, copyMethod({ ...method, isDefault }));
    this.setIn(this.working.methodTokens, k, method.id);
  }

  /** Every other method of the user stops being the default (`updatedAt` = `now` when given). */
  private clearDefault(merchantId: string, userId: string, keepId: string, now: string | null): void {
    for (const m of this.working.savedMethods.values()) {
      if (m.isDefault && m.id !== keepId && m.merchantId === merchantId && m.userId === userId) {
        this.setIn(this.working.savedMethods, m.id, { ...copyMethod(m), isDefault: false, updatedAt: now ?? m.updatedAt });
      }
    }
  }

  async setDefaultSavedPaymentMethod(merchantId: string, id: string, now: string): Promise<SavedPaymentMethod | null> {
    const m = this.working.savedMethods.get(id);
    if (!m || m.merchantId !== merchantId || m.deletedAt !== null) return null;
    this.clearDefault(merchantId, m.userId, id, now);
    if (!m.isDefault) this.setIn(this.working.savedMethods, id, { ...copyMethod(m), isDefault: true, updatedAt: now });
    return copyMethod(this.working.savedMethods.get(id)!);
  }

  async removeSavedPaymentMethod(merchantId: string, id: string, now: string): Promise<SavedPaymentMethod | null> {
    const m = this.working.savedMethods.get(id);
    if (!m || m.merchantId !== merchantId) return null;
    if (m.deletedAt === null) this.setIn(this.working.savedMethods, id, { ...copyMethod(m), isDefault: false, deletedAt: now, updatedAt: now });
    return copyMethod(this.working.savedMethods.get(id)!);
  }

  async lockSubscription(id: string): Promise<Subscription | null> {
    // The whole transaction is exclusive, so reading is locking.
    return this.getSubscription(id);
  }

  async insertSubscription(subscription: Subscription): Promise<void> {
    if (this.working.subscriptions.has(subscription.id)) throw duplicate('duplicate_subscription', `Subscription ${subscription.id} exists`);
    const ref = refKey(subscription.gateway, subscription.gatewayReference);
    if (this.working.subscriptionRefs.has(ref)) throw duplicate('duplicate_gateway_reference', `Gateway reference ${subscription.gatewayReference} is already used`);
    this.setIn(this.working.subscriptions, subscription.id, copySubscription(subscription));
    this.setIn(this.working.subscriptionRefs, ref, subscription.id);
  }

  async updateSubscription(subscription: Subscription): Promise<void> {
    const current = this.working.subscriptions.get(subscription.id);
    if (!current) throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such subscription: ${subscription.id}` });
    if (current.version !== subscription.version - 1) throw stateConflict('version_conflict', `Subscription ${subscription.id} was changed concurrently`);
    this.reindex(this.working.subscriptionRefs, current, subscription);
    this.setIn(this.working.subscriptions, subscription.id, copySubscription(subscription));
  }

  async lockInvoice(id: string): Promise<Invoice | null> {
    return this.getInvoice(id);
  }

  async insertInvoice(invoice: Invoice): Promise<void> {
    if (this.working.invoices.has(invoice.id)) throw duplicate('duplicate_invoice', `Invoice ${invoice.id} exists`);
    const ref = refKey(invoice.gateway, invoice.gatewayReference);
    if (this.working.invoiceRefs.has(ref)) throw duplicate('duplicate_gateway_reference', `Gateway reference ${invoice.gatewayReference} is already used`);
    this.setIn(this.working.invoices, invoice.id, copyInvoice(invoice));
    this.setIn(this.working.invoiceRefs, ref, invoice.id);
  }

  async updateInvoice(invoice: Invoice): Promise<void> {
    const current = this.working.invoices.get(invoice.id);
    if (!current) throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such invoice: ${invoice.id}` });
    if (current.version !== invoice.version - 1) throw stateConflict('version_conflict', `Invoice ${invoice.id} was changed concurrently`);
    this.reindex(this.working.invoiceRefs, current, invoice);
    this.setIn(this.working.invoices, invoice.id, copyInvoice(invoice));
  }

  /** Moves a record's (gateway, reference) entry when an update changes it, keeping it unique. */
  private reindex(refs: Map<string, string>, current: { id: string; gateway: string; gatewayReference: string }, next: { gateway: string; gatewayReference: string }): void {
    const from = refKey(current.gateway, current.gatewayReference);
    const to = refKey(next.gateway, next.gatewayReference);
    if (from === to) return;
    const owner = refs.get(to);
    if (owner !== undefined && owner !== current.id) throw duplicate('duplicate_gateway_reference', `Gateway reference ${next.gatewayReference} is already used`);
    this.deleteIn(refs, from);
    this.setIn(refs, to, current.id);
  }

  async appendBillingTransition(transition: BillingTransition): Promise<void> {
    this.pushIn(this.working.billingTransitions, transition.resourceId, { ...transition });
  }

  async lockDispute(id: string): Promise<Dispute | null> {
    return this.getDispute(id);
  }

  async insertDispute(dispute: Dispute): Promise<void> {
    if (this.working.disputes.has(dispute.id)) throw duplicate('duplicate_dispute', `Dispute ${dispute.id} exists`);
    const ref = refKey(dispute.gateway, dispute.gatewayReference);
    if (this.working.disputeRefs.has(ref)) throw duplicate('duplicate_gateway_reference', `Gateway reference ${dispute.gatewayReference} is already used`);
    if (!this.working.payments.has(dispute.paymentId)) throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such payment: ${dispute.paymentId}` });
    this.setIn(this.working.disputes, dispute.id, { ...dispute });
    this.setIn(this.working.disputeRefs, ref, dispute.id);
  }

  async updateDispute(dispute: Dispute): Promise<void> {
    const current = this.working.disputes.get(dispute.id);
    if (!current) throw new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such dispute: ${dispute.id}` });
    if (current.version !== dispute.version - 1) throw stateConflict('version_conflict', `Dispute ${dispute.id} was changed concurrently`);
    this.reindex(this.working.disputeRefs, current, dispute);
    this.setIn(this.working.disputes, dispute.id, { ...dispute });
  }

  async appendDisputeTransition(transition: DisputeTransition): Promise<void> {
    this.pushIn(this.working.disputeTransitions, transition.disputeId, { ...transition });
  }
}

function duplicate(code: string, message: string): TenderError {
  return stateConflict(code, message);
}

/** An in-memory {@link Store}. Real semantics (transactions, locks, leases), no persistence. */
const READS = [
  'getPayment',
  'findPaymentByGatewayReference',
  'findPaymentByOrderId',
  'listPaymentsByGatewayOrder',
  'listPayments',
  'listPaymentsToReconcile',
  'getRefund',
  'listRefunds',
  'listPendingRefunds',
  'listTransitions',
  'getIdempotencyRecord',
  'getOutboxEvent',
  'listOutboxEvents',
  'getGatewayCustomer',
  'getSavedPaymentMethod',
  'findSavedPaymentMethodByToken',
  'listSavedPaymentMethods',
  'getSubscription',
  'findSubscriptionByGatewayReference',
  'listSubscriptions',
  'getInvoice',
  'findInvoiceByGatewayReference',
  'listInvoices',
  'listBillingTransitions',
  'getDispute',
  'findDisputeByGatewayReference',
  'listDisputes',
  'listDisputeTransitions',
] as const satisfies ReadonlyArray<keyof StoreReader>;

export interface MemoryStore extends StoreReader {}

export class MemoryStore implements Store, WebhookEndpointStore, SettlementStore, AnalyticsStore {
  private readonly state: Data = {
    payments: new Map(),
    refunds: new Map(),
    references: new Map(),
    refundsByPayment: new Map(),
    byOrderReference: new Map(),
    transitionsByPayment: new Map(),
    idempotency: new Map(),
    inbox: new Set(),
    outbox: new Map(),
    customers: new Map(),
    savedMethods: new Map(),
    methodTokens: new Map(),
    subscriptions: new Map(),
    subscriptionRefs: new Map(),
    invoices: new Map(),
    invoiceRefs: new Map(),
    billingTransitions: new Map(),
    disputes: new Map(),
    disputeRefs: new Map(),
    disputeTransitions: new Map(),
  };
  private queue: Promise<unknown> = Promise.resolve();
  private readonly endpoints = new Map<string, WebhookEndpoint>();
  /** Outbox event id -> endpoint ids that acknowledged it. */
  private readonly deliveries = new Map<string, Set<string>>();
  /** Ids of the payments retention anonymised. */
  private readonly anonymized = new Set<string>();
  /** Settlement runs (the `SettlementStore` part). */
  private readonly settlements = new MemorySettlements(() => this.state, (fn) => this.exclusive(fn), (fn) => this.transaction(fn));

  constructor() {
    const reader = new Reader(() => this.state);
    // Reads outside a transaction wait their turn, so they never see a transaction half-done.
    for (const name of READS) {
      const read = reader[name].bind(reader) as (...args: unknown[]) => Promise<unknown>;
      (this as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => this.exclusive(() => read(...args));
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const tx = new Tx(this.state);
      try {
        return await fn(tx);
      } catch (error) {
        for (const undo of tx.undo.reverse()) undo();
        throw error;
      }
    });
  }

  claimOutbox(options: { limit: number; now: string; leaseUntil: string }): Promise<OutboxRow[]> {
    return this.exclusive(async () => {
      const due = [...this.state.outbox.values()]
        .filter((r) => r.status === 'pending' && r.nextAttemptAt <= options.now && (r.lockedUntil === null || r.lockedUntil <= options.now))
        .sort((a, b) => (a.nextAttemptAt === b.nextAttemptAt ? (a.id < b.id ? -1 : 1) : a.nextAttemptAt < b.nextAttemptAt ? -1 : 1))
        .slice(0, options.limit);
      for (const row of due) this.state.outbox.set(row.id, { ...row, lockedUntil: options.leaseUntil });
      return due.map((r) => clone({ ...r, lockedUntil: options.leaseUntil }));
    });
  }

  completeOutbox(id: string, completion: OutboxCompletion): Promise<void> {
    return this.exclusive(async () => {
      const row = this.state.outbox.get(id);
      if (!row) return;
      const next: OutboxRow = { ...row, attempts: row.attempts + 1, lockedUntil: null };
      if (completion.status === 'delivered') {
        next.status = 'delivered';
        next.deliveredAt = completion.at;
        next.lastError = null;
      } else if (completion.status === 'pending') {
        next.status = 'pending';
        next.nextAttemptAt = completion.nextAttemptAt;
        next.lastError = completion.error;
      } else {
        next.status = 'dead';
        next.lastError = completion.error;
      }
      this.state.outbox.set(id, next);
    });
  }

  requeueOutbox(id: string, now: string): Promise<boolean> {
    return this.exclusive(async () => {
      const row = this.state.outbox.get(id);
      if (!row) return false;
      this.state.outbox.set(id, { ...row, status: 'pending', nextAttemptAt: now, lockedUntil: null, deliveredAt: null });
      this.deliveries.delete(id);
      return true;
    });
  }

  claimRelay(options: { limit: number; now: string; leaseUntil: string }): Promise<OutboxRow[]> {
    return this.exclusive(async () => {
      // The map keeps insertion order, which is the order events were written.
      const seen = new Set<string>();
      const claimed: OutboxRow[] = [];
      for (const row of this.state.outbox.values()) {
        if (claimed.length >= options.limit) break;
        if (row.relay.status !== 'pending') continue;
        const key = row.paymentId ?? row.id;
        if (seen.has(key)) continue;
        seen.add(key);
        if (row.relay.nextAttemptAt > options.now || (row.relay.lockedUntil !== null && row.relay.lockedUntil > options.now)) continue;
        const leased: OutboxRow = { ...row, relay: { ...row.relay, lockedUntil: options.leaseUntil } };
        this.state.outbox.set(row.id, leased);
        claimed.push(clone(leased));
      }
      return claimed;
    });
  }

  completeRelay(id: string, completion: RelayCompletion): Promise<void> {
    return this.exclusive(async () => {
      const row = this.state.outbox.get(id);
      if (!row) return;
      // A failure reported late never turns a published (or dead) row back.
      if (completion.status !== 'published' && row.relay.status !== 'pending') return;
      const relay = { ...row.relay, attempts: row.relay.attempts + 1, lockedUntil: null };
      if (completion.status === 'published') Object.assign(relay, { status: 'published', publishedAt: completion.at, lastError: null });
      else if (completion.status === 'pending') Object.assign(relay, { status: 'pending', nextAttemptAt: completion.nextAttemptAt, lastError: completion.error });
      else Object.assign(relay, { status: 'dead', lastError: completion.error });
      this.state.outbox.set(id, { ...row, relay });
    });
  }

  relayBacklog(): Promise<{ pending: number; oldestCreatedAt: string | null }> {
    return this.exclusive(async () => {
      let pending = 0;
      let oldestCreatedAt: string | null = null;
      for (const row of this.state.outbox.values()) {
        if (row.relay.status !== 'pending') continue;
        pending++;
        if (oldestCreatedAt === null || row.createdAt < oldestCreatedAt) oldestCreatedAt = row.createdAt;
      }
      return { pending, oldestCreatedAt };
    });
  }

  purge(options: { now: string; deliveredBefore: string; batchSize?: number; keepUnpublished?: boolean; dryRun?: boolean }): Promise<{ idempotency: number; outbox: number }> {
    return this.exclusive(async () => {
      let idempotency = 0;
      let outbox = 0;
      for (const [k, r] of this.state.idempotency) {
        if (r.expiresAt <= options.now) {
          if (!options.dryRun) this.state.idempotency.delete(k);
          idempotency++;
        }
      }
      for (const [k, r] of this.state.outbox) {
        if (r.status === 'delivered' && r.deliveredAt !== null && r.deliveredAt < options.deliveredBefore && !(options.keepUnpublished && r.relay.status === 'pending')) {
          if (!options.dryRun) {
            this.state.outbox.delete(k);
            this.deliveries.delete(k);
          }
          outbox++;
        }
      }
      return { idempotency, outbox };
    });
  }

  rewriteRecords<K extends StoredRecordKind>(options: RewriteRecordsOptions<K>): Promise<RewriteRecordsPage> {
    return this.exclusive(async () => {
      const limit = Math.max(0, Math.floor(options.limit));
      const after = options.after ?? null;
      const rewrite = options.rewrite as unknown as (record: unknown) => unknown;
      // Every decision first, then the writes: a throw leaves the page as it was.
      const writes: Array<() => void> = [];
      let scanned = 0;
      let last: string | null = null;
      const page = <V>(entries: Array<[string, V]>, copy: (v: V) => unknown, write: (cursor: string, v: V, next: unknown) => void) => {
        entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        for (const [cursor, value] of entries) {
          if (after !== null && cursor <= after) continue;
          if (scanned >= limit) break;
          scanned++;
          last = cursor;
          const next = rewrite(copy(value));
          if (next !== null && next !== undefined) writes.push(() => write(cursor, value, next));
        }
      };
      switch (options.kind) {
        case 'payments':
          page([...this.state.payments.entries()], copyPayment, (id, p, next) => {
            const n = next as Payment;
            this.state.payments.set(id, copyPayment({ ...p, customer: n.customer, metadata: n.metadata, nextAction: n.nextAction, gatewayData: n.gatewayData }));
          });
          break;
        case 'refunds':
          page([...this.state.refunds.entries()], copyRefund, (id, r, next) => {
            this.state.refunds.set(id, copyRefund({ ...r, metadata: (next as Refund).metadata }));
          });
          break;
        case 'outbox':
          page([...this.state.outbox.entries()], clone, (id, row, next) => {
            const n = next as OutboxRow;
            this.state.outbox.set(id, { ...row, data: clone(n.data), payload: clone(n.payload ?? null) });
          });
          break;
        case 'idempotency':
          page(
            [...this.state.idempotency.entries()].map(([k, r]) => [JSON.stringify([r.merchantId, r.key]), [k, r]] as [string, [string, IdempotencyRecord]]),
            ([, r]) => copyIdempotency(r),
            (_cursor, [k, r], next) => {
              this.state.idempotency.set(k, copyIdempotency({ ...r, response: (next as IdempotencyRecord).response }));
            },
          );
          break;
        default:
          throw new TypeError(`Unknown record kind: ${String(options.kind)}`);
      }
      for (const write of writes) write();
      return { scanned, rewritten: writes.length, next: scanned < limit || scanned === 0 ? null : last };
    });
  }

  anonymizePayments(options: { createdBefore: string; limit: number; dryRun?: boolean }): Promise<AnonymizeResult> {
    return this.exclusive(async () => {
      const due = [...this.state.payments.values()]
        .filter((p) => p.createdAt < options.createdBefore && !this.anonymized.has(p.id))
        .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
      const batch = options.dryRun ? due : due.slice(0, Math.max(0, Math.floor(options.limit)));
      const ids = new Set(batch.map((p) => p.id));
      const refundIds = new Set<string>();
      for (const id of ids) for (const r of this.state.refundsByPayment.get(id) ?? []) refundIds.add(r);
      const outbox = [...this.state.outbox.values()].filter((row) => row.paymentId !== null && ids.has(row.paymentId));
      const keys = [...this.state.idempotency.entries()].filter(([, r]) => r.resourceId !== null && (ids.has(r.resourceId) || refundIds.has(r.resourceId)));
      const result: AnonymizeResult = { payments: batch.length, refunds: refundIds.size, outbox: outbox.length, idempotency: keys.length, paymentIds: options.dryRun ? [] : [...ids] };
      if (options.dryRun) return result;
      for (const p of batch) {
        const anon = anonymizePersonalData({ customer: p.customer, metadata: p.metadata, nextAction: p.nextAction, gatewayData: p.gatewayData });
        this.state.payments.set(p.id, copyPayment({ ...p, ...anon, version: p.version + 1 }));
        this.anonymized.add(p.id);
      }
      for (const id of refundIds) {
        const r = this.state.refunds.get(id)!;
        this.state.refunds.set(id, copyRefund({ ...r, metadata: anonymizePersonalData(r.metadata) }));
      }
      for (const row of outbox) this.state.outbox.set(row.id, { ...row, data: anonymizePersonalData(row.data), payload: anonymizePersonalData(row.payload ?? null) });
      for (const [k, r] of keys) this.state.idempotency.set(k, copyIdempotency({ ...r, response: anonymizePersonalData(r.response) }));
      return result;
    });
  }

  countOutboxBacklog(): Promise<number> {
    return this.exclusive(async () => [...this.state.outbox.values()].filter((r) => r.status === 'pending').length);
  }

  async listEventDeliveries(eventId: string): Promise<string[]> {
    return [...(this.deliveries.get(eventId) ?? [])];
  }

  recordEventDelivery(eventId: string, endpointId: string, _at: string): Promise<void> {
    return this.exclusive(async () => {
      if (!this.state.outbox.has(eventId)) return;
      const set = this.deliveries.get(eventId) ?? new Set<string>();
      set.add(endpointId);
      this.deliveries.set(eventId, set);
    });
  }

  async createWebhookEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    if (this.endpoints.has(endpoint.id)) throw duplicate('duplicate_webhook_endpoint', `Webhook endpoint ${endpoint.id} exists`);
    this.endpoints.set(endpoint.id, clone(endpoint));
  }

  async listWebhookEndpoints(merchantId: string): Promise<WebhookEndpoint[]> {
    return [...this.endpoints.values()].filter((e) => e.merchantId === merchantId).map(clone);
  }

  async getWebhookEndpoint(merchantId: string, id: string): Promise<WebhookEndpoint | null> {
    const endpoint = this.endpoints.get(id);
    return endpoint && endpoint.merchantId === merchantId ? clone(endpoint) : null;
  }

  async deleteWebhookEndpoint(merchantId: string, id: string): Promise<boolean> {
    const endpoint = this.endpoints.get(id);
    if (!endpoint || endpoint.merchantId !== merchantId) return false;
    return this.endpoints.delete(id);
  }

  listSettledRecords(query: SettledRecordsQuery): Promise<SettledRecords> {
    return this.settlements.listSettledRecords(query);
  }

  insertSettlementRun(run: SettlementRun, events: readonly OutboxEvent[]): Promise<void> {
    return this.settlements.insertSettlementRun(run, events);
  }

  latestSettlementRun(key: SettlementRunKey): Promise<SettlementRun | null> {
    return this.settlements.latestSettlementRun(key);
  }

  getSettlementRun(id: string, merchantId?: string | null): Promise<SettlementRun | null> {
    return this.settlements.getSettlementRun(id, merchantId);
  }

  listSettlementRuns(key: SettlementRunKey): Promise<SettlementRunSummary[]> {
    return this.settlements.listSettlementRuns(key);
  }

  /** The `AnalyticsStore` part: a scan of the records (see `memory-analytics.ts`). */
  paymentAnalytics(query: PaymentAnalyticsQuery): Promise<PaymentAnalyticsAggregate[]> {
    return this.exclusive(async () => memoryPaymentAnalytics(this.state, query));
  }

  async close(): Promise<void> {}
}
