/**
 * Delivers signed Stripe events to the configured endpoint, with fault injection for tests:
 * duplicates, delays, drops, and hold-then-release in any order (reordering). The delivery machinery is
 * `@tender/core/testing`'s {@link SandboxWebhookSender}; this adds Stripe's signing and event shape.
 *
 * @module
 */
import { SandboxWebhookSender, type SandboxDeliveryRecord, type SandboxWebhookEndpoint, type SandboxWebhookFaults } from '@tender/core/testing';
import { signStripePayload } from '../signature';
import type { StripeEvent } from '../stripe-types';

/** Where and how the sandbox sends webhooks (retry delay default 100 ms). */
export interface SandboxWebhookConfig extends SandboxWebhookEndpoint {
  /** Signing secret (`whsec_...`). */
  secret: string;
}

/** Faults applied to outgoing webhooks. Change the fields at any time; they apply to later events. */
export type WebhookFaults = SandboxWebhookFaults;

/** One delivery attempt, for inspection. */
export type DeliveryRecord = SandboxDeliveryRecord;

/**
 * Sends events, concurrently, as pretty-printed JSON with a `Stripe-Signature` made afresh for each
 * attempt; see {@link WebhookFaults}.
 */
export class WebhookSender extends SandboxWebhookSender<StripeEvent, SandboxWebhookConfig> {
  constructor(config: SandboxWebhookConfig | null, historyLimit = 10_000) {
    super(config, {
      ordering: 'concurrent',
      retryDelayMs: 100,
      historyLimit,
      eventId: (event) => event.id,
      eventType: (event) => event.type,
      request: (event, endpoint) => {
        const payload = JSON.stringify(event, null, 2);
        return {
          body: payload,
          headers: () => ({
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'stripe-signature': signStripePayload({ payload, secret: endpoint.secret }),
          }),
        };
      },
    });
  }
}
