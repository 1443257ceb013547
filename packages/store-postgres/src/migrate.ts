/**
 * Versioned, forward-only migrations. All pending migrations run in one transaction that first takes a
 * transaction-scoped advisory lock keyed by the schema name, so several instances starting together
 * apply each migration exactly once: the others wait, then find nothing left to do. Postgres DDL is
 * transactional, so a failed migration leaves the schema as it was.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { TenderError } from '@tender/core';
import type { Driver } from './driver';
import { toStoreError } from './errors';
import { initial } from './migrations/0001-initial';
import { webhookEndpoints } from './migrations/0002-webhook-endpoints';
import { flushConflict } from './migrations/0003-flush-conflict';
import { webhookDeliveries } from './migrations/0004-webhook-deliveries';
import { gatewayOrder } from './migrations/0005-gateway-order';
import { outboxRelay } from './migrations/0006-outbox-relay';
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

/**
 * Brings `schema` up to the latest {@link MIGRATIONS}. Safe to call from many processes at once.
 * @throws TenderError `storage_error`/`migration_checksum_mismatch` when an applied migration's SQL
 *   differs from the shipped one (someone edited a released migration).
 */
export async function runMigrations(driver: Driver, schema: string): Promise<MigrationResult> {
  const ident = quoteIdent(schema);
  try {
    return await driver.transaction(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`tender.migrate:${schema}`]);
      await q.exec(
        `CREATE SCHEMA IF NOT EXISTS ${ident};
         SET LOCAL search_path TO ${ident};
         CREATE TABLE IF NOT EXISTS ${ident}.schema_migrations (
           version    integer PRIMARY KEY,
           name       text NOT NULL,
           checksum   text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         );`,
      );
      const { rows } = await q.query<{ version: number; checksum: string }>(
        `SELECT version, checksum FROM ${ident}.schema_migrations ORDER BY version`,
      );
      const recorded = new Map(rows.map((r) => [Number(r.version), r.checksum]));
      const applied: number[] = [];
      for (const migration of MIGRATIONS) {
        const sum = checksum(migration.sql);
        const existing = recorded.get(migration.version);
        if (existing !== undefined) {
          if (existing !== sum) {
            throw new TenderError({
              type: 'storage_error',
              code: 'migration_checksum_mismatch',
              message: `Migration ${migration.version} (${migration.name}) in schema ${schema} was applied from different SQL than this package ships`,
            });
          }
          continue;
        }
        await q.exec(migration.sql);
        await q.query(`INSERT INTO ${ident}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
          migration.version,
          migration.name,
          sum,
        ]);
        applied.push(migration.version);
      }
      // A newer package may have migrated further; forward-only migrations keep older code working.
      const current = Math.max(0, ...recorded.keys(), ...applied);
      return { schema, applied, current };
    });
  } catch (error) {
    throw toStoreError(error);
  }
}
