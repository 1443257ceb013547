/**
 * Logging contract: a subset of pino's API, so a pino logger can be passed as is. Every object
 * Tender logs goes through `redact` first (see `redaction.ts`).
 *
 * @module
 */

/** Structured logger (pino-compatible: `logger.info({ obj }, 'message')`). */
export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
