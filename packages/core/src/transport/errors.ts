/**
 * The two ways a gateway call fails at the transport level, as TenderErrors the engine understands
 * (see `spec/gateway/v1/`): never sent (safe to fail over) or outcome unknown (reconcile later).
 *
 * @module
 */
import { TenderError } from '../errors';
import { GATEWAY_OUTCOME_UNKNOWN } from '../spec/gateway/v1/index';

/** Why a request never reached the provider. */
export type UnavailableCode = 'circuit_open' | 'connection_failed' | 'request_aborted';

/**
 * The request never left: circuit open, connection refused, DNS failure, connect timeout, or the
 * caller aborted before a connection was made. Repeating it or failing over is safe.
 */
export function gatewayUnavailable(
  gateway: string,
  code: UnavailableCode,
  message: string,
  extra: { retryAfterSeconds?: number; attempts: number; cause?: unknown },
): TenderError {
  return new TenderError({
    type: 'gateway_unavailable',
    code,
    message,
    retryable: true,
    ...(extra.retryAfterSeconds !== undefined ? { retryAfterSeconds: extra.retryAfterSeconds } : {}),
    details: { gateway, requestSent: false, attempts: extra.attempts },
    ...(extra.cause !== undefined ? { cause: extra.cause } : {}),
  });
}

/**
 * The request may have reached the provider (timeout or connection loss after it was written) and
 * repeating it was not safe. The engine marks the payment `PROCESSING` for the reconciler.
 */
export function outcomeUnknown(gateway: string, message: string, extra: { attempts: number; cause?: unknown }): TenderError {
  return new TenderError({
    type: 'gateway_error',
    code: GATEWAY_OUTCOME_UNKNOWN,
    message,
    retryable: false,
    details: { gateway, requestSent: true, attempts: extra.attempts },
    ...(extra.cause !== undefined ? { cause: extra.cause } : {}),
  });
}
