/**
 * Migration 8: room on each page for the new versions of rows updated on every transition.
 *
 * A Postgres UPDATE whose changed columns are in no index can be a HOT update (heap-only tuple): the
 * new row version goes on the same page and no index gets a new entry, which is most of an update's
 * cost and of index bloat. It needs free space on that page, which a page filled to 100% by inserts
 * lacks. `fillfactor` keeps that room on pages written from now on (existing pages are left as they
 * are until rewritten), sized by how often each table's rows are updated:
 *
 * - `idempotency_keys` (80): a key is completed with its response once (state, lease, recovery point
 *   and response are in no index);
 * - `outbox_events` (50): the dispatcher and the relay claim rows in batches, so a whole page of
 *   rows gets a new version at once (`locked_until`, `relay_locked_until`, in no index); at 80 only
 *   about a sixth of those leases found room, at 50 all of them. The delivery outcomes change
 *   `status`/`relay_status`, which the partial indexes' predicates read, and are not HOT;
 * - `payments` (90): every write changes `status` or `updated_at`, which `payments_status_updated_idx`
 *   holds for the reconciler (its only index path to stuck payments), so no payment update is HOT;
 *   the room lets the new version go on the same page, so an update dirties one heap page, not two;
 * - `refunds` (90): updated once or twice in their life, on the payment's lock.
 *
 * See https://www.postgresql.org/docs/current/storage-hot.html and the `fillfactor` storage parameter
 * of CREATE TABLE.
 */
export const hotUpdates = `
ALTER TABLE idempotency_keys SET (fillfactor = 80);
ALTER TABLE outbox_events SET (fillfactor = 50);
ALTER TABLE payments SET (fillfactor = 90);
ALTER TABLE refunds SET (fillfactor = 90);
`;
