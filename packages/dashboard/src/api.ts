/**
 * Calls of Tender's REST API (`/api/v1`, the OpenAPI document at `/openapi.json`) with the operator's
 * bearer token. A refusal becomes an {@link ApiError} carrying the API's error JSON
 * (`{ error: { type, code, message, param } }`), whose message the pages show as it is.
 *
 * @module
 */
import { clearToken, storedToken } from './session';

/** The API's error body, or what stood in for it when the answer was not JSON. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called when the API answers 401: the token is gone and the sign-in form shows. */
let onUnauthorized: () => void = () => undefined;
/** Sets what a 401 does (the app shows the sign-in form). */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/** Query parameters; undefined and empty values are left out. */
export type Query = Record<string, string | number | undefined | null>;

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
}

/** One API call; the answer's JSON, or an {@link ApiError}. */
export async function api<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, options: { query?: Query; body?: unknown; idempotent?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = storedToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  // A retried click must not refund or capture twice: one key per action (the API replays its answer).
  if (method === 'POST' && options.idempotent) headers['idempotency-key'] = crypto.randomUUID();
  let res: Response;
  try {
    res = await fetch(url(path, options.query), { method, headers, cache: 'no-store', ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  } catch (error) {
    throw new ApiError(0, 'network_error', `The server could not be reached (${(error as Error).message})`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (res.status === 401) {
      clearToken();
      onUnauthorized();
    }
    throw new ApiError(res.status, typeof error?.code === 'string' ? error.code : `http_${res.status}`, typeof error?.message === 'string' ? error.message : `HTTP ${res.status}`);
  }
  return json as T;
}

/** A page of a list route. */
export interface ListPage<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** A payment as the API answers it (the fields the pages use). */
export interface PaymentJson {
  id: string;
  status: string;
  amount: string;
  currency: string;
  gateway: string;
  order_id: string | null;
  payment_method: string | null;
  capture_method: string;
  amount_captured: string;
  amount_refunded: string;
  failure: { code: string; message: string } | null;
  created_at: string;
  updated_at: string;
}

/** A refund as the API answers it. */
export interface RefundJson {
  id: string;
  status: string;
  amount: string;
  currency: string;
  reason: string | null;
  created_at: string;
}

/** An audit-trail entry (`GET /payments/{id}/transitions`). */
export interface TransitionJson {
  id: string;
  refund_id: string | null;
  from: string | null;
  to: string;
  reason: string | null;
  actor: string;
  at: string;
}
