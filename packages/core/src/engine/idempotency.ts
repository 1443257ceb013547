/**
 * Idempotency keys with Stripe's semantics: the first outcome of a keyed request is stored and
 * replayed; the same key while the first is in flight is a 409; the same key with a different request
 * is a 422; records live for a retention period; an in-flight key whose lease has expired (its
 * request crashed) may be taken over and the request completed.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { TenderError, invalidRequest } from '../errors';
import type { IdempotencyRecord, StoredResponse, StoreTx } from '../spec/store/v1/index';

/** The 422 for a key already used with a different request (Stripe's rule: a key names one request). */
export function idempotencyKeyReused(): TenderError {
  return new TenderError({
    type: 'idempotency_error',
    code: 'idempotency_key_reused',
    status: 422,
    message: 'This Idempotency-Key was already used with a different request',
    param: 'Idempotency-Key',
  });
}

/** Idempotency settings of the engine. */
export interface IdempotencyOptions {
  /** How long a completed key is kept (default 24 h). */
  retentionMs?: number;
  /**
   * How long an in-flight key is leased before a retry may take it over (default 60 s). The engine
   * leases for at least the slowest gateway's `worstCaseCallMs` plus 10 s, whatever is set here.
   */
  leaseMs?: number;
}

export const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_LEASE_MS = 60 * 1000;
const MAX_KEY_LENGTH = 255;

/** JSON with object keys sorted and `undefined` dropped, so equal requests hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The request fingerprint: operation, target and canonical body. */
export function requestFingerprint(operation: string, target: string | null, body: unknown): string {
  return createHash('sha256').update(`${operation}\n${target ?? ''}\n${canonicalJson(body)}`).digest('hex');
}

/** Checks a caller-supplied key. */
export function validateIdempotencyKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw invalidRequest(
      'invalid_idempotency_key',
      `Idempotency-Key must be 1-${MAX_KEY_LENGTH} visible ASCII characters`,
      'Idempotency-Key',
    );
  }
}

/**
 * The record of a key used for the first time: leased to this request; tied to its payment when the
 * payment is created in the same unit of work, else at recovery point `started`.
 */
export function newKeyRecord(
  settings: { retentionMs: number; leaseMs: number },
  merchantId: string,
  key: string,
  fingerprint: string,
  now: Date,
  paymentId: string | null,
): IdempotencyRecord {
  return {
    merchantId,
    key,
    fingerprint,
    state: 'in_flight',
    lockedUntil: new Date(now.getTime() + settings.leaseMs).toISOString(),
    recoveryPoint: paymentId === null ? 'started' : 'payment_created',
    resourceType: paymentId === null ? null : 'payment',
    resourceId: paymentId,
    response: null,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + settings.retentionMs).toISOString(),
  };
}

/** What claiming a key decided. */
export type ClaimOutcome =
  | { kind: 'new'; record: IdempotencyRecord }
  | { kind: 'replay'; response: StoredResponse }
  /** A crashed earlier attempt: resume its work (the record says how far it got). */
  | { kind: 'takeover'; record: IdempotencyRecord };

/**
 * Claims `key` inside `tx`. Throws 409 `idempotency_key_in_use` while another request holds it and
 * 422 `idempotency_key_reused` when it was used for a different request.
 */
export async function claimKey(
  tx: StoreTx,
  args: { merchantId: string; key: string; fingerprint: string; now: Date; retentionMs: number; leaseMs: number },
): Promise<ClaimOutcome> {
  const nowIso = args.now.toISOString();
  const fresh = newKeyRecord(args, args.merchantId, args.key, args.fingerprint, args.now, null);
  const { created, record } = await tx.claimIdempotencyKey(fresh);
  if (created) return { kind: 'new', record };
  if (record.expiresAt <= nowIso) {
    // Past retention: the key is free again, as if it had been purged.
    await tx.updateIdempotencyRecord(fresh);
    return { kind: 'new', record: fresh };
  }
  if (record.fingerprint !== args.fingerprint) throw idempotencyKeyReused();
  if (record.state === 'completed' && record.response) return { kind: 'replay', response: record.response };
  if (record.lockedUntil !== null && record.lockedUntil > nowIso) {
    throw new TenderError({
      type: 'idempotency_error',
      code: 'idempotency_key_in_use',
      status: 409,
      retryable: true,
      retryAfterSeconds: Math.max(1, Math.ceil((Date.parse(record.lockedUntil) - args.now.getTime()) / 1000)),
      message: 'A request with this Idempotency-Key is still being processed',
      param: 'Idempotency-Key',
    });
  }
  const taken: IdempotencyRecord = { ...record, lockedUntil: new Date(args.now.getTime() + args.leaseMs).toISOString() };
  await tx.updateIdempotencyRecord(taken);
  return { kind: 'takeover', record: taken };
}
