/**
 * Live payment status: every state change of a payment pushed to the client as it is recorded, over
 * Server-Sent Events (`GET /api/v1/payments/{id}/events`) or WebSocket (`GET /api/v1/payments/{id}/ws`).
 * The payment's audit trail is the source of truth: one event per transition, its id the resume point.
 * See docs/live-status.md.
 *
 * @module
 */
import { redactingLogger, silentLogger, type Logger, type Tender } from '@tender/core';
import type { Request, Response } from 'express';
import type { TenderMetrics } from '../metrics';
import { LiveHub, type LiveLimits, type LiveTarget, type LiveTransport } from './hub';
import { serveEventStream } from './sse';
import { createWebSocketServer, serveWebSocket } from './websocket';

export { LIVE_DEFAULTS, parseLastEventId, type LiveEvent, type LiveLimits, type LiveTarget, type LiveTransport, type LiveEndReason } from './hub';
export { SSE_RETRY_MS, sseFrame } from './sse';
export { BEARER_SUBPROTOCOL, createUpgradeHandler, webSocketMessage } from './websocket';

/** Options of {@link createLiveStatus}. */
export interface LiveStatusOptions extends LiveLimits {
  /** Counts open connections (`tender_live_connections{transport}`). */
  metrics?: TenderMetrics;
  logger?: Logger;
}

/** The live status service of one server: its connections, feeds and limits. */
export interface LiveStatus {
  /**
   * Answers an SSE request for a payment of `target.merchantId`. Throws (before anything is written)
   * a 404 for a payment the merchant does not have, a 429 past the connection limit, a 400 for a
   * malformed `Last-Event-ID`, a 503 while shutting down.
   */
  eventStream(req: Request, res: Response, target: LiveTarget): Promise<void>;
  /**
   * Completes a WebSocket upgrade for a payment of `target.merchantId` (the request must have come
   * through {@link createUpgradeHandler}; otherwise a 426). Throws as {@link LiveStatus.eventStream} does.
   */
  webSocket(req: Request, res: Response, target: LiveTarget): Promise<void>;
  /** Open connections by transport. */
  readonly connections: Readonly<Record<LiveTransport, number>>;
  /**
   * Ends every connection (an `end` event, reason `shutdown`; WebSocket close 1001), cutting those
   * that have not closed within `closeGraceMs`, and stops the feeds. New connections get a 503.
   */
  close(): Promise<void>;
}

/**
 * Creates the live status service for an engine. Pass it to `createTenderRouter` (option `live`) and
 * to the demo, and close it on shutdown: open streams otherwise keep `server.close()` waiting.
 */
export function createLiveStatus(tender: Tender, options: LiveStatusOptions = {}): LiveStatus {
  const { metrics, logger, ...limits } = options;
  const hub = new LiveHub(tender, limits, redactingLogger(logger ?? silentLogger), metrics);
  let wss: ReturnType<typeof createWebSocketServer> | null = null;
  return {
    eventStream: (req, res, target) => serveEventStream(hub, req, res, target),
    webSocket: (req, res, target) => serveWebSocket(hub, (wss ??= createWebSocketServer()), req, res, target),
    get connections() {
      return hub.connections;
    },
    async close() {
      await hub.close();
      wss?.close();
    },
  };
}
