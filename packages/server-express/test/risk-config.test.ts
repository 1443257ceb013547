/**
 * The risk variables of the environment: their checks, the rules file's values over the
 * MAX_FRAUD_SCORE / BLOCK_THRESHOLD defaults, and FRAUD_ML_FAIL_MODE when the scorer cannot be reached.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Money, createTender, silentLogger } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { createServerRisk, readServerRiskRules } from '../src/risk';

const dir = mkdtempSync(join(tmpdir(), 'tender-risk-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const issues = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues;
  }
};

/** A port on 127.0.0.1 nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('risk variables', () => {
  it('are checked by name', () => {
    expect(issues({ BLOCK_THRESHOLD: '120' })).toEqual(['BLOCK_THRESHOLD: must not exceed MAX_FRAUD_SCORE']);
    expect(issues({ FRAUD_ML_FAIL_MODE: 'maybe' })).toEqual(['FRAUD_ML_FAIL_MODE: must be open, closed or block']);
    expect(issues({ FRAUD_ML_API_URL: 'ftp://scorer' })[0]).toMatch(/^FRAUD_ML_API_URL: /);
    expect(issues({ FRAUD_ML_TIMEOUT_MS: '0' })[0]).toMatch(/^FRAUD_ML_TIMEOUT_MS: /);
    expect(loadConfig({})).toMatchObject({ MAX_FRAUD_SCORE: 100, BLOCK_THRESHOLD: 80, FRAUD_ML_TIMEOUT_MS: 500, FRAUD_ML_FAIL_MODE: 'open' });
  });

  it('turn nothing on without a rules file or a scorer', async () => {
    expect(await readServerRiskRules(loadConfig({}))).toBeNull();
    expect(await createServerRisk(loadConfig({}), { store: new MemoryStore(), logger: silentLogger })).toBeNull();
  });

  it('name the variable for a missing file; the file overrides the environment defaults, which fill the rest', async () => {
    await expect(readServerRiskRules(loadConfig({ FRAUD_RULES_CONFIG_PATH: join(dir, 'absent.yaml') }))).rejects.toThrow(/FRAUD_RULES_CONFIG_PATH: Risk config .*absent\.yaml cannot be read \(ENOENT\)/);
    const path = join(dir, 'rules.yaml');
    writeFileSync(path, 'block_threshold: 70\nrules: []\n');
    expect(await readServerRiskRules(loadConfig({ FRAUD_RULES_CONFIG_PATH: path, MAX_FRAUD_SCORE: '200', BLOCK_THRESHOLD: '150' }))).toMatchObject({ max_score: 200, block_threshold: 70 });
  });

  it('with REDIS_URL unreachable, refuses a create with a retryable 503 risk_unavailable and stores nothing', async () => {
    const path = join(dir, 'ip-rules.yaml');
    writeFileSync(path, 'rules:\n  - { id: ip-burst, type: velocity, key: ip, window: 1h, max_count: 5, score: 30 }\n');
    const store = new MemoryStore();
    const risk = (await createServerRisk(loadConfig({ FRAUD_RULES_CONFIG_PATH: path, REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }), { store, logger: silentLogger }))!;
    expect(risk.velocityKind).toBe('redis');
    try {
      const tender = createTender({ gateways: [createTestGateway({ id: 'test' })], store, risk: risk.engine });
      await expect(tender.payments.create({ amount: '10.00', currency: 'USD', risk: { ip: '203.0.113.9' } }, { merchantId: 'm' })).rejects.toMatchObject({ code: 'risk_unavailable', status: 503, retryable: true });
      expect(await store.listPayments({ merchantId: 'm', limit: 10 })).toEqual([]);
    } finally {
      await risk.close();
    }
  });

  it('FRAUD_ML_FAIL_MODE=closed holds a payment for review, and open lets it through, when the scorer cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/score`;
    const input = { merchantId: 'm', paymentId: 'pay_1', amount: Money.of('10.00', 'USD'), paymentMethod: 'card', gateway: 'stripe', userId: null, email: null, ip: null, deviceFingerprint: null, cardFingerprint: null, country: null };
    for (const [mode, action] of [['closed', 'review'], ['block', 'block'], ['open', 'allow']] as const) {
      const risk = (await createServerRisk(loadConfig({ FRAUD_ML_API_URL: url, FRAUD_ML_FAIL_MODE: mode }), { store: new MemoryStore(), logger: silentLogger }))!;
      try {
        const decision = await risk.engine.evaluate({ ...input, paymentId: `pay_${mode}` });
        expect(decision.action, mode).toBe(action);
        expect(decision.ml?.outcome).toBe('error');
      } finally {
        await risk.close();
      }
    }
  });
});
