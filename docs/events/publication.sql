-- Run once as the owner of Tender's schema before starting the Debezium connector
-- (docs/events/debezium-connector.json uses publication.autocreate.mode=disabled).
-- Only INSERTs are published: Tender updates a row's delivery state after writing it, and
-- Debezium's outbox router expects inserts only; deletes (the purge) are not events either.
CREATE PUBLICATION tender_outbox FOR TABLE tender.outbox_events WITH (publish = 'insert');
