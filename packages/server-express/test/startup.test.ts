import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listeningUrl, spawnTenderServer } from './cli-process';

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  return port;
}

describe('while the server starts', () => {
  it('answers at once (alive, not ready, retry later) instead of leaving requests hanging', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tender-startup-'));
    const port = await freePort();
    // Embedded PGlite in a new directory: opening and migrating it keeps the server starting for a while.
    const proc = spawnTenderServer(['start'], { PORT: String(port), TENDER_DATA_DIR: dir, JWT_SECRET: 'startup-secret-startup-secret-startup-01', LOG_LEVEL: 'info' });
    const url = `http://127.0.0.1:${port}`;
    try {
      const up = listeningUrl(proc);
      let done = false;
      void up.then(() => (done = true), () => (done = true));
      const early: Array<{ path: string; status: number; retryAfter: string | null; body: any }> = [];
      while (!done) {
        for (const path of ['/ready', '/health', '/api/v1/payments']) {
          const response = await fetch(url + path, { signal: AbortSignal.timeout(2000) }).catch(() => null);
          if (response && !done) early.push({ path, status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() });
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await up;
      const ready = early.find((e) => e.path === '/ready');
      expect(ready).toMatchObject({ status: 503, retryAfter: '1', body: { status: 'not_ready', error: { type: 'storage_error', code: 'starting' } } });
      expect(early.find((e) => e.path === '/health')).toMatchObject({ status: 200, body: { status: 'ok', starting: true } });
      expect(early.find((e) => e.path === '/api/v1/payments')).toMatchObject({ status: 503, retryAfter: '1', body: { error: { code: 'starting' } } });
      expect((await fetch(`${url}/ready`)).status).toBe(200);
    } finally {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
