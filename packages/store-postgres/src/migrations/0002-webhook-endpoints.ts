/**
 * Migration 2: merchant webhook endpoints, the destinations of outbox events.
 */
export const webhookEndpoints = `
CREATE TABLE webhook_endpoints (
  id          text PRIMARY KEY,
  merchant_id text NOT NULL,
  url         text NOT NULL CONSTRAINT webhook_endpoints_url_check CHECK (url ~ '^https?://'),
  events      jsonb NOT NULL CONSTRAINT webhook_endpoints_events_check CHECK (jsonb_typeof(events) = 'array'),
  secret      text NOT NULL,
  description text,
  created_at  timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_merchant_idx ON webhook_endpoints (merchant_id, created_at, id);
`;
