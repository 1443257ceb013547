/**
 * Migration 7: data retention (`anonymizePayments`).
 *
 * - `anonymized_at`: when retention erased a payment's personal data; the partial index holds the
 *   payments still to do, oldest first, so each batch is a short index range however many payments
 *   were anonymised before.
 * - A batch also rewrites the copies of those payments in the outbox and in idempotency records;
 *   these indexes find them without scanning either table.
 */
export const retention = `
ALTER TABLE payments ADD COLUMN anonymized_at timestamptz;
CREATE INDEX payments_retention_idx ON payments (created_at, id) WHERE anonymized_at IS NULL;
CREATE INDEX outbox_events_payment_idx ON outbox_events (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX idempotency_keys_resource_idx ON idempotency_keys (resource_id) WHERE resource_id IS NOT NULL;
`;
