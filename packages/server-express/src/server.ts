/**
 * `startTenderServer`: the standalone reference server. Reads the environment, opens the store
 * (Postgres or embedded PGlite) and migrates it, configures gateways (or starts the sandboxes in
 * simulation mode), serves the API, runs the workers, and shuts down gracefully.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { TenderError, createTender, redactingLogger, type Payment, type Store, type Tender } from '@tender/core';
import type { Logger as PinoLogger } from 'pino';
import { startGrpcServer, type TenderGrpcServer } from './grpc/server';
import { storeReadiness } from './router';
import { createApp } from './app';
import { serverEventPayload } from './present';
import { createSharedRateLimit } from './shared-rate-limit';
import { SCOPES, signToken, type TokenAuthOptions } from './auth';
import { isSimulation, loadConfig, type ServerConfig } from './config';
import { createDemoRouter, DEMO_MERCHANT } from './demo';
import { gatewaysFromConfig, simulatedGateways, type GatewaySetup } from './gateways';
import { createLogger } from './logging';
import { encryptAtRest, logEncryption } from './encryption';
import express from 'express';
import { sendError } from './errors';
import { createMetrics, metricsHandler } from './metrics';
import type { Store as RateLimitStore } from 'express-rate-limit';
import { startWorkers, type Workers } from './workers';
import { createServerRisk, readServerRiskRules, type ServerRisk } from './risk';
import { createPublisherFromUrl, startOrderConsumer } from './brokers';
import type { EventConsumer } from '@tender/core';
import { createLiveStatus, createUpgradeHandler } from './live';
import { createReadiness, readinessHandler } from './readiness';

/** Options of {@link startTenderServer}. */
export interface StartServerOptions {
  /** Environment to read (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Logger (default: pino JSON to stdout at LOG_LEVEL). */
  logger?: PinoLogger;
  /** A store to use instead of DATABASE_URL / PGlite (embedding, tests); wrapped for ENCRYPTION_KEY like the server's own. */
  store?: Store;
}

/** A running server. */
export interface TenderServer {
  /** `http://host:port` the server listens on. */
  url: string;
  /** `http://host:port/metrics` of the separate metrics listener (METRICS_PORT), else null. */
  metricsUrl: string | null;
  /** `http://host:port` of the separate probe listener (HEALTH_CHECK_PORT: `/health`, `/ready`), else null. */
  healthUrl: string | null;
  /** `host:port` of the gRPC API (GRPC_PORT), as a grpc-js client takes it; null without GRPC_PORT. */
  grpcAddress: string | null;
  /** Port of the gRPC API; null without GRPC_PORT. */
  grpcPort: number | null;
  /** Base URL gateways and browsers are told to use. */
  publicUrl: string;
  config: ServerConfig;
  tender: Tender;
  workers: Workers;
  /** The `order.confirmed` consumer (ORDER_EVENTS_MERCHANT_ID set), else null. */
  orderConsumer: EventConsumer | null;
  server: Server;
  /** Set in simulation mode. */
  simulation: GatewaySetup['simulation'];
  /** Simulation mode without JWT_SECRET: a token for merchant `demo` signed with a generated secret. */
  devToken: string | null;
  /** The risk checks (FRAUD_RULES_CONFIG_PATH / FRAUD_ML_API_URL), else null; SIGHUP calls its `reload()`. */
  risk: ServerRisk | null;
  /** Stops accepting, finishes in-flight requests and worker batches, closes pools and sandboxes. */
  close(): Promise<void>;
}

/** Opens the store from the configuration (migrations run on open), encrypting personal data when ENCRYPTION_KEY is set. */
export async function openStore(config: ServerConfig, logger: PinoLogger): Promise<Store> {
  const { createPostgresStore, createPGliteStore } = await import('@tender/store-postgres');
  const schema = config.DATABASE_SCHEMA ? { schema: config.DATABASE_SCHEMA } : {};
  // ENCRYPTION_KEY: the whole server (engine, workers, live streams, gRPC) goes through the encrypting store.
  if (config.DATABASE_URL) {
    return encryptAtRest(config, await createPostgresStore({ connectionString: config.DATABASE_URL, poolConfig: { max: config.DATABASE_POOL_MAX }, ...schema, logger: redactingLogger(logger) }));
  }
  mkdirSync(config.TENDER_DATA_DIR, { recursive: true });
  return encryptAtRest(config, await createPGliteStore({ dataDir: config.TENDER_DATA_DIR, ...schema }));
}

/** How often a server whose database role may not migrate looks again for the migrated schema. */
const SCHEMA_WAIT_MS = 2000;

/**
 * {@link openStore} for `start`: with a role that may not migrate (deploy/sql/roles.sql's application
 * role) on a schema the migration Job has not finished yet, waits for it, not ready (`/ready` 503,
 * `/health` 200), instead of exiting, so pods applied beside the Job come up once it completes.
 */
async function openStoreWhenMigrated(config: ServerConfig, logger: PinoLogger, log: ReturnType<typeof redactingLogger>): Promise<Store> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await openStore(config, logger);
    } catch (error) {
      if (!TenderError.isInstance(error) || error.code !== 'migration_not_permitted') throw error;
      if (attempt % 15 === 0) log.warn({ err: error.message }, 'waiting for the schema to be migrated (tender-server migrate as the owner role)');
      await new Promise((resolve) => setTimeout(resolve, SCHEMA_WAIT_MS));
    }
  }
}

/** The sandbox UPI app page of a simulated UPI payment (by its Razorpay payment id). */
function demoUpiApp(simulation: NonNullable<GatewaySetup['simulation']>): (payment: Payment) => string | null {
  return (payment) => {
    const id = payment.gatewayData.razorpayPaymentId;
    return payment.gateway === 'upi' && typeof id === 'string' ? simulation.upi.upiAppUrl(id) : null;
  };
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Starts the server. Throws `ConfigError` for a bad environment. */
export async function startTenderServer(options: StartServerOptions = {}): Promise<TenderServer> {
  const env = options.env ?? process.env;
  const config = loadConfig(env);
  // The rules file is checked before anything starts: a bad one is a ConfigError, like a bad variable.
  const riskRules = await readServerRiskRules(config);
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const log = redactingLogger(logger);
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };

  // Listen first: in simulation mode the sandboxes need this server's real URL for callbacks.
  const server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 60_000, requestTimeout: 120_000 });
  server.on('request', whileStarting);
  server.listen(config.PORT, config.HOST);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${hostForUrl(config.HOST)}:${port}`;
  const publicUrl = (config.PUBLIC_URL ?? url).replace(/\/+$/, '');

  // HEALTH_CHECK_PORT: /health and /ready on a listener of their own, up as early as the API port so
  // a liveness probe is answered while migrations run.
  let healthServer: Server | null = null;
  let healthUrl: string | null = null;
  if (config.HEALTH_CHECK_PORT !== undefined) {
    const started = createServer(whileStarting);
    try {
      started.listen(config.HEALTH_CHECK_PORT, config.HEALTH_CHECK_HOST);
      await Promise.race([once(started, 'listening'), once(started, 'error').then(([e]) => Promise.reject(e))]);
    } catch (error) {
      await cleanup();
      throw error;
    }
    healthServer = started;
    cleanups.push(
      () =>
        new Promise((resolve) => {
          started.close(resolve);
          started.closeAllConnections();
        }),
    );
    healthUrl = `http://${hostForUrl(config.HEALTH_CHECK_HOST)}:${(started.address() as AddressInfo).port}`;
  }

  try {
    const store = options.store ? encryptAtRest(config, options.store) : await openStoreWhenMigrated(config, logger, log);
    if (!options.store) cleanups.push(async () => store.close?.());
    const simulation = isSimulation(config);
    logEncryption(config, simulation, log);
    const setup = simulation ? await simulatedGateways({ publicUrl }, env, log) : gatewaysFromConfig(config, env, log);
    cleanups.push(() => setup.close());
    if (setup.gateways.length === 0) {
      throw new Error('No gateway is configured: set FIUU_MERCHANT_ID/FIUU_VERIFY_KEY/FIUU_SECRET_KEY, STRIPE_SECRET_KEY, PAYPAL_CLIENT_ID/PAYPAL_CLIENT_SECRET/PAYPAL_WEBHOOK_ID or RAZORPAY_KEY_ID/RAZORPAY_KEY_SECRET/RAZORPAY_WEBHOOK_SECRET, or run in simulation mode');
    }
    const fiuuMerchantId = config.FIUU_MERCHANT_ID ?? setup.simulation?.fiuu.merchantId;
    const metrics = createMetrics({
      outboxBacklog: () => store.countOutboxBacklog(),
      ...(config.EVENT_BROKER_URL ? { relayBacklog: () => store.relayBacklog() } : {}),
      ...(fiuuMerchantId ? { fiuuMerchantId } : {}),
    });
    // Risk checks before any gateway call, with the rules read at the start.
    const risk = await createServerRisk(config, { store, logger: log, registry: metrics.registry, rules: riskRules });
    if (risk) {
      cleanups.push(() => risk.close());
      if (config.FRAUD_RULES_CONFIG_PATH) {
        // SIGHUP re-reads the rules file (kill -HUP <pid>, or a Kubernetes config reloader).
        const onHangup = () => void risk.reload();
        process.on('SIGHUP', onHangup);
        cleanups.push(async () => process.off('SIGHUP', onHangup));
      }
    }
    const tender = createTender({
      gateways: setup.gateways,
      store,
      logger: log,
      routing: config.GATEWAY_ROUTING ?? setup.routing,
      reconciliation: { processingAfterMs: config.RECONCILE_PROCESSING_AFTER, requiresActionTtlMs: config.RECONCILE_REQUIRES_ACTION_TTL },
      eventPayload: serverEventPayload,
      ...(risk ? { risk: risk.engine } : {}),
    });
    metrics.observeTender(tender);
    for (const transport of setup.transports) metrics.observeTransport(transport);
    // A PENDING/PROCESSING payment is stuck once the reconciler has had two runs past its threshold.
    metrics.observeStore(store, { stuckAfterMs: config.RECONCILE_PROCESSING_AFTER + 2 * config.RECONCILE_INTERVAL });

    // Live payment status streams (SSE, WebSocket); closed before the server so close() never waits on them.
    const live = createLiveStatus(tender, {
      metrics,
      logger: log,
      maxConnectionsPerMerchant: config.LIVE_MAX_CONNECTIONS_PER_MERCHANT,
      pollIntervalMs: config.LIVE_POLL_INTERVAL,
      heartbeatIntervalMs: config.LIVE_HEARTBEAT_INTERVAL,
      maxDurationMs: config.LIVE_MAX_DURATION,
      maxBufferBytes: config.LIVE_MAX_BUFFER_BYTES,
    });
    cleanups.push(() => live.close());

    let auth: TokenAuthOptions;
    let devToken: string | null = null;
    const claims = { ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}), ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}) };
    const lifetime = { maxLifetimeSeconds: config.JWT_MAX_LIFETIME_SECONDS };
    if (config.JWT_SECRET) auth = { secret: config.JWT_SECRET, ...claims, ...lifetime };
    else if (config.JWT_JWKS_URL) auth = { jwksUrl: config.JWT_JWKS_URL, ...claims, ...lifetime };
    else if (simulation) {
      const secret = randomBytes(32).toString('base64url');
      auth = { secret, ...claims, ...lifetime };
      // The secret is new on every start, so the token only ever lives as long as this process anyway.
      // The demo merchant's admin too (its own reports, the dashboard), but not a platform admin.
      devToken = await signToken({ secret, merchantId: DEMO_MERCHANT, scopes: [...SCOPES, 'admin:read', 'admin:write'], expiresIn: config.JWT_MAX_LIFETIME_SECONDS, ...claims });
    } else {
      throw new Error('JWT_SECRET or JWT_JWKS_URL is required outside simulation mode');
    }

    // Set once close() is called (/ready then answers 503 shutting_down).
    let closing: Promise<void> | null = null;
    let rateLimitStore: ((prefix: string) => RateLimitStore) | undefined;
    let redisPing: (() => Promise<void>) | undefined;
    if (config.REDIS_URL) {
      const shared = createSharedRateLimit(config.REDIS_URL, log);
      cleanups.push(() => shared.close());
      rateLimitStore = shared.store;
      redisPing = () => shared.ping();
      // Requests served before the connection is up would go uncounted; a Redis that is down or
      // silent is waited for only briefly (the limits then fail open until it answers).
      if (!(await shared.ready())) log.warn({}, 'redis is not reachable yet: rate limits are not enforced until it answers');
    }

    // Simulation mode runs on one machine, receivers included; anywhere else merchants' URLs must be public.
    const allowPrivateNetworks = config.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? simulation;
    const window = config.RATE_LIMIT_WINDOW;
    const metricsEndpoint = config.METRICS_TOKEN ? { token: config.METRICS_TOKEN } : {};
    const readiness = createReadiness({
      database: storeReadiness(tender),
      ...(redisPing ? { redis: redisPing } : {}),
      ...(config.EVENT_BROKER_URL ? { eventBroker: () => store.relayBacklog() } : {}),
      gateways: () => setup.transports.map((t) => ({ gateway: t.gateway, circuit: t.circuitState })),
      stopping: () => closing !== null,
    });
    const app = createApp(tender, {
      readiness,
      auth,
      logger,
      metrics,
      metricsEndpoint: config.METRICS_PORT !== undefined ? false : metricsEndpoint,
      bodyLimit: config.BODY_LIMIT,
      allowedOrigins: config.ALLOWED_ORIGINS,
      ...(config.TRUST_PROXY !== undefined ? { trustProxy: /^\d+$/.test(config.TRUST_PROXY) ? Number(config.TRUST_PROXY) : config.TRUST_PROXY === 'true' ? true : config.TRUST_PROXY } : {}),
      rateLimit: {
        perIp: { limit: config.RATE_LIMIT_PER_IP, windowMs: window },
        perMerchant: { limit: config.RATE_LIMIT_PER_MERCHANT, windowMs: window },
        ...(rateLimitStore ? { store: rateLimitStore } : {}),
      },
      openapi: { servers: [{ url: publicUrl }] },
      live,
      webhookEndpoints: { allowPrivateNetworks },
      ...(config.UPI_MERCHANT_VPA && config.UPI_MERCHANT_NAME ? { upiStaticLinks: { payeeVpa: config.UPI_MERCHANT_VPA, payeeName: config.UPI_MERCHANT_NAME } } : {}),
      // The dashboard (/dashboard): in simulation mode it is handed the dev token, as /demo acts for the demo merchant.
      dashboard: { devToken },
      ...(setup.simulation ? { before: [createDemoRouter(tender, { publicUrl, upiAppUrl: demoUpiApp(setup.simulation), live })] } : {}),
    });
    // METRICS_PORT: /metrics on a listener of its own (the API port then serves none), so the
    // business volumes it carries need not be reachable where the API is.
    let metricsUrl: string | null = null;
    if (config.METRICS_PORT !== undefined) {
      const metricsApp = express();
      metricsApp.disable('x-powered-by');
      metricsApp.get('/metrics', metricsHandler(metrics, metricsEndpoint));
      metricsApp.use((_req, res) => {
        sendError(res, new TenderError({ type: 'not_found_error', code: 'route_not_found', message: 'This listener serves GET /metrics only' }));
      });
      const metricsServer = createServer(metricsApp);
      metricsServer.listen(config.METRICS_PORT, config.METRICS_HOST);
      await Promise.race([once(metricsServer, 'listening'), once(metricsServer, 'error').then(([e]) => Promise.reject(e))]);
      cleanups.push(
        () =>
          new Promise((resolve) => {
            metricsServer.close(resolve);
            metricsServer.closeAllConnections();
          }),
      );
      metricsUrl = `http://${hostForUrl(config.METRICS_HOST)}:${(metricsServer.address() as AddressInfo).port}/metrics`;
    } else if (!config.METRICS_TOKEN && !simulation) {
      log.warn({}, '/metrics is served without auth on the API port: set METRICS_TOKEN (bearer) or METRICS_PORT (a separate listener)');
    }
    if (healthServer) {
      const healthApp = express();
      healthApp.disable('x-powered-by');
      healthApp.get('/health', (_req, res) => {
        res.json({ status: 'ok', uptime_seconds: Math.round(process.uptime()) });
      });
      healthApp.get('/ready', readinessHandler(readiness, log));
      healthApp.use((_req, res) => {
        sendError(res, new TenderError({ type: 'not_found_error', code: 'route_not_found', message: 'This listener serves GET /health and GET /ready only' }));
      });
      healthServer.off('request', whileStarting);
      healthServer.on('request', healthApp);
    }
    server.off('request', whileStarting);
    server.on('request', app);
    // WebSocket handshakes run through the app too (auth, scopes, error JSON), see live/websocket.ts.
    server.on('upgrade', createUpgradeHandler(app));

    // GRPC_PORT: the gRPC API on a listener of its own, over the same engine, tokens and limits.
    let grpc: TenderGrpcServer | null = null;
    if (config.GRPC_PORT !== undefined) {
      const started = await startGrpcServer(tender, {
        host: config.HOST,
        port: config.GRPC_PORT,
        auth,
        metrics,
        logger: log,
        maxReceiveMessageBytes: config.BODY_LIMIT,
        ready: storeReadiness(tender),
        rateLimit: {
          perIp: { limit: config.RATE_LIMIT_PER_IP, windowMs: window },
          perMerchant: { limit: config.RATE_LIMIT_PER_MERCHANT, windowMs: window },
          ...(rateLimitStore ? { store: rateLimitStore } : {}),
        },
      });
      cleanups.push(() => started.close(0));
      grpc = started;
    }

    // The order.confirmed consumer (ORDER_EVENTS_MERCHANT_ID); closed with the cleanups, before the store.
    const orderConsumer = await startOrderConsumer(config, tender, { logger: log, metrics });
    if (orderConsumer) cleanups.push(() => orderConsumer.close());

    // EVENT_BROKER_URL: the outbox relay publishes every event there; the publisher closes with the
    // cleanups, after the workers (and so the relay) have stopped.
    const publisher = config.EVENT_BROKER_URL ? await createPublisherFromUrl(config.EVENT_BROKER_URL, config.EVENT_TOPIC, { logger: log }) : null;
    if (publisher) cleanups.push(() => publisher.close());

    const workers = startWorkers({
      tender,
      logger: log,
      metrics,
      outbox: { intervalMs: config.OUTBOX_INTERVAL, baseDelayMs: config.OUTBOX_BASE_DELAY, maxAttempts: config.OUTBOX_MAX_ATTEMPTS },
      reconcileIntervalMs: config.RECONCILE_INTERVAL,
      ...(config.DATA_RETENTION_DAYS !== undefined ? { retentionDays: config.DATA_RETENTION_DAYS } : {}),
      webhooks: { allowPrivateNetworks },
      ...(publisher ? { relay: { publisher, format: config.EVENT_FORMAT } } : {}),
    });

    if (setup.simulation) {
      log.warn(
        { fiuu_sandbox: setup.simulation.fiuu.url, stripe_sandbox: setup.simulation.stripe.url, paypal_sandbox: setup.simulation.paypal.url, upi_sandbox: setup.simulation.upi.url, demo: `${publicUrl}/demo` },
        '*** SIMULATION MODE: no gateway credentials are set. Payments go to local Fiuu, Stripe, PayPal and Razorpay (UPI) sandboxes; no real money moves. ***',
      );
    }
    log.info({ url, ...(metricsUrl ? { metrics_url: metricsUrl } : {}), ...(healthUrl ? { health_url: healthUrl } : {}), ...(grpc ? { grpc_address: grpc.address } : {}), public_url: publicUrl, storage: options.store ? 'provided' : config.DATABASE_URL ? 'postgres' : `pglite:${config.TENDER_DATA_DIR}`, gateways: setup.gateways.map((g) => g.id) }, 'tender-server listening');

    return {
      url,
      metricsUrl,
      healthUrl,
      grpcAddress: grpc?.address ?? null,
      grpcPort: grpc?.port ?? null,
      publicUrl,
      config,
      tender,
      workers,
      orderConsumer,
      server,
      simulation: setup.simulation,
      devToken,
      risk,
      close() {
        closing ??= (async () => {
          // Stop accepting; idle keep-alive sockets go now, busy ones once their response is sent.
          // Node keeps a socket open after its response (for keepAliveTimeout, 65 s) even once the
          // server is closing, which held shutdown up to SHUTDOWN_TIMEOUT: so requests from now on are
          // answered with `Connection: close`, and sockets that fall idle are swept.
          server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          // gRPC drains beside HTTP (health NOT_SERVING first); both end before the engine's store.
          const grpcClosed = grpc?.close(config.SHUTDOWN_TIMEOUT);
          // Live streams never fall idle: they are ended (an `end` event, WebSocket close 1001), and
          // their sockets are then swept like any other.
          const liveClosed = live.close();
          server.closeIdleConnections();
          const sweep = setInterval(() => server.closeIdleConnections(), 50);
          const timer = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_TIMEOUT);
          timer.unref();
          await closed;
          await liveClosed;
          clearInterval(sweep);
          clearTimeout(timer);
          await grpcClosed;
          await workers.stop();
          cleanups.shift(); // the server is closed already
          await cleanup();
          log.info({}, 'tender-server stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

const STARTING = new TenderError({
  type: 'storage_error',
  code: 'starting',
  message: 'The server is starting (opening storage, applying migrations); retry shortly',
  retryable: true,
});

/**
 * Answers for the app until it is mounted. The server listens before the store is open (the
 * sandboxes of simulation mode need its URL), and a request arriving then used to get no answer at
 * all: a readiness probe hung. Now the process reports itself alive, not ready, and asks every other
 * caller to retry.
 */
function whileStarting(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  const send = (status: number, body: object) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...(status === 503 ? { 'retry-after': '1' } : {}) });
    res.end(JSON.stringify(body));
  };
  // The body is not needed; reading it lets the socket be reused.
  req.resume();
  if (path === '/health') send(200, { status: 'ok', uptime_seconds: Math.round(process.uptime()), starting: true });
  else if (path === '/ready') send(503, { status: 'not_ready', ...STARTING.toJSON() });
  else send(503, STARTING.toJSON());
}
