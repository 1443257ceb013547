/**
 * What the route modules share: the per-router context (engine, options, the scope check, idempotency
 * options of a request, operation timing) and the request helpers several of them use (ids from the
 * path, query strings, pages of a list, the raw request a gateway signed).
 *
 * @module
 */
import { TenderError, type Logger, type Tender, type WebhookRequest } from '@tender/core';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { principalOf, requireScope, type Scope } from '../auth';
import { timeOperation, type TenderMetrics } from '../metrics';
import { USER_ID_PATTERN } from '../billing-schemas';
import type { TenderRouterOptions } from '../router';

/** What every route module is given by `createTenderRouter`. */
export interface RouteContext {
  /** The engine the routes call. */
  tender: Tender;
  /** The router's options, as given. */
  options: TenderRouterOptions;
  /** Redacting: route modules log through this one only. */
  logger: Logger;
  /** Where operation, webhook and auth-failure metrics go; undefined records none. */
  metrics: TenderMetrics | undefined;
  /** Middleware refusing (403) a caller whose token lacks `scope`. */
  need(scope: Scope): RequestHandler;
  /** The authenticated caller's merchant. */
  merchantOf(req: Request): string;
  /** The engine options of a write: the caller's merchant, its `Idempotency-Key`, and the replay header. */
  requestOptions(req: Request, res: Response): { merchantId: string; idempotencyKey?: string; onReplay: () => void };
  /** Runs an engine operation under the operation metrics (`gateway` is read when it ends). */
  timed<T>(operation: string, gateway: () => string, fn: () => Promise<T>): Promise<T>;
  /** The options of a billing call (`tender.paymentMethods`, `subscriptions`...): the caller's merchant and its `Idempotency-Key`. */
  billingOptions(req: Request): { merchantId: string; idempotencyKey?: string };
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const IDEMPOTENT_REPLAYED = 'Idempotent-Replayed';

/** Which API a request is in `failed_auth_total{api}`: live streams (SSE, WebSocket) are counted apart. */
export function authApi(req: Request): 'live' | 'rest' {
  return /^\/payments\/[^/]+\/(events|ws)$/.test(req.path) ? 'live' : 'rest';
}

/** The {@link RouteContext} of one router. */
export function routeContext(tender: Tender, options: TenderRouterOptions, logger: Logger): RouteContext {
  const metrics = options.metrics;
  const merchantOf = (req: Request) => principalOf(req).merchantId;
  return {
    tender,
    options,
    logger,
    metrics,
    need:
      (scope) =>
      (req, _res, next) => {
        try {
          requireScope(principalOf(req), scope);
        } catch (error) {
          metrics?.recordAuthFailure(authApi(req), error);
          throw error;
        }
        next();
      },
    merchantOf,
    requestOptions: (req, res) => {
      const key = idempotencyKey(req);
      return {
        merchantId: merchantOf(req),
        ...(key !== undefined ? { idempotencyKey: key } : {}),
        onReplay: () => res.setHeader(IDEMPOTENT_REPLAYED, 'true'),
      };
    },
    timed: (operation, gateway, fn) => timeOperation(metrics, operation, gateway, fn),
    billingOptions: (req) => {
      const key = idempotencyKey(req);
      return { merchantId: merchantOf(req), ...(key !== undefined ? { idempotencyKey: key } : {}) };
    },
  };
}

/** The 404 of an unknown (or unknowable) id; the id is cut to 64 characters in the message. */
export function notFoundId(resource: string, id: string): TenderError {
  return new TenderError({ type: 'not_found_error', code: 'resource_missing', message: `No such ${resource}: '${id.slice(0, 64)}'`, param: 'id' });
}

/** A resource id as sent by a caller; one that cannot be an id is a 404 (as an unknown one is). */
export function resourceId(id: unknown, resource: string): string {
  if (typeof id !== 'string' || !ID.test(id)) throw notFoundId(resource, String(id ?? ''));
  return id;
}

/** The id in path parameter `name` (see {@link resourceId}). */
export function pathId(req: Request, resource: string, name = 'id'): string {
  return resourceId(req.params[name], resource);
}

function idempotencyKey(req: Request): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return undefined;
  return Array.isArray(key) ? key.join(',') : key;
}

/**
 * The merchant's user id in path parameter `user_id` (`/users/{user_id}/...`). A user is the
 * merchant's own concept, not a Tender resource: one without records has empty lists, and an id that
 * cannot be one is a 400.
 * @throws TenderError 400 `invalid_user_id`, as the engine answers for a bad `user_id` in a body.
 */
export function pathUserId(req: Request): string {
  const id = req.params.user_id;
  if (typeof id !== 'string' || !USER_ID_PATTERN.test(id)) {
    throw new TenderError({ type: 'invalid_request_error', code: 'invalid_user_id', message: 'user_id must be 1-255 printable characters', param: 'user_id' });
  }
  return id;
}

/**
 * The page options of an engine list from a validated `limit` / `starting_after` query.
 * @throws TenderError 400 `invalid_limit` for a limit outside 1-100, as every list answers it.
 */
export function pageOptions(q: { limit?: string | undefined; starting_after?: string | undefined }): { limit?: number; startingAfter?: string } {
  const limit = q.limit === undefined ? undefined : Number(q.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 100)) {
    throw new TenderError({ type: 'invalid_request_error', code: 'invalid_limit', message: 'limit must be an integer from 1 to 100', param: 'limit' });
  }
  return { ...(limit !== undefined ? { limit } : {}), ...(q.starting_after ? { startingAfter: q.starting_after } : {}) };
}

/** The query string as plain values; a parameter given twice (or as `a[b]=`) is a 400 naming it. */
export function stringQuery(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.query)) {
    if (typeof v === 'string') out[k] = v;
    else throw new TenderError({ type: 'invalid_request_error', code: 'parameter_invalid', message: `${k} must be given once, as a plain value`, param: k });
  }
  return out;
}

/** Drops the `undefined` and `null` members of `value` (in place), so they are absent rather than set. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined || value[key] === null) delete value[key];
  return value;
}

/** One page of an in-memory list by `limit` (1-100, default 20) and `starting_after` (an id in it). */
export function pageOf<T extends { id: string }>(items: T[], query: { limit?: string; starting_after?: string }): { data: T[]; hasMore: boolean; next: string | null } {
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new TenderError({ type: 'invalid_request_error', code: 'invalid_limit', message: 'limit must be an integer from 1 to 100', param: 'limit' });
  let start = 0;
  if (query.starting_after) {
    const at = items.findIndex((i) => i.id === query.starting_after);
    if (at < 0) throw new TenderError({ type: 'invalid_request_error', code: 'invalid_cursor', message: 'starting_after is not in this list', param: 'starting_after' });
    start = at + 1;
  }
  const data = items.slice(start, start + limit);
  const hasMore = start + limit < items.length;
  return { data, hasMore, next: hasMore ? data[data.length - 1]!.id : null };
}

/** Body parser keeping a gateway's request as the bytes it signed (any content type, up to 1 MB). */
export function rawBody(): RequestHandler {
  return express.raw({ type: () => true, limit: '1mb' });
}

/** The request as the engine's webhook handling takes it: lower-case headers, the raw body, the query. */
export function webhookRequest(req: Request): WebhookRequest {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') query[k] = v;
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  return { headers, rawBody: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), query };
}
