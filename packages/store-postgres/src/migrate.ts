/**
 * Versioned, forward-only migrations. All pending migrations run in one transaction that first takes a
 * transaction-scoped advisory lock keyed by the schema name, so several instances starting together
 * apply each migration exactly once: the others wait, then find nothing left to do. Postgres DDL is
 * transactional, so a failed migration leaves the schema as it was.
 *
 * An up-to-date schema is recognised by reading `schema_migrations` alone, before any lock or DDL, so
 * a role with DML privileges only (deploy/sql/roles.sql's application role) can open the store once
 * the owner role has migrated it; such a role meeting pending migrations fails with
 * `migration_not_permitted`, naming what to run.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { TenderError } from '@tender/core';
import type { Driver, Queryable } from './driver';
import { toStoreError } from './errors';
import { initial } from './migrations/0001-initial';
import { webhookEndpoints } from './migrations/0002-webhook-endpoints';
import { flushConflict } from './migrations/0003-flush-conflict';
import { webhookDeliveries } from './migrations/0004-webhook-deliveries';
import { gatewayOrder } from './migrations/0005-gateway-order';
import { outboxRelay } from './migrations/0006-outbox-relay';
import { retention } from './migrations/0007-retention';
import { hotUpdates } from './migrations/0008-hot-updates';
import { outboxSnapshotOnce } from './migrations/0009-outbox-snapshot-once';
import { billing } from './migrations/0010-billing';
import { risk } from './migrations/0011-risk';
import { disputes } from './migrations/0012-disputes';
import { analytics } from './migrations/0013-analytics';
import { settlements } from './migrations/0014-settlements';
import { eventList } from './migrations/0015-event-list';
import { quoteIdent } from './schema';

/** One schema change shipped with the package. */
export interface Migration {
  /** Applied in increasing order; never reused. */
  version: number;
  name: string;
  /** SQL run with `search_path` set to the target schema. */
  sql: string;
}

/** Every migration this version of the package knows, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'webhook_endpoints', sql: webhookEndpoints },
  { version: 3, name: 'flush_conflict', sql: flushConflict },
  { version: 4, name: 'webhook_deliveries', sql: webhookDeliveries },
  { version: 5, name: 'gateway_order', sql: gatewayOrder },
  { version: 6, name: 'outbox_relay', sql: outboxRelay },
  { version: 7, name: 'retention', sql: retention },
  { version: 8, name: 'hot_updates', sql: hotUpdates },
  { version: 9, name: 'outbox_snapshot_once', sql: outboxSnapshotOnce },
  { version: 10, name: 'billing', sql: billing },
  { version: 11, name: 'risk', sql: risk },
  { version: 12, name: 'disputes', sql: disputes },
  { version: 13, name: 'analytics', sql: analytics },
  { version: 14, name: 'settlements', sql: settlements },
  { version: 15, name: 'event_list', sql: eventList },
];

/** What a migration run did (the result of {@link migrate}). */
export interface MigrationResult {
  schema: string;
  /** Versions applied by this call (empty when the schema was up to date). */
  applied: number[];
  /** Highest version now recorded in the schema. */
  current: number;
}

function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Shipped migrations not in `recorded`; throws on a recorded one whose SQL differs from the shipped one. */
function pendingMigrations(schema: string, recorded: ReadonlyMap<number, string>): Migration[] {
  const pending: Migration[] = [];
  for (const migration of MIGRATIONS) {
    const existing = recorded.get(migration.version);
    if (existing === undefined) {
      pending.push(migration);
    } else if (existing !== checksum(migration.sql)) {
      throw new TenderError({
        type: 'storage_error',
        code: 'migration_checksum_mismatch',
        message: `Migration ${migration.version} (${migration.name}) in schema ${schema} was applied from different SQL than this package ships`,
      });
    }
  }
  return pending;
}

/** The recorded versions and checksums, or null when the schema or its `schema_migrations` table is missing. */
async function readRecorded(q: Queryable, schema: string): Promise<Map<number, string> | null> {
  const { rows: found } = await q.query<{ table: string | null }>('SELECT to_regclass($1)::text AS table', [`${quoteIdent(schema)}.schema_migrations`]);
  if (!found[0]?.table) return null;
  const { rows } = await q.query<{ version: number; checksum: string }>(`SELECT version, checksum FROM ${quoteIdent(schema)}.schema_migrations ORDER BY version`);
  return new Map(rows.map((r) => [Number(r.version), r.checksum]));
}

function notPermitted(schema: string, recorded: ReadonlyMap<number, string> | null, error: unknown): TenderError {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  const at = recorded ? Math.max(0, ...recorded.keys()) : 0;
  return new TenderError({
    type: 'storage_error',
    code: 'migration_not_permitted',
    message: `Schema '${schema}' is at migration ${at} and this version of @tender/store-postgres needs ${latest}, but this database role may not change the schema (${(error as { message?: string }).message ?? 'permission denied'}); run tender-server migrate as the schema's owner role first`,
    details: { sqlstate: '42501' },
    cause: error,
  });
}

/**
 * Brings `schema` up to the latest {@link MIGRATIONS}. Safe to call from many processes at once. When
 * the schema is up to date it only reads `schema_migrations` (no lock, no DDL).
 * @throws TenderError `storage_error`/`migration_checksum_mismatch` when an applied migration's SQL
 *   differs from the shipped one (someone edited a released migration); `storage_error`/
 *   `migration_not_permitted` when migrations are pending and the role may not run DDL.
 */
export async function runMigrations(driver: Driver, schema: string): Promise<MigrationResult> {
  const ident = quoteIdent(schema);
  let seen: Map<number, string> | null = null;
  try {
    // Read-only first: committed rows only, so a migration under way elsewhere reads as pending here.
    seen = await readRecorded(driver, schema);
    if (seen !== null && pendingMigrations(schema, seen).length === 0) {
      return { schema, applied: [], current: Math.max(0, ...seen.keys()) };
    }
    return await driver.transaction(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`tender.migrate:${schema}`]);
      // Postgres checks CREATE privileges even for IF NOT EXISTS: only what is missing is created.
      const { rows: namespaces } = await q.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (namespaces.length === 0) await q.exec(`CREATE SCHEMA ${ident}`);
      await q.exec(`SET LOCAL search_path TO ${ident}`);
      let recorded = await readRecorded(q, schema);
      seen = recorded;
      if (recorded === null) {
        await q.exec(
          `CREATE TABLE ${ident}.schema_migrations (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             checksum   text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
           );`,
        );
        recorded = new Map();
      }
      const applied: number[] = [];
      for (const migration of pendingMigrations(schema, recorded)) {
        await q.exec(migration.sql);
        await q.query(`INSERT INTO ${ident}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
          migration.version,
          migration.name,
          checksum(migration.sql),
        ]);
        applied.push(migration.version);
      }
      // A newer package may have migrated further; forward-only migrations keep older code working.
      const current = Math.max(0, ...recorded.keys(), ...applied);
      return { schema, applied, current };
    });
  } catch (error) {
    if ((error as { code?: string } | null)?.code === '42501') throw notPermitted(schema, seen, error);
    throw toStoreError(error);
  }
}
