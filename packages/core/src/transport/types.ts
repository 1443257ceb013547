/**
 * The HTTP transport contract gateway packages talk through. One implementation
 * (`createHttpTransport`, undici-based) gives every gateway the same timeouts, retries, circuit
 * breaker, redacted logging and metrics events.
 *
 * @module
 */

/** A request to a gateway API. Exactly one of `form`, `json` or `body` may be set. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute URL. */
  url: string;
  headers?: Record<string, string>;
  /** Sent as `application/x-www-form-urlencoded`, in the given order. */
  form?: Record<string, string> | ReadonlyArray<readonly [string, string]>;
  /** Sent as `application/json`. */
  json?: unknown;
  /** Raw body; set `content-type` yourself. */
  body?: string | Uint8Array;
  /** Overrides the transport's default timeout for this request. */
  timeoutMs?: number;
  /**
   * True when repeating the request cannot cause a second effect: GETs, and POSTs that carry an
   * idempotency key the provider honours. Only such requests are retried after they may have reached
   * the provider (5xx, 409, 429, connection reset). Default: true for GET and for requests carrying an
   * `Idempotency-Key` header; set it explicitly for other keys (e.g. PayPal's `PayPal-Request-Id`).
   */
  idempotent?: boolean;
  /**
   * The provider's own retry hint for a response (e.g. Stripe's `Stripe-Should-Retry`): `true` forces a
   * retry, `false` forbids one, `undefined` leaves the default rules in charge.
   */
  shouldRetry?: (response: HttpResponse) => boolean | undefined;
  /** Short name for logs and metrics, e.g. `create_payment`. */
  operation?: string;
  signal?: AbortSignal;
}

/** A fully read response. Non-2xx statuses are returned, not thrown: gateways parse their error bodies. */
export interface HttpResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The raw bytes (Fiuu answers some calls with `key=value` text). */
  body: Uint8Array;
  text(): string;
  /** Parses the body as JSON; throws a `gateway_error` TenderError when it is not JSON. */
  json<T = unknown>(): T;
  /** Number of attempts it took (1 = no retry). */
  attempts: number;
}

/** Circuit states; numeric values are those of the `tender_gateway_circuit_state` metric. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** Observable transport events (for metrics and logs). */
export type TransportEvent =
  | { type: 'circuit'; gateway: string; state: CircuitState }
  | { type: 'request'; gateway: string; operation: string; method: string; status: number | null; durationMs: number; attempt: number; error?: string }
  | { type: 'retry'; gateway: string; operation: string; attempt: number; delayMs: number; reason: string };

/**
 * Sends requests for one gateway. Errors thrown are TenderErrors:
 * - `gateway_unavailable` with `details.requestSent === false`: the request never left (circuit open,
 *   connection refused, DNS) — safe to fail over.
 * - `gateway_error` / code `gateway_outcome_unknown`: it may have reached the provider (timeout after
 *   send, reset before a response) and was not safe to repeat.
 */
export interface HttpTransport {
  /** The gateway this transport serves (labels events and metrics). */
  readonly gateway: string;
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Current circuit state. */
  readonly circuitState: CircuitState;
  /**
   * The longest one `request` can take: every attempt running to its timeout plus the longest wait
   * between attempts. Callers that lease work for the duration of a call (idempotency keys) use it.
   */
  readonly worstCaseMs: number;
  /** Subscribes to events; returns an unsubscribe function. */
  onEvent(listener: (event: TransportEvent) => void): () => void;
  /** Closes pooled connections (only those the transport created). */
  close(): Promise<void>;
}
