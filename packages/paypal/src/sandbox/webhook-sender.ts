/**
 * Delivers the sandbox's webhook events the way PayPal does: JSON bodies signed with SHA256withRSA over
 * `transmission_id|transmission_time|webhook_id|crc32(body)`, the signing certificate's URL in
 * `PAYPAL-CERT-URL`, and retries on non-2xx. Faults for tests: duplicates, drops, delays and
 * hold-then-release in any order. The delivery machinery is `@tender/core/testing`'s
 * {@link SandboxWebhookSender}; this adds PayPal's signing and event shape.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { SandboxWebhookSender, type SandboxDeliveryRecord, type SandboxWebhookEndpoint, type SandboxWebhookFaults } from '@tender/core/testing';
import { signPayPalWebhook } from '../signature';

/** A webhook event as PayPal sends it. */
export interface SandboxEvent {
  id: string;
  event_version: string;
  create_time: string;
  resource_type: string;
  resource_version: string;
  event_type: string;
  summary: string;
  resource: Record<string, unknown>;
  links: Array<{ href: string; rel: string; method: string }>;
}

/** Where the sandbox sends webhooks (retry delay default 100 ms). */
export type SandboxWebhookConfig = SandboxWebhookEndpoint;

/** Faults applied to later deliveries; change the fields at any time. */
export type WebhookFaults = SandboxWebhookFaults;

/** One delivery attempt (a dropped event is not recorded). */
export type DeliveryRecord = SandboxDeliveryRecord;

/** What signing needs. */
export interface SigningMaterial {
  webhookId: string;
  certUrl: () => string;
  privateKeyPem: string;
}

/**
 * Signs and delivers events, concurrently, with fresh transmission headers on each attempt. Events
 * emitted before an endpoint is configured can be held (or dropped) like the others.
 */
export class WebhookSender extends SandboxWebhookSender<SandboxEvent, SandboxWebhookConfig> {
  constructor(
    config: SandboxWebhookConfig | null,
    private readonly signing: SigningMaterial,
    historyLimit = 10_000,
  ) {
    super(config, {
      ordering: 'concurrent',
      retryDelayMs: 100,
      historyLimit,
      recordDrops: false,
      acceptWithoutEndpoint: true,
      describeError: String,
      eventId: (event) => event.id,
      eventType: (event) => event.event_type,
      request: (event) => {
        const body = JSON.stringify(event);
        return { body, headers: () => signedHeaders(signing, body, new Date()) };
      },
    });
  }

  /** The headers and body of one signed delivery (tests can replay or tamper with them). */
  sign(body: string, at: Date = new Date()): Record<string, string> {
    return signedHeaders(this.signing, body, at);
  }
}

function signedHeaders(signing: SigningMaterial, body: string, at: Date): Record<string, string> {
  const transmissionId = randomUUID();
  const transmissionTime = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'content-type': 'application/json',
    'user-agent': 'PayPal/AUHD-214.0-58474185',
    'paypal-transmission-id': transmissionId,
    'paypal-transmission-time': transmissionTime,
    'paypal-transmission-sig': signPayPalWebhook({ transmissionId, transmissionTime, webhookId: signing.webhookId, body: Buffer.from(body), privateKeyPem: signing.privateKeyPem }),
    'paypal-cert-url': signing.certUrl(),
    'paypal-auth-algo': 'SHA256withRSA',
  };
}
