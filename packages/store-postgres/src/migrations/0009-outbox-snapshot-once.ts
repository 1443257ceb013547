/**
 * Migration 9: an outbox row's snapshot may live in its payload alone.
 *
 * The default published document (the version 1 envelope) carries the engine's snapshot as its
 * `data`, so a row holding both `data` and `payload` held the snapshot twice: most of the bytes each
 * event cost to send and store. Such rows now leave `data` NULL and the store reads the snapshot from
 * `payload -> 'data'`. `payload` stays the one published document Debezium's outbox event router
 * reads (https://debezium.io/documentation/reference/stable/transformations/outbox-event-router.html);
 * rows whose payload presents the resource in a shape of its own (the reference server's API shape)
 * keep both columns, and rows written before keep what they have.
 */
export const outboxSnapshotOnce = `
ALTER TABLE outbox_events ALTER COLUMN data DROP NOT NULL;
`;
