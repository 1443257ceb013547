/**
 * The risk rules file and the rule engine through the public API: `parseRiskConfig` /
 * `loadRiskConfigFile` (bad fields named by path), and `createRiskEngine` over a memory velocity store
 * and a fake clock: each rule type, the bands, the cap, the store-backed first-time-customer history.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Money, MemoryVelocityStore, createRiskEngine, loadRiskConfigFile, parseRiskConfig, riskConfigFrom, type RiskInput, type RiskHistory } from '@tender/core';
import { FakeClock, MemoryStore, samplePayment } from '@tender/core/testing';

let n = 0;
function input(over: Partial<RiskInput> & { amount?: Money } = {}): RiskInput {
  return {
    merchantId: 'm1',
    paymentId: `pay_${++n}`,
    amount: Money.of('10.00', 'USD'),
    paymentMethod: 'card',
    gateway: 'test',
    userId: null,
    email: null,
    ip: null,
    deviceFingerprint: null,
    cardFingerprint: null,
    country: null,
    ...over,
  };
}

function engine(yaml: string, history?: RiskHistory) {
  const clock = new FakeClock(new Date('2026-03-01T10:00:00Z'));
  const velocity = new MemoryVelocityStore();
  return { clock, velocity, risk: createRiskEngine({ config: parseRiskConfig(yaml), velocity, clock, ...(history ? { history } : {}) }) };
}

function expectConfigError(run: () => unknown, param: string | undefined, message: RegExp) {
  try {
    run();
  } catch (error) {
    expect(error).toMatchObject({ code: 'invalid_risk_config', type: 'invalid_request_error', status: 400 });
    expect((error as { param?: string }).param).toBe(param);
    expect((error as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected invalid_risk_config');
}

describe('risk config', () => {
  it('fills seed 001 defaults (max 100, block 80, no review or step-up band) and reads JSON and YAML alike', () => {
    const yaml = parseRiskConfig('rules: []');
    expect(yaml).toMatchObject({ max_score: 100, block_threshold: 80, review_threshold: null, step_up_threshold: null, ml_weight: 1, rules: [] });
    expect(parseRiskConfig('{"rules":[]}')).toEqual(yaml);
    expect(parseRiskConfig('', { maxScore: 200, blockThreshold: 150 })).toMatchObject({ max_score: 200, block_threshold: 150 });
  });

  it('normalises amounts per currency (exact decimals, upper-case codes)', () => {
    const config = parseRiskConfig('rules:\n  - { id: big, type: amount_above, amount_above: { usd: "1000", MYR: 5000.5, JPY: 100000 }, score: 10 }');
    expect(config.rules[0]).toMatchObject({ amount_above: { USD: '1000.00', MYR: '5000.50', JPY: '100000' } });
  });

  it('names the path of the bad field: window, unknown key, amount too precise, duplicate id, bands out of order, bad list code', () => {
    expectConfigError(() => parseRiskConfig('rules:\n  - { id: v, type: velocity, key: ip, window: 90x, max_count: 1, score: 1 }'), 'rules[0].window', /rules\[0\]\.window: must be a window/);
    expectConfigError(() => parseRiskConfig('rules:\n  - { id: v, type: velocity, key: phone, window: 1h, max_count: 1, score: 1 }'), 'rules[0].key', /rules\[0\]\.key/);
    expectConfigError(() => parseRiskConfig('rules:\n  - { id: v, type: velocity, key: ip, window: 1h, score: 1 }'), 'rules[0].max_count', /needs max_count or max_sum/);
    expectConfigError(() => parseRiskConfig('rules:\n  - { id: a, type: amount_above, amount_above: { USD: "1.001" }, score: 1 }'), 'rules[0].amount_above.USD', /decimal place/);
    expectConfigError(() => parseRiskConfig('rules:\n  - { id: a, type: amount_above, amount_above: { USD: "1" }, score: 1, extra: true }'), 'rules[0]', /extra/);
    expectConfigError(() => parseRiskConfig('rules:\n  - { id: a, type: amount_above, amount_above: { USD: "1" }, score: 1 }\n  - { id: a, type: currency, deny: [EUR], score: 1 }'), 'rules[1].id', /duplicates the id of rules\[0\]/);
    expectConfigError(() => parseRiskConfig('block_threshold: 50\nreview_threshold: 60'), 'review_threshold', /must not exceed block_threshold/);
    expectConfigError(() => parseRiskConfig('max_score: 50'), 'block_threshold', /must not exceed max_score/);
    expectConfigError(() => parseRiskConfig('rules:\n  - { id: c, type: country, deny: [Malaysia], score: 1 }'), 'rules[0].deny[0]', /country code/);
    expectConfigError(() => parseRiskConfig('rules:\n  - { id: c, type: country, deny: [MY], allow: [SG], score: 1 }'), 'rules[0].allow', /exactly one of allow or deny/);
    expectConfigError(() => parseRiskConfig('rules:\n  - { id: c, type: sometimes, score: 1 }'), 'rules[0].type', /rules\[0\]\.type/);
    expectConfigError(() => riskConfigFrom({ rules: [{ id: 's', type: 'currency', deny: ['EUR'], score: 1.5 }] }), 'rules[0].score', /integer/);
  });

  it('refuses text that is not YAML or JSON, and a file that cannot be read, with the same code', async () => {
    expectConfigError(() => parseRiskConfig('{ "rules": [ '), undefined, /not JSON/);
    expectConfigError(() => parseRiskConfig('rules: [a, b\n  c: :'), undefined, /not YAML/);
    const dir = await mkdtemp(join(tmpdir(), 'risk-'));
    await expect(loadRiskConfigFile(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'invalid_risk_config', message: expect.stringContaining('ENOENT') });
    await writeFile(join(dir, 'rules.yaml'), 'block_threshold: 70\nrules:\n  - { id: big, type: amount_above, amount_above: { USD: "100" }, score: 70 }\n');
    expect(await loadRiskConfigFile(join(dir, 'rules.yaml'))).toMatchObject({ block_threshold: 70, rules: [{ id: 'big' }] });
    await writeFile(join(dir, 'rules.json'), '{"rules":[{"id":"x","type":"velocity","key":"ip","window":"1h","max_count":-1,"score":1}]}');
    await expect(loadRiskConfigFile(join(dir, 'rules.json'))).rejects.toMatchObject({ code: 'invalid_risk_config', param: 'rules[0].max_count' });
  });
});

describe('risk rules', () => {
  it('amount_above fires above the threshold of the payment currency only', async () => {
    const { risk } = engine('rules:\n  - { id: big, type: amount_above, amount_above: { USD: "1000.00" }, score: 30 }');
    expect((await risk.evaluate(input({ amount: Money.of('1000.00', 'USD') }))).rules).toEqual([]);
    const above = await risk.evaluate(input({ amount: Money.of('1000.01', 'USD') }));
    expect(above).toMatchObject({ action: 'allow', score: 30, ruleScore: 30, rules: [{ id: 'big', type: 'amount_above', score: 30, reason: 'amount 1000.01 USD above 1000.00' }] });
    // No MYR threshold: never compared across currencies.
    expect((await risk.evaluate(input({ amount: Money.of('999999.00', 'MYR') }))).rules).toEqual([]);
  });

  it('velocity max_count counts attempts by key within the sliding window, blocked ones too', async () => {
    const { risk, clock } = engine('rules:\n  - { id: ip-burst, type: velocity, key: ip, window: 10m, max_count: 2, score: 90 }');
    const ip = '203.0.113.7';
    expect((await risk.evaluate(input({ ip }))).action).toBe('allow');
    expect((await risk.evaluate(input({ ip }))).action).toBe('allow');
    const third = await risk.evaluate(input({ ip }));
    expect(third).toMatchObject({ action: 'block', rules: [{ id: 'ip-burst', reason: '3 attempts by ip in 10m (max 2)' }] });
    // The blocked attempt counted too; another IP is counted apart; no IP, no count.
    expect((await risk.evaluate(input({ ip }))).rules[0]!.reason).toBe('4 attempts by ip in 10m (max 2)');
    expect((await risk.evaluate(input({ ip: '198.51.100.1' }))).action).toBe('allow');
    expect((await risk.evaluate(input())).action).toBe('allow');
    clock.advance(10 * 60_000);
    expect((await risk.evaluate(input({ ip }))).action).toBe('allow');
  });

  it('velocity max_sum sums per currency, never across currencies', async () => {
    const { risk } = engine('rules:\n  - { id: inr-sum, type: velocity, key: user, window: 24h, max_sum: { INR: "50000" }, score: 40 }');
    const userId = 'u-1';
    expect((await risk.evaluate(input({ userId, amount: Money.of('30000', 'INR') }))).rules).toEqual([]);
    // 60 000 USD is not INR: counted, not summed into the INR total.
    expect((await risk.evaluate(input({ userId, amount: Money.of('60000', 'USD') }))).rules).toEqual([]);
    const over = await risk.evaluate(input({ userId, amount: Money.of('20000.01', 'INR') }));
    expect(over.rules).toEqual([{ id: 'inr-sum', type: 'velocity', score: 40, reason: '50000.01 INR by user in 24h (max 50000.00)' }]);
  });

  it('velocity keys are per merchant, and email keys ignore case', async () => {
    const { risk } = engine('rules:\n  - { id: mail, type: velocity, key: email, window: 1h, max_count: 1, score: 5 }');
    await risk.evaluate(input({ email: 'Payer@Example.com' }));
    expect((await risk.evaluate(input({ merchantId: 'm2', email: 'payer@example.com' }))).rules).toEqual([]);
    expect((await risk.evaluate(input({ email: 'payer@example.COM' }))).rules.map((r) => r.id)).toEqual(['mail']);
  });

  it('allow and deny lists of countries, currencies and methods; an unknown value neither allowed nor denied', async () => {
    const { risk } = engine(
      [
        'rules:',
        '  - { id: deny-kp, type: country, deny: [kp], score: 100 }',
        '  - { id: only-myr-usd, type: currency, allow: [MYR, USD], score: 15 }',
        '  - { id: no-grabpay, type: payment_method, deny: [GRABPAY], score: 25 }',
      ].join('\n'),
    );
    expect((await risk.evaluate(input({ country: 'KP' }))).rules.map((r) => r.reason)).toEqual(['country KP denied']);
    expect((await risk.evaluate(input({ amount: Money.of('1', 'EUR'), paymentMethod: 'GRABPAY' }))).rules.map((r) => r.id)).toEqual(['only-myr-usd', 'no-grabpay']);
    expect((await risk.evaluate(input({ country: null, paymentMethod: null }))).rules).toEqual([]);
  });

  it('first_time_customer fires for a user without a captured payment, from the store', async () => {
    const store = new MemoryStore();
    const { risk } = engine('rules:\n  - { id: new-big, type: first_time_customer, key: user, amount_above: { USD: "200" }, score: 20 }', undefined);
    const withStore = createRiskEngine({ config: risk.config, velocity: new MemoryVelocityStore(), store });
    const big = Money.of('250.00', 'USD');
    expect((await withStore.evaluate(input({ userId: 'u-new', amount: big }))).rules.map((r) => r.id)).toEqual(['new-big']);
    // Not above the limit: nothing asked, nothing fires.
    expect((await withStore.evaluate(input({ userId: 'u-new', amount: Money.of('200.00', 'USD') }))).rules).toEqual([]);
    await store.transaction(async (tx) => tx.insertPayment({ ...samplePayment({ merchantId: 'm1', status: 'PARTIALLY_REFUNDED' }), userId: 'u-old' }));
    expect((await withStore.evaluate(input({ userId: 'u-old', amount: big }))).rules).toEqual([]);
    // No user: unknown, so the rule does not fire.
    expect((await withStore.evaluate(input({ amount: big }))).rules).toEqual([]);
  });

  it('first_time_customer by email asks the history given', async () => {
    const paid = new Set(['known@example.com']);
    const history: RiskHistory = { hasPaid: async ({ email }) => (email === undefined ? null : paid.has(email)) };
    const { risk } = engine('rules:\n  - { id: new-mail, type: first_time_customer, key: email, amount_above: { MYR: "100" }, score: 20 }', history);
    const amount = Money.of('150', 'MYR');
    expect((await risk.evaluate(input({ email: 'new@example.com', amount }))).rules.map((r) => r.id)).toEqual(['new-mail']);
    expect((await risk.evaluate(input({ email: 'known@example.com', amount }))).rules).toEqual([]);
  });

  it('bands: step-up, review, block by the total; the total capped at max_score', async () => {
    const { risk } = engine(
      [
        'max_score: 100',
        'block_threshold: 80',
        'review_threshold: 50',
        'step_up_threshold: 20',
        'rules:',
        '  - { id: a, type: amount_above, amount_above: { USD: "10" }, score: 20 }',
        '  - { id: b, type: amount_above, amount_above: { USD: "100" }, score: 30 }',
        '  - { id: c, type: amount_above, amount_above: { USD: "1000" }, score: 60 }',
      ].join('\n'),
    );
    expect(await risk.evaluate(input({ amount: Money.of('5', 'USD') }))).toMatchObject({ action: 'allow', score: 0 });
    expect(await risk.evaluate(input({ amount: Money.of('50', 'USD') }))).toMatchObject({ action: 'step_up', score: 20 });
    expect(await risk.evaluate(input({ amount: Money.of('500', 'USD') }))).toMatchObject({ action: 'review', score: 50 });
    const capped = await risk.evaluate(input({ amount: Money.of('5000', 'USD') }));
    expect(capped).toMatchObject({ action: 'block', score: 100, ruleScore: 110, thresholds: { max: 100, block: 80, review: 50, stepUp: 20 }, ml: null });
  });

  it('reload replaces the rules for the next attempt', async () => {
    const { risk } = engine('rules: []');
    expect((await risk.evaluate(input({ country: 'KP' }))).action).toBe('allow');
    risk.reload(parseRiskConfig('rules:\n  - { id: deny-kp, type: country, deny: [KP], score: 100 }'));
    expect((await risk.evaluate(input({ country: 'KP' }))).action).toBe('block');
  });
});
