/**
 * The transport-independent part of live payment status: the events a connection receives (a
 * snapshot, then one event per transition of the payment's audit trail), resumption after a given
 * event id, the per-merchant connection limit, each connection's maximum lifetime, and ending every
 * connection on shutdown. `sse.ts` and `websocket.ts` only frame these events for their wire.
 *
 * @module
 */
import { TenderError, type Logger, type Refund, type Tender, type Transition } from '@tender/core';
import type { TenderMetrics } from '../metrics';
import { paymentJson, refundJson, transitionJson } from '../serialize';
import { PaymentFeeds, type FeedBatch, type FeedSubscription } from './feed';

/** The transports a live connection can use. */
export type LiveTransport = 'sse' | 'websocket';

/** Which payment a connection watches, for which merchant (already authenticated). */
export interface LiveTarget {
  merchantId: string;
  paymentId: string;
}

/** Why the server ends a connection. */
export type LiveEndReason = 'max_duration' | 'shutdown';

/**
 * One event of a live connection.
 * - `snapshot`: `{ payment }`, the payment when the connection opened (no earlier transitions follow).
 * - `payment.status` / `refund.status`: `{ transition, payment, refund? }` for one transition of the
 *   audit trail; `payment` is the payment as read after that transition (it may already reflect later
 *   ones that follow in the same read).
 * - `end`: `{ reason }`, the last event before the server closes the connection.
 */
export interface LiveEvent {
  /** The transition id (the resume point); the snapshot carries the last transition's id when it stands for the whole trail. */
  id: string | null;
  type: 'snapshot' | 'payment.status' | 'refund.status' | 'end';
  data: Record<string, unknown>;
}

/** Where a session's events go: implemented by each transport. */
export interface LiveSink {
  /** Sends one event (the transport drops a client that falls too far behind). */
  send(event: LiveEvent): void;
  /** Sends the `end` event and closes the connection cleanly. */
  end(reason: LiveEndReason): void;
  /** Closes the connection at once, with nothing more sent. */
  destroy(): void;
}

/** Limits of live connections. */
export interface LiveLimits {
  /** Open connections per merchant, both transports together (default 100); more are a 429. */
  maxConnectionsPerMerchant?: number;
  /** Interval of the shared trail read that picks up other servers' changes (default 2000 ms). */
  pollIntervalMs?: number;
  /** SSE comment / WebSocket ping interval (default 15 000 ms). */
  heartbeatIntervalMs?: number;
  /** Longest life of one connection (default 1 h); it then ends with `end` (`max_duration`) and the client resumes. */
  maxDurationMs?: number;
  /** Bytes queued for one client beyond which it is dropped as too slow (default 1 MiB). */
  maxBufferBytes?: number;
  /** On shutdown, how long connections get to close cleanly before they are cut (default 2000 ms). */
  closeGraceMs?: number;
}

/** Limits with every default applied. */
export type ResolvedLiveLimits = Required<LiveLimits>;

/** Defaults of {@link LiveLimits}. */
export const LIVE_DEFAULTS: ResolvedLiveLimits = {
  maxConnectionsPerMerchant: 100,
  pollIntervalMs: 2000,
  heartbeatIntervalMs: 15_000,
  maxDurationMs: 60 * 60_000,
  maxBufferBytes: 1024 * 1024,
  closeGraceMs: 2000,
};

/** A connection admitted by {@link LiveHub.open}: its first events, then live ones once attached. */
export interface LiveSession {
  /** Starts delivery: the backlog (snapshot or missed transitions), then each new transition. */
  attach(sink: LiveSink): void;
  /** Releases the connection's slot and subscription (idempotent; call it when the connection closes). */
  close(): void;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks a resume id (`Last-Event-ID` or `last_event_id`): absent is undefined, a malformed one a 400. */
export function parseLastEventId(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new TenderError({ type: 'invalid_request_error', code: 'invalid_last_event_id', message: 'Last-Event-ID (or last_event_id) must be an event id this stream sent', param: 'last_event_id' });
  }
  return value;
}

/** Builds the event of one transition. */
function transitionEvent(t: Transition, payment: Record<string, unknown>, refunds: ReadonlyMap<string, Refund>): LiveEvent {
  const refund = t.refundId !== null ? refunds.get(t.refundId) : undefined;
  return {
    id: t.id,
    type: t.refundId !== null ? 'refund.status' : 'payment.status',
    data: { transition: transitionJson(t), payment, ...(refund ? { refund: refundJson(refund) } : {}) },
  };
}

/**
 * The sessions of one server: admits connections, feeds them, ends them. Created by
 * `createLiveStatus`; transports call {@link LiveHub.open} before they answer anything, so every
 * refusal (404, 429, 503) is an ordinary error response.
 */
export class LiveHub {
  readonly limits: ResolvedLiveLimits;
  private readonly feeds: PaymentFeeds;
  private readonly perMerchant = new Map<string, number>();
  private readonly sessions = new Set<SessionImpl>();
  private readonly counts: Record<LiveTransport, number> = { sse: 0, websocket: 0 };
  private closing: Promise<void> | null = null;
  // Events of a batch are built once and shared by every session watching the payment.
  private readonly batchEvents = new WeakMap<FeedBatch, LiveEvent[]>();

  constructor(
    tender: Tender,
    limits: LiveLimits,
    readonly logger: Logger,
    private readonly metrics?: TenderMetrics,
  ) {
    this.limits = { ...LIVE_DEFAULTS, ...stripUndefined(limits) };
    this.feeds = new PaymentFeeds(tender, { pollIntervalMs: this.limits.pollIntervalMs, logger });
    for (const transport of ['sse', 'websocket'] as const) metrics?.liveConnections.set({ transport }, 0);
  }

  /** Open connections by transport. */
  get connections(): Readonly<Record<LiveTransport, number>> {
    return { ...this.counts };
  }

  /**
   * Admits a connection: takes a slot (429 past the limit, whatever the payment, so the answer tells
   * nothing about it), checks the payment is the merchant's (404 otherwise), subscribes to the
   * payment's feed and computes what the connection receives first.
   * Throws before anything is sent, so the transport answers the error as JSON.
   * @param lastEventId The last event the client received, when it resumes.
   */
  async open(transport: LiveTransport, target: LiveTarget, lastEventId: string | undefined): Promise<LiveSession> {
    if (this.closing) throw shuttingDown();
    const held = this.perMerchant.get(target.merchantId) ?? 0;
    if (held >= this.limits.maxConnectionsPerMerchant) {
      throw new TenderError({
        type: 'rate_limit_error',
        code: 'too_many_live_connections',
        message: `This merchant has ${held} live connections open, the most allowed (LIVE_MAX_CONNECTIONS_PER_MERCHANT); close one first`,
        retryAfterSeconds: 5,
      });
    }
    // The slot is taken before the first await, so concurrent opens cannot overshoot the limit.
    this.perMerchant.set(target.merchantId, held + 1);
    this.counts[transport]++;
    this.metrics?.liveConnections.inc({ transport });
    const session = new SessionImpl(this, transport, target);
    this.sessions.add(session);
    try {
      session.subscription = this.feeds.subscribe(target.merchantId, target.paymentId, (batch) => session.receive(this.eventsOf(batch)));
      await session.subscription.ready;
      if (this.closing) throw shuttingDown();
      session.prepare(lastEventId);
      return session;
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /** Ends every connection (an `end` event with reason `shutdown`), cutting those still open after the grace. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const session of this.sessions) session.end('shutdown');
      const deadline = Date.now() + this.limits.closeGraceMs;
      while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const session of [...this.sessions]) session.destroy();
      this.feeds.close();
    })();
    return this.closing;
  }

  /** @internal */
  release(session: SessionImpl): void {
    if (!this.sessions.delete(session)) return;
    const left = (this.perMerchant.get(session.target.merchantId) ?? 1) - 1;
    if (left <= 0) this.perMerchant.delete(session.target.merchantId);
    else this.perMerchant.set(session.target.merchantId, left);
    this.counts[session.transport]--;
    this.metrics?.liveConnections.dec({ transport: session.transport });
  }

  /** @internal */
  eventsOf(batch: FeedBatch): LiveEvent[] {
    let events = this.batchEvents.get(batch);
    if (!events) {
      const payment = paymentJson(batch.payment);
      events = batch.transitions.map((t) => transitionEvent(t, payment, batch.refunds));
      this.batchEvents.set(batch, events);
    }
    return events;
  }

  /** @internal */
  get isClosing(): boolean {
    return this.closing !== null;
  }
}

class SessionImpl implements LiveSession {
  subscription: FeedSubscription | null = null;
  private sink: LiveSink | null = null;
  private backlog: LiveEvent[] = [];
  private queued: LiveEvent[] = [];
  private readonly sent = new Set<string>();
  private closed = false;
  private ended = false;
  private readonly lifetime: NodeJS.Timeout;

  constructor(
    private readonly hub: LiveHub,
    readonly transport: LiveTransport,
    readonly target: LiveTarget,
  ) {
    this.lifetime = setTimeout(() => this.end('max_duration'), hub.limits.maxDurationMs);
    this.lifetime.unref();
  }

  /** What the connection gets first: a snapshot, the transitions after `lastEventId`, or both. */
  prepare(lastEventId: string | undefined): void {
    const { trail, payment, refunds } = this.subscription!.current();
    const json = paymentJson(payment);
    const at = lastEventId === undefined ? -1 : trail.findIndex((t) => t.id === lastEventId);
    if (lastEventId === undefined) {
      // The snapshot stands for the whole trail: resuming from its id skips what it already showed.
      this.backlog = [{ id: trail.at(-1)?.id ?? null, type: 'snapshot', data: { payment: json } }];
    } else if (at < 0) {
      // An id this payment's trail does not hold (another payment's, or a typo): the client cannot
      // know what it missed, so it gets the current state and the whole trail.
      this.backlog = [{ id: null, type: 'snapshot', data: { payment: json } }, ...trail.map((t) => transitionEvent(t, json, refunds))];
    } else {
      this.backlog = trail.slice(at + 1).map((t) => transitionEvent(t, json, refunds));
    }
    for (const t of trail) this.sent.add(t.id);
  }

  attach(sink: LiveSink): void {
    if (this.closed || this.sink) return;
    this.sink = sink;
    for (const event of this.backlog) sink.send(event);
    this.backlog = [];
    const queued = this.queued;
    this.queued = [];
    this.deliver(queued);
    // A shutdown that began while the transport was being set up.
    if (this.hub.isClosing) this.end('shutdown');
  }

  receive(events: LiveEvent[]): void {
    if (this.closed || this.ended) return;
    if (!this.sink) this.queued.push(...events);
    else this.deliver(events);
  }

  private deliver(events: LiveEvent[]): void {
    for (const event of events) {
      if (this.closed || this.ended) return;
      // Already in the backlog (read while the connection was being admitted).
      if (event.id !== null && this.sent.has(event.id)) continue;
      if (event.id !== null) this.sent.add(event.id);
      this.sink!.send(event);
    }
  }

  end(reason: LiveEndReason): void {
    if (this.closed || this.ended) return;
    if (!this.sink) {
      // Not attached yet: attach() ends it once the transport is ready.
      if (reason === 'max_duration') this.close();
      return;
    }
    this.ended = true;
    this.sink.end(reason);
  }

  destroy(): void {
    if (this.sink) this.sink.destroy();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lifetime);
    this.subscription?.unsubscribe();
    this.hub.release(this);
  }
}

function shuttingDown(): TenderError {
  return new TenderError({ type: 'api_error', code: 'shutting_down', status: 503, retryable: true, retryAfterSeconds: 1, message: 'The server is shutting down; reconnect (another instance will answer)' });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
