/**
 * Error answers. Every failure leaves the server as `{ error: { type, code, message, param? } }`
 * with the status the {@link TenderError} carries; nothing else (no stack, no driver message) is sent.
 *
 * @module
 */
import { TenderError, toTenderError } from '@tender/core';
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '@tender/core';

/** A 400 naming the field at fault. */
export function badRequest(code: string, message: string, param?: string): TenderError {
  return new TenderError({ type: 'invalid_request_error', code, message, ...(param ? { param } : {}) });
}

/** 401: missing or invalid credentials. */
export function unauthenticated(code: string, message: string): TenderError {
  return new TenderError({ type: 'authentication_error', code, message });
}

/** 403: valid credentials without the scope the route needs. */
export function forbidden(code: string, message: string): TenderError {
  return new TenderError({ type: 'permission_error', code, message });
}

// body-parser / raw-body failures carry an `expose`d 4xx status and a `type` naming what went wrong.
const BODY_ERRORS: Record<string, { code: string; message: string }> = {
  'entity.too.large': { code: 'body_too_large', message: 'The request body is too large' },
  'entity.parse.failed': { code: 'invalid_json', message: 'The request body is not valid JSON' },
  'encoding.unsupported': { code: 'unsupported_encoding', message: 'The request body encoding is not supported' },
  'charset.unsupported': { code: 'unsupported_charset', message: 'The request body charset is not supported' },
  'request.size.invalid': { code: 'body_length_mismatch', message: 'The request body does not match its Content-Length' },
  'request.aborted': { code: 'request_aborted', message: 'The request was aborted' },
  'stream.encoding.set': { code: 'invalid_body', message: 'The request body could not be read' },
  'parameters.too.many': { code: 'too_many_parameters', message: 'The request has too many parameters' },
};

/** Turns anything thrown into a TenderError fit for the caller. */
export function asTenderError(error: unknown): TenderError {
  if (TenderError.isInstance(error)) return error;
  const e = error as { status?: unknown; statusCode?: unknown; type?: unknown; expose?: unknown };
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined && status >= 400 && status < 500) {
    const known = typeof e.type === 'string' ? BODY_ERRORS[e.type] : undefined;
    return new TenderError({
      type: 'invalid_request_error',
      code: known?.code ?? 'invalid_request',
      message: known?.message ?? 'The request could not be read',
      status,
    });
  }
  return toTenderError(error);
}

/** Writes the error JSON (and `Retry-After` when the error gives one). */
export function sendError(res: Response, error: TenderError, extra?: Record<string, unknown>): void {
  if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(Math.ceil(error.retryAfterSeconds)));
  res.status(error.status).json({ ...extra, ...error.toJSON() });
}

/** Express error middleware: logs server-side faults, answers the error JSON. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const tenderError = asTenderError(error);
    if (tenderError.status >= 500) {
      const cause = tenderError.cause ?? error;
      logger.error(
        { err: cause instanceof Error ? { message: cause.message, stack: cause.stack } : String(cause), method: req.method, path: req.path, code: tenderError.code },
        'request failed',
      );
    }
    sendError(res, tenderError);
  };
}
