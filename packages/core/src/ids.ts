/**
 * Identifiers: a prefix (`pay_`, `re_`, `evt_`, `tr_`) and 28 Crockford base32 characters:
 *
 * - 10 characters of milliseconds (48 bits, as in ULID), so ids sort by creation time for cursor
 *   pagination (newest first by `created_at`, then id);
 * - 2 characters (10 bits) of sequence within the millisecond, so the ids one process makes in one
 *   millisecond sort in the order they were made (it starts at a random value below 512, so it does not
 *   tell how many were made before; past 1023 the next millisecond is borrowed, as ULID's monotonic
 *   mode does on overflow);
 * - 16 characters (80 bits) fresh from the CSPRNG for every id.
 *
 * A ULID made monotonic increments its random part within a millisecond, so one id gives away its
 * neighbours (+1); here no id says anything about another's random bits. This is the layout of RFC 9562
 * §6.2 "Method 1" (a dedicated counter after the timestamp, then random bits), in base32. Ids are
 * 2 characters longer than a ULID's 26; older 26-character ids still sort before newer ones, as their
 * time comes first.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_BYTES = 10; // 80 bits
const SEQUENCE_LIMIT = 1023; // 10 bits
const SEQUENCE_START_LIMIT = 512;

// Random bytes come from a pooled buffer: one crypto call per ~256 ids instead of one per id. Each
// byte is handed out once.
const POOL_SIZE = 12 * 256;
let pool = randomBytes(POOL_SIZE);
let poolOffset = 0;
function take(n: number): Uint8Array {
  if (poolOffset + n > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const bytes = new Uint8Array(pool.subarray(poolOffset, poolOffset + n));
  poolOffset += n;
  return bytes;
}

function randomSequenceStart(): number {
  const [a, b] = take(2);
  return ((a! << 8) | b!) % SEQUENCE_START_LIMIT;
}

let lastTime = 0;
let sequence = 0;

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

/**
 * A new id with the given prefix. Ids made later in the process sort after earlier ones (also within
 * one millisecond, and when the clock steps back); each carries 80 bits of fresh randomness.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  if (now <= lastTime) {
    now = lastTime;
    sequence++;
    if (sequence > SEQUENCE_LIMIT) {
      now = lastTime + 1;
      sequence = randomSequenceStart();
    }
  } else {
    sequence = randomSequenceStart();
  }
  lastTime = now;
  return `${prefix}_${encodeTime(now)}${ALPHABET[sequence >>> 5]}${ALPHABET[sequence & 31]}${encodeRandom(take(RANDOM_BYTES))}`;
}
