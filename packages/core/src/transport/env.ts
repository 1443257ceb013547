/**
 * Transport settings from Fiuu-style environment variables (`FIUU_TIMEOUT=30s`,
 * `FIUU_RETRY_ATTEMPTS=3`, `FIUU_RETRY_DELAY=1s`, as in the Fiuu deployment guide).
 *
 * Mapping (for prefix `P`):
 * | variable | unit | option |
 * | --- | --- | --- |
 * | `P_TIMEOUT` | Go duration (`30s`, `500ms`, `1m`; a bare number is seconds) | `timeoutMs` |
 * | `P_RETRY_ATTEMPTS` | integer, total attempts including the first | `retry.attempts` |
 * | `P_RETRY_DELAY` | Go duration | `retry.baseDelayMs` (first backoff ceiling) |
 * | `P_RETRY_MAX_DELAY` | Go duration | `retry.maxDelayMs` |
 * | `P_CIRCUIT_THRESHOLD` | ratio `0.5` or count `5` | `circuit.failureThreshold` |
 * | `P_CIRCUIT_WINDOW` | Go duration | `circuit.windowMs` |
 * | `P_CIRCUIT_MIN_REQUESTS` | integer | `circuit.minimumRequests` |
 * | `P_CIRCUIT_OPEN` | Go duration | `circuit.openMs` |
 * | `P_CIRCUIT_HALF_OPEN_TRIALS` | integer | `circuit.halfOpenTrials` |
 * | `P_POOL_CONNECTIONS` | integer | `pool.connections` |
 *
 * @module
 */
import { invalidRequest } from '../errors';
import type { HttpTransportOptions } from './http-transport';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go-style duration (`1h30m`, `30s`, `1.5s`, `250ms`) into milliseconds. A bare number is
 * taken as seconds, the unit the Fiuu deployment guide uses. Throws `invalid_request_error` otherwise.
 */
export function parseDurationMs(text: string, name = 'duration'): number {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(value); match; match = part.exec(value)) {
    total += Number(match[1]) * UNITS[match[2]!]!;
    consumed = part.lastIndex;
  }
  if (value === '' || consumed !== value.length) {
    throw invalidRequest('invalid_config', `${name} must be a duration such as '30s' or '500ms', got '${text}'`, name);
  }
  return total;
}

function integer(text: string, name: string): number {
  if (!/^\d+$/.test(text.trim())) throw invalidRequest('invalid_config', `${name} must be a whole number, got '${text}'`, name);
  return Number(text.trim());
}

function number(text: string, name: string): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n)) throw invalidRequest('invalid_config', `${name} must be a number, got '${text}'`, name);
  return n;
}

/**
 * Reads `<PREFIX>_TIMEOUT`, `<PREFIX>_RETRY_*`, `<PREFIX>_CIRCUIT_*` and `<PREFIX>_POOL_CONNECTIONS`
 * (see the table above) and returns options for `createHttpTransport`. Unset variables are left to
 * the transport's defaults; malformed ones throw `invalid_request_error` (code `invalid_config`)
 * naming the variable.
 *
 * @example
 * createHttpTransport(transportOptionsFromEnv('fiuu', 'FIUU', process.env)); // FIUU_TIMEOUT=30s ...
 */
export function transportOptionsFromEnv(
  gateway: string,
  prefix: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): HttpTransportOptions {
  const read = (suffix: string) => {
    const value = env[`${prefix}_${suffix}`];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const options: HttpTransportOptions = { gateway };
  const v = (suffix: string) => [read(suffix), `${prefix}_${suffix}`] as const;

  const [timeout, timeoutName] = v('TIMEOUT');
  if (timeout) options.timeoutMs = parseDurationMs(timeout, timeoutName);

  const retry: NonNullable<HttpTransportOptions['retry']> = {};
  const [attempts, attemptsName] = v('RETRY_ATTEMPTS');
  if (attempts) retry.attempts = integer(attempts, attemptsName);
  const [delay, delayName] = v('RETRY_DELAY');
  if (delay) retry.baseDelayMs = parseDurationMs(delay, delayName);
  const [maxDelay, maxDelayName] = v('RETRY_MAX_DELAY');
  if (maxDelay) retry.maxDelayMs = parseDurationMs(maxDelay, maxDelayName);
  if (Object.keys(retry).length > 0) options.retry = retry;

  const circuit: NonNullable<HttpTransportOptions['circuit']> = {};
  const [threshold, thresholdName] = v('CIRCUIT_THRESHOLD');
  if (threshold) circuit.failureThreshold = number(threshold, thresholdName);
  const [windowText, windowName] = v('CIRCUIT_WINDOW');
  if (windowText) circuit.windowMs = parseDurationMs(windowText, windowName);
  const [minimum, minimumName] = v('CIRCUIT_MIN_REQUESTS');
  if (minimum) circuit.minimumRequests = integer(minimum, minimumName);
  const [open, openName] = v('CIRCUIT_OPEN');
  if (open) circuit.openMs = parseDurationMs(open, openName);
  const [trials, trialsName] = v('CIRCUIT_HALF_OPEN_TRIALS');
  if (trials) circuit.halfOpenTrials = integer(trials, trialsName);
  if (Object.keys(circuit).length > 0) options.circuit = circuit;

  const [connections, connectionsName] = v('POOL_CONNECTIONS');
  if (connections) options.pool = { connections: integer(connections, connectionsName) };
  return options;
}
