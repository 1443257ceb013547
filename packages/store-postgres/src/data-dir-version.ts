/**
 * Which Postgres a PGlite data directory was written by. Postgres keeps no on-disk compatibility
 * between major versions, and each PGlite minor line embeds one major (0.2: 16, 0.3: 17, 0.5: 18), so a
 * directory written by an older PGlite cannot be opened by a newer one: PGlite itself only fails with
 * "PGlite failed to initialize properly". The store reads the directory's `PG_VERSION` first and says
 * what happened and what to do instead. Upgrade path: docs/upgrading-pglite.md (dump with the old
 * PGlite, restore with the new one, as https://pglite.dev/docs/upgrade describes).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TenderError } from '@tender/core';

/**
 * The Postgres major of the installed `@electric-sql/pglite` (0.5.x embeds Postgres 18). A test opens
 * a fresh directory, reopens it and reads its `PG_VERSION`, so a PGlite upgrade that changes the major
 * fails there until this is updated.
 */
export const PGLITE_POSTGRES_MAJOR = 18;

/**
 * Resolves when `dir` is new (no `PG_VERSION` yet) or was written by this PGlite's Postgres major.
 * @throws TenderError `storage_error`/`pglite_data_dir_incompatible` when another major wrote it; the
 *   directory is left untouched.
 */
export function checkDataDirVersion(dir: string): void {
  let found: string;
  try {
    found = readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return;
    throw error;
  }
  if (found === String(PGLITE_POSTGRES_MAJOR)) return;
  const older = Number(found) < PGLITE_POSTGRES_MAJOR;
  throw new TenderError({
    type: 'storage_error',
    code: 'pglite_data_dir_incompatible',
    message: older
      ? `The PGlite data directory ${dir} was written by Postgres ${found} (an older @electric-sql/pglite); this version runs Postgres ${PGLITE_POSTGRES_MAJOR} and cannot open it. ` +
        'Dump it with the PGlite version that wrote it and restore the dump into a new directory (docs/upgrading-pglite.md); the directory was not changed'
      : `The PGlite data directory ${dir} was written by Postgres ${found} (a newer @electric-sql/pglite); this version runs Postgres ${PGLITE_POSTGRES_MAJOR} and cannot open it. Use the newer version; the directory was not changed`,
    details: { dataDir: dir, dataDirPostgresMajor: found, pglitePostgresMajor: String(PGLITE_POSTGRES_MAJOR) },
  });
}
