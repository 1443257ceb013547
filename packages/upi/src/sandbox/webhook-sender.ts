/**
 * Delivers Razorpay-style webhooks from the sandbox: the JSON body signed with `X-Razorpay-Signature`
 * (hex HMAC-SHA256 of the body with the webhook secret) and an `x-razorpay-event-id` header that is the
 * same on every retry and duplicate. Deliveries go one at a time in order (deterministic for tests);
 * faults reorder (hold / release reversed), duplicate, delay or drop them. A retry of an event is
 * signed with the secret it was first signed with, as Razorpay does across a secret rotation. The
 * delivery machinery is `@tender/core/testing`'s {@link SandboxWebhookSender}.
 *
 * @module
 */
import { pushBounded } from '@tender/core';
import { SandboxWebhookSender, type SandboxDeliveryRecord, type SandboxWebhookEndpoint, type SandboxWebhookFaults } from '@tender/core/testing';
import { computeRazorpayWebhookSignature } from '../signature';

/** Where and how the sandbox sends webhooks (retry delay default 20 ms). */
export interface SandboxWebhookConfig extends SandboxWebhookEndpoint {
  /** Webhook secret; default the sandbox's `webhookSecret`. */
  secret?: string;
}

/** Faults applied to outgoing webhooks; change the fields at any time. */
export type WebhookFaults = SandboxWebhookFaults;

/** A webhook event the sandbox produced. */
export interface SandboxEvent {
  /** The `x-razorpay-event-id`. */
  id: string;
  /** e.g. `payment.captured`. */
  type: string;
  /** The exact body sent (what the signature covers). */
  body: string;
  /** The secret it was first signed with (kept for its retries). */
  secret: string | null;
}

/** One delivery attempt, for inspection. */
export interface DeliveryRecord extends SandboxDeliveryRecord {
  /** The `X-Razorpay-Signature` sent, on an answered attempt. */
  signature?: string;
}

/** The sandbox's webhook sender; see {@link WebhookFaults}. */
export class WebhookSender {
  /** Faults for later deliveries. */
  readonly faults: WebhookFaults;
  /** The most recent delivery attempts, oldest first (bounded). */
  readonly deliveries: DeliveryRecord[];
  /** Every event produced (bounded), delivered or not: tests replay them by hand. */
  readonly events: SandboxEvent[] = [];
  private readonly sender: SandboxWebhookSender<SandboxEvent, SandboxWebhookConfig, DeliveryRecord>;

  constructor(
    config: SandboxWebhookConfig | null,
    private secret: string,
    private readonly historyLimit = 10_000,
  ) {
    this.sender = new SandboxWebhookSender(config, {
      ordering: 'sequential',
      retryDelayMs: 20,
      historyLimit,
      eventId: (event) => event.id,
      eventType: (event) => event.type,
      request: (event) => {
        const signature = computeRazorpayWebhookSignature(event.body, event.secret ?? this.currentSecret);
        const headers = { 'content-type': 'application/json', 'user-agent': 'Razorpay-Webhook/v1', 'x-razorpay-signature': signature, 'x-razorpay-event-id': event.id };
        return { body: event.body, headers: () => headers, answered: { signature } };
      },
    });
    this.faults = this.sender.faults;
    this.deliveries = this.sender.deliveries;
  }

  /** Sets or replaces the endpoint. */
  configure(config: SandboxWebhookConfig | null): void {
    this.sender.configure(config);
  }

  /** The secret new events are signed with. */
  get currentSecret(): string {
    return this.sender.endpoint?.secret ?? this.secret;
  }

  /** Rotates the webhook secret: later events are signed with `secret`, retries of older ones keep theirs. */
  rotateSecret(secret: string): void {
    this.secret = secret;
    const config = this.sender.endpoint;
    if (config) this.sender.configure({ ...config, secret });
  }

  /** Queues events instead of sending them until {@link release}. */
  hold(): void {
    this.sender.hold();
  }

  /** Sends the held events in creation order or reversed, and stops holding. Returns them. */
  release(options: { order?: 'original' | 'reverse' } = {}): SandboxEvent[] {
    return this.sender.release(options);
  }

  /** Signs and hands an event to delivery (respecting hold and faults). */
  emit(id: string, type: string, body: string): SandboxEvent {
    const event: SandboxEvent = { id, type, body, secret: this.sender.endpoint ? this.currentSecret : null };
    pushBounded(this.events, event, this.historyLimit);
    this.sender.emit(event);
    return event;
  }

  /** Delivers an event again (as Razorpay's retry would, same id and signature secret). */
  redeliver(event: SandboxEvent): void {
    this.sender.redeliver(event);
  }

  /** Resolves once nothing is queued or in flight (held events excepted). */
  idle(): Promise<void> {
    return this.sender.idle();
  }
}
