export type { HttpRequest, HttpResponse, HttpTransport, CircuitState, TransportEvent } from './types';
export { createHttpTransport } from './http-transport';
export type { HttpTransportOptions } from './http-transport';
export type { RetryOptions } from './backoff';
export { fullJitterDelay, parseRetryAfter } from './backoff';
export type { CircuitOptions } from './circuit-breaker';
export { CIRCUIT_STATE_VALUE } from './circuit-breaker';
export { prepareRequest } from './prepare';
export type { PreparedRequest } from './prepare';
export { parseDurationMs, transportOptionsFromEnv } from './env';
// Re-exported here until `src/index.ts` exports them directly (the transport uses both).
export * from '../crypto';
export * from '../redaction';
