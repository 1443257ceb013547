/**
 * Migration 6: the outbox becomes a source for brokers.
 *
 * - Debezium's outbox event router reads `id`, `aggregatetype`, `aggregateid`, `type` and `payload`
 *   by default (https://debezium.io/documentation/reference/stable/transformations/outbox-event-router.html),
 *   so those names need no connector configuration. `aggregateid` is the payment id: the Kafka message
 *   key, which keeps one payment's events in one partition, in order. Real columns, not generated
 *   ones: Postgres before 18 does not replicate generated columns through logical decoding.
 * - `seq` is the order rows were written in; one payment's rows are written under its row lock, so
 *   for a payment it is also commit order.
 * - `relay_*`: the broker relay's own delivery state, independent of merchant webhook delivery, so a
 *   failing merchant endpoint never holds back the broker and the other way round.
 */
export const outboxRelay = `
ALTER TABLE outbox_events
  ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY,
  ADD COLUMN aggregatetype text NOT NULL DEFAULT 'payment',
  ADD COLUMN aggregateid text,
  ADD COLUMN payload jsonb,
  ADD COLUMN relay_status text NOT NULL DEFAULT 'pending'
    CONSTRAINT outbox_events_relay_status_check CHECK (relay_status IN ('pending','published','dead')),
  ADD COLUMN relay_attempts integer NOT NULL DEFAULT 0 CONSTRAINT outbox_events_relay_attempts_check CHECK (relay_attempts >= 0),
  ADD COLUMN relay_next_attempt_at timestamptz,
  ADD COLUMN relay_locked_until timestamptz,
  ADD COLUMN relay_error text,
  ADD COLUMN published_at timestamptz;
UPDATE outbox_events SET aggregateid = coalesce(payment_id, id), relay_next_attempt_at = created_at;
ALTER TABLE outbox_events ALTER COLUMN aggregateid SET NOT NULL, ALTER COLUMN relay_next_attempt_at SET NOT NULL;
-- claimRelay: the oldest pending row of each payment (DISTINCT ON along this index).
CREATE INDEX outbox_events_relay_idx ON outbox_events (aggregateid, seq) WHERE relay_status = 'pending';
`;
