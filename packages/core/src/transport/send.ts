/**
 * One HTTP attempt over an undici dispatcher, reporting whether the request may have reached the
 * server. undici calls a handler's `onRequestStart` once a connection is ready and just before the
 * request is written; any failure before that (connection refused, DNS, connect timeout, TLS
 * handshake, an abort while queued) means nothing was sent, so repeating it is always safe.
 *
 * @module
 */
import type { Dispatcher } from 'undici';
import type { PreparedRequest } from './prepare';

/** Outcome of one attempt. */
export type AttemptResult =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: Buffer }
  | { kind: 'error'; sent: boolean; timedOut: boolean; error: Error };

/** Error raised when the response body exceeds the limit. */
class ResponseTooLargeError extends Error {
  readonly code = 'TENDER_RESPONSE_TOO_LARGE';
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * Sends `request` once. Never rejects: failures come back as `{ kind: 'error' }` with `sent` telling
 * whether the request may have been written. `timeoutMs` bounds the whole attempt (queueing,
 * connecting, sending and reading the body).
 */
export function sendOnce(
  dispatcher: Dispatcher,
  request: PreparedRequest,
  timeoutMs: number,
  maxResponseBytes: number,
  signal: AbortSignal | undefined,
): Promise<AttemptResult> {
  return new Promise<AttemptResult>((resolve) => {
    let sent = false;
    let settled = false;
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    let abortReason: Error | undefined;
    let timedOut = false;

    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const abort = (reason: Error) => {
      if (settled) return;
      abortReason = reason;
      // Before onRequestStart there is no controller yet: the request is still queued and is aborted
      // (before any byte is written) when undici hands it a connection.
      controller?.abort(reason);
      finish({ kind: 'error', sent, timedOut, error: reason });
    };
    const onAbort = () => abort(signal!.reason instanceof Error ? signal!.reason : new Error('Request aborted'));
    const timer = setTimeout(() => {
      timedOut = true;
      const err = new Error(`Request timed out after ${timeoutMs} ms`);
      err.name = 'TimeoutError';
      abort(err);
    }, timeoutMs);

    if (signal) {
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    }

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctrl) {
        controller = ctrl;
        if (abortReason) {
          ctrl.abort(abortReason);
          return;
        }
        sent = true;
      },
      onResponseStart(_ctrl, statusCode, responseHeaders) {
        status = statusCode;
        headers = flattenHeaders(responseHeaders as Record<string, string | string[] | undefined>);
      },
      onResponseData(ctrl, chunk) {
        size += chunk.length;
        if (size > maxResponseBytes) {
          ctrl.abort(new ResponseTooLargeError(`Response body exceeds ${maxResponseBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      },
      onResponseEnd() {
        finish({ kind: 'response', status, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
      },
      onResponseError(_ctrl, error) {
        finish({ kind: 'error', sent, timedOut, error });
      },
    };

    try {
      dispatcher.dispatch(
        {
          origin: request.origin,
          path: request.path,
          method: request.method,
          headers: request.headers,
          body: request.body ?? null,
          // Our own timer bounds the attempt; undici's 300 s defaults must not fire first or differently.
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        handler,
      );
    } catch (error) {
      finish({ kind: 'error', sent: false, timedOut: false, error: error as Error });
    }
  });
}
