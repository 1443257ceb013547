/**
 * Webhook endpoint spec, version 1 (`spec/webhook-endpoints/v1/`): the URLs merchants register to
 * receive their outbox events, and which endpoints acknowledged each event. This is a server concern:
 * the engine never calls it; the server's `/webhook-endpoints` routes and its merchant webhook
 * deliverer do. `MemoryStore` and `PostgresStore` implement it beside `Store` (one object, both
 * specs) and pass `runWebhookEndpointStoreConformance` from `@tender/core/testing`.
 *
 * @module
 */
import { TenderError } from '../../../errors';

/** A URL a merchant registered to receive outbox events (merchant webhooks). */
export interface WebhookEndpoint {
  id: string;
  merchantId: string;
  url: string;
  /** Event types, `payment.*`-style prefixes, or `*`. */
  events: string[];
  /** HMAC-SHA256 signing secret (needed to sign deliveries, so stored as is). */
  secret: string;
  description: string | null;
  createdAt: string;
}

/** Merchant webhook endpoints and their deliveries: what a server needs beside the `Store`. */
export interface WebhookEndpointStore {
  /** @throws `duplicate_webhook_endpoint` when the id exists. */
  createWebhookEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** A merchant's endpoints, oldest first. */
  listWebhookEndpoints(merchantId: string): Promise<WebhookEndpoint[]>;
  getWebhookEndpoint(merchantId: string, id: string): Promise<WebhookEndpoint | null>;
  /** @returns false when the merchant has no such endpoint. */
  deleteWebhookEndpoint(merchantId: string, id: string): Promise<boolean>;
  /** Ids of the webhook endpoints that acknowledged an outbox event (a retry of the event skips them). */
  listEventDeliveries(eventId: string): Promise<string[]>;
  /** Records that a webhook endpoint acknowledged an outbox event; idempotent; ignored for an unknown event. */
  recordEventDelivery(eventId: string, endpointId: string, at: string): Promise<void>;
}

/** The methods of {@link WebhookEndpointStore}, to check a store at run time. */
const WEBHOOK_ENDPOINT_STORE_METHODS = [
  'createWebhookEndpoint',
  'listWebhookEndpoints',
  'getWebhookEndpoint',
  'deleteWebhookEndpoint',
  'listEventDeliveries',
  'recordEventDelivery',
] as const satisfies readonly (keyof WebhookEndpointStore)[];

/** Whether `store` also implements {@link WebhookEndpointStore}. */
function hasWebhookEndpoints<S extends object>(store: S): store is S & WebhookEndpointStore {
  const methods = store as Partial<Record<string, unknown>>;
  return WEBHOOK_ENDPOINT_STORE_METHODS.every((name) => typeof methods[name] === 'function');
}

/**
 * `store` as a {@link WebhookEndpointStore}, for the code that manages or delivers merchant webhooks.
 * @throws TenderError `api_error`/`webhook_endpoints_unsupported` when the store does not implement it.
 */
export function webhookEndpointsOf<S extends object>(store: S): S & WebhookEndpointStore {
  if (hasWebhookEndpoints(store)) return store;
  throw new TenderError({
    type: 'api_error',
    code: 'webhook_endpoints_unsupported',
    message: 'This store does not keep merchant webhook endpoints (it does not implement WebhookEndpointStore)',
  });
}
