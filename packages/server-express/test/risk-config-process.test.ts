/**
 * The risk rules file on a real `tender-server start` process: an invalid file stops the start,
 * naming the variable and the bad field; SIGHUP reloads a valid file (the next create is judged by
 * it) and keeps the rules in force when the new file is invalid.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth';
import { listeningUrl, spawnTenderServer } from './cli-process';
import { SECRET } from './helpers';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tender-risk-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const env = (rules: string, data: string) => ({ PORT: '0', TENDER_DATA_DIR: join(dir, data), TENDER_SIMULATION: '1', JWT_SECRET: SECRET, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '1h', FRAUD_RULES_CONFIG_PATH: rules });

/** Resolves once the process's output has a line matching `pattern` after `from` characters. */
function logged(proc: ChildProcess, output: { text: string }, pattern: RegExp, from: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(output.text.slice(from))) {
        proc.stdout!.off('data', check);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', () => reject(new Error(`exited before logging ${pattern}: ${output.text.slice(-2000)}`)));
    check();
  });
}

describe('FRAUD_RULES_CONFIG_PATH on a server process', () => {
  it('refuses to start with an invalid rules file, naming the variable and the field', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'rules:\n  - { id: burst, type: velocity, key: ip, window: 90x, max_count: 3, score: 10 }\n');
    const proc = spawnTenderServer(['start'], env(path, 'bad'));
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(proc, 'exit')) as [number];
    expect(code).toBe(1);
    expect(stderr).toContain('FRAUD_RULES_CONFIG_PATH: Invalid risk config at rules[0].window');
  }, 60_000);

  it('reloads the rules on SIGHUP, and keeps them when the new file is invalid', async () => {
    const path = join(dir, 'rules.json');
    writeFileSync(path, JSON.stringify({ rules: [] }));
    const proc = spawnTenderServer(['start'], env(path, 'good'));
    const output = { text: '' };
    proc.stdout!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
    try {
      const url = await listeningUrl(proc);
      const token = await signToken({ secret: SECRET, merchantId: 'm_risk_cli', scopes: ['payments:write'] });
      const create = async () =>
        (await fetch(`${url}/api/v1/payments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ amount: '20.00', currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_visa' }),
        })).status;
      expect(await create()).toBe(201);

      writeFileSync(path, JSON.stringify({ rules: [{ id: 'over-ten', type: 'amount_above', amount_above: { USD: '10.00' }, score: 100 }] }));
      let from = output.text.length;
      proc.kill('SIGHUP');
      await logged(proc, output, /risk rules reloaded/, from);
      expect(await create()).toBe(402);

      writeFileSync(path, '{ "rules": [ { "id": "x", "type": "nope" } ] }');
      from = output.text.length;
      proc.kill('SIGHUP');
      await logged(proc, output, /risk rules reload failed: the rules in force are kept/, from);
      expect(output.text.slice(from)).toContain('rules[0].type');
      expect(await create()).toBe(402);
    } finally {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    }
  }, 90_000);
});
