/**
 * The webhook delivery engine the gateway sandboxes share: an endpoint, delivery attempts with a retry
 * delay, faults for tests (duplicates, delays, drops, hold-then-release in either order), a bounded
 * history of attempts and `idle()`. A sandbox says how one of its events becomes a signed HTTP request
 * and whether its deliveries run concurrently or one at a time.
 *
 * @module
 */
import { pushBounded } from '../bounded';

/** Where a sandbox sends webhooks: what every sandbox's endpoint configuration has. */
export interface SandboxWebhookEndpoint {
  /** Endpoint URL (loopback in tests). */
  url: string;
  /** Delivery attempts per event on a non-2xx answer or a network error (default 3). */
  maxAttempts?: number;
  /** Delay between attempts in ms (default: the sandbox's {@link SandboxWebhookOptions.retryDelayMs}). */
  retryDelayMs?: number;
}

/** Faults applied to later webhooks; change the fields at any time. */
export interface SandboxWebhookFaults {
  /** Send each event this many extra times (0 = once). */
  duplicate: number;
  /** Wait this long before each delivery attempt. */
  delayMs: number;
  /** Silently drop the next N events (never delivered). */
  dropNext: number;
}

/** One delivery attempt (or, with `attempt: 0` and `error: 'dropped'`, a dropped event), for inspection. */
export interface SandboxDeliveryRecord {
  /** The event's id. */
  eventId: string;
  /** The event's type. */
  type: string;
  /** 1 for the first attempt of a delivery, 2 for its first retry, ... */
  attempt: number;
  /** The HTTP status answered, `null` when none was. */
  status: number | null;
  /** Why no status was answered. */
  error?: string;
}

/** One delivery of an event, as built by {@link SandboxWebhookOptions.request}. */
export interface SandboxWebhookRequest<R extends SandboxDeliveryRecord = SandboxDeliveryRecord> {
  /** The exact body POSTed on every attempt. */
  body: string;
  /** The headers of one attempt, called afresh for each (so time-stamped signatures stay fresh). */
  headers: () => Record<string, string>;
  /** Extra fields for the history record of each answered attempt (e.g. the signature sent). */
  answered?: Omit<R, keyof SandboxDeliveryRecord>;
}

/** How a sandbox's events are identified, signed and ordered. */
export interface SandboxWebhookOptions<E, C extends SandboxWebhookEndpoint, R extends SandboxDeliveryRecord> {
  /** Builds one delivery of `event` to `endpoint`: called once per delivery (each duplicate is one), before its first attempt. */
  request: (event: E, endpoint: C) => SandboxWebhookRequest<R>;
  /** The event's id, for the history. */
  eventId: (event: E) => string;
  /** The event's type, for the history. */
  eventType: (event: E) => string;
  /** `'concurrent'`: each event is delivered once emitted, alongside the others; `'sequential'`: one at a time, in order. */
  ordering: 'concurrent' | 'sequential';
  /** Delay between attempts in ms when the endpoint does not set `retryDelayMs`. */
  retryDelayMs: number;
  /** Most delivery records kept (default 10,000); the oldest are forgotten first. */
  historyLimit?: number;
  /** Record a dropped event in the history (default true). */
  recordDrops?: boolean;
  /** Hold or drop events emitted with no endpoint like the others, not ignore them (default false). */
  acceptWithoutEndpoint?: boolean;
  /** The `error` recorded for an attempt that failed without an answer (default the error's message). */
  describeError?: (error: unknown) => string;
}

/**
 * Delivers a sandbox's events to its configured endpoint, with retries and fault injection. Sandboxes
 * extend it or wrap it as their `webhooks`.
 *
 * @typeParam E - the sandbox's event
 * @typeParam C - its endpoint configuration
 * @typeParam R - its delivery records
 */
export class SandboxWebhookSender<E, C extends SandboxWebhookEndpoint = SandboxWebhookEndpoint, R extends SandboxDeliveryRecord = SandboxDeliveryRecord> {
  /** Faults for later deliveries; see {@link SandboxWebhookFaults}. */
  readonly faults: SandboxWebhookFaults = { duplicate: 0, delayMs: 0, dropNext: 0 };
  /** The most recent delivery attempts, oldest first (at most `historyLimit` of them). */
  readonly deliveries: R[] = [];
  private held: E[] | null = null;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private idleWaiters: Array<() => void> = [];

  /** @param config - the endpoint, or `null` until {@link configure}. */
  constructor(
    private config: C | null,
    private readonly options: SandboxWebhookOptions<E, C, R>,
  ) {}

  /** The endpoint webhooks go to, `null` when none is configured. */
  get endpoint(): C | null {
    return this.config;
  }

  /** Sets or replaces the endpoint (e.g. once the test's receiver has a port). */
  configure(config: C | null): void {
    this.config = config;
  }

  /** Queues events instead of sending them until {@link release}. */
  hold(): void {
    this.held ??= [];
  }

  /** Sends the held events one after the other, in emitted order or reversed, and stops holding. Returns them as sent. */
  release(options: { order?: 'original' | 'reverse' } = {}): E[] {
    const events = this.held ?? [];
    this.held = null;
    const ordered = options.order === 'reverse' ? [...events].reverse() : events;
    if (this.options.ordering === 'sequential') {
      for (const event of ordered) this.redeliver(event);
    } else {
      const inOrder = async () => {
        for (const event of ordered) await this.deliver(event, 1 + this.faults.duplicate);
      };
      this.track(inOrder());
    }
    return ordered;
  }

  /** Hands a new event to delivery, respecting the hold and the faults. */
  emit(event: E): void {
    if (!this.config && !this.options.acceptWithoutEndpoint) return;
    if (this.held) {
      this.held.push(event);
      return;
    }
    if (this.faults.dropNext > 0) {
      this.faults.dropNext--;
      if (this.options.recordDrops ?? true) this.record(event, 0, { status: null, error: 'dropped' });
      return;
    }
    this.redeliver(event);
  }

  /** Delivers an event (again) now, whatever the hold and the drop fault; duplicates and delays apply. */
  redeliver(event: E): void {
    const copies = 1 + this.faults.duplicate;
    if (this.options.ordering === 'concurrent') {
      this.track(this.deliver(event, copies));
    } else {
      for (let i = 0; i < copies; i++) this.track((this.chain = this.chain.then(() => this.deliverOnce(event)).catch(() => undefined)));
    }
  }

  /** Resolves once no delivery is queued or in flight (held events excepted). */
  async idle(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private track(work: Promise<void>): void {
    this.pending++;
    void work.finally(() => {
      if (--this.pending > 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    });
  }

  private record(event: E, attempt: number, outcome: Pick<SandboxDeliveryRecord, 'status' | 'error'>): void {
    const delivery = { eventId: this.options.eventId(event), type: this.options.eventType(event), attempt, ...outcome };
    pushBounded(this.deliveries, delivery as R, this.options.historyLimit ?? 10_000);
  }

  private async deliver(event: E, copies: number): Promise<void> {
    for (let i = 0; i < copies; i++) await this.deliverOnce(event);
  }

  private async deliverOnce(event: E): Promise<void> {
    const config = this.config;
    if (!config) return;
    const request = this.options.request(event, config);
    const attempts = config.maxAttempts ?? 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.faults.delayMs > 0) await sleep(this.faults.delayMs);
      try {
        const response = await fetch(config.url, { method: 'POST', headers: request.headers(), body: request.body });
        await response.arrayBuffer();
        this.record(event, attempt, { status: response.status, ...request.answered });
        if (response.ok) return;
      } catch (error) {
        this.record(event, attempt, { status: null, error: this.options.describeError ? this.options.describeError(error) : (error as Error).message });
      }
      if (attempt < attempts) await sleep(config.retryDelayMs ?? this.options.retryDelayMs);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
