/**
 * `GET /ready`: each dependency checked and reported as JSON (a status
 * per check, `degraded` overall when one is not healthy). Only what makes serving impossible — the
 * database — turns the answer into a 503; a gateway whose circuit is open, Redis away (rate limits
 * then fail open) or a broker that lags are reported, and the instance stays in its Service.
 *
 * @module
 */
import { TenderError, type CircuitState, type Logger, type Tender } from '@tender/core';
import type { RequestHandler } from 'express';

/** The state of one dependency: `healthy`, `degraded` (working, impaired) or `unhealthy` (not working). */
export type CheckStatus = 'healthy' | 'degraded' | 'unhealthy';

/** One dependency's report; `error` is a short code, never a message that could carry a host or secret. */
export interface CheckResult {
  status: CheckStatus;
  latency_ms?: number;
  error?: string;
  [detail: string]: unknown;
}

/** The body of `GET /ready`. */
export interface ReadinessReport {
  /** `ready` (200), `degraded` (200: something non-essential is impaired), `not_ready` (503). */
  status: 'ready' | 'degraded' | 'not_ready';
  /** Set when the server is shutting down (then `not_ready` whatever the checks say). */
  shutting_down?: true;
  timestamp: string;
  checks: {
    database: CheckResult;
    redis?: CheckResult;
    event_broker?: CheckResult;
    gateways: Record<string, CheckResult & { circuit: CircuitState }>;
  };
}

/** What {@link createReadiness} checks. */
export interface ReadinessOptions {
  /** Throws when the database cannot serve (unreachable, unmigrated): the one check that makes a 503. */
  database: () => Promise<void>;
  /** Pings Redis (REDIS_URL); throws when it does not answer. */
  redis?: () => Promise<void>;
  /** The broker relay's backlog (EVENT_BROKER_URL): degraded once its oldest event waits longer than `eventBrokerLagSeconds`. */
  eventBroker?: () => Promise<{ pending: number; oldestCreatedAt: string | null }>;
  /** Oldest unpublished event age, in seconds, beyond which the broker check is degraded (default 60). */
  eventBrokerLagSeconds?: number;
  /** Each gateway's circuit state (from its transport). */
  gateways?: () => ReadonlyArray<{ gateway: string; circuit: CircuitState }>;
  /** Longest one check may take before it counts as failed (default 2000 ms; Kubernetes' probe timeout should be longer). */
  timeoutMs?: number;
  /** True once the server is shutting down: not ready, so a load balancer stops sending requests. */
  stopping?: () => boolean;
}

class CheckTimeout extends Error {}

async function timed(check: () => Promise<unknown>, timeoutMs: number): Promise<{ latency_ms: number; value?: unknown; error?: unknown }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      check(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new CheckTimeout()), timeoutMs);
        timer.unref();
      }),
    ]);
    return { latency_ms: Math.round((performance.now() - started) * 10) / 10, value };
  } catch (error) {
    return { latency_ms: Math.round((performance.now() - started) * 10) / 10, error };
  } finally {
    clearTimeout(timer);
  }
}

/** A short, safe code for a failed check: a TenderError's code, `timeout`, or `unreachable`. */
function errorCode(error: unknown): string {
  if (error instanceof CheckTimeout) return 'timeout';
  if (TenderError.isInstance(error)) return error.code;
  return 'unreachable';
}

const CIRCUIT_STATUS: Record<CircuitState, CheckStatus> = { closed: 'healthy', half_open: 'degraded', open: 'unhealthy' };

/** Builds the readiness check `GET /ready` (and the HEALTH_CHECK_PORT listener) answers with. */
export function createReadiness(options: ReadinessOptions): () => Promise<ReadinessReport> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const lagSeconds = options.eventBrokerLagSeconds ?? 60;
  return async () => {
    const [database, redis, broker] = await Promise.all([
      timed(options.database, timeoutMs),
      options.redis ? timed(options.redis, timeoutMs) : null,
      options.eventBroker ? timed(options.eventBroker, timeoutMs) : null,
    ]);
    const checks: ReadinessReport['checks'] = {
      database: database.error === undefined ? { status: 'healthy', latency_ms: database.latency_ms } : { status: 'unhealthy', latency_ms: database.latency_ms, error: errorCode(database.error) },
      gateways: {},
    };
    if (redis) {
      checks.redis = redis.error === undefined ? { status: 'healthy', latency_ms: redis.latency_ms } : { status: 'unhealthy', latency_ms: redis.latency_ms, error: errorCode(redis.error), rate_limits: 'fail_open' };
    }
    if (broker) {
      if (broker.error !== undefined) {
        checks.event_broker = { status: 'unhealthy', latency_ms: broker.latency_ms, error: errorCode(broker.error) };
      } else {
        const backlog = broker.value as { pending: number; oldestCreatedAt: string | null };
        const age = backlog.oldestCreatedAt ? Math.max(0, Math.round((Date.now() - Date.parse(backlog.oldestCreatedAt)) / 1000)) : 0;
        checks.event_broker = { status: age > lagSeconds ? 'degraded' : 'healthy', pending: backlog.pending, oldest_pending_age_seconds: age };
      }
    }
    for (const { gateway, circuit } of options.gateways?.() ?? []) checks.gateways[gateway] = { status: CIRCUIT_STATUS[circuit], circuit };
    const others = [checks.redis, checks.event_broker, ...Object.values(checks.gateways)];
    if (options.stopping?.()) return { status: 'not_ready', shutting_down: true, timestamp: new Date().toISOString(), checks };
    const status = checks.database.status !== 'healthy' ? 'not_ready' : others.some((c) => c && c.status !== 'healthy') ? 'degraded' : 'ready';
    return { status, timestamp: new Date().toISOString(), checks };
  };
}

/** The gateways of an engine, their circuits as far as `canSend` tells (open, or closed). */
export function engineGateways(tender: Tender): () => Array<{ gateway: string; circuit: CircuitState }> {
  return () => [...tender.gateways.values()].map((g) => ({ gateway: g.id, circuit: g.canSend && !g.canSend() ? ('open' as const) : ('closed' as const) }));
}

/** Serves a readiness check: 200 with the report, or 503 (with `error`, as before the report existed). */
export function readinessHandler(check: () => Promise<ReadinessReport>, logger: Logger): RequestHandler {
  return async (_req, res) => {
    let report: ReadinessReport;
    try {
      report = await check();
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'readiness check failed');
      report = { status: 'not_ready', timestamp: new Date().toISOString(), checks: { database: { status: 'unhealthy', error: 'check_failed' }, gateways: {} } };
    }
    res.setHeader('Cache-Control', 'no-store');
    if (report.status !== 'not_ready') {
      res.json(report);
      return;
    }
    res.setHeader('Retry-After', '1');
    if (report.shutting_down) {
      res.status(503).json({ ...report, error: { type: 'api_error', code: 'shutting_down', message: 'The server is shutting down' } });
      return;
    }
    logger.warn({ database: report.checks.database.error }, 'not ready: the database cannot serve');
    res.status(503).json({ ...report, error: { type: 'storage_error', code: 'not_ready', message: 'The database is not reachable or not migrated' } });
  };
}
