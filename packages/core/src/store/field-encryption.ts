/**
 * Field-level encryption: AES-256-GCM over single string values, each with its own random 96-bit
 * nonce, stored as a self-describing string
 *
 *     enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>
 *
 * - **Nonces.** 12 random bytes per encryption: the RBG-based construction of NIST SP 800-38D
 *   §8.2.2, which bounds one key to 2^32 encryptions (§8.3). Each personal-data value written counts
 *   once (a field written again unchanged keeps its ciphertext, see {@link FieldCipher.encrypt});
 *   rotate to a new key (`tender-server rotate-keys`) well before that.
 * - **Tag.** 16 bytes, the full GCM tag (SP 800-38D §5.2.1.2); decryption checks it before returning
 *   anything, so an altered ciphertext, nonce or context is refused, never decrypted to garbage.
 * - **Context.** The record and field a value belongs to (`["payment","pay_…","customer","email"]`)
 *   is the GCM additional authenticated data: a ciphertext copied to another field or another row
 *   does not decrypt.
 * - **Key ids.** Stored with each value so old keys keep working during a rotation: an explicit
 *   `<id>:<key>` prefix, or else derived from the key (the first 8 bytes of a domain-separated
 *   SHA-256 of it, in hex), which names the key without revealing it.
 *
 * Keys are 32 random bytes given as 64 hex digits or base64 (standard or URL-safe, padded or not).
 * Keys that are short, long, malformed or visibly not random (a repeated byte such as all zeros, a
 * short repeated pattern, printable text) are refused with a message naming the variable and never
 * showing the value.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomFillSync, type KeyObject } from 'node:crypto';
import { TenderError } from '../errors';

/** What every encrypted value starts with (format version 1). */
export const ENCRYPTED_PREFIX = 'enc:v1:';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
/** Entries per generation of the cache of recent values (see `FieldCipher`). */
const RECENT_LIMIT = 2048;

/** One AES-256 key and the id stored with what it encrypts. */
export interface EncryptionKey {
  readonly id: string;
  /** The key material (a secret KeyObject: not printed by `console.log` or JSON). */
  readonly key: KeyObject;
}

/** A key that cannot be used; the message names the variable (or entry) and says why, never the value. */
export class EncryptionKeyError extends Error {
  constructor(
    /** The variable (or list entry) at fault, e.g. `ENCRYPTION_KEY`. */
    readonly variable: string,
    /** Why, without the value. */
    readonly reason: string,
  ) {
    super(`${variable}: ${reason}`);
    this.name = 'EncryptionKeyError';
  }
}

const HINT = 'generate one with `openssl rand -base64 32`';

function decodeKey(material: string, name: string): Buffer {
  if (/^[0-9a-fA-F]+$/.test(material) && material.length !== 43 && material.length !== 44) {
    if (material.length !== 2 * KEY_BYTES) throw new EncryptionKeyError(name, `must be 32 bytes; as hex that is 64 digits, this has ${material.length} (${HINT})`);
    return Buffer.from(material, 'hex');
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(material)) {
    throw new EncryptionKeyError(name, `must be 32 bytes as 64 hex digits or base64; it contains characters neither uses (${HINT})`);
  }
  const bytes = Buffer.from(material, 'base64');
  if (bytes.length !== KEY_BYTES) throw new EncryptionKeyError(name, `must be 32 bytes (256 bits); this base64 decodes to ${bytes.length} bytes (${HINT})`);
  return bytes;
}

/** Why these 32 bytes do not look like a random key, or null when they do. */
function weakness(bytes: Buffer): string | null {
  if (bytes.every((b) => b === bytes[0])) return `is one byte repeated (all ${bytes[0] === 0 ? 'zeros' : 'the same'}), not a random key`;
  for (let period = 2; period <= 16; period++) {
    let repeats = true;
    for (let i = period; i < bytes.length && repeats; i++) repeats = bytes[i] === bytes[i - period];
    if (repeats) return `repeats a ${period}-byte pattern, not a random key`;
  }
  // 32 random bytes have about 30 distinct values; fewer than 16 happens by chance with odds far
  // below 1 in 10^20. All printable ASCII (1 in 6 * 10^13 by chance) means a passphrase was encoded.
  if (new Set(bytes).size < 16) return 'has too few distinct byte values to be a random key';
  if (bytes.every((b) => b >= 0x20 && b <= 0x7e)) return 'decodes to printable text (a passphrase?), not random bytes';
  return null;
}

/** The id of a key given without one: the first 8 bytes of a domain-separated SHA-256 of it, in hex. */
export function deriveKeyId(bytes: Uint8Array): string {
  return createHash('sha256').update('tender field encryption key id\u0000').update(bytes).digest('hex').slice(0, 16);
}

/**
 * Parses one key: `<base64 or hex>` or `<key id>:<base64 or hex>`.
 * @param name the variable it came from, named in errors (default `ENCRYPTION_KEY`).
 * @throws EncryptionKeyError naming `name` for a malformed, short or weak key (never showing it).
 */
export function parseEncryptionKey(text: string, name = 'ENCRYPTION_KEY'): EncryptionKey {
  const value = text.trim();
  if (value === '') throw new EncryptionKeyError(name, `is empty (${HINT})`);
  const colon = value.indexOf(':');
  let id: string | null = null;
  let material = value;
  if (colon >= 0) {
    id = value.slice(0, colon);
    material = value.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new EncryptionKeyError(name, "the key id before ':' must be 1 to 32 letters, digits, '_' or '-'");
  }
  const bytes = decodeKey(material, name);
  const weak = weakness(bytes);
  if (weak !== null) {
    bytes.fill(0);
    throw new EncryptionKeyError(name, `${weak} (${HINT})`);
  }
  const key: EncryptionKey = { id: id ?? deriveKeyId(bytes), key: createSecretKey(bytes) };
  bytes.fill(0);
  return key;
}

/**
 * Parses a list of keys separated by commas or whitespace, each as {@link parseEncryptionKey} takes
 * it (`old1:base64,old2:hex`). Errors name the entry by position (`ENCRYPTION_KEYS (entry 2)`).
 */
export function parseEncryptionKeys(text: string, name = 'ENCRYPTION_KEYS'): EncryptionKey[] {
  const entries = text.split(/[\s,]+/).filter(Boolean);
  return entries.map((entry, i) => parseEncryptionKey(entry, entries.length > 1 ? `${name} (entry ${i + 1})` : name));
}

/**
 * The key set of field-level encryption: the active key encrypts, every key decrypts what carries
 * its id.
 */
export class FieldCipher {
  readonly activeKeyId: string;
  readonly #keys = new Map<string, KeyObject>();
  readonly #active: KeyObject;
  #pool = Buffer.alloc(0);
  #offset = 0;
  /**
   * Values this cipher recently wrote or read, both ways: ciphertext to plaintext (the engine reads
   * back what it has just written, and one payment many times; a value authenticated once under a
   * context decrypts to the same plaintext every time) and plaintext to ciphertext (a record written
   * again with a field unchanged keeps that field's stored ciphertext, as a store writing only the
   * changed columns would, instead of a new encryption). Both keyed by the context too, so nothing
   * crosses to another field or record. Bounded; holds nothing a request does not hold already.
   */
  readonly #opened = new RecentValues();
  readonly #sealed = new RecentValues();

  /**
   * @param keys every key that may have encrypted stored data (the active one among them).
   * @throws EncryptionKeyError when two different keys share an id or the active id is not among `keys`.
   */
  constructor(keys: readonly EncryptionKey[], activeKeyId: string) {
    for (const k of keys) {
      const known = this.#keys.get(k.id);
      if (known && !known.equals(k.key)) throw new EncryptionKeyError('ENCRYPTION_KEYS', `two different keys have the id '${k.id}'`);
      this.#keys.set(k.id, k.key);
    }
    const active = this.#keys.get(activeKeyId);
    if (!active) throw new EncryptionKeyError('ENCRYPTION_KEY', `the active key id '${activeKeyId}' is not among the keys`);
    this.activeKeyId = activeKeyId;
    this.#active = active;
  }

  /** Ids of every configured key. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** A fresh random nonce, from a pool refilled by the system CSPRNG (fewer calls into it). */
  #nonce(): Buffer {
    if (this.#offset + NONCE_BYTES > this.#pool.length) {
      this.#pool = randomFillSync(Buffer.allocUnsafe(NONCE_BYTES * 256));
      this.#offset = 0;
    }
    const nonce = this.#pool.subarray(this.#offset, this.#offset + NONCE_BYTES);
    this.#offset += NONCE_BYTES;
    return nonce;
  }

  /**
   * Encrypts `plaintext` with the active key and a fresh nonce, bound to `context` (the AAD); or, when
   * this very value was just read or written at this context under the active key, gives that
   * ciphertext back (an unchanged field is not re-encrypted).
   */
  encrypt(plaintext: string, context: string): string {
    const known = this.#sealed.get(context, plaintext);
    if (known !== undefined && keyIdOf(known) === this.activeKeyId) return known;
    const nonce = this.#nonce();
    const cipher = createCipheriv('aes-256-gcm', this.#active, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = cipher.update(plaintext, 'utf8');
    const final = cipher.final();
    const tag = cipher.getAuthTag();
    const text = `${ENCRYPTED_PREFIX}${this.activeKeyId}:${Buffer.concat([nonce, body, final, tag]).toString('base64url')}`;
    this.#remember(text, context, plaintext);
    return text;
  }

  #remember(text: string, context: string, plaintext: string): void {
    this.#opened.set(context, text, plaintext);
    this.#sealed.set(context, plaintext, text);
  }

  /**
   * Decrypts a value {@link encrypt} made, checking it belongs to `context`.
   * @param where names the field in errors (never its value), e.g. `payment pay_1 customer.email`.
   * @throws TenderError `storage_error`/`encryption_key_unknown` when its key id is not configured;
   *   `storage_error`/`decryption_failed` when the value, its nonce, tag or context were altered or
   *   the key is wrong. Both are status 500 and not retryable.
   */
  decrypt(text: string, context: string, where = 'a stored field'): string {
    const known = this.#opened.get(context, text);
    if (known !== undefined) return known;
    const id = keyIdOf(text);
    if (id === null) throw decryptionFailed(where, 'it is not an enc:v1 value');
    const key = this.#keys.get(id);
    if (!key) {
      throw new TenderError({
        type: 'storage_error',
        code: 'encryption_key_unknown',
        message: `${where} is encrypted with key id '${id}', which is not configured (ENCRYPTION_KEY or ENCRYPTION_KEYS)`,
        status: 500,
        retryable: false,
        details: { keyId: id },
      });
    }
    const raw = Buffer.from(text.slice(ENCRYPTED_PREFIX.length + id.length + 1), 'base64url');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw decryptionFailed(where, 'it is truncated', id);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES));
      // final() throws when the tag does not match; nothing decrypted is returned before it.
      const plaintext = Buffer.concat([plain, decipher.final()]).toString('utf8');
      this.#remember(text, context, plaintext);
      return plaintext;
    } catch {
      throw decryptionFailed(where, 'its authentication tag does not match (altered, moved from another field, or another key)', id);
    }
  }
}

/** A bounded map in two generations (no per-entry eviction): the newest ~2 x limit entries. */
class RecentValues {
  #current = new Map<string, string>();
  #previous = new Map<string, string>();

  get(context: string, key: string): string | undefined {
    const k = `${context}\u0000${key}`;
    return this.#current.get(k) ?? this.#previous.get(k);
  }

  set(context: string, key: string, value: string): void {
    if (this.#current.size >= RECENT_LIMIT) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(`${context}\u0000${key}`, value);
  }
}

function decryptionFailed(where: string, why: string, keyId?: string): TenderError {
  return new TenderError({
    type: 'storage_error',
    code: 'decryption_failed',
    message: `${where} could not be decrypted: ${why}`,
    status: 500,
    retryable: false,
    ...(keyId ? { details: { keyId } } : {}),
  });
}

/** Whether a string is an encrypted value (`enc:v1:...`). */
export function isEncryptedValue(text: string): boolean {
  return text.startsWith(ENCRYPTED_PREFIX);
}

/** The key id of an encrypted value, or null for anything else. */
export function keyIdOf(text: string): string | null {
  if (!text.startsWith(ENCRYPTED_PREFIX)) return null;
  const end = text.indexOf(':', ENCRYPTED_PREFIX.length);
  if (end < 0) return null;
  const id = text.slice(ENCRYPTED_PREFIX.length, end);
  return KEY_ID.test(id) ? id : null;
}
