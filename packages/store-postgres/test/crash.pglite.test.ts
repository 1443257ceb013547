/**
 * What a killed process loses on embedded PGlite: a child creates and captures payments through the
 * engine on a data directory and reports each one once the engine has answered; it is killed with
 * SIGKILL mid-stream, and a new store on the directory must find every answered payment captured.
 *
 * PGlite runs Postgres with `fsync = off` (its default; shown by the test): a commit's WAL is written
 * to the file before COMMIT answers, but never forced to the disk. So a killed process loses nothing
 * it acknowledged (the operating system holds the writes), while a power cut or kernel crash can lose
 * recent commits; docs/upgrading-pglite.md says so.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { createPGliteStore } from '@tender/store-postgres';
import { describe, expect, it } from 'vitest';

const storeSource = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const coreSource = fileURLToPath(new URL('../../core/src/index.ts', import.meta.url));
const testingSource = fileURLToPath(new URL('../../core/src/testing/index.ts', import.meta.url));

/** Payments the child must have acknowledged before it is killed. */
const ACKED_BEFORE_KILL = 40;

describe('PGlite after kill -9', () => {
  it('keeps every payment the engine acknowledged before the process was killed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tender-crash-'));
    const dataDir = join(dir, 'data');
    const script = `
      const { createPGliteStore } = await import(${JSON.stringify(storeSource)});
      const { createTender } = await import(${JSON.stringify(coreSource)});
      const { createTestGateway } = await import(${JSON.stringify(testingSource)});
      const store = await createPGliteStore({ dataDir: ${JSON.stringify(dataDir)} });
      const tender = createTender({ gateways: [createTestGateway()], store });
      let n = 0;
      // Four writers at once, as concurrent requests would be; each line is written synchronously (a pipe).
      await Promise.all([0, 1, 2, 3].map(async () => {
        for (;;) {
          const i = n++;
          const p = await tender.payments.create(
            { amount: '5.00', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual', orderId: 'ORD-' + i },
            { idempotencyKey: 'crash-' + i },
          );
          await tender.payments.capture(p.id);
          process.stdout.write('ack ' + p.id + '\\n');
        }
      }));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      const acked = () => out.split('\n').filter((line) => line.startsWith('ack ')).map((line) => line.slice(4));
      while (acked().length < ACKED_BEFORE_KILL) {
        if (child.exitCode !== null) throw new Error(`the child process ended early:\n${out}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGKILL');
      await once(child, 'exit');
      const answered = acked();

      const store = await createPGliteStore({ dataDir });
      try {
        const found = await Promise.all(answered.map((id) => store.getPayment(id)));
        const lost = answered.filter((_, i) => found[i]?.status !== 'CAPTURED');
        expect(lost).toEqual([]);
      } finally {
        await store.close();
      }

      // The setting behind it: PGlite's Postgres writes its WAL at each commit without fsync.
      const db = await PGlite.create(dataDir);
      try {
        const { rows } = await db.query<{ fsync: string; synchronous_commit: string }>(
          "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit",
        );
        expect(rows[0]).toEqual({ fsync: 'off', synchronous_commit: 'on' });
      } finally {
        await db.close();
      }
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
    // Three PGlite starts (one an initdb) and a recovery: slow on a loaded machine.
  }, 240_000);
});
