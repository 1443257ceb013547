/**
 * `createRiskEngine`: one decision per payment attempt. The attempt is recorded in the velocity store
 * (every evaluated attempt, blocked ones too) while its counts are read, the rules run on the facts
 * gathered, the external scorer (if any) is asked with the rule score as one of its features, and
 * the total, capped at `max_score`, falls in a band: block, review, step-up or allow. A scorer that
 * fails closed raises the action to its `failAction` at least.
 *
 * @module
 */
import { systemClock, type Clock } from '../clock';
import { sha256Hex } from '../crypto';
import { silentLogger, type Logger } from '../logger';
import type { Store } from '../spec/store/v1/index';
import type { RiskConfig, VelocityKeyKind } from './config';
import { actionFor, evaluateRules, firstTimeKeysNeeded, velocityQueries, velocitySlot } from './rules';
import { RISK_ACTIONS, type RiskAction, type RiskAssessment, type RiskEngine, type RiskFeatures, type RiskHistory, type RiskInput, type RiskMetrics, type RiskScorer, type RiskScorerResult } from './types';
import type { VelocityCount, VelocityStore } from './velocity';

/** Options of {@link createRiskEngine}. */
export interface RiskEngineOptions {
  /** The rules (`loadRiskConfigFile` / `parseRiskConfig`); replace them later with `reload`. */
  config: RiskConfig;
  /** Where attempts are counted. */
  velocity: VelocityStore;
  /** An external scorer (`createHttpRiskScorer`), if any. */
  scorer?: RiskScorer;
  /** Whether payers paid before; default {@link storeRiskHistory} of `store` when given, else unknown. */
  history?: RiskHistory;
  /** The payments store, for the default history. `createTender` passes its own. */
  store?: Store;
  metrics?: RiskMetrics;
  logger?: Logger;
  clock?: Clock;
}

/** Statuses of a payment whose money was taken (refunds later do not make the payer new). */
const PAID = ['CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED'] as const;

/** A {@link RiskHistory} from the store: users only (emails are not searchable in a store). */
export function storeRiskHistory(store: Store): RiskHistory {
  return {
    async hasPaid({ merchantId, userId }) {
      if (userId === undefined) return null;
      for (const status of PAID) {
        const page = await store.listPayments({ merchantId, userId, status, limit: 1 });
        if (page.length > 0) return true;
      }
      return false;
    },
  };
}

/** The opaque velocity key of a value: a SHA-256 of the merchant, the kind and the value. */
export function velocityKey(merchantId: string, kind: VelocityKeyKind, value: string): string {
  const normalised = kind === 'email' ? value.trim().toLowerCase() : value.trim();
  return sha256Hex([merchantId, '\u0000', kind, '\u0000', normalised]);
}

function valueOf(input: RiskInput, kind: VelocityKeyKind): string | null {
  return kind === 'user' ? input.userId : kind === 'email' ? input.email : kind === 'ip' ? input.ip : kind === 'device' ? input.deviceFingerprint : input.cardFingerprint;
}

/** Creates a risk engine for `createTender({ risk })`. */
export function createRiskEngine(options: RiskEngineOptions): RiskEngine {
  let config = options.config;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const history = options.history ?? (options.store ? storeRiskHistory(options.store) : null);
  const metrics = options.metrics ?? {};

  async function evaluate(input: RiskInput): Promise<RiskAssessment> {
    const rules = config;
    const now = clock.now();
    const keys: Partial<Record<VelocityKeyKind, string>> = {};
    for (const kind of ['user', 'email', 'card_fingerprint', 'ip', 'device'] as const) {
      const value = valueOf(input, kind);
      if (value !== null && value.trim() !== '') keys[kind] = velocityKey(input.merchantId, kind, value);
    }
    const queries = velocityQueries(rules);
    const counts = await options.velocity.recordAndCount({ id: input.attemptId ?? input.paymentId, keys, amountMinor: input.amount.toMinor(), currency: input.amount.currency, at: now }, queries);
    const velocity = new Map<string, VelocityCount>(queries.map((q, i) => [velocitySlot(q.key, q.windowMs), counts[i]!]));
    const paidBefore = new Map<'user' | 'email', boolean | null>();
    if (history) {
      for (const key of firstTimeKeysNeeded(rules, input)) {
        paidBefore.set(key, await history.hasPaid(key === 'user' ? { merchantId: input.merchantId, userId: input.userId! } : { merchantId: input.merchantId, email: input.email! }));
      }
    }
    const hits = evaluateRules(rules, input, { velocity, paidBefore });
    const ruleScore = hits.reduce((sum, hit) => sum + hit.score, 0);
    let ml: RiskScorerResult | null = null;
    if (options.scorer) {
      ml = await options.scorer.score(featuresOf(input, now, ruleScore, hits.map((h) => h.id)));
      try {
        metrics.scorer?.({ outcome: ml.outcome, latencyMs: ml.latencyMs });
      } catch {
        // A metrics hook never decides a payment.
      }
    }
    const mlScore = ml?.score !== null && ml?.score !== undefined ? Math.max(0, ml.score) * rules.ml_weight : 0;
    const score = Math.min(rules.max_score, Math.round(ruleScore + mlScore));
    let action = actionFor(rules, score);
    if (ml?.failAction && RISK_ACTIONS.indexOf(ml.failAction) > RISK_ACTIONS.indexOf(action)) action = ml.failAction;
    const assessment: RiskAssessment = {
      action,
      score,
      ruleScore,
      rules: hits,
      ml,
      thresholds: { max: rules.max_score, block: rules.block_threshold, review: rules.review_threshold, stepUp: rules.step_up_threshold },
      evaluatedAt: now.toISOString(),
    };
    try {
      metrics.decision?.({ action, score, paymentMethod: input.paymentMethod, gateway: input.gateway, merchantId: input.merchantId });
    } catch {
      // As above.
    }
    if (action !== 'allow') {
      // Ids and scores only: the reasons may carry amounts, never personal data, but stay off the log line.
      logger.info({ paymentId: input.paymentId, action, score, rules: hits.map((h) => h.id), ml: ml?.outcome ?? null }, 'risk decision');
    }
    return assessment;
  }

  return {
    evaluate,
    get config() {
      return config;
    },
    reload(next) {
      config = next;
    },
  };
}

/** The features an external scorer is sent. */
export function featuresOf(input: RiskInput, at: Date, ruleScore: number, rules: string[]): RiskFeatures {
  return {
    merchant_id: input.merchantId,
    payment_id: input.paymentId,
    amount_minor: input.amount.toMinor(),
    currency: input.amount.currency,
    payment_method: input.paymentMethod,
    gateway: input.gateway,
    user_id: input.userId,
    email_hash: input.email === null ? null : sha256Hex(input.email.trim().toLowerCase()),
    ip: input.ip,
    device_fingerprint: input.deviceFingerprint,
    card_fingerprint: input.cardFingerprint,
    country: input.country,
    hour_of_day: at.getUTCHours(),
    rule_score: ruleScore,
    rules,
  };
}

/** The risk decision stored on a payment (`gatewayData.risk`), null when none was made. */
export function riskOf(payment: { gatewayData: Record<string, unknown> }): RiskAssessment | null {
  const value = payment.gatewayData[RISK_DATA_KEY] as RiskAssessment | undefined;
  return value && typeof value === 'object' && typeof value.action === 'string' ? value : null;
}

/** The `gatewayData` key of a payment's {@link RiskAssessment}. */
export const RISK_DATA_KEY = 'risk';

export type { RiskAction };
