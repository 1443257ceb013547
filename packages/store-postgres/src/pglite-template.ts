/**
 * A new PGlite database from a template instead of `initdb`.
 *
 * A new PGlite runs Postgres's `initdb` inside WASM, which takes seconds (most of a new embedded
 * store's start). Every database a given PGlite build initialises is the same, so the first one is
 * dumped (`dumpDataDir`, a gzipped tarball of a few MB) and later ones start from it
 * (`loadDataDir`, https://pglite.dev/docs/api#loaddatadir): about a second instead of several.
 *
 * The template is kept in memory for the process and in a per-user cache directory for later
 * processes, named for the PGlite version that wrote it, so an upgraded PGlite never loads another
 * version's files. The directory must belong to the user and be closed to others (a template from
 * anyone else is not trusted); a template that fails to load is deleted and the database is made the
 * usual way. Only the empty cluster is templated: Tender's schema is still created by the migrations.
 * Databases made from one template share Postgres's system identifier (set by `initdb`), which only
 * physical replication looks at; PGlite has none.
 *
 * @module
 */
import { PGlite } from '@electric-sql/pglite';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGLITE_POSTGRES_MAJOR } from './data-dir-version';

/** The installed PGlite's version, read from its package.json; null when it cannot be found. */
function pgliteVersion(): string | null {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    for (let i = 0; i < 6; i += 1) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === '@electric-sql/pglite' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // No package.json at this level: keep walking up.
      }
      dir = dirname(dir);
    }
  } catch {
    // Not resolvable from here (an unusual bundle): no template.
  }
  return null;
}

/** The cache directory, created closed to other users; null when it is not safe or not possible. */
function cacheDir(): string | null {
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const dir = join(tmpdir(), `tender-pglite-${uid ?? 'user'}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || stat.isSymbolicLink()) return null;
    if (uid !== null && (stat.uid !== uid || (stat.mode & 0o077) !== 0)) return null;
    return dir;
  } catch {
    return null;
  }
}

let memo: { version: string; blob: Promise<Blob | null> } | null = null;

function templateFile(version: string): string | null {
  const dir = cacheDir();
  return dir ? join(dir, `pglite-${version}-pg${PGLITE_POSTGRES_MAJOR}.tar.gz`) : null;
}

function readTemplate(version: string): Blob | null {
  const file = templateFile(version);
  if (!file) return null;
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    return null;
  }
}

function writeTemplate(version: string, bytes: Uint8Array): void {
  const file = templateFile(version);
  if (!file) return;
  // Written beside and renamed: a concurrent reader sees the whole file or none.
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(partial, bytes, { mode: 0o600 });
    renameSync(partial, file);
  } catch {
    rmSync(partial, { force: true });
  }
}

function forgetTemplate(version: string): void {
  const file = templateFile(version);
  if (file) rmSync(file, { force: true });
  memo = null;
}

/** True when `dir` does not exist yet or is an empty directory: a database there is new. */
export function isNewDataDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (error) {
    return (error as { code?: string }).code === 'ENOENT';
  }
}

/**
 * Opens a new PGlite database (in memory, or in `dataDir`, which must be new: see
 * {@link isNewDataDir}) from the template, making the template from this database when there is none yet.
 */
export async function createPGliteFromTemplate(dataDir?: string): Promise<PGlite> {
  const version = pgliteVersion();
  if (!version) return PGlite.create(dataDir);
  if (!memo || memo.version !== version) memo = { version, blob: Promise.resolve(readTemplate(version)) };
  const blob = await memo.blob;
  if (blob) {
    try {
      return await PGlite.create(dataDir, { loadDataDir: blob });
    } catch {
      forgetTemplate(version);
      // The directory was new: what the failed load left in it goes, so initdb finds it empty.
      if (dataDir !== undefined) for (const entry of readdirSync(dataDir)) rmSync(join(dataDir, entry), { recursive: true, force: true });
    }
  }
  const db = await PGlite.create(dataDir);
  try {
    const dumped = await db.dumpDataDir('gzip');
    memo = { version, blob: Promise.resolve(dumped) };
    writeTemplate(version, new Uint8Array(await dumped.arrayBuffer()));
  } catch {
    // Without a template the next database is made with initdb again; nothing else depends on it.
  }
  return db;
}
