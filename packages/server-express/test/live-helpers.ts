/**
 * Clients of the live status routes for the tests, over real sockets: an SSE reader on node:http
 * (parsed by the browser bundle's own parser) and a WebSocket client from `ws`.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { EventStreamParser, type ServerSentEvent } from '@tender/fiuu/browser';
import WebSocket from 'ws';

/** Waits for a condition, checking every 20 ms; throws with `what` when it does not hold in time. */
export async function until<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean = Boolean, what = 'condition', ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A parsed live event (SSE or WebSocket) with its JSON data. */
export interface Received {
  type: string;
  id: string | null;
  data: any;
}

/** An open SSE connection. */
export interface SseClient {
  status: number;
  headers: IncomingMessage['headers'];
  /** The error JSON when the status is not 200. */
  body: any;
  events: Received[];
  /** Everything received, comments included. */
  raw: string;
  /** Resolves once the server has ended the response (or the socket closed). */
  ended: Promise<void>;
  isEnded(): boolean;
  /** Waits for `n` events in all. */
  waitFor(n: number, ms?: number): Promise<Received[]>;
  close(): void;
}

/** Opens `GET url` as an event stream; resolves once the status line is in. */
export function openSse(url: string, options: { token?: string | null; lastEventId?: string; headers?: Record<string, string> } = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    const req: ClientRequest = request(url, { headers, agent: false }, (res) => {
      res.setEncoding('utf8');
      let ended = false;
      let endedResolve!: () => void;
      const endedPromise = new Promise<void>((r) => (endedResolve = r));
      const finish = () => {
        ended = true;
        endedResolve();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: null,
        events: [],
        raw: '',
        ended: endedPromise,
        isEnded: () => ended,
        waitFor: (n, ms) => until(() => client.events, (e) => e.length >= n, `${n} events (have ${client.events.length}, ended ${ended})`, ms),
        close: () => {
          req.destroy();
          res.destroy();
        },
      };
      if (client.status !== 200) {
        let text = '';
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          try {
            client.body = JSON.parse(text);
          } catch {
            client.body = text;
          }
          resolve(client);
        });
        return;
      }
      const parser = new EventStreamParser((e: ServerSentEvent) => {
        client.events.push({ type: e.type, id: lastIdField, data: JSON.parse(e.data) });
      });
      // The parser reports the stream's last event id, which carries over events without an id field;
      // the tests check the id field of each event itself, so it is taken from the raw block.
      let lastIdField: string | null = null;
      res.on('data', (chunk: string) => {
        client.raw += chunk;
        pushBlocks(chunk);
      });
      let pendingText = '';
      function pushBlocks(chunk: string) {
        pendingText += chunk;
        let at: number;
        while ((at = pendingText.indexOf('\n\n')) >= 0) {
          const block = pendingText.slice(0, at + 2);
          pendingText = pendingText.slice(at + 2);
          const idLine = /^id: (.*)$/m.exec(block);
          lastIdField = idLine ? idLine[1]! : null;
          parser.push(block);
        }
      }
      resolve(client);
    });
    req.on('error', reject);
    req.end();
  });
}

/** An open WebSocket connection. */
export interface WsClient {
  ws: WebSocket;
  events: Received[];
  pings: number;
  closed: Promise<{ code: number; reason: string }>;
  waitFor(n: number, ms?: number): Promise<Received[]>;
}

/** The HTTP answer to a refused handshake. */
export interface WsRefusal {
  status: number;
  body: any;
  headers: IncomingMessage['headers'];
}

/** Opens a WebSocket; resolves with the client once open, or with the HTTP refusal. */
export function openWs(url: string, options: { token?: string | null; protocols?: string[]; headers?: Record<string, string>; autoPong?: boolean } = {}): Promise<WsClient | WsRefusal> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const ws = new WebSocket(url.replace(/^http/, 'ws'), options.protocols ?? [], { headers, autoPong: options.autoPong ?? true });
    const client: WsClient = {
      ws,
      events: [],
      pings: 0,
      closed: new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() }))),
      waitFor: (n, ms) => until(() => client.events, (e) => e.length >= n, `${n} websocket messages (have ${client.events.length})`, ms),
    };
    ws.on('message', (data) => client.events.push(JSON.parse(String(data)) as Received));
    ws.on('ping', () => client.pings++);
    ws.on('open', () => resolve(client));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      });
    });
    ws.on('error', (error) => reject(error));
  });
}

/** Narrows an {@link openWs} result to an open client. */
export function isOpen(client: WsClient | WsRefusal): client is WsClient {
  return 'ws' in client;
}

/**
 * Asserts that `events` are exactly the trail after `afterId` (null: the whole trail), in order, each
 * once, and all of it as read now. Gateways' late webhooks can add notes to the trail at any time
 * (a stale report), so the stream is compared with the trail as read after the events arrived: what
 * the stream holds must be the start of that trail's tail, and cover everything read before.
 */
export async function expectTrailTail(events: () => Received[], readTrail: () => Promise<Array<{ id: string }>>, afterId: string | null): Promise<string[]> {
  const tail = (trail: Array<{ id: string }>) => {
    const at = afterId === null ? -1 : trail.findIndex((t) => t.id === afterId);
    if (afterId !== null && at < 0) throw new Error(`${afterId} is not on the trail`);
    return trail.slice(at + 1).map((t) => t.id);
  };
  const before = tail(await readTrail());
  await until(() => events().length, (n) => n >= before.length, `${before.length} transition events`);
  const after = tail(await readTrail());
  const got = events().map((e) => e.id);
  if (got.length < before.length || JSON.stringify(got) !== JSON.stringify(after.slice(0, got.length))) {
    throw new Error(`stream ${JSON.stringify(got)} is not the trail's tail ${JSON.stringify(after)}`);
  }
  return got as string[];
}
