/**
 * `createHttpTransport`: the one HTTP client every gateway package uses (undici 7 keep-alive pool per
 * origin, per-attempt timeout, safe retries with full-jitter backoff and `Retry-After`, per-gateway
 * circuit breaker, redacted logs and metric events).
 *
 * @module
 */
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { TenderError, invalidRequest } from '../errors';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import { redactingLogger } from '../redaction';
import type { RetryOptions } from './backoff';
import { abortableSleep, fullJitterDelay, parseRetryAfter, resolveRetryOptions } from './backoff';
import type { CircuitOptions, CircuitPermit } from './circuit-breaker';
import { CircuitBreaker } from './circuit-breaker';
import { gatewayUnavailable, outcomeUnknown } from './errors';
import { prepareRequest } from './prepare';
import { sendOnce } from './send';
import type { CircuitState, HttpRequest, HttpResponse, HttpTransport, TransportEvent } from './types';

/** Options of {@link createHttpTransport}. */
export interface HttpTransportOptions {
  /** Gateway name; labels events, metrics, logs and errors. */
  gateway: string;
  /** Default per-attempt timeout (connect + send + full response). Default 30 000 ms. */
  timeoutMs?: number;
  /** Retry policy; see {@link RetryOptions}. */
  retry?: RetryOptions;
  /** Circuit breaker; see {@link CircuitOptions}. */
  circuit?: CircuitOptions;
  /**
   * Your own undici dispatcher (proxy `ProxyAgent`, custom CA, `MockAgent`...). It is used as is and
   * never closed by {@link HttpTransport.close}. When absent the transport creates an `Agent` from
   * `pool`.
   */
  dispatcher?: Dispatcher;
  /** Limits of the keep-alive pool the transport creates (ignored with `dispatcher`). */
  pool?: {
    /** Connections per origin. Default 32. */
    connections?: number;
    /** Idle keep-alive time of a connection. Default 4 000 ms (undici's default). */
    keepAliveTimeoutMs?: number;
    /** Connect timeout. Default: `min(timeoutMs, 10 000)`. */
    connectTimeoutMs?: number;
  };
  /** Headers sent with every request (overridable per request). Default `user-agent: tender/<gateway>`. */
  headers?: Record<string, string>;
  /** Largest response body accepted. Default 10 MiB. */
  maxResponseBytes?: number;
  /** Receives redacted log lines. Default: silent. */
  logger?: Logger;
  /** Time source of the circuit breaker and `Retry-After` dates. Default: the wall clock. */
  clock?: Clock;
  /** Uniform random in `[0, 1)` for jitter. Default `Math.random`. */
  random?: () => number;
}

const RETRYABLE_STATUS = (status: number) => status >= 500 || status === 409 || status === 429;

class BufferedResponse implements HttpResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: Buffer,
    readonly attempts: number,
    private readonly gateway: string,
  ) {}

  text(): string {
    return this.body.toString('utf8');
  }

  json<T = unknown>(): T {
    try {
      return JSON.parse(this.text()) as T;
    } catch (cause) {
      throw new TenderError({
        type: 'gateway_error',
        code: 'gateway_invalid_response',
        message: `${this.gateway} answered HTTP ${this.status} with a body that is not JSON`,
        details: { gateway: this.gateway, status: this.status },
        cause,
      });
    }
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw invalidRequest('invalid_transport_config', `${name} must be a positive number`, name);
  return v;
}

/**
 * Creates the HTTP transport for one gateway.
 *
 * Retry rules (each attempt also feeds the circuit breaker; transport errors and 5xx count as
 * failures):
 * - never sent (connection refused, DNS, connect timeout): always retried;
 * - sent but no response (timeout, reset): retried only when the request is idempotent, otherwise a
 *   `gateway_outcome_unknown` error is thrown at once;
 * - a response: `request.shouldRetry(response)` decides when it returns a boolean; otherwise 5xx,
 *   409 and 429 are retried when the request is idempotent. After the last attempt the response is
 *   returned for the gateway to parse;
 * - the delay is full-jitter exponential backoff, or `Retry-After` when that is longer (above
 *   `retry.maxRetryAfterMs` the response is returned instead of waiting). Delays end early when the
 *   request's `signal` aborts.
 *
 * A request is idempotent when `request.idempotent` says so, or by default when it is a GET or
 * carries an `Idempotency-Key` header.
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const gateway = options.gateway;
  if (!gateway) throw invalidRequest('invalid_transport_config', 'gateway name is required', 'gateway');
  const timeoutMs = positive(options.timeoutMs, 30_000, 'timeoutMs');
  const retry = (() => {
    try {
      return resolveRetryOptions(options.retry);
    } catch (err) {
      throw invalidRequest('invalid_transport_config', (err as Error).message, 'retry');
    }
  })();
  const maxResponseBytes = positive(options.maxResponseBytes, 10 * 1024 * 1024, 'maxResponseBytes');
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const logger = options.logger && options.logger !== silentLogger ? redactingLogger(options.logger) : undefined;
  const defaultHeaders = { 'user-agent': `tender/${gateway}`, ...options.headers };

  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher: Dispatcher =
    options.dispatcher ??
    new Agent({
      connections: positive(options.pool?.connections, 32, 'pool.connections'),
      keepAliveTimeout: positive(options.pool?.keepAliveTimeoutMs, 4_000, 'pool.keepAliveTimeoutMs'),
      connect: { timeout: positive(options.pool?.connectTimeoutMs, Math.min(timeoutMs, 10_000), 'pool.connectTimeoutMs') },
    });

  const listeners = new Set<(event: TransportEvent) => void>();
  const emit = (event: TransportEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A failing metrics listener must not break a payment.
      }
    }
  };

  const circuit = new CircuitBreaker(options.circuit, clock, (state) => {
    emit({ type: 'circuit', gateway, state });
    logger?.[state === 'open' ? 'warn' : 'info']({ gateway, circuit: state }, `${gateway} circuit ${state}`);
  });

  let closed = false;

  async function request(req: HttpRequest): Promise<HttpResponse> {
    if (closed) throw invalidRequest('transport_closed', `The ${gateway} transport is closed`);
    const prepared = prepareRequest(req, defaultHeaders);
    const operation = req.operation ?? `${req.method} ${prepared.path.split('?')[0]}`;
    const idempotent = req.idempotent ?? (req.method === 'GET' || prepared.headers['idempotency-key'] !== undefined);
    const attemptTimeout = req.timeoutMs === undefined ? timeoutMs : positive(req.timeoutMs, timeoutMs, 'timeoutMs');
    const logRequest = logger
      ? { gateway, operation, method: req.method, url: `${prepared.origin}${prepared.path}`, headers: prepared.headers, body: req.form ?? req.json ?? req.body }
      : undefined;
    if (logRequest) logger!.debug(logRequest, `${gateway} ${operation} request`);

    let anySent = false;
    let lastResponse: BufferedResponse | undefined;

    for (let attempt = 1; ; attempt++) {
      const permit = circuit.acquire();
      if (!('generation' in permit)) {
        emit({ type: 'request', gateway, operation, method: req.method, status: null, durationMs: 0, attempt, error: 'circuit_open' });
        // The circuit opened between retries: report what the earlier attempts produced.
        if (lastResponse) return lastResponse;
        if (anySent) throw outcomeUnknown(gateway, `${gateway} ${operation}: outcome unknown, and the circuit opened before a retry`, { attempts: attempt - 1 });
        const retryAfterSeconds = Math.max(1, Math.ceil(permit.retryAfterMs / 1000));
        throw gatewayUnavailable(gateway, 'circuit_open', `${gateway} is unavailable (circuit open); retry after ${retryAfterSeconds}s`, {
          retryAfterSeconds,
          attempts: attempt - 1,
        });
      }

      const started = performance.now();
      const result = await sendOnce(dispatcher, prepared, attemptTimeout, maxResponseBytes, req.signal);
      const durationMs = performance.now() - started;
      const last = attempt >= retry.attempts;

      if (result.kind === 'response') {
        anySent = true;
        circuit.record(permit as CircuitPermit, result.status < 500);
        emit({ type: 'request', gateway, operation, method: req.method, status: result.status, durationMs, attempt });
        const response = new BufferedResponse(result.status, result.headers, result.body, attempt, gateway);
        lastResponse = response;
        const hint = req.shouldRetry?.(response);
        const retryable = hint ?? (idempotent && RETRYABLE_STATUS(result.status));
        if (result.status >= 500 && logger) logger.warn({ gateway, operation, status: result.status, attempt, durationMs }, `${gateway} ${operation} answered ${result.status}`);
        if (!retryable || last) {
          logger?.debug({ gateway, operation, status: result.status, attempt, durationMs }, `${gateway} ${operation} response`);
          return response;
        }
        const retryAfterMs = parseRetryAfter(result.headers['retry-after'], clock.now().getTime());
        if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) return response;
        const delayMs = Math.max(fullJitterDelay(attempt, retry, random), retryAfterMs ?? 0);
        await pause(delayMs, attempt, `status_${result.status}`);
        continue;
      }

      // A transport error.
      const error = result.error;
      const code = (error as { code?: string }).code;
      if (code === 'UND_ERR_INVALID_ARG') {
        throw invalidRequest('invalid_http_request', `Invalid request to ${gateway}: ${error.message}`);
      }
      circuit.record(permit as CircuitPermit, false);
      const reason = result.timedOut ? 'timeout' : (code ?? error.name);
      emit({ type: 'request', gateway, operation, method: req.method, status: null, durationMs, attempt, error: reason });
      logger?.warn({ gateway, operation, attempt, durationMs, error: reason, requestSent: result.sent, message: error.message }, `${gateway} ${operation} failed`);
      anySent ||= result.sent;
      // A later attempt may have been processed, so an earlier response no longer tells the outcome.
      if (result.sent) lastResponse = undefined;
      const callerAborted = req.signal?.aborted === true;

      if (callerAborted) {
        if (anySent) throw outcomeUnknown(gateway, `${gateway} ${operation} was aborted after it was sent; outcome unknown`, { attempts: attempt, cause: error });
        throw gatewayUnavailable(gateway, 'request_aborted', `${gateway} ${operation} was aborted before it was sent`, { attempts: attempt, cause: error });
      }
      if (result.sent && !idempotent) {
        throw outcomeUnknown(
          gateway,
          `${gateway} ${operation}: ${result.timedOut ? `no response within ${attemptTimeout} ms` : 'connection lost before a response'}; the request may have been processed`,
          { attempts: attempt, cause: error },
        );
      }
      if (last) {
        if (lastResponse) return lastResponse;
        if (anySent) throw outcomeUnknown(gateway, `${gateway} ${operation}: no response after ${attempt} attempts; outcome unknown`, { attempts: attempt, cause: error });
        throw gatewayUnavailable(gateway, 'connection_failed', `${gateway} could not be reached (${reason}) after ${attempt} attempts`, {
          attempts: attempt,
          cause: error,
        });
      }
      await pause(fullJitterDelay(attempt, retry, random), attempt, reason);
    }

    async function pause(delayMs: number, attempt: number, reason: string): Promise<void> {
      emit({ type: 'retry', gateway, operation, attempt, delayMs, reason });
      logger?.info({ gateway, operation, attempt, delayMs, reason }, `${gateway} ${operation} retrying`);
      try {
        await abortableSleep(delayMs, req.signal);
      } catch (cause) {
        if (anySent) throw outcomeUnknown(gateway, `${gateway} ${operation} was aborted during a retry delay; outcome unknown`, { attempts: attempt, cause });
        throw gatewayUnavailable(gateway, 'request_aborted', `${gateway} ${operation} was aborted before it was sent`, { attempts: attempt, cause });
      }
    }
  }

  // Every attempt may run to its timeout, and each retry may wait the longer of the backoff cap and
  // the largest Retry-After it honours.
  const worstCaseMs = retry.attempts * timeoutMs + (retry.attempts - 1) * Math.max(retry.maxDelayMs, retry.maxRetryAfterMs);

  return {
    gateway,
    request,
    worstCaseMs,
    get circuitState(): CircuitState {
      return circuit.state;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}
