/**
 * `createEncryptingStore`: field-level encryption of personal data at rest, as a {@link Store} wrapper
 * around any other store (`MemoryStore`, `PostgresStore` on node-postgres or PGlite), so no store's
 * SQL or write-behind batching changes.
 *
 * Every write path encrypts and every read path decrypts the personal-data strings (see
 * `personal-data.ts`: the redaction rules' e-mail, phone, name, address and VPA fields, and the
 * payment's `customer`) of
 * - payments (customer, metadata, next action parameters, gateway data such as kept form fields),
 * - refunds (metadata),
 * - outbox rows: `data` (the engine's snapshot) and `payload` (the published document, e.g. the
 *   server's `bill_name` / `bill_email` / `bill_mobile`),
 * - idempotency records: the stored `response` replayed on a retry,
 * - saved payment methods: the wallet's account e-mail (`walletEmail`). A card's brand, last 4
 *   digits and expiry stay in the clear: they are the display data the gateway itself returns
 *   (https://docs.stripe.com/api/payment_methods/object#payment_method_object-card), no PAN is stored
 *   beside them, and PCI DSS v4.0 (requirement 3.4.1) allows showing the last four digits. The
 *   gateway token is what lookups use.
 *
 * Subscriptions, invoices, gateway customers and the billing audit trail hold gateway ids, amounts,
 * statuses and dates, and pass through unchanged; so do disputes and their trail.
 *
 * Each value becomes `enc:v1:<key id>:<base64url>` (AES-256-GCM, see `field-encryption.ts`), bound
 * to its record and field. Ids, amounts, statuses, references, timestamps and the audit trail stay in
 * the clear, so every lookup the store makes (by id, gateway reference, order id, status) works
 * unchanged; no lookup uses a personal-data field, so no blind index is needed. Values written before
 * encryption was turned on are read as they are, and {@link EncryptingStore.rotateKeys} encrypts them.
 *
 * @module
 */
import type { BillingTransition, GatewayCustomer, Invoice, SavedPaymentMethod, Subscription } from '../billing';
import type { Dispute, DisputeTransition } from '../dispute';
import { TenderError } from '../errors';
import type { Payment, Refund, Transition } from '../payment';
import type {
  AnonymizeResult,
  IdempotencyRecord,
  ListDisputesQuery,
  ListInvoicesQuery,
  ListOutboxEventsQuery,
  ListPaymentsQuery,
  ListSavedPaymentMethodsQuery,
  ListSubscriptionsQuery,
  OutboxCompletion,
  OutboxEvent,
  OutboxRow,
  ReconcileQuery,
  RelayCompletion,
  RewriteRecordsOptions,
  RewriteRecordsPage,
  Store,
  StoredRecordKind,
  StoredRecords,
  StoreTx,
} from '../spec/store/v1/index';
import { webhookEndpointsOf, type WebhookEndpoint, type WebhookEndpointStore } from '../spec/webhook-endpoints/v1/index';
import { analyticsOf, type AnalyticsStore, type PaymentAnalyticsAggregate, type PaymentAnalyticsQuery } from '../spec/store/v1/analytics';
import { settlementStoreOf, type SettledRecords, type SettledRecordsQuery, type SettlementRun, type SettlementRunKey, type SettlementRunSummary, type SettlementStore } from '../spec/store/v1/settlements';
import { FieldCipher, isEncryptedValue, keyIdOf, type EncryptionKey } from './field-encryption';
import { forEachPersonalData, mapPersonalData, type DataPath } from './personal-data';

/** Options of {@link createEncryptingStore}. */
export interface EncryptingStoreOptions {
  /** Every key that may have encrypted stored data (old ones during a rotation), the active one among them. */
  keys: readonly EncryptionKey[];
  /** Id of the key new values are encrypted with. */
  activeKeyId: string;
}

/** Per record kind: what {@link EncryptingStore.rotateKeys} did. */
export interface KeyRotationCounts {
  /** Records read. */
  scanned: number;
  /** Records re-encrypted with the active key (they held plaintext or another key's values). */
  rewritten: number;
  /** Records still not all on the active key when a final read-only pass looked (0 when done). */
  remaining: number;
}

/** The result of {@link EncryptingStore.rotateKeys}. */
export interface KeyRotationReport {
  activeKeyId: string;
  counts: Record<StoredRecordKind, KeyRotationCounts>;
  /** Records that could not be decrypted (unknown key id, altered value): left as they are. */
  failed: Array<{ kind: StoredRecordKind; id: string; code: string }>;
}

/** Options of {@link EncryptingStore.rotateKeys}. */
export interface KeyRotationOptions {
  /** Records per page, each page one short transaction (default 200). */
  batchSize?: number;
  /** Stops between pages (the report then covers what was done). */
  signal?: AbortSignal;
  /** Called after each page (progress). */
  onPage?(kind: StoredRecordKind, page: RewriteRecordsPage): void;
}

/**
 * A {@link Store} that encrypts personal data at rest; see the module notes. It also passes the
 * merchant {@link WebhookEndpointStore} through when the wrapped store implements it (an endpoint
 * method on a store without it throws `webhook_endpoints_unsupported`).
 */
export interface EncryptingStore extends Store, WebhookEndpointStore, SettlementStore, AnalyticsStore {
  /** The wrapped store (it holds ciphertext). */
  readonly inner: Store;
  readonly activeKeyId: string;
  /**
   * Re-encrypts, page by page, every record holding a value of another key (or plaintext, written
   * before encryption was turned on) with the active key, then checks in a read-only pass that none
   * is left. Safe while servers run on the same database, any number of them: each page locks only
   * its own rows, briefly, and a record written meanwhile was written with the active key anyway.
   *
   * It pages through the kinds {@link Store.rewriteRecords} knows (payments, refunds, outbox,
   * idempotency records); a saved payment method's `walletEmail` is not among them yet, so keep every
   * key that encrypted one configured.
   */
  rotateKeys(options?: KeyRotationOptions): Promise<KeyRotationReport>;
  /** The wrapped store's readiness probe, when it has one. */
  ping?(): Promise<void>;
  /** Closes the wrapped store. */
  close(): Promise<void>;
}

const KINDS: readonly StoredRecordKind[] = ['payments', 'refunds', 'outbox', 'idempotency'];

/** The GCM additional data of a value: its record and its path in it, as a JSON array. */
function context(scope: string, path: DataPath): string {
  let out = scope;
  for (const part of path) out += `,${typeof part === 'number' ? part : JSON.stringify(part)}`;
  return `${out}]`;
}

/** The opening of {@link context}'s array for a record (computed once per record). */
function scopeOf(scope: readonly string[]): string {
  const json = JSON.stringify(scope);
  return json.slice(0, -1);
}

/** How errors name a field: `payment pay_1 customer.email` (ids and names only, never values). */
function describe(scope: readonly string[], path: DataPath): string {
  return `${scope.slice(0, 2).join(' ')} ${[...scope.slice(2), ...path].join('.')}`.trim();
}

/** Encryption and decryption of whole records, each value bound to its record and field. */
class RecordCodec {
  constructor(readonly cipher: FieldCipher) {}

  seal<T>(value: T, scope: readonly string[]): T {
    let prefix: string | null = null;
    return mapPersonalData(value, (text, path) => this.cipher.encrypt(text, context((prefix ??= scopeOf(scope)), path)));
  }

  open<T>(value: T, scope: readonly string[]): T {
    let prefix: string | null = null;
    return mapPersonalData(value, (text, path) => (isEncryptedValue(text) ? this.cipher.decrypt(text, context((prefix ??= scopeOf(scope)), path), describe(scope, path)) : text));
  }

  sealPayment = (p: Payment): Payment => this.seal(p, ['payment', p.id]);
  openPayment = (p: Payment): Payment => this.open(p, ['payment', p.id]);
  openPaymentOrNull = (p: Payment | null): Payment | null => (p === null ? null : this.openPayment(p));
  openPayments = (list: Payment[]): Payment[] => list.map(this.openPayment);
  sealRefund = (r: Refund): Refund => this.seal(r, ['refund', r.id]);
  openRefund = (r: Refund): Refund => this.open(r, ['refund', r.id]);
  openRefundOrNull = (r: Refund | null): Refund | null => (r === null ? null : this.openRefund(r));

  sealEvent<E extends OutboxEvent>(e: E): E {
    const data = this.seal(e.data, ['outbox', e.id, 'data']);
    const payload = e.payload ? this.seal(e.payload, ['outbox', e.id, 'payload']) : e.payload;
    return data === e.data && payload === e.payload ? e : { ...e, data, payload };
  }

  openEvent<E extends OutboxEvent>(e: E): E {
    const data = this.open(e.data, ['outbox', e.id, 'data']);
    const payload = e.payload ? this.open(e.payload, ['outbox', e.id, 'payload']) : e.payload;
    return data === e.data && payload === e.payload ? e : { ...e, data, payload };
  }

  openRowOrNull = (r: OutboxRow | null): OutboxRow | null => (r === null ? null : this.openEvent(r));

  sealMethod = (m: SavedPaymentMethod): SavedPaymentMethod => this.seal(m, ['saved_payment_method', m.id]);
  openMethod = (m: SavedPaymentMethod): SavedPaymentMethod => this.open(m, ['saved_payment_method', m.id]);
  openMethodOrNull = (m: SavedPaymentMethod | null): SavedPaymentMethod | null => (m === null ? null : this.openMethod(m));

  sealKey(r: IdempotencyRecord): IdempotencyRecord {
    if (r.response === null) return r;
    const response = this.seal(r.response, ['idempotency', r.merchantId, r.key]);
    return response === r.response ? r : { ...r, response };
  }

  openKey(r: IdempotencyRecord): IdempotencyRecord {
    if (r.response === null) return r;
    const response = this.open(r.response, ['idempotency', r.merchantId, r.key]);
    return response === r.response ? r : { ...r, response };
  }

  openKeyOrNull = (r: IdempotencyRecord | null): IdempotencyRecord | null => (r === null ? null : this.openKey(r));

  /** Seals or opens a record of `kind` returned by `rewriteRecords`. */
  record<K extends StoredRecordKind>(kind: K, record: StoredRecords[K], direction: 'seal' | 'open'): StoredRecords[K] {
    const seal = direction === 'seal';
    switch (kind) {
      case 'payments':
        return (seal ? this.sealPayment(record as Payment) : this.openPayment(record as Payment)) as StoredRecords[K];
      case 'refunds':
        return (seal ? this.sealRefund(record as Refund) : this.openRefund(record as Refund)) as StoredRecords[K];
      case 'outbox':
        return (seal ? this.sealEvent(record as OutboxRow) : this.openEvent(record as OutboxRow)) as StoredRecords[K];
      default:
        return (seal ? this.sealKey(record as IdempotencyRecord) : this.openKey(record as IdempotencyRecord)) as StoredRecords[K];
    }
  }

  /** Whether a stored record holds a personal-data value that is plaintext or of another key than the active one. */
  stale<K extends StoredRecordKind>(kind: K, record: StoredRecords[K]): boolean {
    let stale = false;
    const check = (text: string) => {
      if (!stale && keyIdOf(text) !== this.cipher.activeKeyId) stale = true;
    };
    if (kind === 'outbox') {
      forEachPersonalData((record as OutboxRow).data, check);
      forEachPersonalData((record as OutboxRow).payload, check);
    } else if (kind === 'idempotency') {
      forEachPersonalData((record as IdempotencyRecord).response, check);
    } else {
      forEachPersonalData(record, check);
    }
    return stale;
  }
}

function recordId(kind: StoredRecordKind, record: unknown): string {
  if (kind === 'idempotency') {
    const r = record as IdempotencyRecord;
    return `${r.merchantId}/${r.key}`;
  }
  return (record as { id: string }).id;
}

class EncryptingTx implements StoreTx {
  constructor(
    private readonly tx: StoreTx,
    private readonly c: RecordCodec,
  ) {}

  async getPayment(id: string, merchantId?: string): Promise<Payment | null> {
    return this.c.openPaymentOrNull(await this.tx.getPayment(id, merchantId));
  }
  async findPaymentByGatewayReference(gateway: string, gatewayReference: string): Promise<Payment | null> {
    return this.c.openPaymentOrNull(await this.tx.findPaymentByGatewayReference(gateway, gatewayReference));
  }
  async findPaymentByOrderId(merchantId: string, orderId: string): Promise<Payment | null> {
    return this.c.openPaymentOrNull(await this.tx.findPaymentByOrderId(merchantId, orderId));
  }
  async listPaymentsByGatewayOrder(gateway: string, reference: string, limit: number): Promise<Payment[]> {
    return this.c.openPayments(await this.tx.listPaymentsByGatewayOrder(gateway, reference, limit));
  }
  async listPayments(query: ListPaymentsQuery): Promise<Payment[]> {
    return this.c.openPayments(await this.tx.listPayments(query));
  }
  async listPaymentsToReconcile(query: ReconcileQuery): Promise<Payment[]> {
    return this.c.openPayments(await this.tx.listPaymentsToReconcile(query));
  }
  async getRefund(id: string, merchantId?: string): Promise<Refund | null> {
    return this.c.openRefundOrNull(await this.tx.getRefund(id, merchantId));
  }
  async listRefunds(paymentId: string): Promise<Refund[]> {
    return (await this.tx.listRefunds(paymentId)).map(this.c.openRefund);
  }
  async listPendingRefunds(query: { createdBefore: string; limit: number }): Promise<Refund[]> {
    return (await this.tx.listPendingRefunds(query)).map(this.c.openRefund);
  }
  listTransitions(paymentId: string): Promise<Transition[]> {
    return this.tx.listTransitions(paymentId);
  }
  async getIdempotencyRecord(merchantId: string, key: string): Promise<IdempotencyRecord | null> {
    return this.c.openKeyOrNull(await this.tx.getIdempotencyRecord(merchantId, key));
  }
  async getOutboxEvent(id: string): Promise<OutboxRow | null> {
    return this.c.openRowOrNull(await this.tx.getOutboxEvent(id));
  }
  async listOutboxEvents(query: ListOutboxEventsQuery): Promise<OutboxRow[]> {
    return (await this.tx.listOutboxEvents(query)).map((r) => this.c.openEvent(r));
  }
  async lockPayment(id: string): Promise<Payment | null> {
    return this.c.openPaymentOrNull(await this.tx.lockPayment(id));
  }
  insertPayment(payment: Payment): Promise<void> {
    return this.tx.insertPayment(this.c.sealPayment(payment));
  }
  updatePayment(payment: Payment): Promise<void> {
    return this.tx.updatePayment(this.c.sealPayment(payment));
  }
  expectPaymentVersion(id: string, version: number): Promise<void> {
    return this.tx.expectPaymentVersion(id, version);
  }
  insertRefund(refund: Refund): Promise<void> {
    return this.tx.insertRefund(this.c.sealRefund(refund));
  }
  updateRefund(refund: Refund): Promise<void> {
    return this.tx.updateRefund(this.c.sealRefund(refund));
  }
  appendTransition(transition: Transition): Promise<void> {
    return this.tx.appendTransition(transition);
  }
  async claimIdempotencyKey(record: IdempotencyRecord): Promise<{ created: boolean; record: IdempotencyRecord }> {
    const claimed = await this.tx.claimIdempotencyKey(this.c.sealKey(record));
    return { created: claimed.created, record: this.c.openKey(claimed.record) };
  }
  insertIdempotencyRecord(record: IdempotencyRecord): Promise<void> {
    return this.tx.insertIdempotencyRecord(this.c.sealKey(record));
  }
  updateIdempotencyRecord(record: IdempotencyRecord): Promise<void> {
    return this.tx.updateIdempotencyRecord(this.c.sealKey(record));
  }
  deleteIdempotencyRecord(merchantId: string, key: string): Promise<void> {
    return this.tx.deleteIdempotencyRecord(merchantId, key);
  }
  recordInboundEvent(gateway: string, eventId: string, receivedAt: string): Promise<boolean> {
    return this.tx.recordInboundEvent(gateway, eventId, receivedAt);
  }
  enqueueOutbox(event: OutboxEvent): Promise<void> {
    return this.tx.enqueueOutbox(this.c.sealEvent(event));
  }
  getGatewayCustomer(merchantId: string, userId: string, gateway: string): Promise<GatewayCustomer | null> {
    return this.tx.getGatewayCustomer(merchantId, userId, gateway);
  }
  async getSavedPaymentMethod(id: string, merchantId?: string): Promise<SavedPaymentMethod | null> {
    return this.c.openMethodOrNull(await this.tx.getSavedPaymentMethod(id, merchantId));
  }
  async findSavedPaymentMethodByToken(merchantId: string, gateway: string, token: string): Promise<SavedPaymentMethod | null> {
    return this.c.openMethodOrNull(await this.tx.findSavedPaymentMethodByToken(merchantId, gateway, token));
  }
  async listSavedPaymentMethods(query: ListSavedPaymentMethodsQuery): Promise<SavedPaymentMethod[]> {
    return (await this.tx.listSavedPaymentMethods(query)).map(this.c.openMethod);
  }
  getSubscription(id: string, merchantId?: string): Promise<Subscription | null> {
    return this.tx.getSubscription(id, merchantId);
  }
  findSubscriptionByGatewayReference(gateway: string, gatewayReference: string): Promise<Subscription | null> {
    return this.tx.findSubscriptionByGatewayReference(gateway, gatewayReference);
  }
  listSubscriptions(query: ListSubscriptionsQuery): Promise<Subscription[]> {
    return this.tx.listSubscriptions(query);
  }
  getInvoice(id: string, merchantId?: string): Promise<Invoice | null> {
    return this.tx.getInvoice(id, merchantId);
  }
  findInvoiceByGatewayReference(gateway: string, gatewayReference: string): Promise<Invoice | null> {
    return this.tx.findInvoiceByGatewayReference(gateway, gatewayReference);
  }
  listInvoices(query: ListInvoicesQuery): Promise<Invoice[]> {
    return this.tx.listInvoices(query);
  }
  listBillingTransitions(resourceId: string): Promise<BillingTransition[]> {
    return this.tx.listBillingTransitions(resourceId);
  }
  getDispute(id: string, merchantId?: string): Promise<Dispute | null> {
    return this.tx.getDispute(id, merchantId);
  }
  findDisputeByGatewayReference(gateway: string, gatewayReference: string): Promise<Dispute | null> {
    return this.tx.findDisputeByGatewayReference(gateway, gatewayReference);
  }
  listDisputes(query: ListDisputesQuery): Promise<Dispute[]> {
    return this.tx.listDisputes(query);
  }
  listDisputeTransitions(disputeId: string): Promise<DisputeTransition[]> {
    return this.tx.listDisputeTransitions(disputeId);
  }
  insertGatewayCustomer(customer: GatewayCustomer): Promise<{ created: boolean; customer: GatewayCustomer }> {
    return this.tx.insertGatewayCustomer(customer);
  }
  insertSavedPaymentMethod(method: SavedPaymentMethod): Promise<void> {
    return this.tx.insertSavedPaymentMethod(this.c.sealMethod(method));
  }
  async setDefaultSavedPaymentMethod(merchantId: string, id: string, now: string): Promise<SavedPaymentMethod | null> {
    return this.c.openMethodOrNull(await this.tx.setDefaultSavedPaymentMethod(merchantId, id, now));
  }
  async removeSavedPaymentMethod(merchantId: string, id: string, now: string): Promise<SavedPaymentMethod | null> {
    return this.c.openMethodOrNull(await this.tx.removeSavedPaymentMethod(merchantId, id, now));
  }
  lockSubscription(id: string): Promise<Subscription | null> {
    return this.tx.lockSubscription(id);
  }
  insertSubscription(subscription: Subscription): Promise<void> {
    return this.tx.insertSubscription(subscription);
  }
  updateSubscription(subscription: Subscription): Promise<void> {
    return this.tx.updateSubscription(subscription);
  }
  lockInvoice(id: string): Promise<Invoice | null> {
    return this.tx.lockInvoice(id);
  }
  insertInvoice(invoice: Invoice): Promise<void> {
    return this.tx.insertInvoice(invoice);
  }
  updateInvoice(invoice: Invoice): Promise<void> {
    return this.tx.updateInvoice(invoice);
  }
  appendBillingTransition(transition: BillingTransition): Promise<void> {
    return this.tx.appendBillingTransition(transition);
  }
  lockDispute(id: string): Promise<Dispute | null> {
    return this.tx.lockDispute(id);
  }
  insertDispute(dispute: Dispute): Promise<void> {
    return this.tx.insertDispute(dispute);
  }
  updateDispute(dispute: Dispute): Promise<void> {
    return this.tx.updateDispute(dispute);
  }
  appendDisputeTransition(transition: DisputeTransition): Promise<void> {
    return this.tx.appendDisputeTransition(transition);
  }
}

class EncryptingStoreImpl implements EncryptingStore {
  readonly activeKeyId: string;
  readonly #c: RecordCodec;
  ping?: () => Promise<void>;

  constructor(
    readonly inner: Store,
    options: EncryptingStoreOptions,
  ) {
    const cipher = new FieldCipher(options.keys, options.activeKeyId);
    this.activeKeyId = cipher.activeKeyId;
    this.#c = new RecordCodec(cipher);
    const probe = (inner as { ping?: () => Promise<void> }).ping;
    if (typeof probe === 'function') this.ping = () => probe.call(inner);
  }

  async getPayment(id: string, merchantId?: string): Promise<Payment | null> {
    return this.#c.openPaymentOrNull(await this.inner.getPayment(id, merchantId));
  }
  async findPaymentByGatewayReference(gateway: string, gatewayReference: string): Promise<Payment | null> {
    return this.#c.openPaymentOrNull(await this.inner.findPaymentByGatewayReference(gateway, gatewayReference));
  }
  async findPaymentByOrderId(merchantId: string, orderId: string): Promise<Payment | null> {
    return this.#c.openPaymentOrNull(await this.inner.findPaymentByOrderId(merchantId, orderId));
  }
  async listPaymentsByGatewayOrder(gateway: string, reference: string, limit: number): Promise<Payment[]> {
    return this.#c.openPayments(await this.inner.listPaymentsByGatewayOrder(gateway, reference, limit));
  }
  async listPayments(query: ListPaymentsQuery): Promise<Payment[]> {
    return this.#c.openPayments(await this.inner.listPayments(query));
  }
  async listPaymentsToReconcile(query: ReconcileQuery): Promise<Payment[]> {
    return this.#c.openPayments(await this.inner.listPaymentsToReconcile(query));
  }
  async getRefund(id: string, merchantId?: string): Promise<Refund | null> {
    return this.#c.openRefundOrNull(await this.inner.getRefund(id, merchantId));
  }
  async listRefunds(paymentId: string): Promise<Refund[]> {
    return (await this.inner.listRefunds(paymentId)).map(this.#c.openRefund);
  }
  async listPendingRefunds(query: { createdBefore: string; limit: number }): Promise<Refund[]> {
    return (await this.inner.listPendingRefunds(query)).map(this.#c.openRefund);
  }
  listTransitions(paymentId: string): Promise<Transition[]> {
    return this.inner.listTransitions(paymentId);
  }
  async getIdempotencyRecord(merchantId: string, key: string): Promise<IdempotencyRecord | null> {
    return this.#c.openKeyOrNull(await this.inner.getIdempotencyRecord(merchantId, key));
  }
  async getOutboxEvent(id: string): Promise<OutboxRow | null> {
    return this.#c.openRowOrNull(await this.inner.getOutboxEvent(id));
  }
  async listOutboxEvents(query: ListOutboxEventsQuery): Promise<OutboxRow[]> {
    return (await this.inner.listOutboxEvents(query)).map((r) => this.#c.openEvent(r));
  }
  getGatewayCustomer(merchantId: string, userId: string, gateway: string): Promise<GatewayCustomer | null> {
    return this.inner.getGatewayCustomer(merchantId, userId, gateway);
  }
  async getSavedPaymentMethod(id: string, merchantId?: string): Promise<SavedPaymentMethod | null> {
    return this.#c.openMethodOrNull(await this.inner.getSavedPaymentMethod(id, merchantId));
  }
  async findSavedPaymentMethodByToken(merchantId: string, gateway: string, token: string): Promise<SavedPaymentMethod | null> {
    return this.#c.openMethodOrNull(await this.inner.findSavedPaymentMethodByToken(merchantId, gateway, token));
  }
  async listSavedPaymentMethods(query: ListSavedPaymentMethodsQuery): Promise<SavedPaymentMethod[]> {
    return (await this.inner.listSavedPaymentMethods(query)).map(this.#c.openMethod);
  }
  getSubscription(id: string, merchantId?: string): Promise<Subscription | null> {
    return this.inner.getSubscription(id, merchantId);
  }
  findSubscriptionByGatewayReference(gateway: string, gatewayReference: string): Promise<Subscription | null> {
    return this.inner.findSubscriptionByGatewayReference(gateway, gatewayReference);
  }
  listSubscriptions(query: ListSubscriptionsQuery): Promise<Subscription[]> {
    return this.inner.listSubscriptions(query);
  }
  getInvoice(id: string, merchantId?: string): Promise<Invoice | null> {
    return this.inner.getInvoice(id, merchantId);
  }
  findInvoiceByGatewayReference(gateway: string, gatewayReference: string): Promise<Invoice | null> {
    return this.inner.findInvoiceByGatewayReference(gateway, gatewayReference);
  }
  listInvoices(query: ListInvoicesQuery): Promise<Invoice[]> {
    return this.inner.listInvoices(query);
  }
  listBillingTransitions(resourceId: string): Promise<BillingTransition[]> {
    return this.inner.listBillingTransitions(resourceId);
  }
  getDispute(id: string, merchantId?: string): Promise<Dispute | null> {
    return this.inner.getDispute(id, merchantId);
  }
  findDisputeByGatewayReference(gateway: string, gatewayReference: string): Promise<Dispute | null> {
    return this.inner.findDisputeByGatewayReference(gateway, gatewayReference);
  }
  listDisputes(query: ListDisputesQuery): Promise<Dispute[]> {
    return this.inner.listDisputes(query);
  }
  listDisputeTransitions(disputeId: string): Promise<DisputeTransition[]> {
    return this.inner.listDisputeTransitions(disputeId);
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) => fn(new EncryptingTx(tx, this.#c)));
  }

  async claimOutbox(options: { limit: number; now: string; leaseUntil: string }): Promise<OutboxRow[]> {
    return (await this.inner.claimOutbox(options)).map((r) => this.#c.openEvent(r));
  }
  completeOutbox(id: string, completion: OutboxCompletion): Promise<void> {
    return this.inner.completeOutbox(id, completion);
  }
  requeueOutbox(id: string, now: string): Promise<boolean> {
    return this.inner.requeueOutbox(id, now);
  }
  listEventDeliveries(eventId: string): Promise<string[]> {
    return webhookEndpointsOf(this.inner).listEventDeliveries(eventId);
  }
  recordEventDelivery(eventId: string, endpointId: string, at: string): Promise<void> {
    return webhookEndpointsOf(this.inner).recordEventDelivery(eventId, endpointId, at);
  }
  async claimRelay(options: { limit: number; now: string; leaseUntil: string }): Promise<OutboxRow[]> {
    return (await this.inner.claimRelay(options)).map((r) => this.#c.openEvent(r));
  }
  completeRelay(id: string, completion: RelayCompletion): Promise<void> {
    return this.inner.completeRelay(id, completion);
  }
  relayBacklog(): Promise<{ pending: number; oldestCreatedAt: string | null }> {
    return this.inner.relayBacklog();
  }
  purge(options: { now: string; deliveredBefore: string; batchSize?: number; keepUnpublished?: boolean; dryRun?: boolean }): Promise<{ idempotency: number; outbox: number }> {
    return this.inner.purge(options);
  }
  /** `rewrite` sees records decrypted, as every other read does; what it returns is encrypted again. */
  rewriteRecords<K extends StoredRecordKind>(options: RewriteRecordsOptions<K>): Promise<RewriteRecordsPage> {
    const c = this.#c;
    return this.inner.rewriteRecords({
      ...options,
      rewrite: (stored) => {
        const next = options.rewrite(c.record(options.kind, stored, 'open'));
        return next === null ? null : c.record(options.kind, next, 'seal');
      },
    });
  }
  /** Needs no key: ciphertext and plaintext alike become `[anonymised]`. */
  anonymizePayments(options: { createdBefore: string; limit: number; dryRun?: boolean }): Promise<AnonymizeResult> {
    return this.inner.anonymizePayments(options);
  }
  countOutboxBacklog(): Promise<number> {
    return this.inner.countOutboxBacklog();
  }
  createWebhookEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    return webhookEndpointsOf(this.inner).createWebhookEndpoint(endpoint);
  }
  listWebhookEndpoints(merchantId: string): Promise<WebhookEndpoint[]> {
    return webhookEndpointsOf(this.inner).listWebhookEndpoints(merchantId);
  }
  getWebhookEndpoint(merchantId: string, id: string): Promise<WebhookEndpoint | null> {
    return webhookEndpointsOf(this.inner).getWebhookEndpoint(merchantId, id);
  }
  deleteWebhookEndpoint(merchantId: string, id: string): Promise<boolean> {
    return webhookEndpointsOf(this.inner).deleteWebhookEndpoint(merchantId, id);
  }
  // The SettlementStore part, passed through (a store without it throws settlements_unsupported):
  // runs hold references and amounts only; the events are sealed and the records read opened.
  async listSettledRecords(query: SettledRecordsQuery): Promise<SettledRecords> {
    const found = await settlementStoreOf(this.inner).listSettledRecords(query);
    return {
      payments: found.payments.map((r) => ({ ...r, payment: this.#c.openPayment(r.payment) })),
      refunds: found.refunds.map((r) => ({ ...r, refund: this.#c.openRefund(r.refund), payment: this.#c.openPayment(r.payment) })),
    };
  }
  insertSettlementRun(run: SettlementRun, events: readonly OutboxEvent[]): Promise<void> {
    return settlementStoreOf(this.inner).insertSettlementRun(run, events.map((e) => this.#c.sealEvent(e)));
  }
  latestSettlementRun(key: SettlementRunKey): Promise<SettlementRun | null> {
    return settlementStoreOf(this.inner).latestSettlementRun(key);
  }
  getSettlementRun(id: string, merchantId?: string | null): Promise<SettlementRun | null> {
    return settlementStoreOf(this.inner).getSettlementRun(id, merchantId);
  }
  listSettlementRuns(key: SettlementRunKey): Promise<SettlementRunSummary[]> {
    return settlementStoreOf(this.inner).listSettlementRuns(key);
  }
  // The AnalyticsStore part, passed through (a store without it throws analytics_not_supported):
  // analytics reads statuses, amounts, gateways, methods, failure codes and times, none of them sealed.
  paymentAnalytics(query: PaymentAnalyticsQuery): Promise<PaymentAnalyticsAggregate[]> {
    return analyticsOf(this.inner).paymentAnalytics(query);
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }

  async rotateKeys(options: KeyRotationOptions = {}): Promise<KeyRotationReport> {
    const limit = Math.max(1, Math.floor(options.batchSize ?? 200));
    const c = this.#c;
    const counts = {} as Record<StoredRecordKind, KeyRotationCounts>;
    const failed: KeyRotationReport['failed'] = [];
    const failedIds = new Set<string>();
    const pages = async (kind: StoredRecordKind, rewrite: (record: StoredRecords[StoredRecordKind]) => StoredRecords[StoredRecordKind] | null) => {
      let after: string | null = null;
      let scanned = 0;
      let rewritten = 0;
      do {
        if (options.signal?.aborted) break;
        const page: RewriteRecordsPage = await this.inner.rewriteRecords({ kind, after, limit, rewrite });
        options.onPage?.(kind, page);
        scanned += page.scanned;
        rewritten += page.rewritten;
        after = page.next;
      } while (after !== null);
      return { scanned, rewritten };
    };
    for (const kind of KINDS) {
      const done = await pages(kind, (stored) => {
        if (!c.stale(kind, stored)) return null;
        try {
          return c.record(kind, c.record(kind, stored, 'open'), 'seal');
        } catch (error) {
          const id = recordId(kind, stored);
          if (!failedIds.has(`${kind}:${id}`)) {
            failedIds.add(`${kind}:${id}`);
            failed.push({ kind, id, code: TenderError.isInstance(error) ? error.code : 'decryption_failed' });
          }
          return null;
        }
      });
      let remaining = 0;
      await pages(kind, (stored) => {
        if (c.stale(kind, stored)) remaining++;
        return null;
      });
      counts[kind] = { ...done, remaining };
    }
    return { activeKeyId: this.activeKeyId, counts, failed };
  }
}

/**
 * Wraps `store` so personal data is encrypted at rest (see the module notes). Without keys, use the
 * store itself: the wrapper is the only cost of encryption.
 *
 * @example
 * ```ts
 * const key = parseEncryptionKey(process.env.ENCRYPTION_KEY!);
 * const store = createEncryptingStore(await createPostgresStore({ connectionString }), { keys: [key], activeKeyId: key.id });
 * ```
 * @throws EncryptionKeyError when two different keys share an id or `activeKeyId` is not among `keys`.
 */
export function createEncryptingStore(store: Store, options: EncryptingStoreOptions): EncryptingStore {
  return new EncryptingStoreImpl(store, options);
}
