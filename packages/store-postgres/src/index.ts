/**
 * `@tender/store-postgres`: the Tender Store on Postgres, through node-postgres (`pg.Pool`, production)
 * or PGlite (embedded, zero setup). One SQL schema, versioned forward-only migrations applied under an
 * advisory lock, database-level constraints for every uniqueness and money rule the engine relies on.
 *
 * Tables live in the schema `tender` unless the `schema` option says otherwise.
 *
 * @packageDocumentation
 */
export { createPostgresStore, createPGliteStore, migrate, GENERIC_PLANS_OPTION } from './factories';
export type { CreatePostgresStoreOptions, CreatePGliteStoreOptions } from './factories';
export { PostgresStore } from './store';
export type { PostgresStoreOptions } from './store';
export type { GroupCommitOptions, GroupCommitStats } from './group-commit';
export type { PoolStats } from './driver';
export type { QueryListener } from './drivers/observed';
export { MIGRATIONS } from './migrate';
export type { Migration, MigrationResult } from './migrate';
export { DEFAULT_SCHEMA } from './schema';
export { isConnectionError } from './errors';
export { PostgresVelocityStore, createPostgresVelocityStore, type CreatePostgresVelocityStoreOptions } from './velocity-store';
export { buildAnalyticsStatements, type AnalyticsStatements } from './analytics';
export { analyticsBackfill } from './migrations/0013-analytics';
