/**
 * One shared subscription per watched payment: its audit trail, read again whenever this process
 * commits a change to the payment (`tender.events`) and at a modest interval (changes committed by
 * another server on the same database raise no event here). Every connection watching the payment
 * shares the feed, so a thousand browsers on one checkout cost one query per interval, not a thousand.
 *
 * @module
 */
import type { Logger, Payment, Refund, Tender, Transition } from '@tender/core';

/** What a feed read found new: transitions in trail order, and the records as read right after them. */
export interface FeedBatch {
  /** Transitions this feed had not seen, oldest first. */
  transitions: readonly Transition[];
  /** The payment as read after the trail, so it reflects at least every transition of the batch. */
  payment: Payment;
  /** The payment's refunds by id, read with the payment (only when the batch has refund transitions). */
  refunds: ReadonlyMap<string, Refund>;
}

/** A subscriber's view of a feed. */
export interface FeedSubscription {
  /** Resolves once a read that started after {@link PaymentFeeds.subscribe} has finished (rejects if it failed). */
  readonly ready: Promise<void>;
  /** The trail so far, oldest first, and the latest payment read; meaningful once `ready` resolved. */
  current(): { trail: readonly Transition[]; payment: Payment; refunds: ReadonlyMap<string, Refund> };
  unsubscribe(): void;
}

/** Options of {@link PaymentFeeds}. */
export interface PaymentFeedsOptions {
  /** How often a watched payment's trail is read again (cross-instance changes). */
  pollIntervalMs: number;
  logger: Logger;
}

class PaymentFeed {
  readonly trail: Transition[] = [];
  private readonly seen = new Set<string>();
  payment: Payment | null = null;
  refunds: ReadonlyMap<string, Refund> = new Map();
  readonly listeners = new Set<(batch: FeedBatch) => void>();
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly tender: Tender,
    readonly merchantId: string,
    readonly paymentId: string,
    private readonly options: PaymentFeedsOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      // A read already queued behind a running one will see whatever this one would.
      if (this.queued) return;
      this.refresh().catch((error: unknown) => this.options.logger.warn({ payment_id: this.paymentId, err: String(error) }, 'live feed: reading the trail failed; retrying at the next interval'));
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Reads the trail again. Concurrent calls share reads, but the promise returned always settles
   * after a read that began after the call: a read already under way may have looked at the trail
   * before the change that prompted this call.
   */
  refresh(): Promise<void> {
    if (!this.running) {
      this.running = this.read().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.refresh();
      });
    return this.queued;
  }

  private async read(): Promise<void> {
    // The first read checks the merchant (a 404 for another's payment); later ones only need the
    // trail, one query, and the payment when the trail moved.
    const trail = this.payment ? await this.tender.store.listTransitions(this.paymentId) : await this.tender.transitions(this.paymentId, { merchantId: this.merchantId });
    const fresh = trail.filter((t) => !this.seen.has(t.id));
    if (fresh.length === 0 && this.payment) return;
    // Read after the trail, so the payment sent with a transition is never older than it.
    const payment = await this.tender.payments.get(this.paymentId, { merchantId: this.merchantId });
    if (fresh.some((t) => t.refundId !== null) || this.refunds.size > 0) {
      const refunds = await this.tender.store.listRefunds(this.paymentId);
      this.refunds = new Map(refunds.map((r) => [r.id, r]));
    }
    for (const t of fresh) {
      this.seen.add(t.id);
      this.trail.push(t);
    }
    this.payment = payment;
    if (fresh.length === 0) return;
    const batch: FeedBatch = { transitions: fresh, payment, refunds: this.refunds };
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch (error) {
        this.options.logger.warn({ payment_id: this.paymentId, err: String(error) }, 'live feed listener threw');
      }
    }
  }
}

/**
 * The feeds of every watched payment, keyed by merchant and payment. A feed exists while someone
 * subscribes to it: the first subscriber starts its polling, the last one to leave stops it.
 */
export class PaymentFeeds {
  private readonly feeds = new Map<string, PaymentFeed>();
  private readonly offEvents: () => void;

  constructor(
    private readonly tender: Tender,
    private readonly options: PaymentFeedsOptions,
  ) {
    // Committed changes of this process: read at once rather than at the next interval.
    this.offEvents = tender.events.on((event) => {
      if (event.paymentId === null) return;
      const feed = this.feeds.get(key(event.merchantId, event.paymentId));
      feed?.refresh().catch((error: unknown) => options.logger.warn({ payment_id: event.paymentId, err: String(error) }, 'live feed: reading the trail failed; retrying at the next interval'));
    });
  }

  /** Number of payments watched. */
  get size(): number {
    return this.feeds.size;
  }

  /** Subscribes to a payment's new transitions; `listener` is called synchronously for each batch. */
  subscribe(merchantId: string, paymentId: string, listener: (batch: FeedBatch) => void): FeedSubscription {
    const k = key(merchantId, paymentId);
    let feed = this.feeds.get(k);
    if (!feed) {
      feed = new PaymentFeed(this.tender, merchantId, paymentId, this.options);
      this.feeds.set(k, feed);
      feed.start();
    }
    feed.listeners.add(listener);
    const ready = feed.refresh();
    // Whoever awaits `ready` sees a failure; nothing else must report it as unhandled.
    ready.catch(() => undefined);
    let subscribed = true;
    const own = feed;
    return {
      ready,
      current: () => ({ trail: own.trail, payment: own.payment!, refunds: own.refunds }),
      unsubscribe: () => {
        if (!subscribed) return;
        subscribed = false;
        own.listeners.delete(listener);
        if (own.listeners.size === 0 && this.feeds.get(k) === own) {
          own.stop();
          this.feeds.delete(k);
        }
      },
    };
  }

  /** Stops listening to the engine and every feed's polling. */
  close(): void {
    this.offEvents();
    for (const feed of this.feeds.values()) feed.stop();
    this.feeds.clear();
  }
}

function key(merchantId: string, paymentId: string): string {
  return `${merchantId}\u0000${paymentId}`;
}
