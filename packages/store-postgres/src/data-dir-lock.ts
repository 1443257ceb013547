/**
 * One process per PGlite data directory. Two PGlite instances writing the same directory each keep
 * their own pages and overwrite each other's files: payments acknowledged by one are gone after a
 * restart. So a store that opens a directory first takes a lock beside it (`<dir>.lock`: inside, it
 * would stop PGlite from initialising an empty directory).
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { TenderError } from '@tender/core';
import lockfile from 'proper-lockfile';

/** The holder refreshes the lock this often; a lock not refreshed for {@link STALE_MS} is a dead holder's. */
const UPDATE_MS = 1_000;
const STALE_MS = 5_000;

/**
 * Locks `dir` for this process, waiting long enough for the lock of a process that died (e.g. was
 * killed) to go stale. Resolves with the release.
 * @throws TenderError `storage_error`/`data_dir_locked` while another live process (or store) holds it.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  try {
    return await lockfile.lock(dir, {
      lockfilePath: `${resolve(dir)}.lock`,
      stale: STALE_MS,
      update: UPDATE_MS,
      retries: { retries: Math.ceil(STALE_MS / 500) + 2, factor: 1, minTimeout: 500, maxTimeout: 500 },
    });
  } catch (error) {
    if ((error as { code?: string }).code !== 'ELOCKED') throw error;
    throw new TenderError({
      type: 'storage_error',
      code: 'data_dir_locked',
      message: `The PGlite data directory ${dir} is in use by another process or store; one process per directory (use Postgres to share storage)`,
    });
  }
}
