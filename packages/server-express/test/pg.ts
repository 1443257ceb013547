import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresStore } from '@tender/store-postgres';

/** The real Postgres the suite runs against. */
export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema name for one test file. */
export function freshSchema(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export async function pgStore(schema: string, max = 10) {
  return createPostgresStore({ connectionString: DATABASE_URL, schema, poolConfig: { max } });
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
