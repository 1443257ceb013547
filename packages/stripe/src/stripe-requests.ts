/**
 * How Tender's Stripe clients (the gateway and the Billing client) send a request to Stripe's API:
 * form-encoded bodies, the pinned `Stripe-Version`, the `Idempotency-Key` on keyed POSTs, and the
 * `Stripe-Should-Retry` hint handed to core's transport (https://docs.stripe.com/error-low-level).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import * as core from '@tender/core';
import type { HttpResponse, HttpTransport } from '@tender/core';
import { STRIPE_API_VERSION, STRIPE_DEFAULT_BASE_URL } from './config';
import { encodeForm, type FormValue } from './form-encoding';
import { unusableAnswer } from './schemas';

/** Stripe's limit on an `Idempotency-Key` (https://docs.stripe.com/api/idempotent_requests). */
const MAX_IDEMPOTENCY_KEY = 255;

/** Tender's derived key as a Stripe `Idempotency-Key` (hashed only when longer than Stripe allows). */
export function stripeIdempotencyKey(key: string): string {
  return key.length <= MAX_IDEMPOTENCY_KEY ? key : `tender-${createHash('sha256').update(key).digest('hex')}`;
}

/** The HTTP methods Tender's Stripe clients use. */
export type StripeMethod = 'GET' | 'POST' | 'DELETE';

/** One request's own settings. */
export interface StripeCall {
  /** Names the call in metrics, logs and errors. */
  operation: string;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** An answer as received: its status, headers and JSON body (undefined for a non-JSON error page). */
export interface StripeAnswer {
  status: number;
  headers: Record<string, string>;
  json: unknown;
}

/** What both clients share: where and how to reach Stripe. */
export interface StripeRequesterOptions {
  secretKey: string;
  baseUrl?: string;
  apiVersion?: string;
  /** A transport to share; when absent one is created and {@link StripeRequester.close} closes it. */
  transport?: HttpTransport;
  timeoutMs?: number;
}

/** Sends requests to one Stripe account. */
export interface StripeRequester {
  /** The `Stripe-Version` every request carries. */
  readonly apiVersion: string;
  /** The transport requests go through (its circuit state and worst-case call time). */
  readonly transport: HttpTransport;
  send(method: StripeMethod, path: string, params: Record<string, FormValue> | undefined, call: StripeCall): Promise<StripeAnswer>;
  /** Closes the transport if this requester created it. */
  close(): Promise<void>;
}

/** Checks the secret key and builds the requester (the headers every request shares are built once). */
export function createStripeRequester(options: StripeRequesterOptions): StripeRequester {
  if (typeof options.secretKey !== 'string' || options.secretKey.trim() === '') {
    throw core.invalidRequest('invalid_configuration', 'Stripe secretKey is required', 'secretKey');
  }
  const base = `${(options.baseUrl ?? STRIPE_DEFAULT_BASE_URL).replace(/\/+$/, '')}/v1/`;
  const ownsTransport = options.transport === undefined;
  // Stripe's own client waits up to 80 s; Tender's default is shorter and the reconciler covers the rest.
  const transport =
    options.transport ?? core.createHttpTransport({ gateway: 'stripe', ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), headers: { 'user-agent': 'tender-stripe/0.1' } });
  const apiVersion = options.apiVersion ?? STRIPE_API_VERSION;
  const baseHeaders: Record<string, string> = Object.freeze({ authorization: `Bearer ${options.secretKey}`, 'stripe-version': apiVersion, accept: 'application/json' }) as Record<string, string>;
  const shouldRetry = (response: HttpResponse): boolean | undefined => {
    const hint = response.headers['stripe-should-retry'];
    return hint === 'true' ? true : hint === 'false' ? false : undefined;
  };

  return {
    apiVersion,
    transport,
    async send(method, path, params, call) {
      const headers: Record<string, string> = { ...baseHeaders };
      let body: string | undefined;
      let url = base + path;
      if (method === 'POST') {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = params ? encodeForm(params) : '';
        if (call.idempotencyKey) headers['idempotency-key'] = stripeIdempotencyKey(call.idempotencyKey);
      } else if (params) {
        const query = encodeForm(params);
        if (query) url += `?${query}`;
      }
      const response = await transport.request({
        method,
        url,
        headers,
        ...(body !== undefined ? { body } : {}),
        // GETs, keyed POSTs (Stripe replays them instead of acting twice) and DELETEs (a second
        // delete answers an error, never acts twice) are safe to repeat.
        idempotent: method !== 'POST' || call.idempotencyKey !== undefined,
        shouldRetry,
        operation: call.operation,
        ...(call.signal ? { signal: call.signal } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
      let json: unknown;
      try {
        json = response.json();
      } catch {
        // A proxy's HTML error page is still an HTTP answer: the caller maps it by status. A 2xx must be JSON.
        if (response.status < 300) throw unusableAnswer(call.operation, ['the body is not JSON'], method !== 'GET');
        json = undefined;
      }
      return { status: response.status, headers: response.headers, json };
    },
    async close() {
      if (ownsTransport) await transport.close();
    },
  };
}
