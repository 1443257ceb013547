/**
 * One process per PGlite data directory: two PGlite instances on one directory overwrite each other's
 * files, and payments acknowledged by one are gone after a restart.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TenderError } from '@tender/core';
import { samplePayment } from '@tender/core/testing';
import { createPGliteStore } from '@tender/store-postgres';
import { describe, expect, it } from 'vitest';

const storeSource = fileURLToPath(new URL('../src/index.ts', import.meta.url));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return TenderError.isInstance(error) ? error.code : String(error);
  }
  return 'opened';
}

describe('a PGlite data directory', () => {
  it('is refused to a second store while the first holds it, and opens once the first is closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tender-lock-'));
    try {
      const first = await createPGliteStore({ dataDir: dir });
      expect(await codeOf(createPGliteStore({ dataDir: dir }))).toBe('data_dir_locked');
      await first.close();
      const second = await createPGliteStore({ dataDir: dir });
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('is refused while another process holds it, and taken over once that process is killed, its data intact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tender-lock-'));
    const script = `
      const { createPGliteStore } = await import(${JSON.stringify(storeSource)});
      const { samplePayment } = await import(${JSON.stringify(fileURLToPath(new URL('../../core/src/testing/index.ts', import.meta.url)))});
      const store = await createPGliteStore({ dataDir: ${JSON.stringify(dir)} });
      await store.transaction((tx) => tx.insertPayment(samplePayment({ id: 'pay_held_by_child', merchantId: 'lock' })));
      console.log('holding');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      while (!out.includes('holding')) {
        if (child.exitCode !== null) throw new Error('the child process ended before it held the directory');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await codeOf(createPGliteStore({ dataDir: dir }))).toBe('data_dir_locked');

      child.kill('SIGKILL');
      await once(child, 'exit');
      // The dead process's lock goes stale within seconds; the directory is then ours.
      const store = await createPGliteStore({ dataDir: dir });
      try {
        expect((await store.getPayment('pay_held_by_child'))?.merchantId).toBe('lock');
      } finally {
        await store.close();
      }
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
    // Refusing a live holder waits out the stale period once, and so does taking over a dead one.
  }, 60_000);
});
