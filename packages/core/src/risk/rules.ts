/**
 * The rules of a {@link RiskConfig} applied to one attempt: which fire and what each adds. Pure: the
 * facts a rule needs from outside (velocity counts, whether the payer paid before) are gathered
 * first by the risk engine (`engine.ts`) and handed in.
 *
 * @module
 */
import { Money } from '../money';
import { parseWindow, type RiskConfig, type RiskRule, type VelocityKeyKind } from './config';
import type { RiskAction, RiskInput, RiskRuleHit } from './types';
import type { VelocityCount, VelocityQuery } from './velocity';

/** What the rules need beside the attempt. */
export interface RuleFacts {
  /** Velocity counts, by {@link velocitySlot} of each velocity rule's key and window. */
  velocity: ReadonlyMap<string, VelocityCount>;
  /** Whether the payer paid before, by first-time rule key (`user`, `email`); null or absent when unknown. */
  paidBefore: ReadonlyMap<'user' | 'email', boolean | null>;
}

/** The slot of a velocity count: one per key kind and window. */
export function velocitySlot(key: VelocityKeyKind, windowMs: number): string {
  return `${key}/${windowMs}`;
}

/** The velocity queries the config's rules need, once each. */
export function velocityQueries(config: RiskConfig): VelocityQuery[] {
  const out = new Map<string, VelocityQuery>();
  for (const rule of config.rules) {
    if (rule.type !== 'velocity') continue;
    const windowMs = parseWindow(rule.window)!;
    out.set(velocitySlot(rule.key, windowMs), { key: rule.key, windowMs });
  }
  return [...out.values()];
}

/** The threshold of `amounts` in the attempt's currency, null when the map names another currency. */
export function thresholdIn(amounts: Record<string, string>, amount: Money): Money | null {
  const text = amounts[amount.currency];
  return text === undefined ? null : Money.of(text, amount.currency);
}

/** The first-time rules whose amount threshold the attempt passes (only those need the history asked). */
export function firstTimeKeysNeeded(config: RiskConfig, input: RiskInput): Set<'user' | 'email'> {
  const keys = new Set<'user' | 'email'>();
  for (const rule of config.rules) {
    if (rule.type !== 'first_time_customer') continue;
    const limit = thresholdIn(rule.amount_above, input.amount);
    if (limit && input.amount.greaterThan(limit) && (rule.key === 'user' ? input.userId : input.email) !== null) keys.add(rule.key);
  }
  return keys;
}

function velocityValue(input: RiskInput, key: VelocityKeyKind): string | null {
  switch (key) {
    case 'user':
      return input.userId;
    case 'email':
      return input.email;
    case 'card_fingerprint':
      return input.cardFingerprint;
    case 'ip':
      return input.ip;
    case 'device':
      return input.deviceFingerprint;
  }
}

/** Why `rule` fires for the attempt, or null when it does not. */
function fires(rule: RiskRule, input: RiskInput, facts: RuleFacts): string | null {
  const amount = input.amount;
  switch (rule.type) {
    case 'amount_above': {
      const limit = thresholdIn(rule.amount_above, amount);
      return limit && amount.greaterThan(limit) ? `amount ${amount.toString()} ${amount.currency} above ${limit.toString()}` : null;
    }
    case 'velocity': {
      if (velocityValue(input, rule.key) === null) return null;
      const count = facts.velocity.get(velocitySlot(rule.key, parseWindow(rule.window)!));
      if (!count) return null;
      if (rule.max_count !== undefined && count.count > rule.max_count) return `${count.count} attempts by ${rule.key} in ${rule.window} (max ${rule.max_count})`;
      const limit = rule.max_sum ? thresholdIn(rule.max_sum, amount) : null;
      if (limit) {
        const sum = Money.fromMinor(count.sumMinor, amount.currency);
        if (sum.greaterThan(limit)) return `${sum.toString()} ${amount.currency} by ${rule.key} in ${rule.window} (max ${limit.toString()})`;
      }
      return null;
    }
    case 'country':
    case 'currency':
    case 'payment_method': {
      const value = rule.type === 'country' ? input.country : rule.type === 'currency' ? amount.currency : input.paymentMethod;
      // An unknown value (no country given, no method named) is neither allowed nor denied.
      if (value === null) return null;
      if (rule.deny) return rule.deny.includes(value) ? `${rule.type} ${value} denied` : null;
      return rule.allow!.includes(value) ? null : `${rule.type} ${value} not allowed`;
    }
    case 'first_time_customer': {
      const limit = thresholdIn(rule.amount_above, amount);
      if (!limit || !amount.greaterThan(limit)) return null;
      return facts.paidBefore.get(rule.key) === false ? `first payment of this ${rule.key} above ${limit.toString()} ${amount.currency}` : null;
    }
  }
}

/** The rules that fire for the attempt, in the file's order. */
export function evaluateRules(config: RiskConfig, input: RiskInput, facts: RuleFacts): RiskRuleHit[] {
  const hits: RiskRuleHit[] = [];
  for (const rule of config.rules) {
    const reason = fires(rule, input, facts);
    if (reason !== null) hits.push({ id: rule.id, type: rule.type, score: rule.score, reason });
  }
  return hits;
}

/** The band a total score falls in. */
export function actionFor(config: RiskConfig, score: number): RiskAction {
  if (score >= config.block_threshold) return 'block';
  if (config.review_threshold !== null && score >= config.review_threshold) return 'review';
  if (config.step_up_threshold !== null && score >= config.step_up_threshold) return 'step_up';
  return 'allow';
}
