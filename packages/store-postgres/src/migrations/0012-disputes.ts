/**
 * Migration 12: disputes (core's store spec, disputes part): disputes of payments recorded from the
 * gateways' webhooks, and their audit trail.
 *
 * As in migration 1, every rule a database can hold is held here too:
 * - one record per gateway dispute (`(gateway, gateway_reference)`);
 * - the statuses of `DISPUTE_STATUSES` (`@tender/core`'s `dispute.ts`);
 * - amounts as payments hold them: `numeric(38,4)`, never negative; a currency code;
 * - a dispute's payment exists (a foreign key: disputes are never of a payment Tender does not hold).
 *
 * Disputes are read per merchant over a time window (the REST list, analytics' counts: `opened_at`),
 * per payment, and by the gateway's id; those are the indexes. The table is small (a dispute rate is
 * well under 1% of payments) and updated a few times per dispute, so no fillfactor is set.
 */
export const disputes = `
CREATE TABLE disputes (
  id                text PRIMARY KEY,
  merchant_id       text NOT NULL,
  payment_id        text NOT NULL CONSTRAINT disputes_payment_fkey REFERENCES payments (id),
  gateway           text NOT NULL,
  gateway_reference text NOT NULL,
  status            text NOT NULL CONSTRAINT disputes_status_check CHECK (status IN
                      ('warning_needs_response','warning_under_review','warning_closed','needs_response','under_review','won','lost','accepted','closed')),
  gateway_status    text NOT NULL,
  amount            numeric(38,4) NOT NULL CONSTRAINT disputes_amount_check CHECK (amount >= 0),
  currency          text NOT NULL CONSTRAINT disputes_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  reason            text,
  evidence_due_by   timestamptz,
  opened_at         timestamptz NOT NULL,
  closed_at         timestamptz,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  synced_at         timestamptz NOT NULL,
  version           integer NOT NULL CONSTRAINT disputes_version_check CHECK (version >= 0),
  CONSTRAINT disputes_gateway_reference_key UNIQUE (gateway, gateway_reference)
);
-- listDisputes: one merchant's disputes newest opened first, keyset pagination on (opened_at, id),
-- and analytics' window on opened_at.
CREATE INDEX disputes_merchant_opened_idx ON disputes (merchant_id, opened_at DESC, id DESC);
-- A payment's disputes.
CREATE INDEX disputes_payment_idx ON disputes (payment_id, opened_at DESC, id DESC);

CREATE TABLE dispute_transitions (
  id          text PRIMARY KEY,
  merchant_id text NOT NULL,
  dispute_id  text NOT NULL,
  payment_id  text NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  reason      text NOT NULL,
  actor       text NOT NULL,
  at          timestamptz NOT NULL,
  -- Insertion order: the trail reads in the order changes were made, even when clocks tie.
  seq         bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX dispute_transitions_dispute_idx ON dispute_transitions (dispute_id, seq);
`;
