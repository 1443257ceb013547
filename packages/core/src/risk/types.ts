/**
 * The risk engine's public shapes: what it is asked about a payment ({@link RiskInput}), what it
 * decides ({@link RiskAssessment}, stored on the payment under `gatewayData.risk`), and the parts it
 * is built from (a velocity store, an optional external scorer, a payment history, a metrics hook).
 *
 * @module
 */
import type { Money } from '../money';
import type { RiskConfig, RiskRuleType } from './config';

/**
 * What the engine does with a payment: `allow` it; `step_up` asks the gateway for 3-D Secure where
 * it can; `review` holds it `REQUIRES_REVIEW` until an admin approves or declines it; `block` fails
 * it (`risk_blocked`) without any gateway call.
 */
export type RiskAction = 'allow' | 'step_up' | 'review' | 'block';

/** The actions in increasing severity. */
export const RISK_ACTIONS: readonly RiskAction[] = ['allow', 'step_up', 'review', 'block'];

/**
 * Signals about the payer a caller may pass with a create (`risk` on the create input). The
 * reference server fills `ip` (from the connection, or `X-Forwarded-For` behind a trusted proxy) and
 * `deviceFingerprint` (from the browser bundle). Personal data: hashed before any velocity store sees
 * it, and never logged or stored on the payment.
 */
export interface RiskSignals {
  /** The client's IP address. */
  ip?: string;
  /** A device fingerprint (the browser bundle's, or the merchant app's). */
  deviceFingerprint?: string;
  /** A stable fingerprint of the card (Stripe's `card.fingerprint`), when the merchant has one. */
  cardFingerprint?: string;
  /** ISO 3166-1 alpha-2 country of the payer (billing or IP country). */
  country?: string;
  /** The payer's email, when not given as `customer.email`. */
  email?: string;
}

/** What the risk engine evaluates: one payment attempt, before any gateway is called. */
export interface RiskInput {
  merchantId: string;
  /** Tender's payment id. */
  paymentId: string;
  /**
   * The velocity attempt's id (default `paymentId`): the engine passes the request's idempotency key
   * when it has one, so a retried request is counted once.
   */
  attemptId?: string;
  amount: Money;
  paymentMethod: string | null;
  /** The gateway the payment is routed to first. */
  gateway: string;
  userId: string | null;
  /** The payer's email (`customer.email`, else `risk.email`). */
  email: string | null;
  ip: string | null;
  deviceFingerprint: string | null;
  cardFingerprint: string | null;
  /** Upper-case ISO 3166-1 alpha-2, when known. */
  country: string | null;
}

/** A rule that fired: its id and type, the score it added, and why (no personal data). */
export interface RiskRuleHit {
  id: string;
  type: RiskRuleType;
  score: number;
  /** E.g. `amount 1500.00 USD above 1000.00`, `7 attempts by ip in 1h (max 5)`. */
  reason: string;
}

/** How the external scorer answered for one payment. */
export interface RiskScorerResult {
  /** The scorer's score (0 to the config's `max_score`), null when it did not answer. */
  score: number | null;
  /** `ok`; otherwise why no score was had. */
  outcome: 'ok' | 'timeout' | 'error' | 'circuit_open' | 'invalid_response';
  /** Time the call took (0 when the circuit was open). */
  latencyMs: number;
  /**
   * Set when the scorer did not answer and is configured to fail closed: the least action the
   * payment then gets (`review` or `block`). Absent when failing open (the score counts as 0).
   */
  failAction?: 'review' | 'block';
}

/** The decision on one payment, as stored under `gatewayData.risk` and returned on the payment. */
export interface RiskAssessment {
  action: RiskAction;
  /** Total score: rules plus the weighted external score, capped at `max_score`. */
  score: number;
  /** Sum of the scores of the rules that fired (before the cap). */
  ruleScore: number;
  rules: RiskRuleHit[];
  /** The external scorer's answer; null when none is configured. */
  ml: RiskScorerResult | null;
  thresholds: { max: number; block: number; review: number | null; stepUp: number | null };
  /** When the decision was made (ISO time). */
  evaluatedAt: string;
}

/** The features sent to an external scorer (no raw email: a SHA-256 of it, lower-cased). */
export interface RiskFeatures {
  merchant_id: string;
  payment_id: string;
  amount_minor: number;
  currency: string;
  payment_method: string | null;
  gateway: string;
  user_id: string | null;
  /** Hex SHA-256 of the lower-cased email. */
  email_hash: string | null;
  ip: string | null;
  device_fingerprint: string | null;
  card_fingerprint: string | null;
  country: string | null;
  /** Hour of day (0-23, UTC) of the attempt. */
  hour_of_day: number;
  /** Score of the rules that fired. */
  rule_score: number;
  /** Ids of the rules that fired. */
  rules: string[];
}

/** An external scorer (`FRAUD_ML_API_URL`); see `createHttpRiskScorer`. Never throws. */
export interface RiskScorer {
  score(features: RiskFeatures): Promise<RiskScorerResult>;
  /** Releases the scorer's connections. */
  close?(): Promise<void>;
}

/**
 * Whether a payer has paid before (for `first_time_customer` rules). The default, from the store,
 * knows users: a user with a payment that was captured (`CAPTURED`, `PARTIALLY_REFUNDED`,
 * `REFUNDED`). Emails are not searchable in a store (they are personal data, encrypted at rest), so
 * an email-keyed rule needs a history that knows them; the default answers `null` (unknown, the rule
 * does not fire).
 */
export interface RiskHistory {
  hasPaid(query: { merchantId: string; userId?: string; email?: string }): Promise<boolean | null>;
}

/** Hooks a metrics registry binds to (the reference server binds prom-client). Must not throw. */
export interface RiskMetrics {
  /** Every decision: `fraud_score_distribution{payment_method,risk_level}` observes `score` with `action` as the level. */
  decision?(event: { action: RiskAction; score: number; paymentMethod: string | null; gateway: string; merchantId: string }): void;
  /** Every external scorer call: its outcome and latency. */
  scorer?(event: { outcome: RiskScorerResult['outcome']; latencyMs: number }): void;
}

/** The risk engine given to `createTender({ risk })`. */
export interface RiskEngine {
  /** Evaluates one attempt: records it in the velocity store, runs the rules and the scorer, decides. */
  evaluate(input: RiskInput): Promise<RiskAssessment>;
  /** The rules in force. */
  readonly config: RiskConfig;
  /** Replaces the rules (a SIGHUP reload); attempts evaluated from now on use them. */
  reload(config: RiskConfig): void;
}
