/**
 * The risk rules file (`FRAUD_RULES_CONFIG_PATH`, JSON or YAML): its schema, its parsing, and the one
 * error a bad file gives, `invalid_risk_config` naming the path of the bad field
 * (`rules[2].window`). Everything is checked when the file is read, so a server refuses to start (or
 * a SIGHUP reload keeps the old rules) instead of failing on the first payment.
 *
 * ```yaml
 * max_score: 100          # MAX_FRAUD_SCORE
 * block_threshold: 80     # BLOCK_THRESHOLD
 * review_threshold: 60
 * step_up_threshold: 40
 * rules:
 *   - { id: big-usd, type: amount_above, amount_above: { USD: "1000.00", MYR: "5000" }, score: 30 }
 *   - { id: ip-burst, type: velocity, key: ip, window: 1h, max_count: 5, score: 30 }
 *   - { id: inr-sum, type: velocity, key: user, window: 24h, max_sum: { INR: "50000" }, score: 40 }
 *   - { id: sanctioned, type: country, deny: [KP, IR], score: 100 }
 *   - { id: new-customer, type: first_time_customer, key: user, amount_above: { USD: "200" }, score: 20 }
 * ```
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TenderError } from '../errors';
import { Money, normaliseCurrency } from '../money';

/** The keys a velocity rule counts by: the user id, the payer's email, the card, the client IP, the device. */
export const VELOCITY_KEY_KINDS = ['user', 'email', 'card_fingerprint', 'ip', 'device'] as const;

/** One of {@link VELOCITY_KEY_KINDS}. */
export type VelocityKeyKind = (typeof VELOCITY_KEY_KINDS)[number];

/** Longest velocity window accepted (31 days): a store keeps attempts that long at most. */
export const MAX_VELOCITY_WINDOW_MS = 31 * 24 * 3_600_000;

const DURATION = /^([1-9][0-9]*)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a window such as `"10m"`, `"1h"`, `"24h"`, `"7d"`; null when not one. */
export function parseWindow(text: string): number | null {
  const match = DURATION.exec(text);
  if (!match) return null;
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  return ms <= MAX_VELOCITY_WINDOW_MS ? ms : null;
}

const score = z.number().int('must be an integer').min(0, 'must be >= 0').max(1_000_000);
const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'must be 1-64 letters, digits, . _ : -');

/** `{ USD: "1000.00", MYR: 5000 }`: an amount per currency, each exact in its currency's scale. */
const amounts = z
  .record(z.string(), z.union([z.string(), z.number()]))
  .superRefine((value, ctx) => {
    if (Object.keys(value).length === 0) ctx.addIssue({ code: 'custom', message: 'must name at least one currency' });
    for (const [currency, amount] of Object.entries(value)) {
      try {
        Money.of(amount, normaliseCurrency(currency));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: TenderError.isInstance(error) ? error.message : 'is not an amount', path: [currency] });
      }
    }
  })
  .transform((value) => Object.fromEntries(Object.entries(value).map(([c, a]) => [normaliseCurrency(c), Money.of(a, normaliseCurrency(c)).toString()])));

const window = z.string().refine((text) => parseWindow(text) !== null, `must be a window such as "10m", "1h", "24h" (s, m, h or d; at most 31 days)`);

const base = { id, score, description: z.string().max(500).optional() };

const amountRule = z.strictObject({ ...base, type: z.literal('amount_above'), amount_above: amounts });

const velocityRule = z
  .strictObject({
    ...base,
    type: z.literal('velocity'),
    key: z.enum(VELOCITY_KEY_KINDS),
    window,
    max_count: z.number().int('must be an integer').min(0).optional(),
    max_sum: amounts.optional(),
  })
  .refine((rule) => rule.max_count !== undefined || rule.max_sum !== undefined, { message: 'needs max_count or max_sum', path: ['max_count'] });

const codes = (pattern: RegExp, what: string) => z.array(z.string().transform((s) => s.trim().toUpperCase()).pipe(z.string().regex(pattern, `must be ${what}`))).min(1);
const methods = z.array(z.string().min(1).max(64)).min(1);

function listRule<T extends string, L extends z.ZodType>(type: T, list: L) {
  return z
    .strictObject({ ...base, type: z.literal(type), allow: list.optional(), deny: list.optional() })
    .refine((rule) => (rule.allow === undefined) !== (rule.deny === undefined), { message: 'needs exactly one of allow or deny', path: ['allow'] });
}

const countryRule = listRule('country', codes(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code'));
const currencyRule = listRule('currency', codes(/^[A-Z]{3}$/, 'an ISO 4217 currency code'));
const methodRule = listRule('payment_method', methods);

const firstTimeRule = z.strictObject({ ...base, type: z.literal('first_time_customer'), key: z.enum(['user', 'email']).default('user'), amount_above: amounts });

const rule = z.discriminatedUnion('type', [amountRule, velocityRule, countryRule, currencyRule, methodRule, firstTimeRule]);

/** Defaults of the bands not given in the file (the server passes `MAX_FRAUD_SCORE` / `BLOCK_THRESHOLD`). */
export interface RiskConfigDefaults {
  /** Default 100 (seed 001's `MAX_FRAUD_SCORE`). */
  maxScore?: number;
  /** Default 80 (seed 001's `BLOCK_THRESHOLD`). */
  blockThreshold?: number;
}

function schema(defaults: RiskConfigDefaults) {
  return z
    .strictObject({
      version: z.literal(1).default(1),
      max_score: score.min(1, 'must be >= 1').default(defaults.maxScore ?? 100),
      block_threshold: score.default(defaults.blockThreshold ?? 80),
      review_threshold: score.nullable().default(null),
      step_up_threshold: score.nullable().default(null),
      /** Weight of the external scorer's score in the total (0 = recorded only). Default 1. */
      ml_weight: z.number().min(0).max(10).default(1),
      rules: z.array(rule).default([]),
    })
    .superRefine((config, ctx) => {
      const seen = new Map<string, number>();
      config.rules.forEach((r, i) => {
        if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `duplicates the id of rules[${seen.get(r.id)}]`, path: ['rules', i, 'id'] });
        seen.set(r.id, i);
      });
      if (config.block_threshold > config.max_score) ctx.addIssue({ code: 'custom', message: 'must not exceed max_score', path: ['block_threshold'] });
      if (config.review_threshold !== null && config.review_threshold > config.block_threshold) {
        ctx.addIssue({ code: 'custom', message: 'must not exceed block_threshold', path: ['review_threshold'] });
      }
      const upper = config.review_threshold ?? config.block_threshold;
      if (config.step_up_threshold !== null && config.step_up_threshold > upper) {
        ctx.addIssue({ code: 'custom', message: `must not exceed ${config.review_threshold !== null ? 'review_threshold' : 'block_threshold'}`, path: ['step_up_threshold'] });
      }
    });
}

/** A validated rules file. Amounts are normalised decimal strings keyed by upper-case currency. */
export type RiskConfig = z.output<ReturnType<typeof schema>>;

/** One rule of a {@link RiskConfig}. */
export type RiskRule = RiskConfig['rules'][number];

/** The rule types a file may use. */
export type RiskRuleType = RiskRule['type'];

/** `rules[2].window` from a zod issue path. */
function pathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  return out;
}

/** The `invalid_risk_config` error: 400-type, `param` the path of the bad field. */
export function invalidRiskConfig(message: string, param?: string): TenderError {
  return new TenderError({ type: 'invalid_request_error', code: 'invalid_risk_config', message, ...(param ? { param } : {}) });
}

/**
 * Validates a rules file already parsed (an object), filling defaults.
 * @throws TenderError `invalid_risk_config` whose `param` is the path of the first bad field and
 * whose message names it (`rules[0].window: must be a window such as "10m"...`).
 */
export function riskConfigFrom(value: unknown, defaults: RiskConfigDefaults = {}): RiskConfig {
  const result = schema(defaults).safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = pathOf(issue.path);
  throw invalidRiskConfig(`Invalid risk config${path ? ` at ${path}` : ''}: ${issue.message}`, path || undefined);
}

/**
 * Parses and validates the text of a rules file. `format` defaults to JSON when the text starts
 * with `{`, else YAML (a YAML 1.2 parser, so JSON is YAML too).
 * @throws TenderError `invalid_risk_config` for text that does not parse or a bad field.
 */
export function parseRiskConfig(text: string, options: RiskConfigDefaults & { format?: 'json' | 'yaml' } = {}): RiskConfig {
  const format = options.format ?? (text.trimStart().startsWith('{') ? 'json' : 'yaml');
  let value: unknown;
  try {
    value = format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw invalidRiskConfig(`Invalid risk config: not ${format === 'json' ? 'JSON' : 'YAML'} (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  return riskConfigFrom(value ?? {}, options);
}

/**
 * Reads and validates a rules file (`FRAUD_RULES_CONFIG_PATH`): `.json` as JSON, anything else as YAML.
 * @throws TenderError `invalid_risk_config` for a file that cannot be read, does not parse, or has a bad field.
 */
export async function loadRiskConfigFile(path: string, defaults: RiskConfigDefaults = {}): Promise<RiskConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw invalidRiskConfig(`Risk config ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseRiskConfig(text, { ...defaults, format: path.toLowerCase().endsWith('.json') ? 'json' : 'yaml' });
}
