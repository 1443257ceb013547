/**
 * Server-Sent Events framing of live payment status (WHATWG HTML, "Server-sent events",
 * https://html.spec.whatwg.org/multipage/server-sent-events.html): one `id:` / `event:` / `data:`
 * block per event, a `retry:` hint, and a comment line as heartbeat.
 *
 * @module
 */
import { redactUrl } from '@tender/core';
import type { Request, Response } from 'express';
import { parseLastEventId, type LiveEndReason, type LiveEvent, type LiveHub, type LiveTarget } from './hub';

/** Reconnection delay suggested to EventSource clients (the spec's `retry:` field), in ms. */
export const SSE_RETRY_MS = 2000;

// Serialised once per event, however many connections carry it.
const framed = new WeakMap<LiveEvent, string>();

/** The event as an SSE block. JSON never holds a raw line break, so `data:` is one line. */
export function sseFrame(event: LiveEvent): string {
  let text = framed.get(event);
  if (text === undefined) {
    text = `${event.id !== null ? `id: ${event.id}\n` : ''}event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
    framed.set(event, text);
  }
  return text;
}

/**
 * The resume point of an SSE request: the `Last-Event-ID` header an EventSource sends when it
 * reconnects, else the `last_event_id` query parameter. The header wins: a reconnecting EventSource
 * sends it with the newest id, while the URL still carries whatever id it was first opened with.
 */
export function sseLastEventId(req: Request): string | undefined {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') return parseLastEventId(header);
  return parseLastEventId(req.query.last_event_id);
}

/**
 * Serves `text/event-stream` for one payment. Everything that can refuse the request (a malformed
 * resume id, another merchant's payment, the connection limit, shutdown) throws before the status line
 * is written, so the caller answers it with the usual error JSON.
 */
export async function serveEventStream(hub: LiveHub, req: Request, res: Response, target: LiveTarget): Promise<void> {
  const lastEventId = sseLastEventId(req);
  const session = await hub.open('sse', target, lastEventId);
  const { heartbeatIntervalMs, maxBufferBytes } = hub.limits;
  if (res.destroyed || req.socket.destroyed) {
    session.close();
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    // no-transform: a proxy must not compress or otherwise hold back the stream.
    'Cache-Control': 'no-cache, no-transform',
    // nginx buffers proxied responses unless told not to.
    'X-Accel-Buffering': 'no',
  });
  req.socket.setNoDelay(true);
  const started = Date.now();
  let open = true;
  const write = (text: string) => {
    if (!open) return;
    // Bytes the client has not taken yet (ours and the socket's). A client that stops reading must
    // not make the server hold every later event for it: it is dropped and resumes when it can.
    // Checked before writing, so a burst of events (several transitions at once) is never held
    // against a client that had taken everything before it.
    if (res.writableLength > maxBufferBytes) {
      hub.logger.warn({ payment_id: target.paymentId, buffered: res.writableLength }, 'live stream dropped: the client is not reading (LIVE_MAX_BUFFER_BYTES)');
      open = false;
      res.destroy();
      return;
    }
    res.write(text);
  };
  write(`retry: ${SSE_RETRY_MS}\n\n`);
  const heartbeat = setInterval(() => write(': ping\n\n'), heartbeatIntervalMs);
  heartbeat.unref();
  res.on('close', () => {
    open = false;
    clearInterval(heartbeat);
    session.close();
    // A stream the client leaves never finishes, so the request line (logged on finish) would be
    // missing for most streams: it is logged here instead, the URL redacted the same way.
    if (!res.writableFinished) {
      const logger = (res.locals.logger as { info(o: object, m: string): void } | undefined) ?? hub.logger;
      logger.info({ method: req.method, path: redactUrl(req.originalUrl), status: 200, duration_ms: Date.now() - started, ended_by: 'client' }, 'request');
    }
  });
  session.attach({
    send: (event) => write(sseFrame(event)),
    end: (reason: LiveEndReason) => {
      write(sseFrame({ id: null, type: 'end', data: { reason } }));
      open = false;
      res.end();
    },
    destroy: () => {
      open = false;
      res.destroy();
    },
  });
}
