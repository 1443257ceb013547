/**
 * Migration 14: settlement reconciliation runs (core's optional `SettlementStore` spec).
 *
 * - One row per run: (merchant, gateway, day, version) is unique, the account-wide runs (merchant_id
 *   null) included (`NULLS NOT DISTINCT`, Postgres 15: https://www.postgresql.org/docs/15/sql-createtable.html);
 *   a re-run adds a version, older versions stay (history).
 * - The classified lines, counts and per-currency totals are JSONB of the run: a run is written once
 *   and read whole (`GET /admin/settlements`, the CSV export), never queried line by line.
 * - The day's settled records are read from the audit trail: a partial index on the transitions that
 *   move money (`CAPTURED` payments, `SUCCEEDED` refunds) by time, so a day's window is an index range
 *   however long the trail grows.
 */
export const settlements = `
CREATE TABLE settlement_runs (
  id          text PRIMARY KEY,
  merchant_id text,
  gateway     text NOT NULL,
  date        text NOT NULL CONSTRAINT settlement_runs_date_check CHECK (date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
  version     integer NOT NULL CONSTRAINT settlement_runs_version_check CHECK (version >= 1),
  created_at  timestamptz NOT NULL,
  counts      jsonb NOT NULL,
  totals      jsonb NOT NULL,
  lines       jsonb NOT NULL,
  CONSTRAINT settlement_runs_version_key UNIQUE NULLS NOT DISTINCT (merchant_id, gateway, date, version)
);
CREATE INDEX transitions_settled_idx ON transitions (at) WHERE to_status IN ('CAPTURED', 'SUCCEEDED');
`;
