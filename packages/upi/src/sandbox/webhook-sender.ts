/**
 * Delivers Razorpay-style webhooks from the sandbox: the JSON body signed with `X-Razorpay-Signature`
 * (hex HMAC-SHA256 of the body with the webhook secret) and an `x-razorpay-event-id` header that is the
 * same on every retry and duplicate. Deliveries go one at a time in order (deterministic for tests);
 * faults reorder (hold / release reversed), duplicate, delay or drop them. A retry of an event is
 * signed with the secret it was first signed with, as Razorpay does across a secret rotation.
 *
 * @module
 */
import { pushBounded } from '@tender/core';
import { computeRazorpayWebhookSignature } from '../signature';

/** Where and how the sandbox sends webhooks. */
export interface SandboxWebhookConfig {
  /** Endpoint URL (loopback in tests). */
  url: string;
  /** Webhook secret; default the sandbox's `webhookSecret`. */
  secret?: string;
  /** Delivery attempts per event on a non-2xx answer or a network error (default 3). */
  maxAttempts?: number;
  /** Delay between attempts in ms (default 20). */
  retryDelayMs?: number;
}

/** Faults applied to outgoing webhooks; change the fields at any time. */
export interface WebhookFaults {
  /** Send each event this many extra times (0 = once). */
  duplicate: number;
  /** Wait this long before each delivery. */
  delayMs: number;
  /** Silently drop the next N events (never delivered). */
  dropNext: number;
}

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
export interface DeliveryRecord {
  eventId: string;
  type: string;
  attempt: number;
  status: number | null;
  signature?: string;
  error?: string;
}

/** The sandbox's webhook sender; see {@link WebhookFaults}. */
export class WebhookSender {
  /** Faults for later deliveries. */
  readonly faults: WebhookFaults = { duplicate: 0, delayMs: 0, dropNext: 0 };
  /** The most recent delivery attempts, oldest first (bounded). */
  readonly deliveries: DeliveryRecord[] = [];
  /** Every event produced (bounded), delivered or not: tests replay them by hand. */
  readonly events: SandboxEvent[] = [];
  private held: SandboxEvent[] | null = null;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private config: SandboxWebhookConfig | null,
    private secret: string,
    private readonly historyLimit = 10_000,
  ) {}

  /** Sets or replaces the endpoint. */
  configure(config: SandboxWebhookConfig | null): void {
    this.config = config;
  }

  /** The secret new events are signed with. */
  get currentSecret(): string {
    return this.config?.secret ?? this.secret;
  }

  /** Rotates the webhook secret: later events are signed with `secret`, retries of older ones keep theirs. */
  rotateSecret(secret: string): void {
    this.secret = secret;
    if (this.config) this.config = { ...this.config, secret };
  }

  /** Queues events instead of sending them until {@link release}. */
  hold(): void {
    if (!this.held) this.held = [];
  }

  /** Sends the held events in creation order or reversed, and stops holding. Returns them. */
  release(options: { order?: 'original' | 'reverse' } = {}): SandboxEvent[] {
    const events = this.held ?? [];
    this.held = null;
    const ordered = options.order === 'reverse' ? [...events].reverse() : events;
    for (const event of ordered) this.enqueue(event);
    return ordered;
  }

  /** Signs and hands an event to delivery (respecting hold and faults). */
  emit(id: string, type: string, body: string): SandboxEvent {
    const event: SandboxEvent = { id, type, body, secret: this.config ? this.currentSecret : null };
    pushBounded(this.events, event, this.historyLimit);
    if (!this.config) return event;
    if (this.held) {
      this.held.push(event);
      return event;
    }
    if (this.faults.dropNext > 0) {
      this.faults.dropNext--;
      pushBounded(this.deliveries, { eventId: id, type, attempt: 0, status: null, error: 'dropped' }, this.historyLimit);
      return event;
    }
    this.enqueue(event);
    return event;
  }

  /** Delivers an event again (as Razorpay's retry would, same id and signature secret). */
  redeliver(event: SandboxEvent): void {
    this.enqueue(event);
  }

  /** Resolves once nothing is queued or in flight (held events excepted). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(event: SandboxEvent): void {
    const copies = 1 + this.faults.duplicate;
    for (let i = 0; i < copies; i++) {
      this.pending++;
      this.chain = this.chain
        .then(() => this.deliverOnce(event))
        .catch(() => undefined)
        .finally(() => {
          this.pending--;
          if (this.pending === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) w();
          }
        });
    }
  }

  private async deliverOnce(event: SandboxEvent): Promise<void> {
    const config = this.config;
    if (!config) return;
    const secret = event.secret ?? this.currentSecret;
    const signature = computeRazorpayWebhookSignature(event.body, secret);
    const attempts = config.maxAttempts ?? 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.faults.delayMs > 0) await sleep(this.faults.delayMs);
      try {
        const response = await fetch(config.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Razorpay-Webhook/v1',
            'x-razorpay-signature': signature,
            'x-razorpay-event-id': event.id,
          },
          body: event.body,
        });
        await response.arrayBuffer();
        pushBounded(this.deliveries, { eventId: event.id, type: event.type, attempt, status: response.status, signature }, this.historyLimit);
        if (response.ok) return;
      } catch (error) {
        pushBounded(this.deliveries, { eventId: event.id, type: event.type, attempt, status: null, error: (error as Error).message }, this.historyLimit);
      }
      if (attempt < attempts) await sleep(config.retryDelayMs ?? 20);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
