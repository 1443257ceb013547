/**
 * Maps driver errors (node-postgres and PGlite raise the same Postgres error fields) to Tender's typed
 * errors, so callers see `duplicate_*` conflicts and retryable storage outages instead of raw SQLSTATEs.
 *
 * @module
 */
import { TenderError } from '@tender/core';

/** The fields both drivers put on a Postgres error. */
interface PgErrorLike {
  code?: string;
  constraint?: string;
  message?: string;
  table?: string;
}

/** Unique constraint name -> the `duplicate_*` code the Store spec names. */
const UNIQUE_CODES: Record<string, string> = {
  payments_pkey: 'duplicate_payment',
  payments_gateway_reference_key: 'duplicate_gateway_reference',
  refunds_pkey: 'duplicate_refund',
  transitions_pkey: 'duplicate_transition_id',
  idempotency_keys_pkey: 'duplicate_idempotency_key',
  inbox_events_pkey: 'duplicate_inbound_event',
  outbox_events_pkey: 'duplicate_outbox_event',
  // Billing (migration 10).
  gateway_customers_pkey: 'duplicate_gateway_customer',
  saved_payment_methods_pkey: 'duplicate_saved_payment_method',
  saved_payment_methods_token_key: 'duplicate_saved_payment_method',
  saved_payment_methods_default_key: 'duplicate_default_payment_method',
  subscriptions_pkey: 'duplicate_subscription',
  subscriptions_gateway_reference_key: 'duplicate_gateway_reference',
  invoices_pkey: 'duplicate_invoice',
  invoices_gateway_reference_key: 'duplicate_gateway_reference',
  billing_transitions_pkey: 'duplicate_transition_id',
};

/** Check constraint name -> a code that says which rule the write broke. */
const CHECK_CODES: Record<string, string> = {
  payments_refund_total_check: 'refund_total_exceeded',
};

/** Network-level failures of the socket to Postgres (node errno codes). */
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** node-postgres reports some losses as plain Errors without a code; these are their messages. */
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection terminated',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'timeout exceeded when trying to connect',
  'Cannot use a pool after calling end on the pool',
  'Query read timeout',
];

/** SQLSTATEs after which running the whole transaction again may succeed. */
export function isSerializationFailure(error: unknown): boolean {
  if (TenderError.isInstance(error)) return error.code === 'storage_conflict';
  const code = (error as PgErrorLike | null)?.code;
  return code === '40001' || code === '40P01';
}

/** True for errors meaning the connection to Postgres is gone or Postgres is not accepting work. */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (TenderError.isInstance(error)) return error.code === 'storage_unavailable';
  const { code, message } = error as PgErrorLike;
  if (code !== undefined) {
    if (CONNECTION_ERRNOS.has(code)) return true;
    // 08: connection exception; 57P01-03: admin/crash shutdown, cannot connect now; 53300: too many connections.
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  }
  const nested = (error as { errors?: unknown[] }).errors; // AggregateError from dual-stack connects
  if (Array.isArray(nested) && nested.some(isConnectionError)) return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/**
 * Converts anything a driver threw into a {@link TenderError}; TenderErrors pass through unchanged.
 * Unknown database errors become `storage_error` (not retryable) with the original as `cause`.
 */
export function toStoreError(error: unknown): TenderError {
  if (TenderError.isInstance(error)) return error;
  const pg = (typeof error === 'object' && error !== null ? error : {}) as PgErrorLike;
  if (isConnectionError(error)) {
    return new TenderError({
      type: 'storage_error',
      code: 'storage_unavailable',
      message: 'The database connection was lost or refused; the operation did not complete and can be retried',
      retryable: true,
      retryAfterSeconds: 1,
      cause: error,
    });
  }
  if (isSerializationFailure(error)) {
    return new TenderError({
      type: 'storage_error',
      code: 'storage_conflict',
      message: 'The transaction conflicted with a concurrent one; it was rolled back and can be retried',
      retryable: true,
      cause: error,
    });
  }
  const constraint = pg.constraint ?? '';
  if (pg.code === '23505') {
    const code = UNIQUE_CODES[constraint] ?? 'duplicate_record';
    return new TenderError({
      type: 'state_error',
      code,
      message: `A record with the same key already exists (constraint ${constraint || 'unknown'})`,
      details: { constraint },
      cause: error,
    });
  }
  if (pg.code === '23514' || pg.code === '23503' || pg.code === '23502' || pg.code === '22003') {
    const code = CHECK_CODES[constraint] ?? (pg.code === '23503' ? 'missing_related_record' : 'constraint_violation');
    return new TenderError({
      type: 'state_error',
      code,
      message: `The write breaks a database rule (${constraint || pg.code}): ${pg.message ?? ''}`.trim(),
      details: { constraint, sqlstate: pg.code },
      cause: error,
    });
  }
  return new TenderError({
    type: 'storage_error',
    code: 'storage_failure',
    message: 'The database rejected the operation',
    details: pg.code ? { sqlstate: pg.code } : undefined,
    cause: error,
  });
}
