/**
 * Schema naming. Tender keeps its tables in one Postgres schema (default {@link DEFAULT_SCHEMA}) so
 * they never collide with an application's own tables and several isolated copies can share a database.
 *
 * @module
 */
import { invalidRequest } from '@tender/core';

/** The schema Tender uses when none is given. */
export const DEFAULT_SCHEMA = 'tender';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks a schema name. Only lower-case identifiers are accepted so the name means the same thing
 * quoted or not (and can be interpolated into SQL safely).
 * @throws TenderError `invalid_schema` otherwise.
 */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw invalidRequest('invalid_schema', `Schema name must match ${SCHEMA_NAME.source}, got '${schema}'`, 'schema');
  }
  return schema;
}

/** A safely quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${checkSchemaName(name)}"`;
}
