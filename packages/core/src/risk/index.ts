/**
 * Risk checks before money moves: a rules file, velocity counts, an optional external scorer, and
 * the decision (`allow`, `step_up`, `review`, `block`) the engine applies before any gateway call
 * (`createTender({ risk })`).
 *
 * @module
 */
export {
  VELOCITY_KEY_KINDS,
  MAX_VELOCITY_WINDOW_MS,
  parseWindow,
  invalidRiskConfig,
  riskConfigFrom,
  parseRiskConfig,
  loadRiskConfigFile,
  type VelocityKeyKind,
  type RiskConfig,
  type RiskConfigDefaults,
  type RiskRule,
  type RiskRuleType,
} from './config';
export { MemoryVelocityStore, type VelocityStore, type VelocityAttempt, type VelocityQuery, type VelocityCount } from './velocity';
export { evaluateRules, actionFor, velocityQueries, type RuleFacts } from './rules';
export { createRiskEngine, storeRiskHistory, velocityKey, featuresOf, riskOf, RISK_DATA_KEY, type RiskEngineOptions } from './engine';
export { createHttpRiskScorer, type HttpRiskScorerOptions, type ScorerFailureMode } from './scorer';
export {
  RISK_ACTIONS,
  type RiskAction,
  type RiskSignals,
  type RiskInput,
  type RiskRuleHit,
  type RiskScorerResult,
  type RiskAssessment,
  type RiskFeatures,
  type RiskScorer,
  type RiskHistory,
  type RiskMetrics,
  type RiskEngine,
} from './types';
export type { ReviewInput } from '../engine/inputs';
export { RISK_BLOCKED, RISK_DECLINED, REVIEW_HOLD, type ReviewHold } from '../engine/payments/risk';
