/**
 * TenderError -> gRPC status. Every error the REST API answers with `{ error: { type, code,
 * message, param } }` leaves the gRPC API as a status code with the same message, the same `type`,
 * `code` and `param` in trailing metadata (`error-type`, `error-code`, `error-param`), and the
 * richer error model of <https://grpc.io/docs/guides/error/>: a `google.rpc.Status` in the
 * `grpc-status-details-bin` trailer carrying a `google.rpc.ErrorInfo` (reason = the code), a
 * `google.rpc.BadRequest` naming the field at fault, and a `google.rpc.RetryInfo` when a retry
 * makes sense.
 *
 * @module
 */
import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import type { TenderError } from '@tender/core';
import protobuf from 'protobufjs';

/** `ErrorInfo.domain` of every Tender error. */
export const ERROR_DOMAIN = 'tender';

// The messages of googleapis' google/rpc/status.proto and google/rpc/error_details.proto that are
// sent, with their field names and numbers (and google.protobuf.Any and Duration, which they use).
// Built here rather than loaded from copies of those files, so no second google/rpc/*.proto can
// clash with a client's own googleapis checkout.
const descriptors: protobuf.INamespace = {
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 } },
            },
            ErrorInfo: { fields: { reason: { type: 'string', id: 1 }, domain: { type: 'string', id: 2 }, metadata: { keyType: 'string', type: 'string', id: 3 } } },
            BadRequest: {
              fields: { field_violations: { rule: 'repeated', type: 'FieldViolation', id: 1 } },
              nested: { FieldViolation: { fields: { field: { type: 'string', id: 1 }, description: { type: 'string', id: 2 }, reason: { type: 'string', id: 3 } } } },
            },
            RetryInfo: { fields: { retry_delay: { type: 'google.protobuf.Duration', id: 1 } } },
          },
        },
      },
    },
  },
} as protobuf.INamespace;
const root = protobuf.Root.fromJSON(descriptors);
const StatusType = root.lookupType('google.rpc.Status');
const ErrorInfoType = root.lookupType('google.rpc.ErrorInfo');
const BadRequestType = root.lookupType('google.rpc.BadRequest');
const RetryInfoType = root.lookupType('google.rpc.RetryInfo');

function any(type: protobuf.Type, value: Record<string, unknown>): { type_url: string; value: Uint8Array } {
  // type.googleapis.com/ is the prefix every gRPC implementation expects for Any (see any.proto).
  return { type_url: `type.googleapis.com/${type.fullName.replace(/^\./, '')}`, value: type.encode(type.create(value)).finish() };
}

/**
 * The gRPC code for a TenderError. By `type` first, then by the HTTP status the error carries, as
 * the HTTP equivalents in googleapis' google/rpc/code.proto pair them:
 *
 * - idempotency: a key still in use is ABORTED (retry later: a concurrency conflict), a key used for
 *   another request ALREADY_EXISTS;
 * - a state that forbids the call (`illegal_transition`, a refund above what is left) is
 *   FAILED_PRECONDITION, or ABORTED when the error says a retry may succeed;
 * - a gateway or store that is down, a circuit that is open, a JWKS that cannot be fetched, or a
 *   gateway answer that is unknown and must be retried with the same key: UNAVAILABLE;
 * - a card the gateway declined (HTTP 402): FAILED_PRECONDITION;
 * - anything unexpected: INTERNAL.
 */
export function grpcCodeOf(error: TenderError): Status {
  switch (error.type) {
    case 'authentication_error':
      return Status.UNAUTHENTICATED;
    case 'permission_error':
      return Status.PERMISSION_DENIED;
    case 'not_found_error':
      return Status.NOT_FOUND;
    case 'idempotency_error':
      return error.status === 422 ? Status.ALREADY_EXISTS : Status.ABORTED;
    case 'state_error':
      return error.retryable ? Status.ABORTED : Status.FAILED_PRECONDITION;
    case 'rate_limit_error':
      return Status.RESOURCE_EXHAUSTED;
    case 'gateway_unavailable':
    case 'storage_error':
      return Status.UNAVAILABLE;
    case 'gateway_error':
      if (error.retryable || error.code === 'gateway_outcome_unknown') return Status.UNAVAILABLE;
      return error.status >= 400 && error.status < 500 ? Status.FAILED_PRECONDITION : Status.INTERNAL;
    default:
      break;
  }
  switch (error.status) {
    case 400:
    case 413:
    case 422:
      return Status.INVALID_ARGUMENT;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.NOT_FOUND;
    case 409:
      return error.retryable ? Status.ABORTED : Status.FAILED_PRECONDITION;
    case 429:
      return Status.RESOURCE_EXHAUSTED;
    case 503:
      return Status.UNAVAILABLE;
    case 504:
      return Status.DEADLINE_EXCEEDED;
    default:
      return error.status < 500 ? Status.INVALID_ARGUMENT : error.retryable ? Status.UNAVAILABLE : Status.INTERNAL;
  }
}

/**
 * The status object a handler answers for an error: code, the error's message (the same text REST
 * sends: written for callers, never a stack, a driver message or a secret), and the trailers.
 */
export function grpcStatusOf(error: TenderError): Partial<StatusObject> & { code: Status; details: string; metadata: Metadata } {
  const code = grpcCodeOf(error);
  const metadata = new Metadata();
  metadata.set('error-type', error.type);
  metadata.set('error-code', error.code);
  if (error.param !== undefined) metadata.set('error-param', error.param);
  const details = [any(ErrorInfoType, { reason: error.code, domain: ERROR_DOMAIN, metadata: { type: error.type, ...(error.param !== undefined ? { param: error.param } : {}) } })];
  if (error.param !== undefined && code === Status.INVALID_ARGUMENT) {
    details.push(any(BadRequestType, { field_violations: [{ field: error.param, description: error.message, reason: error.code }] }));
  }
  if (error.retryAfterSeconds !== undefined) {
    const seconds = Math.max(0, Math.ceil(error.retryAfterSeconds));
    metadata.set('retry-after', String(seconds));
    details.push(any(RetryInfoType, { retry_delay: { seconds, nanos: 0 } }));
  }
  const rich = StatusType.encode(StatusType.create({ code, message: error.message, details })).finish();
  metadata.set('grpc-status-details-bin', Buffer.from(rich));
  return { code, details: error.message, metadata };
}
