/**
 * Velocity store spec: where the risk engine records payment attempts and counts them per key
 * (user, email, card fingerprint, IP, device) over sliding windows. One call both records the
 * attempt and answers the counts, atomically per key, so concurrent attempts are all counted: of two
 * attempts sharing a key value, one sees the other (two instances sharing a window never both pass a
 * `max_count` of 1). {@link MemoryVelocityStore} is the in-process one; `@tender/store-postgres` and
 * the Redis store share windows between instances. Check a store with `runVelocityStoreConformance`
 * from `@tender/core/testing`.
 *
 * Key values reach the store already hashed by the risk engine (a SHA-256 of the merchant, the kind
 * and the value), so a store holds no email, IP or fingerprint, and one merchant's counts never
 * include another's.
 *
 * @module
 */
import type { VelocityKeyKind } from './config';

/** One payment attempt as a velocity store records it. */
export interface VelocityAttempt {
  /** Unique per attempt (Tender's payment id): recording the same id twice counts it once. */
  id: string;
  /** The attempt's keys: opaque, hashed values (absent kinds are neither recorded nor counted). */
  keys: Partial<Record<VelocityKeyKind, string>>;
  /** The attempt's amount in minor units of `currency` (a safe integer). */
  amountMinor: number;
  /** Upper-case ISO 4217 code: sums are per currency, never across currencies. */
  currency: string;
  /** When the attempt happened (the engine's clock). */
  at: Date;
}

/** A count asked for: the attempts sharing this attempt's `key` within the last `windowMs`. */
export interface VelocityQuery {
  key: VelocityKeyKind;
  /**
   * The window's length: attempts with `at > attempt.at - windowMs` and `at <= attempt.at` count. A
   * store shared between processes also counts attempts stamped later than `attempt.at` that it
   * recorded before this one (another instance's clock, a call that waited its turn): the guarantee
   * of {@link VelocityStore.recordAndCount} needs them.
   */
  windowMs: number;
}

/** The answer to one {@link VelocityQuery}, this attempt included. */
export interface VelocityCount {
  /** Attempts in the window with the same key value, in any currency (this one included). */
  count: number;
  /** Sum of the minor amounts of those attempts in the attempt's own currency (this one included). */
  sumMinor: number;
}

/** Where velocity is kept. Implementations must be safe under concurrency across processes. */
export interface VelocityStore {
  /**
   * Records `attempt` and answers each of `queries`, in order, counting the attempt itself: one
   * atomic step per key value, so that of two concurrent calls sharing a key value, the one that
   * answers last counts the other (a count of 2 for each of two concurrent first attempts is allowed;
   * 1 for both is not). A query whose key the attempt lacks answers `{ count: 0, sumMinor: 0 }`.
   * An attempt whose id was recorded already is not recorded again (a retry), and is counted once.
   */
  recordAndCount(attempt: VelocityAttempt, queries: readonly VelocityQuery[]): Promise<VelocityCount[]>;
  /** Drops attempts older than `before` (a store may also expire them itself). */
  prune?(before: Date): Promise<void>;
  /** Releases connections the store opened. */
  close?(): Promise<void>;
}

interface Entry {
  id: string;
  at: number;
  amountMinor: number;
  currency: string;
}

/**
 * A velocity store in this process's memory: exact, atomic (JavaScript runs one call at a time),
 * shared by nothing else. Attempts older than `retentionMs` (default 31 days, the longest window a
 * rules file may name) are dropped as keys are touched, and a key's list is bounded by `maxPerKey`.
 */
export class MemoryVelocityStore implements VelocityStore {
  private readonly entries = new Map<string, Entry[]>();
  private readonly retentionMs: number;
  private readonly maxPerKey: number;

  constructor(options: { retentionMs?: number; maxPerKey?: number } = {}) {
    this.retentionMs = options.retentionMs ?? 31 * 24 * 3_600_000;
    this.maxPerKey = options.maxPerKey ?? 100_000;
  }

  async recordAndCount(attempt: VelocityAttempt, queries: readonly VelocityQuery[]): Promise<VelocityCount[]> {
    const at = attempt.at.getTime();
    for (const [kind, value] of Object.entries(attempt.keys)) {
      if (value === undefined) continue;
      const slot = `${kind}\u0000${value}`;
      let list = this.entries.get(slot);
      if (!list) this.entries.set(slot, (list = []));
      const oldest = at - this.retentionMs;
      while (list.length > 0 && list[0]!.at <= oldest) list.shift();
      if (!list.some((e) => e.id === attempt.id)) {
        // Kept ordered by time so the prune above stays a shift; an attempt reported late goes in place.
        const entry = { id: attempt.id, at, amountMinor: attempt.amountMinor, currency: attempt.currency };
        let i = list.length;
        while (i > 0 && list[i - 1]!.at > at) i--;
        list.splice(i, 0, entry);
        if (list.length > this.maxPerKey) list.shift();
      }
    }
    return queries.map((query) => {
      const value = attempt.keys[query.key];
      if (value === undefined) return { count: 0, sumMinor: 0 };
      const list = this.entries.get(`${query.key}\u0000${value}`) ?? [];
      let count = 0;
      let sumMinor = 0;
      for (const e of list) {
        // Attempts stamped later than this one were recorded before it (see VelocityQuery): they count.
        if (e.at > at - query.windowMs) {
          count++;
          if (e.currency === attempt.currency) sumMinor += e.amountMinor;
        }
      }
      return { count, sumMinor };
    });
  }

  async prune(before: Date): Promise<void> {
    const cut = before.getTime();
    for (const [slot, list] of this.entries) {
      const kept = list.filter((e) => e.at >= cut);
      if (kept.length === 0) this.entries.delete(slot);
      else this.entries.set(slot, kept);
    }
  }
}
