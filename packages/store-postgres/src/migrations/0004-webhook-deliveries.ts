/**
 * Migration 4: which merchant webhook endpoints acknowledged each outbox event, so a retry goes only
 * to the endpoints still failing. Rows go with their event (purge) or their endpoint (deletion).
 */
export const webhookDeliveries = `
CREATE TABLE webhook_deliveries (
  event_id     text NOT NULL CONSTRAINT webhook_deliveries_event_fkey REFERENCES outbox_events (id) ON DELETE CASCADE,
  endpoint_id  text NOT NULL CONSTRAINT webhook_deliveries_endpoint_fkey REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  delivered_at timestamptz NOT NULL,
  CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (event_id, endpoint_id)
);
-- Deleting an endpoint finds its rows by this index (the primary key leads with the event).
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id);
`;
