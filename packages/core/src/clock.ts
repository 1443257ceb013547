/**
 * Time source. The engine, idempotency leases, webhook tolerance checks and the reconciler read time
 * only through a {@link Clock}, so tests can move time (see `FakeClock` in `@tender/core/testing`).
 *
 * @module
 */

/** Something that tells the time. */
export interface Clock {
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };
