/**
 * Migration 15: a merchant's event list (`GET /api/v1/events`, `StoreReader.listOutboxEvents`).
 *
 * The list is newest first by (created_at, id) within one merchant, paged by a cursor event; this index
 * makes each page an index range of the merchant's rows, however many events other merchants have.
 * Filters on type, delivery status or payment are checked on the rows the range yields.
 * `CONCURRENTLY` is not used: migrations run in a transaction
 * (https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY).
 */
export const eventList = `
CREATE INDEX outbox_events_merchant_created_idx ON outbox_events (merchant_id, created_at DESC, id DESC);
`;
