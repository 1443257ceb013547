/**
 * Migration 11: risk (core's `risk/` module): payments held for review, and the velocity store's
 * attempts.
 *
 * - `REQUIRES_REVIEW` (the risk engine's review band, `@tender/core`'s `PAYMENT_STATUSES`) becomes a
 *   status payments and their transitions may hold. The checks are replaced by wider ones added
 *   `NOT VALID`: every existing row passed the narrower check, so the full-table scan that validating
 *   would run under the ACCESS EXCLUSIVE lock of `ALTER TABLE` proves nothing and is skipped; new and
 *   updated rows are checked as before
 *   (https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT).
 * - `risk_velocity`: one row per (key kind, hashed key value, attempt). The key values are opaque
 *   SHA-256 digests made by the risk engine (no email, IP or fingerprint is stored). The primary key
 *   records an attempt once per key (a retried attempt is not counted twice); counts over a window
 *   read the `(kind, key, at)` index, whose INCLUDE columns answer sums per currency from the index
 *   alone; pruning reads the `at` index.
 */
export const risk = `
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN
  ('PENDING','REQUIRES_REVIEW','REQUIRES_ACTION','PROCESSING','AUTHORIZED','CAPTURED',
   'PARTIALLY_REFUNDED','REFUNDED','FAILED','CANCELLED','EXPIRED')) NOT VALID;
ALTER TABLE transitions DROP CONSTRAINT transitions_status_check;
ALTER TABLE transitions ADD CONSTRAINT transitions_status_check CHECK (to_status IN
  ('PENDING','REQUIRES_REVIEW','REQUIRES_ACTION','PROCESSING','AUTHORIZED','CAPTURED','PARTIALLY_REFUNDED',
   'REFUNDED','FAILED','CANCELLED','EXPIRED','SUCCEEDED')) NOT VALID;

CREATE TABLE risk_velocity (
  kind         text NOT NULL CONSTRAINT risk_velocity_kind_check CHECK (kind IN ('user','email','card_fingerprint','ip','device')),
  key          text NOT NULL,
  attempt_id   text NOT NULL,
  at           timestamptz NOT NULL,
  amount_minor bigint NOT NULL CONSTRAINT risk_velocity_amount_check CHECK (amount_minor >= 0),
  currency     text NOT NULL CONSTRAINT risk_velocity_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  CONSTRAINT risk_velocity_pkey PRIMARY KEY (kind, key, attempt_id)
);
CREATE INDEX risk_velocity_window_idx ON risk_velocity (kind, key, at) INCLUDE (amount_minor, currency);
CREATE INDEX risk_velocity_at_idx ON risk_velocity (at);
`;
