/**
 * Identifiers: a prefix (`pay_`, `re_`, `evt_`, `tr_`) and 26 Crockford base32 characters, laid out as
 * a ULID (48 bits of milliseconds, then 80 bits), so ids sort by creation time for cursor pagination.
 * Of the 80 bits, 16 order ids within a millisecond and 64 are fresh from the CSPRNG for every id, so
 * one id tells nothing about its neighbours.
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
let sequence = 0;
// The random part is 16 bits of sequence within the millisecond, then 64 fresh random bits. The
// sequence keeps ids made in one millisecond in order (cursor pagination); the fresh bits make an
// id's neighbour unguessable from it, which a ULID's "increment the random part" does not.
const SEQUENCE_LIMIT = 0xffff;
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

/** A new id with the given prefix; ids made later in the process sort after earlier ones. */
export function newId(prefix: string, now: number = Date.now()): string {
  if (now <= lastTime) {
    now = lastTime;
    sequence++;
    if (sequence > SEQUENCE_LIMIT) {
      // 65,536 ids in one millisecond: borrow the next one, as ULID's monotonic mode does on overflow.
      now = lastTime + 1;
      sequence = pool[poolOffset % pool.length]! & 0x7f;
    }
  } else {
    // Starts low in the range (at most 0x7fff) so a burst never runs out, and not at 0, so the
    // count of ids made so far in the millisecond does not show.
    const start = random10();
    sequence = ((start[0]! << 8) | start[1]!) & 0x7fff;
  }
  lastTime = now;
  const random = random10();
  random[0] = sequence >>> 8;
  random[1] = sequence & 0xff;
  return `${prefix}_${encodeTime(now)}${encodeRandom(random)}`;
}
