/**
 * The reference server's risk checks: the risk engine built from the environment
 * (`FRAUD_RULES_CONFIG_PATH`, `FRAUD_ML_*`, `MAX_FRAUD_SCORE`, `BLOCK_THRESHOLD`), its velocity store
 * (Redis with `REDIS_URL`, so several instances share windows; else the Postgres store's own table;
 * else memory), its metrics, its SIGHUP reload, and what the REST API shows of a decision.
 *
 * A rules file that is missing or invalid stops the server at start (a `ConfigError` naming the
 * variable and the bad field); on reload it is logged and the rules in force are kept.
 *
 * @module
 */
import {
  MAX_VELOCITY_WINDOW_MS,
  MemoryVelocityStore,
  TenderError,
  createHttpRiskScorer,
  createRiskEngine,
  loadRiskConfigFile,
  riskConfigFrom,
  riskOf,
  type Logger,
  type Payment,
  type RiskAction,
  type RiskConfig,
  type RiskConfigDefaults,
  type RiskEngine,
  type RiskSignals,
  type Store,
  type VelocityStore,
} from '@tender/core';
import type { Request } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';
import { ConfigError, type ServerConfig } from './config';
import { isEncryptingStore } from './encryption';
import { boundedLabel } from './metrics';
import { createRedisVelocityStore } from './risk-velocity-redis';

/** The part of the configuration the risk checks read. */
export type RiskServerConfig = Pick<
  ServerConfig,
  'FRAUD_RULES_CONFIG_PATH' | 'FRAUD_ML_API_URL' | 'FRAUD_ML_TIMEOUT_MS' | 'FRAUD_ML_FAIL_MODE' | 'MAX_FRAUD_SCORE' | 'BLOCK_THRESHOLD' | 'REDIS_URL'
>;

/** The risk checks of a running server. */
export interface ServerRisk {
  /** The engine given to `createTender({ risk })`. */
  readonly engine: RiskEngine;
  /** Where attempts are counted: `redis`, `postgres` or `memory`. */
  readonly velocityKind: 'redis' | 'postgres' | 'memory';
  /**
   * Reads the rules file again (SIGHUP). A valid file replaces the rules; an invalid one is logged
   * and the rules in force are kept. Resolves with whether the rules were replaced.
   */
  reload(): Promise<boolean>;
  /** Stops the pruning timer and closes the scorer's and the velocity store's connections. */
  close(): Promise<void>;
}

/** How a payment's risk level is named, per action (the `risk_level` label and the payment's `risk.level`). */
export const RISK_LEVELS: Record<RiskAction, string> = { allow: 'low', step_up: 'elevated', review: 'high', block: 'blocked' };

/** How often attempts older than the longest window are dropped from a Postgres or memory store. */
const PRUNE_EVERY_MS = 3_600_000;

function defaultsOf(config: RiskServerConfig): RiskConfigDefaults {
  return { maxScore: config.MAX_FRAUD_SCORE, blockThreshold: config.BLOCK_THRESHOLD };
}

/** Reads the rules file (or the defaults without one). @throws TenderError `invalid_risk_config`. */
function readRules(config: RiskServerConfig): Promise<RiskConfig> {
  return config.FRAUD_RULES_CONFIG_PATH ? loadRiskConfigFile(config.FRAUD_RULES_CONFIG_PATH, defaultsOf(config)) : Promise.resolve(riskConfigFrom({}, defaultsOf(config)));
}

/** The velocity store for this server: Redis, the Postgres store's table, or memory. */
function velocityFor(config: RiskServerConfig, store: Store): { velocity: VelocityStore; kind: ServerRisk['velocityKind'] } {
  if (config.REDIS_URL) return { velocity: createRedisVelocityStore(config.REDIS_URL), kind: 'redis' };
  const raw = isEncryptingStore(store) ? store.inner : store;
  const postgres = raw as Store & { velocityStore?: () => VelocityStore };
  if (typeof postgres.velocityStore === 'function') return { velocity: postgres.velocityStore(), kind: 'postgres' };
  return { velocity: new MemoryVelocityStore(), kind: 'memory' };
}

/** Binds the engine's metrics hooks to prom-client metrics in `registry`. */
function riskMetrics(registry: Registry, maxScore: number) {
  const step = Math.max(1, Math.round(maxScore / 10));
  const scores = new Histogram({
    name: 'fraud_score_distribution',
    help: 'Risk scores of evaluated payment attempts, by payment method and risk level (low, elevated, high, blocked)',
    labelNames: ['payment_method', 'risk_level'] as const,
    buckets: Array.from({ length: 10 }, (_, i) => (i + 1) * step),
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'fraud_scorer_duration_seconds',
    help: 'Time the external fraud scorer (FRAUD_ML_API_URL) took per call, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const methods = boundedLabel(40);
  // As tender_payments_total does: Stripe PaymentMethod ids (one per card) would each be a series.
  const method = (value: string | null) => (value === null || value === '' ? 'none' : /^(pm|tok|src|card)_/.test(value) ? 'payment_method_id' : methods(value));
  const calls = new Counter({
    name: 'fraud_scorer_requests_total',
    help: 'Calls of the external fraud scorer by outcome (ok, timeout, error, circuit_open, invalid_response)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  return {
    decision(event: { action: RiskAction; score: number; paymentMethod: string | null }) {
      scores.observe({ payment_method: method(event.paymentMethod), risk_level: RISK_LEVELS[event.action] }, event.score);
    },
    scorer(event: { outcome: string; latencyMs: number }) {
      calls.inc({ outcome: event.outcome });
      if (event.outcome !== 'circuit_open') latency.observe({ outcome: event.outcome }, event.latencyMs / 1000);
    },
  };
}

/**
 * Reads and checks the rules of the environment, before anything else starts; null when no risk
 * checks are configured (neither `FRAUD_RULES_CONFIG_PATH` nor `FRAUD_ML_API_URL`).
 * @throws ConfigError naming `FRAUD_RULES_CONFIG_PATH` and the bad field when the rules file is missing or invalid.
 */
export async function readServerRiskRules(config: RiskServerConfig): Promise<RiskConfig | null> {
  if (!config.FRAUD_RULES_CONFIG_PATH && !config.FRAUD_ML_API_URL) return null;
  try {
    return await readRules(config);
  } catch (error) {
    if (TenderError.isInstance(error)) throw new ConfigError([`FRAUD_RULES_CONFIG_PATH: ${error.message}`]);
    throw error;
  }
}

/**
 * Builds the risk checks from the environment (with `rules` already read by
 * {@link readServerRiskRules}, else read here), or answers null when none is configured.
 * @throws ConfigError naming `FRAUD_RULES_CONFIG_PATH` and the bad field when the rules file is missing or invalid.
 */
export async function createServerRisk(config: RiskServerConfig, deps: { store: Store; logger: Logger; registry?: Registry; rules?: RiskConfig | null }): Promise<ServerRisk | null> {
  const rules = deps.rules ?? (await readServerRiskRules(config));
  if (rules === null) return null;
  const { velocity, kind } = velocityFor(config, deps.store);
  const scorer = config.FRAUD_ML_API_URL
    ? createHttpRiskScorer({
        url: config.FRAUD_ML_API_URL,
        timeoutMs: config.FRAUD_ML_TIMEOUT_MS,
        onFailure: config.FRAUD_ML_FAIL_MODE === 'open' ? 'open' : config.FRAUD_ML_FAIL_MODE === 'block' ? 'block' : 'review',
        maxScore: rules.max_score,
        logger: deps.logger,
      })
    : undefined;
  const engine = createRiskEngine({
    config: rules,
    velocity,
    ...(scorer ? { scorer } : {}),
    store: deps.store,
    logger: deps.logger,
    ...(deps.registry ? { metrics: riskMetrics(deps.registry, rules.max_score) } : {}),
  });
  deps.logger.info({ rules: rules.rules.length, velocity: kind, scorer: scorer ? 'http' : 'none', block_threshold: rules.block_threshold, max_score: rules.max_score }, 'risk checks on');
  const prune =
    kind === 'redis' || !velocity.prune
      ? null
      : setInterval(() => {
          velocity.prune!(new Date(Date.now() - MAX_VELOCITY_WINDOW_MS)).catch((error: unknown) => deps.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'risk velocity prune failed'));
        }, PRUNE_EVERY_MS);
  prune?.unref();
  return {
    engine,
    velocityKind: kind,
    async reload() {
      try {
        const next = await readRules(config);
        engine.reload(next);
        deps.logger.info({ rules: next.rules.length, block_threshold: next.block_threshold, max_score: next.max_score }, 'risk rules reloaded');
        return true;
      } catch (error) {
        deps.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'risk rules reload failed: the rules in force are kept');
        return false;
      }
    },
    async close() {
      if (prune) clearInterval(prune);
      await scorer?.close?.();
      await velocity.close?.();
    },
  };
}

/** `::ffff:203.0.113.7` (an IPv4 client on a dual-stack socket) as `203.0.113.7`. */
function plainIp(ip: string | undefined): string | undefined {
  if (ip === undefined || ip === '') return undefined;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/**
 * The risk signals of a create request: the client's IP (`req.ip`: the connection's address, or
 * `X-Forwarded-For` only behind the proxies `TRUST_PROXY` names, as Express decides:
 * https://expressjs.com/en/guide/behind-proxies.html) and the device fingerprint of the body
 * (`device_fingerprint`) or the `X-Device-Fingerprint` header. The engine checks their shape (400
 * `invalid_risk_signal`) and hashes them before a velocity store sees them.
 */
export function riskSignalsOf(req: Request, body: { device_fingerprint?: string | null }): RiskSignals {
  const header = req.headers['x-device-fingerprint'];
  const fingerprint = body.device_fingerprint ?? (typeof header === 'string' ? header : undefined);
  const ip = plainIp(req.ip);
  return { ...(ip !== undefined ? { ip } : {}), ...(fingerprint !== undefined && fingerprint !== null ? { deviceFingerprint: fingerprint } : {}) };
}

/**
 * What the API shows of a payment's risk decision: score, level, action and the rules that fired
 * (their ids, types, scores and reasons: amounts and counts, never personal data). Null when the
 * payment was not evaluated.
 */
export function riskJson(payment: Payment): Record<string, unknown> | null {
  const risk = riskOf(payment);
  if (!risk) return null;
  return {
    score: risk.score,
    level: RISK_LEVELS[risk.action],
    action: risk.action,
    rules: risk.rules.map((r) => ({ id: r.id, type: r.type, score: r.score, reason: r.reason })),
    evaluated_at: risk.evaluatedAt,
  };
}

/**
 * The 402 of a create the risk checks blocked: the payment is stored `FAILED` (`risk_blocked`) and
 * nothing was sent to a gateway. The body names the payment, never the rules or scores that decided.
 */
export function riskBlockedError(): TenderError {
  return new TenderError({ type: 'invalid_request_error', code: 'risk_blocked', message: 'The payment was declined by risk checks', status: 402 });
}

/** True for a payment the risk checks blocked at create. */
export function isRiskBlocked(payment: Payment): boolean {
  return payment.status === 'FAILED' && payment.failure?.code === 'risk_blocked';
}
