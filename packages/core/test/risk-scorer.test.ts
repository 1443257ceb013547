/**
 * The external scorer over real HTTP on 127.0.0.1: a scorer that answers, fails (500), answers
 * nonsense, or hangs past the timeout; fail-open and fail-closed through the risk engine; the
 * circuit breaker that stops calling a failing scorer; the metrics hook.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryVelocityStore, Money, createHttpRiskScorer, createRiskEngine, parseRiskConfig, type RiskInput, type RiskMetrics, type ScorerFailureMode } from '@tender/core';
import { FakeClock } from '@tender/core/testing';

type Mode = { kind: 'score'; score: unknown } | { kind: 'status'; status: number } | { kind: 'hang' } | { kind: 'text'; body: string };

let server: Server;
let url: string;
let mode: Mode = { kind: 'score', score: 0 };
const received: Record<string, unknown>[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(JSON.parse(body));
      if (mode.kind === 'hang') return;
      if (mode.kind === 'status') {
        res.writeHead(mode.status, { 'content-type': 'application/json' }).end('{"error":"down"}');
        return;
      }
      const text = mode.kind === 'text' ? mode.body : JSON.stringify({ score: mode.score });
      res.writeHead(200, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/score`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const config = parseRiskConfig(
  ['block_threshold: 80', 'review_threshold: 50', 'rules:', '  - { id: big, type: amount_above, amount_above: { USD: "100" }, score: 10 }'].join('\n'),
);

let n = 0;
const input = (): RiskInput => ({
  merchantId: 'm1',
  paymentId: `pay_s${++n}`,
  amount: Money.of('150.00', 'USD'),
  paymentMethod: 'card',
  gateway: 'test',
  userId: 'u-1',
  email: 'Payer@Example.com',
  ip: '203.0.113.9',
  deviceFingerprint: 'dev-1',
  cardFingerprint: null,
  country: 'MY',
});

function engineWith(onFailure: ScorerFailureMode, extra: { metrics?: RiskMetrics; failureThreshold?: number; timeoutMs?: number } = {}) {
  const clock = new FakeClock(new Date('2026-03-01T13:30:00Z'));
  const scorer = createHttpRiskScorer({ url, timeoutMs: extra.timeoutMs ?? 10_000, onFailure, clock, circuit: { failureThreshold: extra.failureThreshold ?? 100, windowMs: 60_000, openMs: 60_000 } });
  return { scorer, risk: createRiskEngine({ config, velocity: new MemoryVelocityStore(), scorer, clock, ...(extra.metrics ? { metrics: extra.metrics } : {}) }) };
}

describe('external risk scorer', () => {
  it('posts the features (email hashed, rule score, hour of day) and adds the answered score', async () => {
    mode = { kind: 'score', score: 45 };
    const events: unknown[] = [];
    const { risk, scorer } = engineWith('open', { metrics: { scorer: (e) => events.push(e.outcome), decision: (e) => events.push(`${e.action}:${e.score}:${e.paymentMethod}`) } });
    const decision = await risk.evaluate(input());
    expect(decision).toMatchObject({ action: 'review', score: 55, ruleScore: 10, ml: { score: 45, outcome: 'ok', latencyMs: expect.any(Number) } });
    const sent = received.at(-1)!;
    expect(sent).toMatchObject({ merchant_id: 'm1', amount_minor: 15000, currency: 'USD', payment_method: 'card', ip: '203.0.113.9', device_fingerprint: 'dev-1', hour_of_day: 13, rule_score: 10, rules: ['big'] });
    expect(sent.email_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(sent)).not.toMatch(/example\.com/i);
    expect(events).toEqual(['ok', 'review:55:card']);
    await scorer.close?.();
  });

  it('fails open: a 500, a timeout and a bad body each count as no score, the payment goes on, the outcome noted', async () => {
    const { risk, scorer } = engineWith('open');
    mode = { kind: 'status', status: 500 };
    expect(await risk.evaluate(input())).toMatchObject({ action: 'allow', score: 10, ml: { score: null, outcome: 'error' } });
    mode = { kind: 'hang' };
    const impatient = engineWith('open', { timeoutMs: 200 });
    expect(await impatient.risk.evaluate(input())).toMatchObject({ action: 'allow', score: 10, ml: { score: null, outcome: 'timeout' } });
    await impatient.scorer.close?.();
    mode = { kind: 'text', body: '{"score":"high"}' };
    expect(await risk.evaluate(input())).toMatchObject({ action: 'allow', ml: { outcome: 'invalid_response' } });
    mode = { kind: 'score', score: 1000 };
    expect(await risk.evaluate(input())).toMatchObject({ action: 'allow', ml: { outcome: 'invalid_response' } });
    await scorer.close?.();
  });

  it('fails closed to review or to block, as configured', async () => {
    mode = { kind: 'status', status: 503 };
    const review = engineWith('review');
    expect(await review.risk.evaluate(input())).toMatchObject({ action: 'review', score: 10, ml: { outcome: 'error', failAction: 'review' } });
    mode = { kind: 'hang' };
    const block = engineWith('block', { timeoutMs: 200 });
    expect(await block.risk.evaluate(input())).toMatchObject({ action: 'block', ml: { outcome: 'timeout', failAction: 'block' } });
    // An answer decides as usual.
    mode = { kind: 'score', score: 0 };
    expect(await review.risk.evaluate(input())).toMatchObject({ action: 'allow', ml: { outcome: 'ok', score: 0 } });
    await review.scorer.close?.();
    await block.scorer.close?.();
  });

  it('opens its circuit after repeated failures: no more calls, each attempt noted circuit_open', async () => {
    mode = { kind: 'status', status: 500 };
    const { risk, scorer } = engineWith('open', { failureThreshold: 3 });
    for (let i = 0; i < 3; i++) expect((await risk.evaluate(input())).ml!.outcome).toBe('error');
    const before = received.length;
    mode = { kind: 'score', score: 99 };
    expect(await risk.evaluate(input())).toMatchObject({ action: 'allow', ml: { outcome: 'circuit_open', score: null, latencyMs: 0 } });
    expect(received.length).toBe(before);
    await scorer.close?.();
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => createHttpRiskScorer({ url: 'ftp://127.0.0.1/x' })).toThrow(expect.objectContaining({ code: 'invalid_config', param: 'FRAUD_ML_API_URL' }));
  });
});
