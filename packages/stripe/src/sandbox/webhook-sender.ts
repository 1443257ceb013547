/**
 * Delivers signed Stripe events to the configured endpoint, with fault injection for tests:
 * duplicates, delays, drops, and hold-then-release in any order (reordering).
 *
 * @module
 */
import { pushBounded } from '@tender/core';
import { signStripePayload } from '../signature';
import type { StripeEvent } from '../stripe-types';

/** Where and how the sandbox sends webhooks. */
export interface SandboxWebhookConfig {
  /** Endpoint URL (loopback in tests). */
  url: string;
  /** Signing secret (`whsec_...`). */
  secret: string;
  /** Delivery attempts per event on non-2xx or network error (default 3). */
  maxAttempts?: number;
  /** Delay between attempts in ms (default 100). */
  retryDelayMs?: number;
}

/** Faults applied to outgoing webhooks. Change the fields at any time; they apply to later events. */
export interface WebhookFaults {
  /** Send each event this many extra times (0 = once). */
  duplicate: number;
  /** Wait this long before each delivery. */
  delayMs: number;
  /** Silently drop the next N events (never delivered). */
  dropNext: number;
}

/** One delivery attempt, for inspection. */
export interface DeliveryRecord {
  eventId: string;
  type: string;
  attempt: number;
  status: number | null;
  error?: string;
}

/** Sends events; see {@link WebhookFaults}. */
export class WebhookSender {
  readonly faults: WebhookFaults = { duplicate: 0, delayMs: 0, dropNext: 0 };
  /** The most recent delivery attempts, oldest first (at most `historyLimit` of them). */
  readonly deliveries: DeliveryRecord[] = [];
  private held: StripeEvent[] | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    private config: SandboxWebhookConfig | null,
    private readonly historyLimit = 10_000,
  ) {}

  private record(delivery: DeliveryRecord): void {
    pushBounded(this.deliveries, delivery, this.historyLimit);
  }

  /** Sets or replaces the endpoint (e.g. once the test's receiver has a port). */
  configure(config: SandboxWebhookConfig | null): void {
    this.config = config;
  }

  /** Queues events instead of sending them until {@link release}. */
  hold(): void {
    if (!this.held) this.held = [];
  }

  /**
   * Sends the held events, in creation order or reversed (out-of-order delivery), and stops holding.
   * @returns the events released.
   */
  release(options: { order?: 'original' | 'reverse' } = {}): StripeEvent[] {
    const events = this.held ?? [];
    this.held = null;
    const ordered = options.order === 'reverse' ? [...events].reverse() : events;
    // Sequential so the receiver really sees them in the chosen order.
    this.track(
      (async () => {
        for (const event of ordered) await this.deliver(event);
      })(),
    );
    return ordered;
  }

  /** Hands an event to delivery (respecting hold and faults). */
  emit(event: StripeEvent): void {
    if (!this.config) return;
    if (this.held) {
      this.held.push(event);
      return;
    }
    if (this.faults.dropNext > 0) {
      this.faults.dropNext--;
      this.record({ eventId: event.id, type: event.type, attempt: 0, status: null, error: 'dropped' });
      return;
    }
    this.track(this.deliver(event));
  }

  /** Resolves once no delivery is in flight. */
  idle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private track(promise: Promise<void>): void {
    const p = promise.finally(() => {
      this.inFlight.delete(p);
      if (this.inFlight.size === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    });
    this.inFlight.add(p);
  }

  private async deliver(event: StripeEvent): Promise<void> {
    const copies = 1 + this.faults.duplicate;
    for (let i = 0; i < copies; i++) await this.deliverOnce(event);
  }

  private async deliverOnce(event: StripeEvent): Promise<void> {
    const config = this.config;
    if (!config) return;
    const payload = JSON.stringify(event, null, 2);
    const attempts = config.maxAttempts ?? 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.faults.delayMs > 0) await sleep(this.faults.delayMs);
      try {
        const response = await fetch(config.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'stripe-signature': signStripePayload({ payload, secret: config.secret }),
          },
          body: payload,
        });
        await response.arrayBuffer();
        this.record({ eventId: event.id, type: event.type, attempt, status: response.status });
        if (response.ok) return;
      } catch (error) {
        this.record({ eventId: event.id, type: event.type, attempt, status: null, error: (error as Error).message });
      }
      if (attempt < attempts) await sleep(config.retryDelayMs ?? 100);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
