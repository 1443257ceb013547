/**
 * Migration 13: payment analytics rolled up per UTC day (the `AnalyticsStore` part of the store).
 *
 * Four tables hold per (merchant, day of creation, gateway, method, currency) what analytics sums:
 * payments and captured amounts by status, succeeded refunds, the processing-time histogram (buckets of
 * `analytics_bucket`, the spec's `processingTimeBucket`) and the decline codes of failed payments.
 * Triggers on `payments`, `refunds` and `transitions` keep them in the same transaction as the write
 * they follow, whatever statement made it (the store's batched writes, group commit, maintenance).
 * A month of a million payments then reads a few thousand rows instead of a million
 * (bench/analytics.bench.ts measures both).
 *
 * Every change is a signed delta (minus what the row counted before, plus what it counts now) added to
 * one of 64 rows per key (`writer`, the writing transaction's id modulo 64): a single busy row per
 * merchant and day would serialise every payment write of it, while two concurrent transactions
 * share a row only for 1 pair in 64 (and then only for the same merchant, day, gateway, method and
 * currency), and a key never has more than 64 rows however often connections come and go (a row per
 * backend would grow with every reconnection). Readers sum over `writer`; one row may hold a
 * negative count, the sum never does.
 *
 * Existing data is rolled up here (writer 0). Functions run with the schema's search path
 * (`SET search_path FROM CURRENT`), since the store's statements are schema-qualified and sessions
 * keep the default search path.
 */
/**
 * Rolls up what is stored (writer 0) into the empty rollup tables: the end of migration 13, and how
 * a benchmark fills the rollup of rows it generated (bench/analytics.bench.ts). Runs with
 * `search_path` set to the schema.
 */
export const analyticsBackfill = `-- What is already stored.
INSERT INTO analytics_payments_daily
  SELECT merchant_id, (created_at AT TIME ZONE 'UTC')::date, gateway, analytics_method(payment_method), currency, status, 0, count(*), sum(amount_captured)
  FROM payments GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO analytics_declines_daily
  SELECT merchant_id, (created_at AT TIME ZONE 'UTC')::date, gateway, analytics_method(payment_method), currency, analytics_decline_code(failure), 0, count(*)
  FROM payments WHERE status = 'FAILED' GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO analytics_refunds_daily
  SELECT p.merchant_id, (p.created_at AT TIME ZONE 'UTC')::date, p.gateway, analytics_method(p.payment_method), p.currency, 0, sum(r.amount)
  FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.status = 'SUCCEEDED' GROUP BY 1, 2, 3, 4, 5;
INSERT INTO analytics_latency_daily
  SELECT p.merchant_id, (p.created_at AT TIME ZONE 'UTC')::date, p.gateway, analytics_method(p.payment_method), p.currency,
         analytics_bucket(round(extract(epoch FROM f.at - p.created_at) * 1000)::bigint), 0, count(*)
  FROM payments p
  JOIN LATERAL (SELECT t.at FROM transitions t WHERE t.payment_id = p.id AND t.refund_id IS NULL AND t.to_status IN ('AUTHORIZED', 'CAPTURED')
                  AND t.from_status IS DISTINCT FROM t.to_status ORDER BY t.seq LIMIT 1) f ON true
  GROUP BY 1, 2, 3, 4, 5, 6;
`;

export const analytics = `
CREATE TABLE analytics_payments_daily (
  merchant_id text NOT NULL,
  day         date NOT NULL,
  gateway     text NOT NULL,
  method      text NOT NULL,
  currency    text NOT NULL,
  status      text NOT NULL,
  writer      integer NOT NULL,
  payments    bigint NOT NULL,
  captured    numeric(38,4) NOT NULL,
  CONSTRAINT analytics_payments_daily_pkey PRIMARY KEY (merchant_id, day, gateway, method, currency, status, writer)
);
CREATE INDEX analytics_payments_daily_day_idx ON analytics_payments_daily (day);

CREATE TABLE analytics_refunds_daily (
  merchant_id text NOT NULL,
  day         date NOT NULL,
  gateway     text NOT NULL,
  method      text NOT NULL,
  currency    text NOT NULL,
  writer      integer NOT NULL,
  refunded    numeric(38,4) NOT NULL,
  CONSTRAINT analytics_refunds_daily_pkey PRIMARY KEY (merchant_id, day, gateway, method, currency, writer)
);
CREATE INDEX analytics_refunds_daily_day_idx ON analytics_refunds_daily (day);

CREATE TABLE analytics_latency_daily (
  merchant_id text NOT NULL,
  day         date NOT NULL,
  gateway     text NOT NULL,
  method      text NOT NULL,
  currency    text NOT NULL,
  bucket      bigint NOT NULL,
  writer      integer NOT NULL,
  payments    bigint NOT NULL,
  CONSTRAINT analytics_latency_daily_pkey PRIMARY KEY (merchant_id, day, gateway, method, currency, bucket, writer)
);
CREATE INDEX analytics_latency_daily_day_idx ON analytics_latency_daily (day);

CREATE TABLE analytics_declines_daily (
  merchant_id text NOT NULL,
  day         date NOT NULL,
  gateway     text NOT NULL,
  method      text NOT NULL,
  currency    text NOT NULL,
  code        text NOT NULL,
  writer      integer NOT NULL,
  payments    bigint NOT NULL,
  CONSTRAINT analytics_declines_daily_pkey PRIMARY KEY (merchant_id, day, gateway, method, currency, code, writer)
);
CREATE INDEX analytics_declines_daily_day_idx ON analytics_declines_daily (day);

-- processingTimeBucket of the spec: ms rounded up to two significant digits (0-99 exactly).
CREATE FUNCTION analytics_bucket(ms bigint) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN ms < 100 THEN greatest(ms, 0)
    ELSE (ceil(ms::numeric / (10::numeric ^ (length(ms::text) - 2))) * (10::numeric ^ (length(ms::text) - 2)))::bigint END
$$;

-- The method group of a payment (the spec's analyticsMethod): 'none' without one, 'token' for a
-- gateway's or Tender's payment method id (pm_..., spm_...), else the method name.
CREATE FUNCTION analytics_method(method text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN method IS NULL THEN 'none' WHEN method ~ '^(pm|card|src|tok|ba|spm)_[A-Za-z0-9_]+$' THEN 'token' ELSE method END
$$;

-- The decline code analytics counts for a failure: the issuer's declineCode, else the failure code.
CREATE FUNCTION analytics_decline_code(failure jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(failure->>'declineCode', failure->>'code', 'unknown')
$$;

CREATE FUNCTION analytics_payments_trigger() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  w integer := (txid_current() % 64)::integer;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO analytics_payments_daily AS a VALUES (OLD.merchant_id, (OLD.created_at AT TIME ZONE 'UTC')::date, OLD.gateway, analytics_method(OLD.payment_method), OLD.currency, OLD.status, w, -1, -OLD.amount_captured)
      ON CONFLICT ON CONSTRAINT analytics_payments_daily_pkey DO UPDATE SET payments = a.payments - 1, captured = a.captured - OLD.amount_captured;
    IF OLD.status = 'FAILED' THEN
      INSERT INTO analytics_declines_daily AS a VALUES (OLD.merchant_id, (OLD.created_at AT TIME ZONE 'UTC')::date, OLD.gateway, analytics_method(OLD.payment_method), OLD.currency, analytics_decline_code(OLD.failure), w, -1)
        ON CONFLICT ON CONSTRAINT analytics_declines_daily_pkey DO UPDATE SET payments = a.payments - 1;
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO analytics_payments_daily AS a VALUES (NEW.merchant_id, (NEW.created_at AT TIME ZONE 'UTC')::date, NEW.gateway, analytics_method(NEW.payment_method), NEW.currency, NEW.status, w, 1, NEW.amount_captured)
      ON CONFLICT ON CONSTRAINT analytics_payments_daily_pkey DO UPDATE SET payments = a.payments + 1, captured = a.captured + NEW.amount_captured;
    IF NEW.status = 'FAILED' THEN
      INSERT INTO analytics_declines_daily AS a VALUES (NEW.merchant_id, (NEW.created_at AT TIME ZONE 'UTC')::date, NEW.gateway, analytics_method(NEW.payment_method), NEW.currency, analytics_decline_code(NEW.failure), w, 1)
        ON CONFLICT ON CONSTRAINT analytics_declines_daily_pkey DO UPDATE SET payments = a.payments + 1;
    END IF;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER analytics_payments_insert AFTER INSERT ON payments FOR EACH ROW EXECUTE FUNCTION analytics_payments_trigger();
-- Only writes that change what analytics counts (most updates change the status, many do not).
CREATE TRIGGER analytics_payments_update AFTER UPDATE ON payments FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.amount_captured IS DISTINCT FROM NEW.amount_captured
     OR OLD.gateway IS DISTINCT FROM NEW.gateway OR OLD.payment_method IS DISTINCT FROM NEW.payment_method
     OR OLD.currency IS DISTINCT FROM NEW.currency OR OLD.merchant_id IS DISTINCT FROM NEW.merchant_id
     OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.failure IS DISTINCT FROM NEW.failure)
  EXECUTE FUNCTION analytics_payments_trigger();
CREATE TRIGGER analytics_payments_delete AFTER DELETE ON payments FOR EACH ROW EXECUTE FUNCTION analytics_payments_trigger();

CREATE FUNCTION analytics_refunds_trigger() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  delta numeric := 0;
  p payments%ROWTYPE;
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'SUCCEEDED' THEN delta := delta + NEW.amount; END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'SUCCEEDED' THEN delta := delta - OLD.amount; END IF;
  IF delta = 0 THEN RETURN NULL; END IF;
  SELECT * INTO p FROM payments WHERE id = coalesce(NEW.payment_id, OLD.payment_id);
  IF NOT FOUND THEN RETURN NULL; END IF;
  INSERT INTO analytics_refunds_daily AS a VALUES (p.merchant_id, (p.created_at AT TIME ZONE 'UTC')::date, p.gateway, analytics_method(p.payment_method), p.currency, (txid_current() % 64)::integer, delta)
    ON CONFLICT ON CONSTRAINT analytics_refunds_daily_pkey DO UPDATE SET refunded = a.refunded + delta;
  RETURN NULL;
END
$$;
CREATE TRIGGER analytics_refunds AFTER INSERT OR UPDATE OF status, amount OR DELETE ON refunds FOR EACH ROW EXECUTE FUNCTION analytics_refunds_trigger();

-- The payment's first own transition (not a refund's, not a note) to AUTHORIZED or CAPTURED.
CREATE FUNCTION analytics_transitions_trigger() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  p payments%ROWTYPE;
BEGIN
  IF EXISTS (SELECT 1 FROM transitions t WHERE t.payment_id = NEW.payment_id AND t.seq < NEW.seq AND t.refund_id IS NULL
               AND t.to_status IN ('AUTHORIZED', 'CAPTURED') AND t.from_status IS DISTINCT FROM t.to_status) THEN
    RETURN NULL;
  END IF;
  SELECT * INTO p FROM payments WHERE id = NEW.payment_id;
  IF NOT FOUND THEN RETURN NULL; END IF;
  INSERT INTO analytics_latency_daily AS a VALUES (p.merchant_id, (p.created_at AT TIME ZONE 'UTC')::date, p.gateway, analytics_method(p.payment_method), p.currency,
      analytics_bucket(round(extract(epoch FROM NEW.at - p.created_at) * 1000)::bigint), (txid_current() % 64)::integer, 1)
    ON CONFLICT ON CONSTRAINT analytics_latency_daily_pkey DO UPDATE SET payments = a.payments + 1;
  RETURN NULL;
END
$$;
CREATE TRIGGER analytics_transitions AFTER INSERT ON transitions FOR EACH ROW
  WHEN (NEW.refund_id IS NULL AND NEW.to_status IN ('AUTHORIZED', 'CAPTURED') AND NEW.from_status IS DISTINCT FROM NEW.to_status)
  EXECUTE FUNCTION analytics_transitions_trigger();

-- The rollup of what is already stored; a schema without payments skips it without reading the table
-- (a new schema's first plans walk no table: store-postgres's query-plan test holds every statement to that).
DO $do$
BEGIN
  SET LOCAL enable_seqscan = off;
  IF EXISTS (SELECT 1 FROM payments ORDER BY id LIMIT 1) THEN
    RESET enable_seqscan;
${analyticsBackfill}
  END IF;
  RESET enable_seqscan;
END
$do$;
`;
