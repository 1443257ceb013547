/**
 * pino JSON logs. Every line goes through core's `redact` (secrets removed, PII masked) and carries
 * the request id and trace id of the request that caused it. Request lines log the URL through core's
 * `redactUrl`: query values are redacted by parameter name (and scanned), never written as sent.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { redact, redactString, redactUrl } from '@tender/core';
import type { RequestHandler } from 'express';
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level?: string;
  /** Where lines go (default stdout). */
  destination?: DestinationStream;
}

/** A pino logger whose every object and message is redacted. */
export function createLogger(options: LoggerOptions = {}): PinoLogger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'tender-server' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object),
      },
      hooks: {
        logMethod(args, method) {
          // Messages (and printf arguments) are redacted too, not just the merged object.
          const clean = args.map((a) => (typeof a === 'string' ? redactString(a) : a)) as Parameters<typeof method>;
          method.apply(this, clean);
        },
      },
    },
    options.destination,
  );
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * Gives each request an id (`X-Request-Id`, kept when the caller sent a sane one), picks the trace id
 * from W3C `traceparent`, and logs one line per request when it finishes (method, redacted path and
 * query, status, duration; never headers or bodies).
 */
export function requestLogging(logger: PinoLogger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const traceparent = req.headers.traceparent;
    const traceId = typeof traceparent === 'string' ? (TRACEPARENT.exec(traceparent)?.[1] ?? null) : null;
    res.setHeader('X-Request-Id', requestId);
    const child = logger.child({ req_id: requestId, ...(traceId ? { trace_id: traceId } : {}) });
    res.locals.logger = child;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // The query carries PII and credentials (seamless config: bill_name/email/mobile; `?access_token=`;
      // Fiuu's return: skey): redacted here too, so a logger without createLogger's formatter gets none.
      const line = { method: req.method, path: redactUrl(req.originalUrl), status: res.statusCode, duration_ms: Math.round(ms * 10) / 10 };
      if (res.statusCode >= 500) child.error(line, 'request');
      else child.info(line, 'request');
    });
    next();
  };
}
