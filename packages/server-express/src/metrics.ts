/**
 * Prometheus metrics (prom-client) under the names payment dashboards commonly use. Each server gets its own registry so
 * several instances can live in one process (tests, embedding).
 *
 * @module
 */
import { CIRCUIT_STATE_VALUE, TenderError, timingSafeEqualString, type CircuitState, type HttpTransport, type OutboxEvent, type Payment, type Refund, type Store, type Tender, type TransportEvent } from '@tender/core';
import type { RequestHandler } from 'express';
import { sendError } from './errors';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's metrics. */
export interface TenderMetrics {
  readonly registry: Registry;
  readonly paymentsTotal: Counter<'method' | 'status' | 'currency'>;
  readonly paymentDuration: Histogram<'operation' | 'gateway' | 'outcome'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly circuitState: Gauge<'gateway'>;
  readonly webhookEvents: Counter<'gateway' | 'outcome'>;
  readonly outboxDeliveries: Counter<'outcome'>;
  readonly outboxBacklog: Gauge;
  /** `grpc_server_handled_total`: gRPC calls by service, method and status code name (`OK`, `NOT_FOUND`...). */
  readonly grpcRequests: Counter<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  /** `grpc_server_handling_seconds`: gRPC call duration by service, method and status code name. */
  readonly grpcDuration: Histogram<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  /**
   * `tender_reconcile_errors_total`: payments and refunds whose reconciliation check failed (the
   * `errors` of each run's report), plus reconciliation runs that failed as a whole.
   */
  readonly reconcileErrors: Counter;
  /** `tender_live_connections`: open live payment status connections, by transport (`sse`, `websocket`). */
  readonly liveConnections: Gauge<'transport'>;
  /** `tender_relay_events_total`: outbox events the broker relay handled, by outcome (published, skipped, retry, dead). */
  readonly relayEvents: Counter<'outcome'>;
  /** `tender_relay_publish_lag_seconds`: from an event's commit to the broker's confirm. */
  readonly relayLag: Histogram;
  /** `tender_order_events_total`: inbound `order.confirmed` messages settled, by outcome (ack, retry, dead_letter). */
  readonly orderEvents: Counter<'outcome'>;
  /**
   * `payment_results_total`: payments by gateway, method and result — `succeeded` once authorised
   * (manual capture) or captured (automatic capture), `failed`, `expired`, `cancelled`. The success
   * rate is `succeeded / (succeeded + failed)` (docs/monitoring.md).
   */
  readonly paymentResults: Counter<'gateway' | 'method' | 'result'>;
  /** `revenue_total`: amounts captured, in major units, by currency (refunds are `revenue_refunded_total`). */
  readonly revenue: Counter<'currency'>;
  /** `revenue_refunded_total`: amounts of refunds that succeeded, in major units, by currency. */
  readonly revenueRefunded: Counter<'currency'>;
  /** `failed_auth_total`: refused credentials by reason and API (`rest`, `live`, `grpc`, `metrics`). */
  readonly failedAuth: Counter<'reason' | 'api'>;
  /** `payment_errors_total`: failed payments (the gateway's failure code) and payment operations that failed on our or the gateway's side (the error code). */
  readonly paymentErrors: Counter<'gateway' | 'code'>;
  /** `tender_gateway_requests_total`: HTTP attempts to gateway APIs by gateway, operation and outcome (`2xx`...`5xx`, `timeout`, `error`, `circuit_open`). */
  readonly gatewayRequests: Counter<'gateway' | 'operation' | 'outcome'>;
  /** `tender_gateway_request_duration_seconds`: duration of each attempt that was sent. */
  readonly gatewayDuration: Histogram<'gateway' | 'operation'>;
  /** `tender_gateway_retries_total`: retries of gateway requests by gateway and reason. */
  readonly gatewayRetries: Counter<'gateway' | 'reason'>;
  /** `db_query_duration_seconds`: database statements by outcome (`ok`, `error`). */
  readonly dbQueryDuration: Histogram<'outcome'>;
  /** Counts each committed payment status change by method, status and currency. */
  observeTender(tender: Tender): () => void;
  /** Follows a transport's circuit state, its requests and retries. */
  observeTransport(transport: HttpTransport): () => void;
  /**
   * Reads the store's pool, statement durations, schema size and stuck payments (each where the store
   * offers it: `@tender/store-postgres` does; a pool exists on Postgres only).
   */
  observeStore(store: Store, options?: { stuckAfterMs?: number }): () => void;
  /** Counts a refused credential in `failed_auth_total` (anything but an auth error is ignored). */
  recordAuthFailure(api: AuthApi, error: unknown): void;
}

/** Where a credential was refused (`failed_auth_total{api}`). */
export type AuthApi = 'rest' | 'live' | 'grpc' | 'metrics';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Also collect Node's default process metrics (default true). */
  defaultMetrics?: boolean;
  /** Reads the number of undelivered outbox events when `/metrics` is scraped. */
  outboxBacklog?: () => Promise<number>;
  /** Reads the broker relay's backlog when `/metrics` is scraped (set when a relay runs). */
  relayBacklog?: () => Promise<{ pending: number; oldestCreatedAt: string | null }>;
  /** The Fiuu merchant id: labels `fiuu_circuit_breaker_state{merchant_id}`, an alias of the Fiuu circuit kept for dashboards that use this name. */
  fiuuMerchantId?: string;
  /** Longest a scrape waits for one database read (backlogs, pool, size, stuck payments); default 2000 ms. A read that takes longer leaves its gauge at its last value. */
  scrapeBudgetMs?: number;
}

/**
 * A label whose values come from outside (payment methods, failure codes): the `known` values and up
 * to `max` others, first come first kept, are used as they are; anything else, or anything that is
 * not a short identifier, is `other`. So a series count stays bounded whatever callers send.
 */
export function boundedLabel(max: number, known: readonly string[] = []): (value: string) => string {
  const kept = new Set(known);
  let others = 0;
  return (value) => {
    if (kept.has(value)) return value;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,47}$/.test(value) || others >= max) return 'other';
    others++;
    kept.add(value);
    return value;
  };
}

/** Failure and error codes worth their own series from the start (the rest share a bounded pool). */
const KNOWN_ERROR_CODES = [
  'card_declined', 'insufficient_funds', 'expired_card', 'incorrect_cvc', 'processing_error', 'authentication_required',
  'do_not_honor', 'fraudulent', 'payment_failed', 'authorization_expired', 'gateway_error', 'gateway_outcome_unknown',
  'circuit_open', 'connection_failed', 'request_aborted', 'gateway_timeout', 'storage_unavailable', 'internal_error',
];

/** `failed_auth_total{reason}` by the refusing error's code. */
const AUTH_REASONS: Readonly<Record<string, string>> = {
  missing_token: 'missing_token',
  invalid_token: 'invalid_token',
  invalid_metrics_token: 'invalid_token',
  token_expired: 'expired',
  token_without_expiry: 'no_expiry',
  token_lifetime_too_long: 'lifetime_too_long',
  insufficient_scope: 'insufficient_scope',
  auth_unavailable: 'key_set_unavailable',
};

/** Errors of a payment operation that are ours or the gateway's, not the caller's (`payment_errors_total`). */
const SERVER_SIDE_ERRORS: ReadonlySet<string> = new Set(['gateway_error', 'gateway_unavailable', 'storage_error', 'api_error']);

const OPERATION = /^[a-z][a-z0-9_]{0,39}$/;

function requestOutcome(event: Extract<TransportEvent, { type: 'request' }>): string {
  if (event.error === 'circuit_open') return 'circuit_open';
  if (event.status !== null) return `${Math.min(5, Math.max(1, Math.floor(event.status / 100)))}xx`;
  return event.error === 'timeout' ? 'timeout' : 'error';
}

function retryReason(reason: string): string {
  if (reason === 'timeout') return 'timeout';
  if (reason === 'status_429') return 'rate_limited';
  if (reason === 'status_409') return 'conflict';
  if (/^status_5\d\d$/.test(reason)) return 'server_error';
  return reason.startsWith('status_') ? 'other_status' : 'connection';
}

/** Resolves with `work`, or with undefined once `ms` have passed (the timer never holds the process). */
function withinBudget<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

interface MonitoredStore {
  poolStats?: () => { total: number; idle: number; waiting: number; max: number } | null;
  observeQueries?: (listener: (seconds: number, failed: boolean) => void) => () => void;
  schemaSizeBytes?: () => Promise<number>;
  countPaymentsToReconcile?: (query: { statuses: readonly string[]; updatedBefore: string; cap?: number }) => Promise<number>;
}

function isStore(value: unknown): value is Store & MonitoredStore & { inner?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as Store).listPaymentsToReconcile === 'function';
}

/** Most stuck payments counted (`tender_reconcile_stuck_payments` is capped there). */
const STUCK_CAP = 10_000;

/** Creates a registry with every Tender metric. */
export function createMetrics(options: MetricsOptions = {}): TenderMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  // The store read by the database gauges (observeStore), and the age after which a PENDING or
  // PROCESSING payment counts as stuck. The pool gauges come first: prom-client calls each collect in
  // registration order, so they see the pool before this scrape's own reads take a connection.
  let store: (Store & MonitoredStore) | null = null;
  let stuckAfterMs = 0;
  new Gauge({
    name: 'db_connections_active',
    help: 'Database connections in use (checked out of the pool); 0 on embedded PGlite, which has no pool',
    registers: [registry],
    collect() {
      const stats = store?.poolStats?.();
      if (stats) this.set(stats.total - stats.idle);
    },
  });
  new Gauge({
    name: 'db_connections_idle',
    help: 'Open database connections idle in the pool',
    registers: [registry],
    collect() {
      const stats = store?.poolStats?.();
      if (stats) this.set(stats.idle);
    },
  });
  new Gauge({
    name: 'db_connections_waiting',
    help: 'Callers waiting for a database connection because every one the pool allows is in use',
    registers: [registry],
    collect() {
      const stats = store?.poolStats?.();
      if (stats) this.set(stats.waiting);
    },
  });
  new Gauge({
    name: 'db_connections_max',
    help: 'Most database connections the pool opens (DATABASE_POOL_MAX); 0 without a pool',
    registers: [registry],
    collect() {
      const stats = store?.poolStats?.();
      if (stats) this.set(stats.max);
    },
  });
  // Reads a scrape makes of the database run one at a time (a scrape takes at most one connection
  // from the API), each within the budget; a read already under way is shared.
  const budgetMs = options.scrapeBudgetMs ?? 2000;
  let queue: Promise<unknown> = Promise.resolve();
  const dbRead = <T>(read: () => Promise<T>): Promise<T | undefined> => {
    const result = queue.then(() => withinBudget(Promise.resolve().then(read), budgetMs));
    queue = result;
    return result;
  };
  const paymentsTotal = new Counter({
    name: 'payments_total',
    help: 'Payment status changes, by payment method, new status and currency',
    labelNames: ['method', 'status', 'currency'] as const,
    registers: [registry],
  });
  const paymentDuration = new Histogram({
    name: 'payment_duration_seconds',
    help: 'Time to complete a payment API operation (including the gateway call)',
    labelNames: ['operation', 'gateway', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const httpRequests = new Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const circuitState = new Gauge({ name: 'tender_gateway_circuit_state', help: 'Circuit breaker state per gateway (0 closed, 1 open, 2 half-open)', labelNames: ['gateway'] as const, registers: [registry] });
  const webhookEvents = new Counter({ name: 'webhook_events_total', help: 'Inbound gateway webhook events by outcome', labelNames: ['gateway', 'outcome'] as const, registers: [registry] });
  // The names and labels of the Prometheus interceptors of grpc-ecosystem (go-grpc-middleware),
  // which gRPC dashboards expect; the method label only takes the service's own RPC names.
  const grpcRequests = new Counter({
    name: 'grpc_server_handled_total',
    help: 'gRPC calls completed on the server, by service, method and status code',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
    registers: [registry],
  });
  const grpcDuration = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'gRPC call duration on the server, by service, method and status code',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const outboxDeliveries = new Counter({ name: 'tender_outbox_deliveries_total', help: 'Merchant webhook delivery attempts by outcome', labelNames: ['outcome'] as const, registers: [registry] });
  const reconcileErrors = new Counter({
    name: 'tender_reconcile_errors_total',
    help: 'Payments and refunds whose reconciliation check failed (each is retried later), plus reconciliation runs that failed as a whole',
    registers: [registry],
  });
  const liveConnections = new Gauge({ name: 'tender_live_connections', help: 'Open live payment status connections, by transport (sse, websocket)', labelNames: ['transport'] as const, registers: [registry] });
  const backlogReader = options.outboxBacklog;
  const outboxBacklog = new Gauge({
    name: 'tender_outbox_backlog',
    help: 'Outbox events not yet delivered (pending)',
    registers: [registry],
    async collect() {
      if (!backlogReader) return;
      // A scrape must not fail, nor hang, because the database is briefly away; /ready reports that.
      const n = await dbRead(backlogReader);
      if (n !== undefined) this.set(n);
    },
  });

  const relayEvents = new Counter({ name: 'tender_relay_events_total', help: 'Outbox events the broker relay handled, by outcome', labelNames: ['outcome'] as const, registers: [registry] });
  const orderEvents = new Counter({ name: 'tender_order_events_total', help: 'Inbound order.confirmed messages settled, by outcome (ack, retry, dead_letter)', labelNames: ['outcome'] as const, registers: [registry] });
  const relayLag = new Histogram({
    name: 'tender_relay_publish_lag_seconds',
    help: 'Time from an event being committed to the broker confirming it',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300],
    registers: [registry],
  });
  const relayReader = options.relayBacklog;
  if (relayReader) {
    // Both relay gauges come from one read per scrape.
    let pending: Promise<{ pending: number; oldestCreatedAt: string | null } | undefined> | null = null;
    const read = () => {
      pending ??= dbRead(relayReader).finally(() => {
        pending = null;
      });
      return pending;
    };
    new Gauge({
      name: 'tender_relay_backlog',
      help: 'Outbox events not yet published to the broker',
      registers: [registry],
      async collect() {
        const b = await read();
        if (b) this.set(b.pending);
      },
    });
    new Gauge({
      name: 'tender_relay_oldest_pending_age_seconds',
      help: 'Age of the oldest outbox event not yet published to the broker (0 when none)',
      registers: [registry],
      async collect() {
        const b = await read();
        if (b) this.set(b.oldestCreatedAt ? Math.max(0, (Date.now() - Date.parse(b.oldestCreatedAt)) / 1000) : 0);
      },
    });
  }

  const paymentResults = new Counter({
    name: 'payment_results_total',
    help: 'Payments by gateway, method and result: succeeded (authorised for manual capture, captured for automatic), failed, expired, cancelled',
    labelNames: ['gateway', 'method', 'result'] as const,
    registers: [registry],
  });
  const revenue = new Counter({ name: 'revenue_total', help: 'Amounts captured, in major units of the currency (refunds: revenue_refunded_total)', labelNames: ['currency'] as const, registers: [registry] });
  const revenueRefunded = new Counter({ name: 'revenue_refunded_total', help: 'Amounts of refunds that succeeded, in major units of the currency', labelNames: ['currency'] as const, registers: [registry] });
  const failedAuth = new Counter({
    name: 'failed_auth_total',
    help: 'Requests refused for their credentials, by reason (missing_token, invalid_token, expired, no_expiry, lifetime_too_long, insufficient_scope, key_set_unavailable, other) and API (rest, live, grpc, metrics)',
    labelNames: ['reason', 'api'] as const,
    registers: [registry],
  });
  const paymentErrors = new Counter({
    name: 'payment_errors_total',
    help: "Payment errors by gateway and code: payments that failed (the gateway's failure code) and payment operations that failed on the server's or the gateway's side (the error code); rare codes are 'other'",
    labelNames: ['gateway', 'code'] as const,
    registers: [registry],
  });
  const gatewayRequests = new Counter({
    name: 'tender_gateway_requests_total',
    help: 'HTTP attempts to gateway APIs, by gateway, operation and outcome (1xx-5xx, timeout, error, circuit_open)',
    labelNames: ['gateway', 'operation', 'outcome'] as const,
    registers: [registry],
  });
  const gatewayDuration = new Histogram({
    name: 'tender_gateway_request_duration_seconds',
    help: 'Duration of each HTTP attempt sent to a gateway API, by gateway and operation',
    labelNames: ['gateway', 'operation'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const gatewayRetries = new Counter({
    name: 'tender_gateway_retries_total',
    help: 'Retries of gateway API requests, by gateway and reason (timeout, rate_limited, conflict, server_error, other_status, connection)',
    labelNames: ['gateway', 'reason'] as const,
    registers: [registry],
  });
  const fiuuMerchant = options.fiuuMerchantId ?? '';
  const fiuuCircuit = new Gauge({
    name: 'fiuu_circuit_breaker_state',
    help: 'The Fiuu circuit breaker (0 closed, 1 open, 2 half-open): an alias of tender_gateway_circuit_state{gateway="fiuu"} for dashboards that use this name',
    labelNames: ['merchant_id'] as const,
    registers: [registry],
  });
  const dbQueryDuration = new Histogram({
    name: 'db_query_duration_seconds',
    help: 'Duration of database statements, by outcome (ok, error)',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  new Gauge({
    name: 'db_size_bytes',
    help: "Bytes on disk of Tender's tables (its schema), indexes and TOAST included",
    registers: [registry],
    async collect() {
      if (!store?.schemaSizeBytes) return;
      const sized = store;
      const bytes = await dbRead(() => sized.schemaSizeBytes!());
      if (bytes !== undefined) this.set(bytes);
    },
  });
  new Gauge({
    name: 'tender_reconcile_stuck_payments',
    help: `PENDING or PROCESSING payments not updated for longer than the reconciler's threshold plus two of its runs (capped at ${STUCK_CAP})`,
    registers: [registry],
    async collect() {
      const s = store;
      if (!s) return;
      const query = { statuses: ['PENDING', 'PROCESSING'] as const, updatedBefore: new Date(Date.now() - stuckAfterMs).toISOString() };
      const n = await dbRead(() =>
        s.countPaymentsToReconcile ? s.countPaymentsToReconcile({ ...query, cap: STUCK_CAP }) : s.listPaymentsToReconcile({ ...query, limit: 1000 }).then((rows) => rows.length),
      );
      if (n !== undefined) this.set(n);
    },
  });

  const methodLabel = boundedLabel(40);
  const method = (value: unknown): string => {
    if (typeof value !== 'string' || value === '') return 'none';
    // Stripe PaymentMethod ids (pm_..., one per card) would each be a series of their own.
    if (/^(pm|tok|src|card)_/.test(value)) return 'payment_method_id';
    return methodLabel(value);
  };
  const codeLabel = boundedLabel(40, KNOWN_ERROR_CODES);
  const gatewayLabel = boundedLabel(16, ['fiuu', 'stripe', 'paypal', 'upi', 'auto', 'n/a']);
  const currencyLabel = (value: unknown) => (typeof value === 'string' && /^[A-Z]{3}$/.test(value) ? value : 'other');
  const major = (value: unknown): number => {
    const n = typeof value === 'string' ? Number(value) : NaN;
    return Number.isFinite(n) && n > 0 ? n : 0;
  };

  /**
   * Revenue and results of one committed batch of events. A payment returning to CAPTURED because a
   * refund failed comes with that refund's `refund.failed` in the same batch (one unit of work), and is
   * no new capture; so a batch is settled once it has been delivered whole (a microtask later).
   */
  let batch: OutboxEvent[] | null = null;
  const settle = (events: OutboxEvent[]) => {
    const refundFailed = new Set(events.filter((e) => e.type === 'refund.failed').map((e) => e.paymentId));
    for (const event of events) {
      if (event.type.startsWith('refund.')) {
        const refund = event.data as unknown as Refund;
        if (refund.status === 'SUCCEEDED') revenueRefunded.inc({ currency: currencyLabel(refund.currency) }, major(refund.amount));
        continue;
      }
      const payment = event.data as unknown as Payment;
      if (typeof payment.status !== 'string') continue;
      const labels = { gateway: gatewayLabel(String(payment.gateway ?? 'none')), method: method(payment.paymentMethod) };
      switch (payment.status) {
        case 'AUTHORIZED':
          paymentResults.inc({ ...labels, result: 'succeeded' });
          break;
        case 'CAPTURED':
          if (refundFailed.has(event.paymentId)) break;
          revenue.inc({ currency: currencyLabel(payment.currency) }, major(payment.amountCaptured));
          if (payment.captureMethod !== 'manual') paymentResults.inc({ ...labels, result: 'succeeded' });
          break;
        case 'FAILED':
          paymentResults.inc({ ...labels, result: 'failed' });
          paymentErrors.inc({ gateway: labels.gateway, code: codeLabel(String(payment.failure?.code ?? 'unknown')) });
          break;
        case 'EXPIRED':
          paymentResults.inc({ ...labels, result: 'expired' });
          break;
        case 'CANCELLED':
          paymentResults.inc({ ...labels, result: 'cancelled' });
          break;
      }
    }
  };

  const metrics: TenderMetrics = {
    registry,
    paymentResults,
    revenue,
    revenueRefunded,
    failedAuth,
    paymentErrors,
    gatewayRequests,
    gatewayDuration,
    gatewayRetries,
    dbQueryDuration,
    relayEvents,
    orderEvents,
    relayLag,
    paymentsTotal,
    paymentDuration,
    httpRequests,
    httpDuration,
    grpcRequests,
    grpcDuration,
    circuitState,
    webhookEvents,
    outboxDeliveries,
    outboxBacklog,
    reconcileErrors,
    liveConnections,
    observeTender(tender) {
      return tender.events.on((event: OutboxEvent) => {
        const isPayment = event.type.startsWith('payment.') && event.type !== 'payment.created';
        if (!isPayment && !event.type.startsWith('refund.')) return;
        if (isPayment) {
          const data = event.data as { status?: unknown; paymentMethod?: unknown; currency?: unknown };
          // Notes (disputes, stale reports) carry { payment, ... }, not a status change.
          if (typeof data.status !== 'string') return;
          paymentsTotal.inc({ method: method(data.paymentMethod), status: data.status, currency: currencyLabel(data.currency) });
        }
        if (batch) {
          batch.push(event);
          return;
        }
        const current = [event];
        batch = current;
        queueMicrotask(() => {
          batch = null;
          settle(current);
        });
      });
    },
    observeTransport(transport) {
      const gateway = transport.gateway;
      const set = (state: CircuitState) => {
        circuitState.set({ gateway }, CIRCUIT_STATE_VALUE[state]);
        if (gateway === 'fiuu') fiuuCircuit.set({ merchant_id: fiuuMerchant }, CIRCUIT_STATE_VALUE[state]);
      };
      set(transport.circuitState);
      return transport.onEvent((event) => {
        if (event.type === 'circuit') set(event.state);
        else if (event.type === 'request') {
          const operation = OPERATION.test(event.operation) ? event.operation : 'other';
          gatewayRequests.inc({ gateway, operation, outcome: requestOutcome(event) });
          if (event.error !== 'circuit_open') gatewayDuration.observe({ gateway, operation }, event.durationMs / 1000);
        } else if (event.type === 'retry') gatewayRetries.inc({ gateway, reason: retryReason(event.reason) });
      });
    },
    observeStore(observed, options = {}) {
      // A wrapping store (createEncryptingStore keeps the wrapped one as `inner`) is read through to the
      // store that has the pool: counts and sizes need no decryption.
      let monitored = observed as Store & MonitoredStore & { inner?: unknown };
      for (let depth = 0; depth < 4 && !monitored.poolStats && isStore(monitored.inner); depth++) monitored = monitored.inner;
      store = monitored;
      stuckAfterMs = options.stuckAfterMs ?? 90_000;
      const unsubscribe = store.observeQueries?.((seconds, failed) => dbQueryDuration.observe({ outcome: failed ? 'error' : 'ok' }, seconds));
      return () => {
        unsubscribe?.();
        if (store === monitored) store = null;
      };
    },
    recordAuthFailure(api, error) {
      if (!TenderError.isInstance(error)) return;
      const reason = AUTH_REASONS[error.code] ?? (error.type === 'authentication_error' ? 'other' : undefined);
      if (reason) failedAuth.inc({ reason, api });
    },
  };
  metricsByRegistry.set(registry, { paymentErrors, code: codeLabel, gateway: gatewayLabel });
  return metrics;
}

const metricsByRegistry = new WeakMap<Registry, { paymentErrors: Counter<'gateway' | 'code'>; code: (v: string) => string; gateway: (v: string) => string }>();

/**
 * Runs one payment API operation and records it in `payment_duration_seconds` (outcome `ok` or the
 * error's type); `gateway` is read when the operation ends, once the routed gateway is known.
 */
export async function timeOperation<T>(metrics: TenderMetrics | undefined, operation: string, gateway: () => string, fn: () => Promise<T>): Promise<T> {
  const end = metrics?.paymentDuration.startTimer();
  try {
    const result = await fn();
    end?.({ operation, gateway: gateway(), outcome: 'ok' });
    return result;
  } catch (error) {
    const type = TenderError.isInstance(error) ? error.type : 'error';
    end?.({ operation, gateway: gateway(), outcome: type });
    // Errors on our or the gateway's side; a caller's bad request is no payment error.
    const errors = metrics ? metricsByRegistry.get(metrics.registry) : undefined;
    if (errors && (type === 'error' || SERVER_SIDE_ERRORS.has(type))) {
      // Before routing has settled on a gateway (`auto`), the transport's error names the one it tried.
      const routed = gateway();
      const tried = TenderError.isInstance(error) ? (error.details as { gateway?: unknown } | undefined)?.gateway : undefined;
      const label = (routed === 'auto' || routed === 'n/a') && typeof tried === 'string' ? tried : routed;
      errors.paymentErrors.inc({ gateway: errors.gateway(label), code: errors.code(TenderError.isInstance(error) ? error.code : 'internal_error') });
    }
    throw error;
  }
}

/** Records `http_requests_total` / `http_request_duration_seconds` with the matched route pattern. */
export function httpMetrics(metrics: TenderMetrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      // The route pattern, never the raw path: ids in label values would explode the series count.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      // A live stream lasts as long as its client watches: its span is no request latency.
      if (!String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')) end(labels);
    });
    next();
  };
}

/** Options of {@link metricsHandler}. */
export interface MetricsEndpointOptions {
  /**
   * When set, a scrape must send `Authorization: Bearer <token>` (Prometheus `authorization` /
   * `bearer_token` in its scrape config); anything else is a 401. The metrics carry business volumes
   * (payments by currency and status), so a public API port should not serve them to anyone.
   */
  token?: string;
}

/** Serves the registry in Prometheus text format, behind a bearer token when one is given. */
export function metricsHandler(metrics: TenderMetrics, options: MetricsEndpointOptions = {}): RequestHandler {
  const expected = options.token ?? null;
  return async (req, res) => {
    if (expected) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      // Constant time, whatever the length sent.
      if (!match || !timingSafeEqualString(expected, match[1]!)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        const error = new TenderError({ type: 'authentication_error', code: match ? 'invalid_metrics_token' : 'missing_token', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' });
        metrics.recordAuthFailure('metrics', error);
        sendError(res, error);
        return;
      }
    }
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  };
}
