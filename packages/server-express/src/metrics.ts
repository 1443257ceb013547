/**
 * Prometheus metrics (prom-client) with the seed's names. Each server gets its own registry so
 * several instances can live in one process (tests, embedding).
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { CIRCUIT_STATE_VALUE, TenderError, type CircuitState, type HttpTransport, type OutboxEvent, type Tender } from '@tender/core';
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
  /** Counts each committed payment status change by method, status and currency. */
  observeTender(tender: Tender): () => void;
  /** Follows a transport's circuit state. */
  observeTransport(transport: HttpTransport): () => void;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Also collect Node's default process metrics (default true). */
  defaultMetrics?: boolean;
  /** Reads the number of undelivered outbox events when `/metrics` is scraped. */
  outboxBacklog?: () => Promise<number>;
  /** Reads the broker relay's backlog when `/metrics` is scraped (set when a relay runs). */
  relayBacklog?: () => Promise<{ pending: number; oldestCreatedAt: string | null }>;
}

/** Creates a registry with every Tender metric. */
export function createMetrics(options: MetricsOptions = {}): TenderMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
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
      try {
        this.set(await backlogReader());
      } catch {
        // A scrape must not fail because the database is briefly away; /ready reports that.
      }
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
    const read = () => relayReader().catch(() => null);
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

  return {
    registry,
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
        if (!event.type.startsWith('payment.') || event.type === 'payment.created') return;
        const data = event.data as { status?: unknown; paymentMethod?: unknown; currency?: unknown };
        if (typeof data.status !== 'string') return;
        paymentsTotal.inc({ method: typeof data.paymentMethod === 'string' ? data.paymentMethod : 'none', status: data.status, currency: String(data.currency ?? '') });
      });
    },
    observeTransport(transport) {
      const set = (state: CircuitState) => circuitState.set({ gateway: transport.gateway }, CIRCUIT_STATE_VALUE[state]);
      set(transport.circuitState);
      return transport.onEvent((event) => {
        if (event.type === 'circuit') set(event.state);
      });
    },
  };
}

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
    end?.({ operation, gateway: gateway(), outcome: TenderError.isInstance(error) ? error.type : 'error' });
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

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Serves the registry in Prometheus text format, behind a bearer token when one is given. */
export function metricsHandler(metrics: TenderMetrics, options: MetricsEndpointOptions = {}): RequestHandler {
  const expected = options.token ? digest(options.token) : null;
  return async (req, res) => {
    if (expected) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      // Compared as digests: constant time, whatever the length sent.
      if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        sendError(res, new TenderError({ type: 'authentication_error', code: match ? 'invalid_metrics_token' : 'missing_token', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' }));
        return;
      }
    }
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  };
}
