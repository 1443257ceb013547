/**
 * Identifiers: a prefix (`pay_`, `re_`, `evt_`, `tr_`) and 26 Crockford base32 characters (48 bits of
 * milliseconds then 80 random bits, as in ULID), so ids sort by creation time for cursor pagination.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
// Random bytes come from a pooled buffer: one crypto call per 256 ids instead of one per id.
const POOL_IDS = 256;
let pool = randomBytes(10 * POOL_IDS);
let poolOffset = 0;
function random10(): Uint8Array {
  if (poolOffset >= pool.length) {
    pool = randomBytes(10 * POOL_IDS);
    poolOffset = 0;
  }
  const bytes = new Uint8Array(pool.subarray(poolOffset, poolOffset + 10));
  poolOffset += 10;
  return bytes;
}

let lastTime = 0;
let lastRandom: Uint8Array = new Uint8Array(10);

function encodeTime(ms: number): string {
  let out = '';
  let n = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[n % 32]! + out;
    n = Math.floor(n / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

function increment(bytes: Uint8Array): Uint8Array {
  const next = new Uint8Array(bytes);
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] === 255) {
      next[i] = 0;
    } else {
      next[i]! += 1;
      break;
    }
  }
  return next;
}

/** A new id with the given prefix; ids made later in the process sort after earlier ones. */
export function newId(prefix: string, now: number = Date.now()): string {
  let random: Uint8Array;
  if (now <= lastTime) {
    random = increment(lastRandom);
    now = lastTime;
  } else {
    random = random10();
  }
  lastTime = now;
  lastRandom = random;
  return `${prefix}_${encodeTime(now)}${encodeRandom(random)}`;
}
