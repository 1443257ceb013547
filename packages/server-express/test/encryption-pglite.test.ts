/**
 * Encryption at rest on embedded PGlite (the default storage), through the REST API of a real server
 * in simulation mode: none of the personal data sent is in any byte of the data directory (heap,
 * TOAST, WAL, everything), while a directory written without ENCRYPTION_KEY holds every value, so
 * the search can fail; after a restart the API reads everything back decrypted. Also: bad key
 * values stop the server at start with a message naming the variable, never the value.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';
import { spawnTenderServer } from './cli-process';
import { NEEDLES, RAW, expectDecryptedReads, found, readTree, storePersonalData } from './encryption-helpers';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function run(dir: string, key: string | null): Promise<{ logs: string[]; server: TenderServer }> {
  const logs: string[] = [];
  const destination = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
  const server = await startTenderServer({
    env: { PORT: '0', TENDER_DATA_DIR: dir, RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '100ms', ...(key ? { ENCRYPTION_KEY: key } : {}) },
    logger: createLogger({ destination }),
  });
  return { logs, server };
}

describe('encryption at rest (PGlite data directory, REST API)', () => {
  it('leaves no personal data in the raw files of the data directory, and reads it back decrypted after a restart', async () => {
    const key = randomBytes(32).toString('base64');
    const encrypted = mkdtempSync(join(tmpdir(), 'tender-enc-'));
    const plain = mkdtempSync(join(tmpdir(), 'tender-plain-'));
    dirs.push(encrypted, plain);

    const first = await run(encrypted, key);
    let made;
    try {
      made = await storePersonalData(first.server, 'pgl');
      await expectDecryptedReads(first.server, made);
    } finally {
      await first.server.close();
    }
    expect(first.logs.join('')).toContain('personal data is encrypted at rest');
    const control = await run(plain, null);
    try {
      await storePersonalData(control.server, 'pgl');
    } finally {
      await control.server.close();
    }

    // Closed, so PGlite has written everything out. The search reads every file's bytes.
    const files = await readTree(encrypted);
    expect(files.length).toBeGreaterThan(100);
    expect(found(files)).toEqual([]);
    expect(files.some((f) => f.bytes.includes(Buffer.from('enc:v1:')))).toBe(true);
    // Without the key the same calls leave every value in the files: the search above would see them.
    const plainFiles = await readTree(plain);
    expect(found(plainFiles, RAW).sort()).toEqual([...RAW].sort());
    expect(NEEDLES.length).toBeGreaterThan(RAW.length);

    // The same directory and key after a restart: everything reads back.
    const again = await run(encrypted, key);
    try {
      await expectDecryptedReads(again.server, made);
    } finally {
      await again.server.close();
    }
    // With another key it cannot be read, and says so without the data.
    const wrong = await run(encrypted, randomBytes(32).toString('base64'));
    try {
      const res = await fetch(`${wrong.server.url}/api/v1/payments/${made.stripe}`, { headers: { authorization: `Bearer ${wrong.server.devToken}` } });
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(JSON.parse(text).error.code).toBe('encryption_key_unknown');
      expect(found(text)).toEqual([]);
    } finally {
      await wrong.server.close();
    }
    // Four server starts on PGlite, two of them creating a data directory (PGlite 0.5's initdb takes
    // several seconds on a loaded machine).
  }, 120_000);
});

describe('ENCRYPTION_KEY at start', () => {
  const bad: Array<[string, string, RegExp]> = [
    ['all zeros', Buffer.alloc(32).toString('base64'), /ENCRYPTION_KEY: is one byte repeated \(all zeros\)/],
    ['one byte repeated', 'ab'.repeat(32), /ENCRYPTION_KEY: is one byte repeated/],
    ['short', randomBytes(16).toString('base64'), /ENCRYPTION_KEY: must be 32 bytes \(256 bits\); this base64 decodes to 16 bytes/],
    ['short hex', randomBytes(31).toString('hex'), /ENCRYPTION_KEY: must be 32 bytes; as hex that is 64 digits, this has 62/],
    ['a passphrase', 'correct-horse-battery-staple-1234', /ENCRYPTION_KEY: must be 32 bytes|ENCRYPTION_KEY: .*printable text/],
    ['base64 of a passphrase', Buffer.from('correct horse battery staple 123').toString('base64'), /ENCRYPTION_KEY: decodes to printable text/],
    ['malformed', 'k1:not*base64*at*all', /ENCRYPTION_KEY: must be 32 bytes as 64 hex digits or base64/],
  ];

  it.each(bad)('refuses %s, naming the variable and not the value', (_what, value, message) => {
    let error: unknown;
    try {
      loadConfig({ ENCRYPTION_KEY: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(value.split(':').pop());
  });

  it('refuses a bad old key, a key list without ENCRYPTION_KEY and two keys under one id', () => {
    const good = randomBytes(32).toString('base64');
    expect(() => loadConfig({ ENCRYPTION_KEY: good, ENCRYPTION_KEYS: `old:${randomBytes(32).toString('hex')},${Buffer.alloc(32).toString('hex')}` })).toThrow(/ENCRYPTION_KEYS: entry 2: is one byte repeated/);
    expect(() => loadConfig({ ENCRYPTION_KEYS: good })).toThrow(/ENCRYPTION_KEY: is required when ENCRYPTION_KEYS is set/);
    expect(() => loadConfig({ ENCRYPTION_KEY: `a:${good}`, ENCRYPTION_KEYS: `a:${randomBytes(32).toString('base64')}` })).toThrow(/ENCRYPTION_KEYS: two different keys have the id 'a'/);
    expect(loadConfig({ ENCRYPTION_KEY: `a:${good}`, ENCRYPTION_KEYS: `a:${good}` }).ENCRYPTION_KEY!.id).toBe('a');
    expect(() => loadConfig({ DATA_RETENTION_DAYS: '0' })).toThrow(/DATA_RETENTION_DAYS: must be positive/);
  });

  it('tender-server start exits 1 with the message, before opening anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tender-badkey-'));
    dirs.push(dir);
    const value = Buffer.alloc(32, 0x11).toString('base64');
    const proc = spawnTenderServer(['start'], { PORT: '0', TENDER_DATA_DIR: join(dir, 'data'), ENCRYPTION_KEY: value });
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const [code] = (await once(proc, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(out).toContain('ENCRYPTION_KEY: is one byte repeated');
    expect(out).not.toContain(value);
  });

  it('unset outside simulation mode, starts with a warning that personal data is stored unencrypted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tender-nokey-'));
    dirs.push(dir);
    const logs: string[] = [];
    const destination = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
    // A Stripe gateway that is never called (nothing is paid here): enough to leave simulation mode.
    const server = await startTenderServer({
      env: { PORT: '0', TENDER_DATA_DIR: dir, RECONCILE_INTERVAL: '0', STRIPE_SECRET_KEY: 'sk_test_unused', STRIPE_BASE_URL: 'http://127.0.0.1:9', JWT_SECRET: 'x'.repeat(40) },
      logger: createLogger({ destination }),
    });
    await server.close();
    expect(server.simulation).toBeNull();
    expect(logs.join('')).toContain('ENCRYPTION_KEY is not set: personal data');
  });
});
