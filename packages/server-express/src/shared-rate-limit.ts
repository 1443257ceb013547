/**
 * Rate-limit counters shared through Redis (`REDIS_URL`), so limits hold across server instances.
 *
 * Redis is an aid to the payments API, not a dependency of it. While Redis is unreachable, at start
 * or later, each request is let through at once (the limits fail open) instead of waiting on
 * reconnection attempts, and the log says so at most once a minute instead of once per request.
 *
 * Unreachable is not the same as slow to answer, and the limits must not fail open for the latter:
 * - The first connection is waited for (at most {@link FIRST_CONNECTION_WAIT_MS}): the server does
 *   not serve before it is up or has failed, and a store used before that waits for it. A server that
 *   served while its connection was still in its handshake let those requests through uncounted; on a
 *   loaded machine the handshake took from 0.3 to 2.7 s.
 * - A command's deadline ({@link COMMAND_TIMEOUT_MS}) counts only time in which the event loop was free
 *   to read the answer. A loop stalled past the deadline (CPU load, a long synchronous task) used to
 *   time out a command whose answer was already waiting on the socket.
 * - A command that timed out is never sent again: the answer may just be late, and a second increment
 *   would count the request twice.
 *
 * The counters are kept by two small Lua scripts (the algorithm of `rate-limit-redis`: a key per
 * client, `PX` the window, set on the first hit), registered with ioredis' `defineCommand`, which
 * sends `EVALSHA` and falls back to `EVAL` only on `NOSCRIPT` (never after an ambiguous failure).
 *
 * @module
 */
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import { Redis } from 'ioredis';
import type { Logger } from '@tender/core';

/** Counters in Redis for each limiter, and the connection's shutdown. */
export interface SharedRateLimit {
  /** A store for one limiter; `prefix` keeps its counters apart from the other limiters'. */
  store(prefix: string): Store;
  /**
   * Resolves once the first connection is up (true) or has failed or taken longer than
   * {@link FIRST_CONNECTION_WAIT_MS} (false; the limits fail open until Redis answers).
   */
  ready(): Promise<boolean>;
  /** Pings Redis (for `GET /ready`); rejects when it does not answer within {@link COMMAND_TIMEOUT_MS}. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How long a command may go unanswered (event-loop stalls excluded) before the request is let through. */
export const COMMAND_TIMEOUT_MS = 500;
/** How long the first connection is waited for (event-loop stalls excluded). */
export const FIRST_CONNECTION_WAIT_MS = 3000;
// A timer that fires this much later than asked means the event loop was busy meanwhile.
const STALL_SLACK_MS = 50;
// ioredis' own timeout only reaps commands on a connection that never answers again.
const BACKSTOP_TIMEOUT_MS = 30_000;
const WARN_EVERY_MS = 60_000;

const INCREMENT = `
local ttl = redis.call("PTTL", KEYS[1])
if ttl <= 0 then
  redis.call("SET", KEYS[1], 1, "PX", ARGV[1])
  return { 1, tonumber(ARGV[1]) }
end
return { redis.call("INCR", KEYS[1]), ttl }`;
const GET = `return { redis.call("GET", KEYS[1]), redis.call("PTTL", KEYS[1]) }`;

type Scripts = Redis & {
  tenderRateIncrement(key: string, windowMs: string): Promise<[number, number]>;
  tenderRateGet(key: string): Promise<[string | null, number]>;
};

class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/**
 * Settles with `work`, or rejects after `ms` of time in which the event loop was free. When the
 * timer fires late (the loop was stalled), the answer may be sitting unread on a socket: the timer
 * is armed again so that it is read first.
 */
function withinDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let due = Date.now() + ms;
    let timer: NodeJS.Timeout;
    const check = () => {
      const now = Date.now();
      if (now - due > STALL_SLACK_MS) {
        due = now + ms;
        timer = setTimeout(check, ms);
        return;
      }
      reject(new DeadlineError(what, ms));
    };
    timer = setTimeout(check, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Connects to Redis at `url`; requests are counted once the first connection is up (see the module). */
export function createSharedRateLimit(url: string, log: Logger): SharedRateLimit {
  // No offline queue: while disconnected a command fails at once rather than waiting for a reconnect.
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: BACKSTOP_TIMEOUT_MS }) as Scripts;
  redis.defineCommand('tenderRateIncrement', { numberOfKeys: 1, lua: INCREMENT });
  redis.defineCommand('tenderRateGet', { numberOfKeys: 1, lua: GET });
  let lastWarning = 0;
  const warn = (error: unknown) => {
    const now = Date.now();
    if (now - lastWarning < WARN_EVERY_MS) return;
    lastWarning = now;
    log.warn({ err: error instanceof Error ? error.message : String(error) }, 'redis unreachable: rate limits are not enforced until it is back');
  };
  redis.on('error', warn);

  // The first connection: settled by its outcome (ready, or failed), bounded by the wait.
  let firstSettled = false;
  const firstConnection = new Promise<boolean>((resolve) => {
    const settle = (up: boolean) => {
      firstSettled = true;
      redis.off('ready', onReady);
      redis.off('error', onFail);
      redis.off('close', onFail);
      resolve(up);
    };
    const onReady = () => settle(true);
    const onFail = () => settle(false);
    redis.once('ready', onReady);
    redis.once('error', onFail);
    redis.once('close', onFail);
  });
  // One wait shared by every caller; once it is over (either way) nothing waits again.
  const firstWait = withinDeadline(firstConnection, FIRST_CONNECTION_WAIT_MS, 'the first Redis connection')
    .catch(() => false)
    .finally(() => {
      firstSettled = true;
    });
  const ready = () => firstWait;

  const run = async <T>(command: () => Promise<T>): Promise<T> => {
    if (!firstSettled) await ready();
    return withinDeadline(command(), COMMAND_TIMEOUT_MS, 'a Redis rate-limit command');
  };

  class FailOpenStore implements Store {
    readonly prefix: string;
    #windowMs = 60_000;

    constructor(prefix: string) {
      this.prefix = prefix;
    }

    init(options: Options): void {
      this.#windowMs = options.windowMs;
    }

    /** What a request counts as while Redis cannot be asked: the first of a fresh window. */
    #open(error: unknown): ClientRateLimitInfo {
      warn(error);
      return { totalHits: 1, resetTime: new Date(Date.now() + this.#windowMs) };
    }

    async increment(key: string): Promise<ClientRateLimitInfo> {
      try {
        const [hits, ttl] = await run(() => redis.tenderRateIncrement(this.prefix + key, String(this.#windowMs)));
        return { totalHits: Number(hits), resetTime: new Date(Date.now() + Number(ttl)) };
      } catch (error) {
        return this.#open(error);
      }
    }

    async get(key: string): Promise<ClientRateLimitInfo | undefined> {
      try {
        const [hits, ttl] = await run(() => redis.tenderRateGet(this.prefix + key));
        if (hits === null) return undefined;
        return { totalHits: Number(hits), resetTime: new Date(Date.now() + Math.max(0, Number(ttl))) };
      } catch (error) {
        warn(error);
        return undefined;
      }
    }

    async decrement(key: string): Promise<void> {
      await run(() => redis.decr(this.prefix + key)).catch(warn);
    }

    async resetKey(key: string): Promise<void> {
      await run(() => redis.del(this.prefix + key)).catch(warn);
    }
  }

  return {
    store: (prefix) => new FailOpenStore(prefix),
    ready,
    async ping() {
      await withinDeadline(redis.ping(), COMMAND_TIMEOUT_MS, 'a Redis ping');
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
