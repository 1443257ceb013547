/**
 * The risk engine's velocity store in Redis (`REDIS_URL`), so several server instances share their
 * windows.
 *
 * Each key value of an attempt is a sorted set of attempt ids scored by time (milliseconds) and a
 * hash of their amounts (`<amount minor> <currency>`), both under one hash tag so that a Redis Cluster
 * keeps them in one slot (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags).
 * One Lua script per key value records the attempt (`ZADD NX`: an attempt id is recorded once),
 * drops what is older than the retention, and counts and sums the windows asked for. Redis runs a
 * script atomically (https://redis.io/docs/latest/develop/interactive/programmability/eval-intro/),
 * so of two concurrent attempts sharing a key value the second one run counts the first, whichever
 * instance sent it. Counts have no upper time bound: an attempt stamped later by another instance's
 * clock that ran first counts too (`VelocityQuery`).
 *
 * Keys expire `retentionMs` after their last attempt, so a store needs no pruning job. Key values
 * reach the store hashed by the risk engine: Redis holds no email, IP or fingerprint.
 *
 * A Redis that does not answer within the command deadline fails the evaluation (`velocity_unavailable`),
 * which the engine answers with a retryable 503 `risk_unavailable`: nothing was stored and no gateway
 * was called, and the payment may be created again. The counts are not guessed.
 *
 * @module
 */
import { MAX_VELOCITY_WINDOW_MS, TenderError, type VelocityAttempt, type VelocityCount, type VelocityQuery, type VelocityStore } from '@tender/core';
import { Redis } from 'ioredis';

/** Records one attempt under one key value and answers its windows (see the module comment). */
const RECORD_AND_COUNT = `
-- unpack() puts its values on Lua's stack, which holds some thousands: ids go in chunks.
local function drop(cutoff)
  repeat
    local old = redis.call("ZRANGE", KEYS[1], "-inf", "(" .. cutoff, "BYSCORE", "LIMIT", 0, 1000)
    if #old > 0 then
      redis.call("ZREM", KEYS[1], unpack(old))
      redis.call("HDEL", KEYS[2], unpack(old))
    end
  until #old < 1000
end
drop(ARGV[5])
if redis.call("ZADD", KEYS[1], "NX", ARGV[2], ARGV[1]) == 1 then
  redis.call("HSET", KEYS[2], ARGV[1], ARGV[3] .. " " .. ARGV[4])
end
redis.call("PEXPIRE", KEYS[1], ARGV[6])
redis.call("PEXPIRE", KEYS[2], ARGV[6])
local out = {}
for i = 7, #ARGV do
  local ids = redis.call("ZRANGE", KEYS[1], "(" .. ARGV[i], "+inf", "BYSCORE")
  local sum = 0
  for from = 1, #ids, 1000 do
    local amounts = redis.call("HMGET", KEYS[2], unpack(ids, from, math.min(from + 999, #ids)))
    for _, entry in ipairs(amounts) do
      if entry then
        local space = string.find(entry, " ", 1, true)
        if string.sub(entry, space + 1) == ARGV[4] then sum = sum + tonumber(string.sub(entry, 1, space - 1)) end
      end
    end
  end
  out[#out + 1] = #ids
  out[#out + 1] = sum
end
return out`;

/** Drops one key value's attempts older than ARGV[1] (used by `prune`, which walks the store's keys). */
const PRUNE = `
repeat
  local old = redis.call("ZRANGE", KEYS[1], "-inf", "(" .. ARGV[1], "BYSCORE", "LIMIT", 0, 1000)
  if #old > 0 then
    redis.call("ZREM", KEYS[1], unpack(old))
    redis.call("HDEL", KEYS[2], unpack(old))
  end
until #old < 1000
return 0`;

type Scripts = Redis & {
  tenderVelocity(zset: string, hash: string, ...args: string[]): Promise<number[]>;
  tenderVelocityPrune(zset: string, hash: string, before: string): Promise<number>;
};

/** Options of {@link createRedisVelocityStore}. */
export interface RedisVelocityStoreOptions {
  /** Prefix of every key (default `tender:velocity:`), to share a Redis with other data. */
  prefix?: string;
  /** How long attempts are kept (default 31 days, the longest window a rules file may name). */
  retentionMs?: number;
  /** Deadline of one call (default 1000 ms). */
  commandTimeoutMs?: number;
}

/** A {@link VelocityStore} in Redis, and its connection's end. */
export interface RedisVelocityStore extends VelocityStore {
  prune(before: Date): Promise<void>;
  close(): Promise<void>;
}

function unavailable(error: unknown): TenderError {
  return new TenderError({
    type: 'storage_error',
    code: 'velocity_unavailable',
    message: 'The risk checks could not count this attempt (Redis did not answer); nothing was created and the request can be retried',
    retryable: true,
    retryAfterSeconds: 1,
    cause: error,
  });
}

/**
 * Connects to Redis at `url` (or uses the client given, which `close()` leaves open) for velocity.
 *
 * @example
 * ```ts
 * const velocity = createRedisVelocityStore(process.env.REDIS_URL!);
 * const risk = createRiskEngine({ config, velocity, store });
 * ```
 */
export function createRedisVelocityStore(redisOrUrl: string | Redis, options: RedisVelocityStoreOptions = {}): RedisVelocityStore {
  const owned = typeof redisOrUrl === 'string';
  const timeout = options.commandTimeoutMs ?? 1000;
  const redis = (owned ? new Redis(redisOrUrl, { maxRetriesPerRequest: 1, commandTimeout: timeout, lazyConnect: false }) : redisOrUrl) as Scripts;
  if (owned) redis.on('error', () => {});
  redis.defineCommand('tenderVelocity', { numberOfKeys: 2, lua: RECORD_AND_COUNT });
  redis.defineCommand('tenderVelocityPrune', { numberOfKeys: 2, lua: PRUNE });
  const prefix = options.prefix ?? 'tender:velocity:';
  const retentionMs = options.retentionMs ?? MAX_VELOCITY_WINDOW_MS;
  const keysOf = (kind: string, value: string): [string, string] => {
    const tag = `${prefix}{${kind}:${value}}`;
    return [`${tag}:at`, `${tag}:amounts`];
  };

  return {
    async recordAndCount(attempt: VelocityAttempt, queries: readonly VelocityQuery[]): Promise<VelocityCount[]> {
      const at = attempt.at.getTime();
      const out: VelocityCount[] = queries.map(() => ({ count: 0, sumMinor: 0 }));
      const calls = Object.entries(attempt.keys).flatMap(([kind, value]) => {
        if (value === undefined) return [];
        const asked = queries.flatMap((q, i) => (q.key === kind ? [i] : []));
        const [zset, hash] = keysOf(kind, value);
        // Times go as decimal strings: Lua 5.1 would print a computed one in exponent notation.
        const args = [attempt.id, String(at), String(attempt.amountMinor), attempt.currency, String(at - retentionMs), String(retentionMs), ...asked.map((i) => String(at - queries[i]!.windowMs))];
        return [
          redis.tenderVelocity(zset, hash, ...args).then((answer) => {
            asked.forEach((i, j) => {
              out[i] = { count: Number(answer[2 * j]), sumMinor: Number(answer[2 * j + 1]) };
            });
          }),
        ];
      });
      try {
        await Promise.all(calls);
      } catch (error) {
        throw unavailable(error);
      }
      return out;
    },

    async prune(before: Date): Promise<void> {
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}{*}:at`, 'COUNT', 500);
          cursor = next;
          for (const zset of keys) await redis.tenderVelocityPrune(zset, `${zset.slice(0, -3)}:amounts`, String(before.getTime()));
        } while (cursor !== '0');
      } catch (error) {
        throw unavailable(error);
      }
    },

    async close(): Promise<void> {
      if (owned) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
