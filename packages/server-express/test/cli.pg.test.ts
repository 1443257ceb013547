import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { jwtVerify } from 'jose';
import { startHarness } from './helpers';
import pg from 'pg';
import { startStripeSandbox } from '@tender/stripe/sandbox';
import { afterAll, describe, expect, it } from 'vitest';
import { signToken } from '@tender/server-express';
import { listeningUrl, spawnTenderServer } from './cli-process';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';

const SECRET = 'cli-test-secret-cli-test-secret-cli-0123';
const schemas: string[] = [];
const children: ChildProcess[] = [];

function tenderServer(args: string[], env: Record<string, string>): ChildProcess {
  const proc = spawnTenderServer(args, env);
  children.push(proc);
  return proc;
}

/** Runs a command to its end. */
async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = tenderServer(args, env);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(proc, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const schema of schemas) await dropSchema(schema);
});

describe('tender-server migrate', () => {
  it('creates the schema on Postgres, and running it again changes nothing', async () => {
    const schema = freshSchema('cli_migrate');
    schemas.push(schema);
    const env = { DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'silent' };
    const first = await run(['migrate'], env);
    expect(first).toMatchObject({ code: 0, stdout: 'migrations applied (postgres)\n' });
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const versions = async () => (await client.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)).rows.map((r) => Number(r.version));
      const applied = await versions();
      expect(applied[0]).toBe(1);
      const { rows } = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema]);
      expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['payments', 'refunds', 'transitions', 'idempotency_keys', 'outbox_events']));
      const second = await run(['migrate'], env);
      expect(second.code).toBe(0);
      expect(await versions()).toEqual(applied);
    } finally {
      await client.end();
    }
  });
});

describe('tender-server token', () => {
  it('prints an HS256 token signed with JWT_SECRET, for the merchant, scopes and lifetime asked', async () => {
    const out = await run(['token', '--merchant', 'shop-42', '--scope', 'payments:read payments:write', '--expires', '10m'], { JWT_SECRET: SECRET });
    expect(out.code).toBe(0);
    const { payload } = await jwtVerify(out.stdout.trim(), new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
    expect(payload.sub).toBe('shop-42');
    expect(payload.scope).toBe('payments:read payments:write');
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('prints tokens the server accepts, and refuses to print one living longer than JWT_MAX_LIFETIME_SECONDS', async () => {
    const h = await startHarness({ app: { auth: { secret: SECRET } } });
    try {
      const out = await run(['token', '--merchant', 'cli-merchant'], { JWT_SECRET: SECRET });
      expect(out.code).toBe(0);
      expect((await h.call('GET', '/api/v1/payments', { token: out.stdout.trim() })).status).toBe(200);
      const long = await run(['token', '--merchant', 'cli-merchant', '--expires', '2d'], { JWT_SECRET: SECRET });
      expect(long.code).toBe(1);
      expect(long.stdout).toBe('');
      expect(long.stderr).toContain('JWT_MAX_LIFETIME_SECONDS');
      const allowed = await run(['token', '--merchant', 'cli-merchant', '--expires', '2d'], { JWT_SECRET: SECRET, JWT_MAX_LIFETIME_SECONDS: String(3 * 24 * 3600) });
      expect(allowed.code).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('refuses an unknown scope, a missing merchant and a missing secret, saying which', async () => {
    const scope = await run(['token', '--merchant', 'm', '--scope', 'payments:steal'], { JWT_SECRET: SECRET });
    expect(scope.code).toBe(1);
    expect(scope.stderr).toContain('unknown scope(s): payments:steal');
    const merchant = await run(['token'], { JWT_SECRET: SECRET });
    expect(merchant.code).toBe(1);
    expect(merchant.stderr).toContain('--merchant is required');
    const secret = await run(['token', '--merchant', 'm'], {});
    expect(secret.code).toBe(1);
    expect(secret.stderr).toContain('JWT_SECRET (at least 32 characters) must be set');
  });
});

describe('tender-server start', () => {
  it('will not start on a bad environment: names each bad variable, never the secret', async () => {
    const out = await run(['start'], { PORT: 'eighty', JWT_SECRET: 'short-secret', DATABASE_URL: 'mysql://db' });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('PORT:');
    expect(out.stderr).toContain('JWT_SECRET: must be at least 32 characters');
    expect(out.stderr).toContain('DATABASE_URL: must be a postgres:// URL');
    expect(out.stderr).not.toContain('short-secret');
  });

  it('finishes the payment in flight on SIGTERM and exits 0; a second signal exits at once', async () => {
    const sandbox = await startStripeSandbox();
    try {
      const schema = freshSchema('cli_signal');
      schemas.push(schema);
      const env = { PORT: '0', DATABASE_URL, DATABASE_SCHEMA: schema, JWT_SECRET: SECRET, STRIPE_SECRET_KEY: sandbox.secretKey, STRIPE_BASE_URL: sandbox.url, LOG_LEVEL: 'info' };
      const token = await signToken({ secret: SECRET, merchantId: 'signals' });
      const pay = (url: string, key: string) =>
        fetch(`${url}/api/v1/payments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ amount: '3.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe' }),
        });
      const inFlightAtSignal = async (proc: ChildProcess, url: string, key: string) => {
        sandbox.faults.add({ kind: 'delay', delayMs: 1500, match: /POST \/v1\/payment_intents$/ });
        const before = sandbox.requestCount;
        const response = pay(url, key);
        // The hurried exit drops this request; its failure is expected, not unhandled.
        response.catch(() => undefined);
        while (sandbox.requestCount === before) await new Promise((resolve) => setTimeout(resolve, 10));
        const exited = once(proc, 'exit') as Promise<[number | null]>;
        proc.kill('SIGTERM');
        return { response, exited };
      };

      // One signal: the payment in flight is answered, then the process exits cleanly.
      const first = tenderServer(['start'], env);
      const firstUrl = await listeningUrl(first);
      const graceful = await inFlightAtSignal(first, firstUrl, 'sig-1');
      expect((await graceful.response).status).toBe(201);
      expect((await graceful.exited)[0]).toBe(0);

      // Two signals: the second does not wait for the 1.5 s gateway call.
      const second = tenderServer(['start'], env);
      const secondUrl = await listeningUrl(second);
      const hurried = await inFlightAtSignal(second, secondUrl, 'sig-2');
      // Signals of one kind do not queue: let the first be taken before sending the second.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      second.kill('SIGTERM');
      expect((await hurried.exited)[0]).toBe(130);
      expect(Date.now() - started).toBeLessThan(1000);
      await expect(hurried.response).rejects.toThrow();
    } finally {
      await sandbox.close();
    }
  });
});
