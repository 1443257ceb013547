/**
 * Delivers the sandbox's webhook events the way PayPal does: JSON bodies signed with SHA256withRSA over
 * `transmission_id|transmission_time|webhook_id|crc32(body)`, the signing certificate's URL in
 * `PAYPAL-CERT-URL`, and retries on non-2xx. Faults for tests: duplicates, drops, delays and
 * hold-then-release in any order.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { pushBounded } from '@tender/core';
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

/** Where the sandbox sends webhooks. */
export interface SandboxWebhookConfig {
  /** Endpoint URL (loopback in tests). */
  url: string;
  /** Delivery attempts per event on non-2xx or network error (default 3). */
  maxAttempts?: number;
  /** Delay between attempts in ms (default 100). */
  retryDelayMs?: number;
}

/** Faults applied to later deliveries; change the fields at any time. */
export interface WebhookFaults {
  /** Send each event this many extra times. */
  duplicate: number;
  /** Wait this long before each delivery. */
  delayMs: number;
  /** Silently drop the next N events. */
  dropNext: number;
}

/** One delivery attempt. */
export interface DeliveryRecord {
  eventId: string;
  type: string;
  attempt: number;
  status: number | null;
  error?: string;
}

/** What signing needs. */
export interface SigningMaterial {
  webhookId: string;
  certUrl: () => string;
  privateKeyPem: string;
}

/** Signs and delivers events. */
export class WebhookSender {
  readonly faults: WebhookFaults = { duplicate: 0, delayMs: 0, dropNext: 0 };
  /** The latest delivery attempts, oldest first. */
  readonly deliveries: DeliveryRecord[] = [];
  private held: SandboxEvent[] | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private config: SandboxWebhookConfig | null,
    private readonly signing: SigningMaterial,
    private readonly historyLimit = 10_000,
  ) {}

  /** Sets or replaces the endpoint. */
  configure(config: SandboxWebhookConfig | null): void {
    this.config = config;
  }

  /** Queues events until {@link release}. */
  hold(): void {
    this.held ??= [];
  }

  /** Sends the held events in creation order or reversed, one after the other, and stops holding. */
  release(options: { order?: 'original' | 'reverse' } = {}): SandboxEvent[] {
    const events = this.held ?? [];
    this.held = null;
    const ordered = options.order === 'reverse' ? [...events].reverse() : events;
    this.track(
      (async () => {
        for (const event of ordered) await this.deliver(event);
      })(),
    );
    return ordered;
  }

  /** Called by the sandbox for every new event. */
  emit(event: SandboxEvent): void {
    if (this.held) {
      this.held.push(event);
      return;
    }
    if (this.faults.dropNext > 0) {
      this.faults.dropNext--;
      return;
    }
    this.track(this.deliver(event));
  }

  /** Resolves once every delivery started so far (and its retries) is done. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** The headers and body of one signed delivery (tests can replay or tamper with them). */
  sign(body: string, at: Date = new Date()): Record<string, string> {
    const transmissionId = randomUUID();
    const transmissionTime = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      'content-type': 'application/json',
      'user-agent': 'PayPal/AUHD-214.0-58474185',
      'paypal-transmission-id': transmissionId,
      'paypal-transmission-time': transmissionTime,
      'paypal-transmission-sig': signPayPalWebhook({ transmissionId, transmissionTime, webhookId: this.signing.webhookId, body: Buffer.from(body), privateKeyPem: this.signing.privateKeyPem }),
      'paypal-cert-url': this.signing.certUrl(),
      'paypal-auth-algo': 'SHA256withRSA',
    };
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async deliver(event: SandboxEvent): Promise<void> {
    const copies = 1 + this.faults.duplicate;
    for (let i = 0; i < copies; i++) await this.deliverOnce(event);
  }

  private async deliverOnce(event: SandboxEvent): Promise<void> {
    const config = this.config;
    if (!config) return;
    const body = JSON.stringify(event);
    const attempts = config.maxAttempts ?? 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.faults.delayMs > 0) await new Promise((r) => setTimeout(r, this.faults.delayMs));
      try {
        const response = await fetch(config.url, { method: 'POST', headers: this.sign(body), body });
        await response.arrayBuffer();
        pushBounded(this.deliveries, { eventId: event.id, type: event.event_type, attempt, status: response.status }, this.historyLimit);
        if (response.ok) return;
      } catch (error) {
        pushBounded(this.deliveries, { eventId: event.id, type: event.event_type, attempt, status: null, error: String(error) }, this.historyLimit);
      }
      if (attempt < attempts) await new Promise((r) => setTimeout(r, config.retryDelayMs ?? 100));
    }
  }
}
