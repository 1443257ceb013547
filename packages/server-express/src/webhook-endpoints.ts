/**
 * Merchant webhook endpoints and the signed delivery of outbox events to them.
 *
 * Endpoints live in the store (its `WebhookEndpointStore` side: durable, shared by every server instance), as do the outbox rows.
 *
 * @module
 */
import { hmacSha256, newId, type OutboxRow, type WebhookEndpoint, type WebhookEndpointStore } from '@tender/core';
import { randomBytes } from 'node:crypto';
import { fetch } from 'undici';
import { assertPublicUrl, publicOnlyDispatcher } from './public-network';

/** Builds a new endpoint record (a `whsec_` secret is generated when none is given). */
export function newWebhookEndpoint(merchantId: string, input: { url: string; events?: string[] | null; secret?: string | null; description?: string | null }, now: Date): WebhookEndpoint {
  return {
    id: newId('we'),
    merchantId,
    url: input.url,
    events: input.events ?? ['*'],
    secret: input.secret ?? `whsec_${randomBytes(24).toString('base64url')}`,
    description: input.description ?? null,
    createdAt: now.toISOString(),
  };
}

/** True when an endpoint subscribed to `type`. */
export function subscribes(endpoint: WebhookEndpoint, type: string): boolean {
  return endpoint.events.some((e) => e === '*' || e === type || (e.endsWith('.*') && type.startsWith(e.slice(0, -1))));
}

/** Header carrying the signature. */
export const SIGNATURE_HEADER = 'Tender-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, as receivers verify it. */
export function signPayload(secret: string, body: string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${hmacSha256(secret, `${timestampSeconds}.${body}`)}`;
}


/** Options of {@link createWebhookDeliverer}. */
export interface WebhookDelivererOptions {
  /** Where the merchant's endpoints, and which of them acknowledged each event, are stored. */
  store: Pick<WebhookEndpointStore, 'listWebhookEndpoints' | 'listEventDeliveries' | 'recordEventDelivery'>;
  /** The document delivered for an event (the server's: {@link publishedEvent}). */
  present(row: OutboxRow): Record<string, unknown>;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  now?: () => Date;
  /** Reports each attempt (metrics). */
  onAttempt?(outcome: 'delivered' | 'failed', endpoint: WebhookEndpoint, row: OutboxRow): void;
  /**
   * Also deliver to loopback, private and link-local addresses (default false: public addresses only,
   * so a merchant's URL cannot reach into the server's network). For receivers on a developer's machine.
   */
  allowPrivateNetworks?: boolean;
}

/**
 * The `deliver` function for core's outbox dispatcher: POSTs the signed event to every subscribed
 * endpoint of the merchant that has not acknowledged it yet, records each acknowledgement, and throws
 * if any endpoint did not answer 2xx (the dispatcher then retries the event with backoff, for the
 * failing endpoints only). Receivers still dedupe on `id`: an acknowledgement can be lost, and a
 * manual redelivery goes to every endpoint.
 */
export function createWebhookDeliverer(options: WebhookDelivererOptions): (row: OutboxRow) => Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? (() => new Date());
  const dispatcher = options.allowPrivateNetworks ? undefined : publicOnlyDispatcher();
  return async (row) => {
    const subscribed = (await options.store.listWebhookEndpoints(row.merchantId)).filter((e) => subscribes(e, row.type));
    if (subscribed.length === 0) return;
    const acknowledged = new Set(await options.store.listEventDeliveries(row.id));
    const targets = subscribed.filter((e) => !acknowledged.has(e.id));
    if (targets.length === 0) return;
    const body = JSON.stringify(options.present(row));
    const failures: string[] = [];
    await Promise.all(
      targets.map(async (endpoint) => {
        const t = Math.floor(now().getTime() / 1000);
        try {
          // An IP literal is connected to without a lookup, so it is checked here.
          if (!options.allowPrivateNetworks) assertPublicUrl(endpoint.url);
          const response = await fetch(endpoint.url, {
            dispatcher,
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'user-agent': 'Tender-Webhooks/1',
              [SIGNATURE_HEADER]: signPayload(endpoint.secret, body, t),
              'Tender-Event-Id': row.id,
              'Tender-Event-Type': row.type,
            },
            body,
            redirect: 'manual',
            signal: AbortSignal.timeout(timeoutMs),
          });
          // Only the status matters; a receiver's body, however large, is not read.
          await response.body?.cancel().catch(() => undefined);
          if (response.status < 200 || response.status >= 300) throw new Error(`HTTP ${response.status}`);
        } catch (error) {
          options.onAttempt?.('failed', endpoint, row);
          failures.push(`${endpoint.id}: ${reasonOf(error)}`);
          return;
        }
        options.onAttempt?.('delivered', endpoint, row);
        // If this write fails, the event is retried and this endpoint sees it again (it dedupes on id).
        await options.store.recordEventDelivery(row.id, endpoint.id, now().toISOString());
      }),
    );
    if (failures.length > 0) throw new Error(`delivery failed (${failures.join('; ')})`);
  };
}

/** Why a delivery failed: fetch reports every network failure as "fetch failed", the reason is its cause. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
