/**
 * A PGlite data directory written by another Postgres major (PGlite 0.3.x wrote Postgres 17; 0.5.x
 * runs 18) is refused with a typed error before PGlite touches it, and the directory stays as it was.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TenderError } from '@tender/core';
import { createPGliteStore } from '@tender/store-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tender-pglite-version-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(dataDir: string): Promise<TenderError> {
  const error = await createPGliteStore({ dataDir }).then(
    async (store) => {
      await store.close();
      return null;
    },
    (e: unknown) => e,
  );
  if (!TenderError.isInstance(error)) throw new Error(`expected a TenderError, got ${String(error)}`);
  return error;
}

describe('PGlite data directory version', () => {
  let major: string;

  it('refuses a directory of an older Postgres major, names both versions and leaves it unchanged', async () => {
    // The top of a directory as PGlite 0.3 leaves it (Postgres 17).
    const old = join(dir, 'from-0.3');
    await mkdir(join(old, 'base', '1'), { recursive: true });
    await writeFile(join(old, 'PG_VERSION'), '17\n');
    await writeFile(join(old, 'base', '1', 'PG_VERSION'), '17\n');
    await writeFile(join(old, 'postgresql.conf'), '# written by PGlite 0.3\n');
    const before = await readdir(old, { recursive: true });

    const error = await refusal(old);
    expect(error.type).toBe('storage_error');
    expect(error.code).toBe('pglite_data_dir_incompatible');
    expect(error.message).toContain('Postgres 17');
    expect(error.message).toContain('docs/upgrading-pglite.md');
    expect(error.details).toMatchObject({ dataDir: old, dataDirPostgresMajor: '17' });
    major = String((error.details as { pglitePostgresMajor: string }).pglitePostgresMajor);
    expect(Number(major)).toBeGreaterThan(17);

    expect(await readdir(old, { recursive: true })).toEqual(before);
    expect(await readFile(join(old, 'PG_VERSION'), 'utf8')).toBe('17\n');
    // The lock was released: a second attempt meets the same refusal, not `data_dir_locked`.
    expect((await refusal(old)).code).toBe('pglite_data_dir_incompatible');
  });

  it('refuses a directory of a newer major, telling the user to run the newer version', async () => {
    const newer = join(dir, 'from-the-future');
    await mkdir(newer, { recursive: true });
    await writeFile(join(newer, 'PG_VERSION'), '99\n');
    const error = await refusal(newer);
    expect(error.code).toBe('pglite_data_dir_incompatible');
    expect(error.message).toContain('newer');
  });

  it('writes the major it expects into a new directory, and opens it again', async () => {
    const fresh = join(dir, 'fresh');
    const first = await createPGliteStore({ dataDir: fresh });
    await first.close();
    expect((await readFile(join(fresh, 'PG_VERSION'), 'utf8')).trim()).toBe(major);
    const again = await createPGliteStore({ dataDir: fresh });
    await expect(again.ping()).resolves.toBeUndefined();
    await again.close();
    // Two PGlite starts (one an initdb): seconds each on a loaded machine.
  }, 180_000);
});
