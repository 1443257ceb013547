/**
 * `createHttpRiskScorer`: an external fraud scorer over HTTP (`FRAUD_ML_API_URL`). POSTs the
 * {@link RiskFeatures} as JSON and reads `{ "score": number }`. Through core's HTTP transport (undici
 * keep-alive pool, a per-call timeout, its own circuit breaker) and never retried: a score is needed
 * now, and a slow scorer must not hold a payment. When it does not answer (timeout, 5xx, a bad body,
 * the circuit open) the scorer fails open (the score counts as 0, noted on the decision) or fails
 * closed (the payment goes to review, or is blocked), as configured.
 *
 * @module
 */
import { systemClock, type Clock } from '../clock';
import { invalidRequest } from '../errors';
import type { Logger } from '../logger';
import type { CircuitOptions } from '../transport/circuit-breaker';
import { createHttpTransport } from '../transport/http-transport';
import type { RiskFeatures, RiskScorer, RiskScorerResult } from './types';

/** What a scorer that does not answer means for the payment. */
export type ScorerFailureMode = 'open' | 'review' | 'block';

/** Options of {@link createHttpRiskScorer}. */
export interface HttpRiskScorerOptions {
  /** The scorer's endpoint (`FRAUD_ML_API_URL`), an absolute http(s) URL. */
  url: string;
  /** Time allowed for the whole call. Default 500 ms. */
  timeoutMs?: number;
  /** `open` (default): score 0, the payment goes on; `review` / `block`: at least that action. */
  onFailure?: ScorerFailureMode;
  /** The scorer's circuit breaker. Default: open after 5 failures in 30 s, for 30 s. */
  circuit?: CircuitOptions;
  /** Extra headers (an API key: never logged). */
  headers?: Record<string, string>;
  /** Largest score accepted; answers above it are invalid. Default 100. */
  maxScore?: number;
  /** Receives one warning per call that gave no score (outcome and latency only, no features). */
  logger?: Logger;
  clock?: Clock;
}

/** Creates an external scorer; see the module comment. */
export function createHttpRiskScorer(options: HttpRiskScorerOptions): RiskScorer {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw invalidRequest('invalid_config', 'The risk scorer URL must be an absolute http(s) URL', 'FRAUD_ML_API_URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidRequest('invalid_config', 'The risk scorer URL must be an absolute http(s) URL', 'FRAUD_ML_API_URL');
  const timeoutMs = options.timeoutMs ?? 500;
  const mode = options.onFailure ?? 'open';
  const maxScore = options.maxScore ?? 100;
  const transport = createHttpTransport({
    gateway: 'risk_scorer',
    timeoutMs,
    retry: { attempts: 1 },
    circuit: options.circuit ?? { failureThreshold: 5, windowMs: 30_000, openMs: 30_000 },
    clock: options.clock ?? systemClock,
    // No logger for the transport: its debug lines carry the request body, and the features hold
    // the payer's IP and device, which the redaction rules do not know as personal data. The
    // scorer logs outcomes itself.
    headers: { 'user-agent': 'tender/risk-scorer', ...options.headers },
    maxResponseBytes: 64 * 1024,
  });

  const failed = (outcome: RiskScorerResult['outcome'], latencyMs: number): RiskScorerResult => {
    options.logger?.warn({ outcome, latencyMs, onFailure: mode }, 'risk scorer gave no score');
    return mode === 'open' ? { score: null, outcome, latencyMs } : { score: null, outcome, latencyMs, failAction: mode };
  };

  return {
    async score(features: RiskFeatures): Promise<RiskScorerResult> {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      let status: number;
      let body: unknown;
      try {
        const response = await transport.request({ method: 'POST', url: url.toString(), json: features, operation: 'score', idempotent: false });
        status = response.status;
        try {
          body = JSON.parse(response.text());
        } catch {
          body = undefined;
        }
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'circuit_open') return failed('circuit_open', 0);
        return failed(/timed out|outcome/i.test(String((error as Error).message)) || code === 'gateway_outcome_unknown' ? 'timeout' : 'error', elapsed());
      }
      if (status < 200 || status >= 300) return failed('error', elapsed());
      const score = (body as { score?: unknown } | undefined)?.score;
      if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > maxScore) return failed('invalid_response', elapsed());
      return { score, outcome: 'ok', latencyMs: elapsed() };
    },
    close: () => transport.close(),
  };
}
