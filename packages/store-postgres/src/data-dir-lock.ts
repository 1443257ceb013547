/**
 * One process per PGlite data directory. Two PGlite instances writing the same directory each keep
 * their own pages and overwrite each other's files: payments acknowledged by one are gone after a
 * restart. So a store that opens a directory first takes a lock beside it (`<dir>.lock`: inside, it
 * would stop PGlite from initialising an empty directory).
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { TenderError } from '@tender/core';
import lockfile from 'proper-lockfile';

/**
 * The holder refreshes the lock this often; a lock not refreshed for {@link STALE_MS} is a dead
 * holder's. The margin is wide because a live holder whose event loop stalls (a busy machine, a long
 * synchronous step) must never look dead: at 5 s a loaded CI machine let a second store open a live
 * holder's directory. A holder on this machine is told apart at once by its process id (kept in the
 * lock), so neither a refusal nor a restart after `kill -9` waits for the stale period.
 */
const UPDATE_MS = 1_000;
const STALE_MS = 12_000;
/** Beside the lock (the lock itself is a directory the lock library must be able to remove empty). */
const ownerFile = (lockPath: string) => `${lockPath}.owner.json`;

/** Whether the process holding the lock is alive, when it left its id and is on this machine. */
function ownerAlive(lockPath: string): boolean | null {
  let owner: { pid?: unknown; host?: unknown };
  try {
    owner = JSON.parse(readFileSync(ownerFile(lockPath), 'utf8')) as { pid?: unknown; host?: unknown };
  } catch {
    return null;
  }
  if (typeof owner.pid !== 'number' || owner.host !== hostname()) return null;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

function locked(dir: string): TenderError {
  return new TenderError({
    type: 'storage_error',
    code: 'data_dir_locked',
    message: `The PGlite data directory ${dir} is in use by another process or store; one process per directory (use Postgres to share storage)`,
  });
}

/**
 * Locks `dir` for this process. A lock left by a process of this machine that is gone is taken over
 * at once; otherwise the wait is long enough for a dead holder's lock to go stale. Resolves with the
 * release.
 * @throws TenderError `storage_error`/`data_dir_locked` while another live process (or store) holds it.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  const lockPath = `${resolve(dir)}.lock`;
  const alive = existsSync(lockPath) ? ownerAlive(lockPath) : null;
  // This process (another store) or another live one: refuse without waiting.
  if (alive === true) throw locked(dir);
  if (alive === false) {
    // Its holder is dead: age the lock so the lock below takes it over without waiting.
    const past = new Date(Date.now() - 2 * STALE_MS);
    try {
      utimesSync(lockPath, past, past);
    } catch {
      // Gone meanwhile: nothing to take over.
    }
  }
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, {
      lockfilePath: lockPath,
      stale: STALE_MS,
      update: UPDATE_MS,
      retries: { retries: Math.ceil(STALE_MS / 500) + 2, factor: 1, minTimeout: 500, maxTimeout: 500 },
    });
  } catch (error) {
    if ((error as { code?: string }).code !== 'ELOCKED') throw error;
    throw locked(dir);
  }
  writeFileSync(ownerFile(lockPath), JSON.stringify({ pid: process.pid, host: hostname() }));
  return async () => {
    rmSync(ownerFile(lockPath), { force: true });
    await release();
  };
}
