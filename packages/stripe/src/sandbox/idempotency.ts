/**
 * Stripe's v1 idempotency semantics (research §1.5): the first response under a key is saved and
 * replayed for the same parameters; different parameters under the same key are a 400
 * `idempotency_error`; a second request while the first is still running is a 409.
 *
 * @module
 */
import { setBounded } from '@tender/core';

/** A saved response. */
export interface SavedResponse {
  status: number;
  body: string;
  /** `Request-Id` of the original request (sent back as `Original-Request`). */
  requestId?: string;
}

interface Entry {
  fingerprint: string;
  response: SavedResponse | null;
}

/** What to do with an incoming keyed request. */
export type IdempotencyDecision =
  | { kind: 'new' }
  | { kind: 'replay'; response: SavedResponse }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' };

/** In-memory idempotency records, scoped per API key; the oldest are forgotten past `limit`. */
export class IdempotencyLedger {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limit = 100_000) {}

  /** Claims `key` for a request with the given fingerprint, or says how to answer instead. */
  begin(scope: string, key: string, fingerprint: string): IdempotencyDecision {
    const id = `${scope}\u0000${key}`;
    const entry = this.entries.get(id);
    if (!entry) {
      setBounded(this.entries, id, { fingerprint, response: null }, this.limit);
      return { kind: 'new' };
    }
    if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (!entry.response) return { kind: 'in_flight' };
    return { kind: 'replay', response: entry.response };
  }

  /** Saves the response of a claimed request. */
  complete(scope: string, key: string, response: SavedResponse): void {
    const entry = this.entries.get(`${scope}\u0000${key}`);
    if (entry) entry.response = response;
  }

  /** Forgets a claim whose request was rejected before it executed (Stripe saves nothing then). */
  release(scope: string, key: string): void {
    this.entries.delete(`${scope}\u0000${key}`);
  }
}

/** Canonical form of a parsed form body: pairs sorted, so field order does not matter. */
export function fingerprintOf(method: string, path: string, body: string): string {
  // Encoded pairs compared as sent (clients re-send the same bytes on retries); order-insensitive.
  return `${method} ${path}\n${body.split('&').sort().join('&')}`;
}
