/**
 * Stripe's v1 idempotency semantics (https://docs.stripe.com/api/idempotent_requests): the first response under a key is saved and
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
  request: string;
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

  /** Claims `key` for a request (see {@link requestOf}), or says how to answer instead. */
  begin(scope: string, key: string, request: string): IdempotencyDecision {
    const id = `${scope}\u0000${key}`;
    const entry = this.entries.get(id);
    if (!entry) {
      setBounded(this.entries, id, { request, response: null }, this.limit);
      return { kind: 'new' };
    }
    // A retry re-sends the same bytes; only a request that differs is compared field by field.
    if (entry.request !== request && fingerprintOf(entry.request) !== fingerprintOf(request)) return { kind: 'mismatch' };
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

/** A keyed request as the ledger remembers it: method, path and form body as sent. */
export function requestOf(method: string, path: string, body: string): string {
  return `${method} ${path}\n${body}`;
}

/** Canonical form of a remembered request: encoded pairs sorted, so field order does not matter. */
function fingerprintOf(request: string): string {
  const newline = request.indexOf('\n');
  return `${request.slice(0, newline + 1)}${request.slice(newline + 1).split('&').sort().join('&')}`;
}
