/**
 * WebSocket framing of live payment status (RFC 6455, with the `ws` package): one JSON text message
 * per event, ping/pong heartbeats that drop dead peers, and the handshake routed through the Express
 * app so that the same auth, scopes, rate limits and error JSON apply as to every other route.
 *
 * Node's HTTP server hands upgrade requests to its `upgrade` event, never to the app. The handler of
 * {@link createUpgradeHandler} gives such a request a `ServerResponse` on its socket and runs it
 * through the app: a refusal (401, 403, 404, 429) is then an ordinary HTTP answer, and only the route
 * that serves WebSocket (see {@link serveWebSocket}) completes the upgrade.
 *
 * @module
 */
import { ServerResponse, type IncomingMessage, type RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TenderError, redactUrl } from '@tender/core';
import type { Request, Response } from 'express';
import { WebSocket, WebSocketServer } from 'ws';
import { parseLastEventId, type LiveEndReason, type LiveEvent, type LiveHub, type LiveTarget } from './hub';

/**
 * The subprotocol a browser offers to authenticate, since its WebSocket API cannot set headers:
 * `new WebSocket(url, ['bearer', token])` sends `Sec-WebSocket-Protocol: bearer, <token>`. The server
 * selects `bearer`, so the token is never echoed back.
 */
export const BEARER_SUBPROTOCOL = 'bearer';

interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
  res: ServerResponse;
}

const pending = new WeakMap<IncomingMessage, PendingUpgrade>();
// A JWT is three base64url parts: all of them token characters, as subprotocol names must be (RFC 6455 §4.1).
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// RFC 6455 §4.1: the key is 16 random bytes in base64.
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * The `upgrade` listener for a server whose requests `app` answers (`server.on('upgrade', ...)`).
 * A request offering another protocol (`Upgrade: h2c`, as `curl --http2` sends) is answered as plain
 * HTTP/1.1, as it was before any upgrade listener existed; only one with a body is refused (400),
 * since Node has already taken its body off the request.
 */
export function createUpgradeHandler(app: RequestListener): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    // After the upgrade event nothing else listens on the socket: a reset must not crash the process.
    socket.on('error', () => socket.destroy());
    const websocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    if (!websocket && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0)) {
      const body = JSON.stringify({ error: { type: 'invalid_request_error', code: 'upgrade_not_supported', message: 'Only Upgrade: websocket is served; send this request without Upgrade' } });
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    if (websocket) bearerFromSubprotocol(req);
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    // A refusal is answered over HTTP; the socket is then of no further use.
    res.on('finish', () => {
      res.detachSocket(socket as Socket);
      socket.end();
    });
    if (websocket) pending.set(req, { socket, head, res });
    app(req, res);
  };
}

/** Moves a `bearer, <token>` subprotocol offer into the Authorization header the auth reads. */
function bearerFromSubprotocol(req: IncomingMessage): void {
  const offered = req.headers['sec-websocket-protocol'];
  if (req.headers.authorization !== undefined || typeof offered !== 'string') return;
  const names = offered.split(',').map((s) => s.trim());
  const at = names.indexOf(BEARER_SUBPROTOCOL);
  const token = at >= 0 ? names[at + 1] : undefined;
  if (token !== undefined && JWT.test(token)) req.headers.authorization = `Bearer ${token}`;
}

/** The WebSocket server the live routes upgrade with (no listening socket of its own). */
export function createWebSocketServer(): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    // Clients send nothing this protocol reads: a larger message ends the connection (1009).
    maxPayload: 4096,
    // Events are small and mostly alike; compression would cost each connection a zlib context.
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols) => (protocols.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : false),
  });
  // The 101 answer carries the request id like every other answer does.
  wss.on('headers', (headers, req) => {
    const id = pending.get(req)?.res.getHeader('x-request-id');
    if (typeof id === 'string') headers.push(`X-Request-Id: ${id}`);
  });
  return wss;
}

// Serialised once per event, however many connections carry it.
const framed = new WeakMap<LiveEvent, string>();

/** The event as a WebSocket text message: `{ "type", "id", "data" }`. */
export function webSocketMessage(event: LiveEvent): string {
  let text = framed.get(event);
  if (text === undefined) {
    text = JSON.stringify({ type: event.type, id: event.id, data: event.data });
    framed.set(event, text);
  }
  return text;
}

/** Close codes (RFC 6455 §7.4.1): 1001 for a server going away, 1000 for a connection that lived its span. */
const CLOSE_CODES: Record<LiveEndReason, number> = { shutdown: 1001, max_duration: 1000 };

/**
 * Completes the WebSocket handshake for one payment's live status. Refusals (not an upgrade, a bad
 * handshake, a malformed resume id, another merchant's payment, the connection limit) throw before
 * the handshake is answered, so they reach the client as HTTP error JSON.
 */
export async function serveWebSocket(hub: LiveHub, wss: WebSocketServer, req: Request, res: Response, target: LiveTarget): Promise<void> {
  const upgrade = pending.get(req);
  if (!upgrade) {
    res.setHeader('Upgrade', 'websocket');
    throw new TenderError({
      type: 'invalid_request_error',
      code: 'upgrade_required',
      status: 426,
      message: 'This route speaks WebSocket (RFC 6455): send Upgrade: websocket, or read GET /api/v1/payments/{id}/events as Server-Sent Events',
    });
  }
  const key = req.headers['sec-websocket-key'];
  const version = req.headers['sec-websocket-version'];
  if (typeof key !== 'string' || !WEBSOCKET_KEY.test(key) || (version !== '13' && version !== '8')) {
    res.setHeader('Sec-WebSocket-Version', '13');
    throw new TenderError({ type: 'invalid_request_error', code: 'invalid_websocket_handshake', message: 'Missing or invalid Sec-WebSocket-Key or Sec-WebSocket-Version (RFC 6455 §4.1)' });
  }
  const header = req.headers['last-event-id'];
  const lastEventId = parseLastEventId(typeof header === 'string' && header !== '' ? header : req.query.last_event_id);
  const session = await hub.open('websocket', target, lastEventId);
  const { socket, head } = upgrade;
  if (socket.destroyed) {
    session.close();
    return;
  }
  upgrade.res.detachSocket(socket as Socket);
  // handleUpgrade gives up silently (destroying the socket) when the client has already hung up.
  let upgraded = false;
  const gone = () => {
    if (!upgraded) session.close();
  };
  socket.once('close', gone);
  const started = Date.now();
  const logger = (res.locals.logger as { info(o: object, m: string): void } | undefined) ?? hub.logger;
  wss.handleUpgrade(req, socket, head, (ws) => {
    upgraded = true;
    socket.off('close', gone);
    pending.delete(req);
    const { heartbeatIntervalMs, maxBufferBytes } = hub.limits;
    // RFC 6455 §5.5.2-5.5.3: a peer must answer a ping with a pong; one that has not by the next
    // ping is gone (a half-open TCP connection would otherwise hold its slot until the max duration).
    let alive = true;
    const heartbeat = setInterval(() => {
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, heartbeatIntervalMs);
    heartbeat.unref();
    ws.on('pong', () => {
      alive = true;
    });
    // Nothing a client sends is read; it only shows the peer is there.
    ws.on('message', () => {
      alive = true;
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      clearInterval(heartbeat);
      session.close();
      // The request line every other route logs when it finishes (its URL redacted the same way).
      logger.info({ method: 'GET', path: redactUrl(req.originalUrl), status: 101, duration_ms: Date.now() - started, close_code: code }, 'request');
    });
    const send = (text: string) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // A client that stops reading must not make the server queue every later event for it
      // (checked before sending, as for SSE, so one burst is never held against a reading client).
      if (ws.bufferedAmount > maxBufferBytes) {
        hub.logger.warn({ payment_id: target.paymentId, buffered: ws.bufferedAmount }, 'live websocket dropped: the client is not reading (LIVE_MAX_BUFFER_BYTES)');
        ws.terminate();
        return;
      }
      ws.send(text);
    };
    session.attach({
      send: (event) => send(webSocketMessage(event)),
      end: (reason) => {
        send(webSocketMessage({ id: null, type: 'end', data: { reason } }));
        ws.close(CLOSE_CODES[reason], reason);
      },
      destroy: () => ws.terminate(),
    });
  });
}
