/**
 * Migration 10: billing (core's store spec, billing part): the merchant's users as gateway customers,
 * their saved payment methods, the subscriptions and invoices a gateway's billing engine runs for
 * them, and the audit trail of those two; payments name the user and the saved method they belong to.
 *
 * As in migration 1, every rule a database can hold is held here too:
 * - one customer per (merchant, user, gateway) (the primary key);
 * - a gateway token saved once per merchant and gateway;
 * - at most one default method per user, a removed method never the default: a partial unique
 *   index over the live defaults, so no interleaving of writers (or a raw write) can leave two;
 * - one mirror per gateway object (`(gateway, gateway_reference)` of subscriptions and invoices);
 * - the statuses of `SUBSCRIPTION_STATUSES` and `INVOICE_STATUSES` (Stripe's own names,
 *   https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses and
 *   https://docs.stripe.com/invoicing/overview#invoice-statuses);
 * - amounts as payments hold them: `numeric(38,4)`, never negative.
 *
 * The two payment columns are nullable without a default, which Postgres adds without rewriting the
 * table (https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES); the
 * index on them holds only payments that name a user. Tables updated on every gateway event
 * (subscriptions, invoices) keep room on their pages for the new row versions, as payments do
 * (migration 8).
 *
 * Billing lists are read per user (the seeds' `/users/:user_id/...` routes) or per subscription, so
 * those are the indexes; a merchant-wide list reads the merchant's range of the user index and sorts
 * it. A second, merchant-only index would rival the user index in plans made without statistics (a
 * new schema), the trap `statements.ts` avoids for payment writes.
 */
export const billing = `
ALTER TABLE payments ADD COLUMN user_id text, ADD COLUMN saved_payment_method_id text;
-- listPayments({ userId }): one user's payments, newest first, keyset pagination on (created_at, id).
CREATE INDEX payments_merchant_user_idx ON payments (merchant_id, user_id, created_at DESC, id DESC) WHERE user_id IS NOT NULL;

CREATE TABLE gateway_customers (
  merchant_id         text NOT NULL,
  user_id             text NOT NULL,
  gateway             text NOT NULL,
  gateway_customer_id text NOT NULL,
  created_at          timestamptz NOT NULL,
  CONSTRAINT gateway_customers_pkey PRIMARY KEY (merchant_id, user_id, gateway)
);

CREATE TABLE saved_payment_methods (
  id           text PRIMARY KEY,
  merchant_id  text NOT NULL,
  user_id      text NOT NULL,
  gateway      text NOT NULL,
  token        text NOT NULL,
  type         text NOT NULL,
  card         jsonb,
  wallet_email text,
  is_default   boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  deleted_at   timestamptz,
  CONSTRAINT saved_payment_methods_token_key UNIQUE (merchant_id, gateway, token),
  CONSTRAINT saved_payment_methods_removed_default_check CHECK (NOT (is_default AND deleted_at IS NOT NULL))
);
-- The database's own guarantee of at most one default per user.
CREATE UNIQUE INDEX saved_payment_methods_default_key ON saved_payment_methods (merchant_id, user_id) WHERE is_default AND deleted_at IS NULL;
-- listSavedPaymentMethods: one user's live methods, newest first (see the note above on merchant-wide lists).
CREATE INDEX saved_payment_methods_merchant_user_idx ON saved_payment_methods (merchant_id, user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE subscriptions (
  id                       text PRIMARY KEY,
  merchant_id              text NOT NULL,
  user_id                  text NOT NULL,
  gateway                  text NOT NULL,
  gateway_reference        text NOT NULL,
  gateway_customer_id      text NOT NULL,
  status                   text NOT NULL CONSTRAINT subscriptions_status_check CHECK (status IN
                             ('incomplete','incomplete_expired','trialing','active','past_due','canceled','unpaid','paused')),
  price_id                 text NOT NULL,
  quantity                 integer NOT NULL CONSTRAINT subscriptions_quantity_check CHECK (quantity >= 0),
  amount                   numeric(38,4) CONSTRAINT subscriptions_amount_check CHECK (amount >= 0),
  currency                 text CONSTRAINT subscriptions_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  billing_interval         text,
  interval_count           integer CONSTRAINT subscriptions_interval_count_check CHECK (interval_count > 0),
  payment_method_id        text,
  trial_start              timestamptz,
  trial_end                timestamptz,
  current_period_start     timestamptz,
  current_period_end       timestamptz,
  cancel_at_period_end     boolean NOT NULL DEFAULT false,
  canceled_at              timestamptz,
  ended_at                 timestamptz,
  latest_invoice_reference text,
  metadata                 jsonb NOT NULL DEFAULT '{}',
  created_at               timestamptz NOT NULL,
  updated_at               timestamptz NOT NULL,
  synced_at                timestamptz NOT NULL,
  version                  integer NOT NULL CONSTRAINT subscriptions_version_check CHECK (version >= 0),
  CONSTRAINT subscriptions_gateway_reference_key UNIQUE (gateway, gateway_reference)
) WITH (fillfactor = 90);
-- listSubscriptions: newest first per user of the merchant.
CREATE INDEX subscriptions_merchant_user_idx ON subscriptions (merchant_id, user_id, created_at DESC, id DESC);

CREATE TABLE invoices (
  id                   text PRIMARY KEY,
  merchant_id          text NOT NULL,
  user_id              text NOT NULL,
  gateway              text NOT NULL,
  gateway_reference    text NOT NULL,
  subscription_id      text,
  status               text NOT NULL CONSTRAINT invoices_status_check CHECK (status IN ('draft','open','paid','uncollectible','void')),
  currency             text NOT NULL CONSTRAINT invoices_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  amount_due           numeric(38,4) NOT NULL CONSTRAINT invoices_amount_due_check CHECK (amount_due >= 0),
  amount_paid          numeric(38,4) NOT NULL CONSTRAINT invoices_amount_paid_check CHECK (amount_paid >= 0),
  amount_remaining     numeric(38,4) NOT NULL CONSTRAINT invoices_amount_remaining_check CHECK (amount_remaining >= 0),
  billing_reason       text,
  number               text,
  hosted_invoice_url   text,
  period_start         timestamptz,
  period_end           timestamptz,
  attempt_count        integer NOT NULL DEFAULT 0 CONSTRAINT invoices_attempt_count_check CHECK (attempt_count >= 0),
  next_payment_attempt timestamptz,
  payment_id           text,
  paid_at              timestamptz,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  synced_at            timestamptz NOT NULL,
  version              integer NOT NULL CONSTRAINT invoices_version_check CHECK (version >= 0),
  CONSTRAINT invoices_gateway_reference_key UNIQUE (gateway, gateway_reference)
) WITH (fillfactor = 90);
-- listInvoices: newest first per user of the merchant, or per subscription.
CREATE INDEX invoices_merchant_user_idx ON invoices (merchant_id, user_id, created_at DESC, id DESC);
CREATE INDEX invoices_subscription_idx ON invoices (subscription_id, created_at DESC, id DESC) WHERE subscription_id IS NOT NULL;

CREATE TABLE billing_transitions (
  id            text PRIMARY KEY,
  merchant_id   text NOT NULL,
  resource_type text NOT NULL CONSTRAINT billing_transitions_resource_type_check CHECK (resource_type IN ('subscription','invoice')),
  resource_id   text NOT NULL,
  from_status   text,
  to_status     text NOT NULL,
  reason        text NOT NULL,
  actor         text NOT NULL,
  at            timestamptz NOT NULL,
  -- Insertion order: the trail reads in the order changes were made, even when clocks tie.
  seq           bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX billing_transitions_resource_idx ON billing_transitions (resource_id, seq);
`;
