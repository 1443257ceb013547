/**
 * Migration 1: the initial schema. Shipped migrations are never edited (their checksum is recorded);
 * changes go in a new, higher-numbered migration. Runs with `search_path` set to the target schema,
 * so names are unqualified.
 *
 * Every rule the engine relies on that a database can hold is held here too: uniqueness of idempotency
 * keys, gateway references and inbound event ids; statuses; non-negative amounts with the
 * refunded total never above the captured total; refunds and transitions tied to an existing payment.
 */
export const initial = `
CREATE TABLE payments (
  id                text PRIMARY KEY,
  merchant_id       text NOT NULL,
  order_id          text,
  status            text NOT NULL CONSTRAINT payments_status_check CHECK (status IN
                      ('PENDING','REQUIRES_ACTION','PROCESSING','AUTHORIZED','CAPTURED',
                       'PARTIALLY_REFUNDED','REFUNDED','FAILED','CANCELLED','EXPIRED')),
  amount            numeric(38,4) NOT NULL CONSTRAINT payments_amount_check CHECK (amount >= 0),
  currency          text NOT NULL CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  amount_captured   numeric(38,4) NOT NULL DEFAULT 0 CONSTRAINT payments_amount_captured_check CHECK (amount_captured >= 0),
  amount_refunded   numeric(38,4) NOT NULL DEFAULT 0 CONSTRAINT payments_amount_refunded_check CHECK (amount_refunded >= 0),
  capture_method    text NOT NULL CONSTRAINT payments_capture_method_check CHECK (capture_method IN ('automatic','manual')),
  gateway           text NOT NULL,
  gateway_reference text,
  payment_method    text,
  description       text,
  customer          jsonb NOT NULL DEFAULT '{}',
  return_url        text,
  notify_url        text,
  metadata          jsonb NOT NULL DEFAULT '{}',
  next_action       jsonb,
  failure           jsonb,
  gateway_data      jsonb NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  version           integer NOT NULL CONSTRAINT payments_version_check CHECK (version >= 0),
  CONSTRAINT payments_refund_total_check CHECK (amount_refunded <= amount_captured),
  CONSTRAINT payments_gateway_reference_key UNIQUE (gateway, gateway_reference)
);
-- listPayments: newest first per merchant, keyset pagination on (created_at, id).
CREATE INDEX payments_merchant_created_idx ON payments (merchant_id, created_at DESC, id DESC);
-- findPaymentByOrderId (newest attempt of an order) and listPayments filtered by order.
CREATE INDEX payments_merchant_order_idx ON payments (merchant_id, order_id, created_at DESC, id DESC);
-- listPaymentsToReconcile: stuck payments by status, oldest update first.
CREATE INDEX payments_status_updated_idx ON payments (status, updated_at, id);

CREATE TABLE refunds (
  id                text PRIMARY KEY,
  merchant_id       text NOT NULL,
  payment_id        text NOT NULL CONSTRAINT refunds_payment_fkey REFERENCES payments (id),
  status            text NOT NULL CONSTRAINT refunds_status_check CHECK (status IN ('PENDING','SUCCEEDED','FAILED')),
  amount            numeric(38,4) NOT NULL CONSTRAINT refunds_amount_check CHECK (amount >= 0),
  currency          text NOT NULL CONSTRAINT refunds_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  reason            text,
  gateway_reference text,
  failure           jsonb,
  metadata          jsonb NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id, created_at, id);
-- listPendingRefunds (reconciler): only PENDING rows are indexed.
CREATE INDEX refunds_pending_idx ON refunds (created_at, id) WHERE status = 'PENDING';

CREATE TABLE transitions (
  id          text PRIMARY KEY,
  merchant_id text NOT NULL,
  payment_id  text NOT NULL CONSTRAINT transitions_payment_fkey REFERENCES payments (id),
  refund_id   text,
  from_status text,
  to_status   text NOT NULL CONSTRAINT transitions_status_check CHECK (to_status IN
                ('PENDING','REQUIRES_ACTION','PROCESSING','AUTHORIZED','CAPTURED','PARTIALLY_REFUNDED',
                 'REFUNDED','FAILED','CANCELLED','EXPIRED','SUCCEEDED')),
  reason      text NOT NULL,
  actor       text NOT NULL,
  at          timestamptz NOT NULL,
  -- Insertion order: the trail reads in the order changes were made, even when clocks tie.
  seq         bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX transitions_payment_idx ON transitions (payment_id, seq);

CREATE TABLE idempotency_keys (
  merchant_id    text NOT NULL,
  key            text NOT NULL,
  fingerprint    text NOT NULL,
  state          text NOT NULL CONSTRAINT idempotency_keys_state_check CHECK (state IN ('in_flight','completed')),
  locked_until   timestamptz,
  recovery_point text NOT NULL,
  resource_type  text CONSTRAINT idempotency_keys_resource_type_check CHECK (resource_type IN ('payment','refund')),
  resource_id    text,
  response       jsonb,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  CONSTRAINT idempotency_keys_pkey PRIMARY KEY (merchant_id, key)
);
-- purge: expired keys.
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

CREATE TABLE inbox_events (
  gateway     text NOT NULL,
  event_id    text NOT NULL,
  received_at timestamptz NOT NULL,
  CONSTRAINT inbox_events_pkey PRIMARY KEY (gateway, event_id)
);

CREATE TABLE outbox_events (
  id              text PRIMARY KEY,
  merchant_id     text NOT NULL,
  type            text NOT NULL,
  payment_id      text,
  refund_id       text,
  data            jsonb NOT NULL,
  created_at      timestamptz NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CONSTRAINT outbox_events_status_check CHECK (status IN ('pending','delivered','dead')),
  attempts        integer NOT NULL DEFAULT 0 CONSTRAINT outbox_events_attempts_check CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  locked_until    timestamptz,
  last_error      text,
  delivered_at    timestamptz
);
-- claimOutbox: due rows only (the partial index stays small as rows are delivered).
CREATE INDEX outbox_events_due_idx ON outbox_events (next_attempt_at, id) WHERE status = 'pending';
-- purge: delivered rows by age.
CREATE INDEX outbox_events_delivered_idx ON outbox_events (delivered_at) WHERE status = 'delivered';
`;
