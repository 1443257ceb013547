/**
 * Rate-limit counters shared through Redis (`REDIS_URL`), so limits hold across server instances.
 *
 * Redis is an aid to the payments API, not a dependency of it. While Redis is unreachable, at start
 * or later, each request is let through at once (the limits fail open) instead of waiting on
 * reconnection attempts, and the log says so at most once a minute instead of once per request.
 *
 * @module
 */
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import { Redis } from 'ioredis';
import type { Logger } from '@tender/core';
import { RedisStore } from 'rate-limit-redis';

/** Counters in Redis for each limiter, and the connection's shutdown. */
export interface SharedRateLimit {
  /** A store for one limiter; `prefix` keeps its counters apart from the other limiters'. */
  store(prefix: string): Store;
  close(): Promise<void>;
}

// A command on a connection that stopped answering fails after this long instead of holding the request.
const COMMAND_TIMEOUT_MS = 500;
const WARN_EVERY_MS = 60_000;

/** Connects to Redis at `url` (without waiting: requests are served meanwhile). */
export function createSharedRateLimit(url: string, log: Logger): SharedRateLimit {
  // No offline queue: while disconnected a command fails at once rather than waiting for a reconnect.
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS });
  let lastWarning = 0;
  const warn = (error: unknown) => {
    const now = Date.now();
    if (now - lastWarning < WARN_EVERY_MS) return;
    lastWarning = now;
    log.warn({ err: error instanceof Error ? error.message : String(error) }, 'redis unreachable: rate limits are not enforced until it is back');
  };
  redis.on('error', warn);
  const sendCommand = (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<never>;

  class FailOpenStore implements Store {
    readonly prefix: string;
    readonly #redis: RedisStore;
    #windowMs = 60_000;

    constructor(prefix: string) {
      this.prefix = prefix;
      this.#redis = new RedisStore({ prefix, sendCommand });
      // The store loads its scripts as soon as it is built. If Redis is down then, those loads fail;
      // the store loads them again when it next needs them, and nothing else must hear of the failure
      // (an unheard rejection ends the process).
      this.#redis.incrementScriptSha.catch(warn);
      this.#redis.getScriptSha.catch(warn);
    }

    init(options: Options): void {
      this.#windowMs = options.windowMs;
      this.#redis.init(options);
    }

    /** What a request counts as while Redis cannot be asked: the first of a fresh window. */
    #open(error: unknown): ClientRateLimitInfo {
      warn(error);
      return { totalHits: 1, resetTime: new Date(Date.now() + this.#windowMs) };
    }

    async increment(key: string): Promise<ClientRateLimitInfo> {
      try {
        return await this.#redis.increment(key);
      } catch (error) {
        return this.#open(error);
      }
    }

    async get(key: string): Promise<ClientRateLimitInfo | undefined> {
      try {
        return await this.#redis.get(key);
      } catch (error) {
        warn(error);
        return undefined;
      }
    }

    async decrement(key: string): Promise<void> {
      await this.#redis.decrement(key).catch(warn);
    }

    async resetKey(key: string): Promise<void> {
      await this.#redis.resetKey(key).catch(warn);
    }
  }

  return {
    store: (prefix) => new FailOpenStore(prefix),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
