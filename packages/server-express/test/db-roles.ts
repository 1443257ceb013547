/**
 * deploy/sql/roles.sql for tests: unique role names per test file (roles are per cluster), a random
 * password each (so the URLs work under trust and password authentication alike), run with the real
 * `psql` as the suite's superuser, and dropped afterwards.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { DATABASE_URL } from './pg';

const run = promisify(execFile);

/** The roles script under test. */
export const ROLES_SQL = fileURLToPath(new URL('../../../deploy/sql/roles.sql', import.meta.url));

/** The suite's database URL, on another database when one is named. */
export function databaseUrl(database?: string): string {
  if (database === undefined) return DATABASE_URL;
  const url = new URL(DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs statements as the suite's superuser (on `database`, default the suite's). */
export async function superuser<T = void>(fn: (client: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs a PostgreSQL client program (psql, pg_dump, pg_restore); rejects with its stderr on failure. */
export async function pgTool(program: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(program, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
  } catch (error) {
    const e = error as { stderr?: string; code?: number };
    throw new Error(`${program} failed (exit ${e.code}): ${e.stderr ?? String(error)}`);
  }
}

/** roles.sql's three roles for one test file, with unique names; create them with {@link TenderRoles.apply}. */
export class TenderRoles {
  readonly owner: string;
  readonly app: string;
  readonly readonly: string;
  readonly #passwords = new Map<string, string>();

  constructor(readonly schema: string) {
    const suffix = randomBytes(4).toString('hex');
    this.owner = `tender_owner_${suffix}`;
    this.app = `tender_app_${suffix}`;
    this.readonly = `tender_ro_${suffix}`;
  }

  /** A URL of `database` (default the suite's) logging in as `role`. */
  url(role: string, database?: string): string {
    const password = this.#passwords.get(role);
    if (password === undefined) throw new Error(`no password set for ${role}: run apply() first`);
    const url = new URL(databaseUrl(database));
    url.username = role;
    url.password = password;
    return url.toString();
  }

  /** `psql -v ... -f deploy/sql/roles.sql` as the superuser on `database`; gives each role a password the first time. */
  async apply(options: { database?: string; variables?: Record<string, string> } = {}): Promise<void> {
    const variables = { schema: this.schema, owner_role: this.owner, app_role: this.app, readonly_role: this.readonly, ...options.variables };
    await pgTool('psql', ['-X', '-q', '-d', databaseUrl(options.database), ...Object.entries(variables).flatMap(([k, v]) => ['-v', `${k}=${v}`]), '-f', ROLES_SQL]);
    for (const role of [this.owner, this.app, this.readonly]) {
      if (this.#passwords.has(role)) continue;
      const password = randomBytes(18).toString('hex');
      await superuser((c) => c.query(`ALTER ROLE "${role}" PASSWORD '${password}'`));
      this.#passwords.set(role, password);
    }
  }

  /** A client logged in as `role`. */
  async connect(role: string, database?: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url(role, database) });
    await client.connect();
    return client;
  }

  /** Drops what the roles own or were granted in `databases` (default the suite's), then the roles. */
  async drop(databases: Array<string | undefined> = [undefined]): Promise<void> {
    const names = [this.owner, this.app, this.readonly];
    for (const database of databases) {
      await superuser(async (c) => {
        const { rows } = await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [names]);
        if (rows.length > 0) await c.query(`DROP OWNED BY ${rows.map((r) => `"${r.rolname}"`).join(', ')} CASCADE`);
      }, database);
    }
    await superuser(async (c) => {
      for (const name of names) await c.query(`DROP ROLE IF EXISTS "${name}"`);
    });
  }
}

/** The SQLSTATE a statement fails with, or null when it succeeds. */
export async function sqlstateOf(client: pg.Client, sql: string): Promise<string | null> {
  try {
    await client.query(sql);
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? 'unknown';
  }
}
