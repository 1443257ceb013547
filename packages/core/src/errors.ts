/**
 * Typed errors. Every failure Tender reports is a {@link TenderError} carrying a machine-readable
 * `type` and `code`, a human `message`, the offending `param` when there is one, and the HTTP
 * status it maps to, so a REST layer can answer without guessing.
 *
 * @module
 */

/** Broad error families; each maps to one HTTP status by default. */
export type TenderErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'state_error'
  | 'idempotency_error'
  | 'rate_limit_error'
  | 'gateway_error'
  | 'gateway_unavailable'
  | 'webhook_signature_error'
  | 'storage_error'
  | 'api_error';

const DEFAULT_STATUS: Record<TenderErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  state_error: 409,
  idempotency_error: 409,
  rate_limit_error: 429,
  gateway_error: 502,
  gateway_unavailable: 503,
  webhook_signature_error: 400,
  storage_error: 503,
  api_error: 500,
};

/** Options accepted by the {@link TenderError} constructor. */
export interface TenderErrorOptions {
  type: TenderErrorType;
  /** Stable machine-readable code, e.g. `amount_too_precise`, `illegal_transition`. */
  code: string;
  message: string;
  /** The request field at fault, in the REST API's naming (e.g. `amount`). */
  param?: string;
  /** Overrides the status implied by `type` (e.g. 422 for an idempotency mismatch). */
  status?: number;
  /** Whether repeating the same call later may succeed. */
  retryable?: boolean;
  /** Seconds after which a retry makes sense (circuit open, rate limit). */
  retryAfterSeconds?: number;
  /** Extra structured detail safe to show to the API caller. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

const MARKER = Symbol.for('tender.error');

/**
 * The one error class of Tender. Use {@link TenderError.isInstance} rather than `instanceof` so the
 * check survives duplicate copies of `@tender/core` in a dependency tree.
 */
export class TenderError extends Error {
  readonly [MARKER] = true;
  readonly type: TenderErrorType;
  readonly code: string;
  readonly param: string | undefined;
  readonly status: number;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(options: TenderErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TenderError';
    this.type = options.type;
    this.code = options.code;
    this.param = options.param;
    this.status = options.status ?? DEFAULT_STATUS[options.type];
    this.retryable = options.retryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
  }

  /** True for any TenderError, from any copy of this package. */
  static isInstance(value: unknown): value is TenderError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  /** The public JSON body: `{ error: { type, code, message, param? } }`. Never includes a stack. */
  toJSON(): { error: { type: TenderErrorType; code: string; message: string; param?: string } } {
    const error: { type: TenderErrorType; code: string; message: string; param?: string } = {
      type: this.type,
      code: this.code,
      message: this.message,
    };
    if (this.param !== undefined) error.param = this.param;
    return { error };
  }
}

/** A malformed or semantically invalid request (400). */
export function invalidRequest(code: string, message: string, param?: string): TenderError {
  return new TenderError({ type: 'invalid_request_error', code, message, ...(param ? { param } : {}) });
}

/** A resource that does not exist or belongs to another merchant (404). */
export function notFound(resource: string, id: string): TenderError {
  return new TenderError({
    type: 'not_found_error',
    code: 'resource_missing',
    message: `No such ${resource}: '${id}'`,
    param: 'id',
  });
}

/** An operation that the current state does not allow (409). */
export function stateConflict(code: string, message: string, details?: Record<string, unknown>): TenderError {
  return new TenderError({ type: 'state_error', code, message, ...(details ? { details } : {}) });
}

/** Wraps an unknown thrown value in a TenderError without leaking its internals to callers. */
export function toTenderError(value: unknown): TenderError {
  if (TenderError.isInstance(value)) return value;
  return new TenderError({ type: 'api_error', code: 'internal_error', message: 'An internal error occurred', cause: value });
}
