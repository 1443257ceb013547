/**
 * OAuth 2.0 client-credentials tokens (https://developer.paypal.com/api/rest/authentication/): one
 * cache per (base URL, client id, secret), refreshed before expiry, one request in flight at a time.
 *
 * @module
 */
import { TenderError, sha256Hex, type Clock, type HttpTransport } from '@tender/core';
import { z } from 'zod';

const TokenSchema = z.looseObject({ access_token: z.string().min(1), token_type: z.string(), expires_in: z.number().positive() });

interface Cached {
  token: string;
  expiresAt: number;
  refreshAt: number;
}

/** Live tokens, shared by every gateway with the same credentials and host (bounded). */
const shared = new Map<string, { cached?: Cached; inFlight?: Promise<Cached> }>();
const MAX_SHARED = 256;

/** Gets and caches access tokens for one set of credentials. */
export class PayPalTokenSource {
  private readonly key: string;
  /** Token requests sent (for tests and metrics). */
  requests = 0;

  constructor(
    private readonly base: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly transport: HttpTransport,
    private readonly clock: Clock,
    private readonly marginSeconds: number,
    private readonly timeoutMs?: number,
  ) {
    const secretHash = sha256Hex(clientSecret).slice(0, 16);
    this.key = `${base}\n${clientId}\n${secretHash}`;
  }

  private slot() {
    let slot = shared.get(this.key);
    if (!slot) {
      if (shared.size >= MAX_SHARED) shared.delete(shared.keys().next().value!);
      slot = {};
      shared.set(this.key, slot);
    }
    return slot;
  }

  /** A valid token: the cached one, or the one being fetched, or a new one. */
  async get(signal?: AbortSignal): Promise<string> {
    const slot = this.slot();
    const now = this.clock.now().getTime();
    if (slot.cached && now < slot.cached.refreshAt) return slot.cached.token;
    const current = slot.cached;
    try {
      return (await this.refresh(slot, signal)).token;
    } catch (error) {
      // An early refresh that failed: the current token is still good until it expires.
      if (current && slot.cached === current && this.clock.now().getTime() < current.expiresAt) return current.token;
      throw error;
    }
  }

  /** Forgets `token` (a 401 said it is no longer valid), unless a newer one replaced it already. */
  invalidate(token: string): void {
    const slot = this.slot();
    if (slot.cached?.token === token) delete slot.cached;
  }

  private refresh(slot: { cached?: Cached; inFlight?: Promise<Cached> }, signal?: AbortSignal): Promise<Cached> {
    if (slot.inFlight) return slot.inFlight;
    const started = this.clock.now().getTime();
    const inFlight = (async () => {
      this.requests++;
      const response = await this.transport.request({
        method: 'POST',
        url: `${this.base}/v1/oauth2/token`,
        headers: {
          authorization: `Basic ${Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: 'grant_type=client_credentials',
        // Asking for a token twice has no effect beyond a second token.
        idempotent: true,
        operation: 'oauth_token',
        ...(signal ? { signal } : {}),
        ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}),
      });
      let json: unknown;
      try {
        json = response.json();
      } catch {
        json = undefined;
      }
      if (response.status !== 200) {
        const body = json as { error?: string; error_description?: string } | undefined;
        const auth = response.status === 401 || body?.error === 'invalid_client';
        throw new TenderError({
          type: 'gateway_error',
          code: auth ? 'gateway_authentication_failed' : 'paypal_token_failed',
          message: `PayPal OAuth token request failed: ${body?.error ?? `HTTP ${response.status}`}${body?.error_description ? ` (${body.error_description})` : ''}`,
          retryable: response.status >= 500 || response.status === 429,
          details: { paypalStatus: response.status, requestSent: true, ...(response.headers['paypal-debug-id'] ? { debugId: response.headers['paypal-debug-id'] } : {}) },
        });
      }
      const parsed = TokenSchema.safeParse(json);
      if (!parsed.success) throw new TenderError({ type: 'gateway_error', code: 'invalid_gateway_response', message: 'PayPal OAuth token answer has no access_token/expires_in' });
      const life = parsed.data.expires_in * 1000;
      const margin = Math.min(this.marginSeconds * 1000, life / 2);
      return { token: parsed.data.access_token, expiresAt: started + life, refreshAt: started + life - margin };
    })();
    slot.inFlight = inFlight;
    inFlight.then(
      (cached) => {
        slot.cached = cached;
        if (slot.inFlight === inFlight) delete slot.inFlight;
      },
      () => {
        if (slot.inFlight === inFlight) delete slot.inFlight;
      },
    );
    return inFlight;
  }
}
