/**
 * A loopback HTTP server (node `http`, port 0) that misbehaves on cue, for transport tests. Each
 * incoming request takes the next scripted behaviour; when the script is empty it answers 200 with
 * a JSON echo of what it received.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour =
  | { kind: 'echo' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Destroys the connection after reading the request, before any response byte. */
  | { kind: 'reset' }
  /** Never answers (until the server closes). */
  | { kind: 'stall' };

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Index of the TCP connection that carried it (keep-alive reuse shows as equal indexes). */
  connection: number;
}

export interface FaultServer {
  url: string;
  received: ReceivedRequest[];
  /** Queues behaviours for the next requests. */
  script(...behaviours: Behaviour[]): void;
  /** Connections opened so far, and the most open at the same time. */
  connections(): { total: number; maxConcurrent: number };
  /** Resolves when `n` requests have arrived. */
  waitForRequests(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultServer(): Promise<FaultServer> {
  const queue: Behaviour[] = [];
  const received: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const socketIds = new WeakMap<Socket, number>();
  const stalled = new Set<ServerResponse>();
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let total = 0;
  let maxConcurrent = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body, connection: socketIds.get(req.socket)! });
      for (const w of [...waiters]) {
        if (received.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      const behaviour = queue.shift() ?? { kind: 'echo' };
      switch (behaviour.kind) {
        case 'echo':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') }));
          break;
        case 'status':
          res.writeHead(behaviour.status, behaviour.headers ?? { 'content-type': 'text/plain' });
          res.end(behaviour.body ?? '');
          break;
        case 'reset':
          req.socket.resetAndDestroy();
          break;
        case 'stall':
          stalled.add(res);
          break;
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    socketIds.set(socket, total++);
    sockets.add(socket);
    maxConcurrent = Math.max(maxConcurrent, sockets.size);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script: (...behaviours) => queue.push(...behaviours),
    connections: () => ({ total, maxConcurrent }),
    waitForRequests: (n) =>
      received.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      stalled.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback URL nothing listens on (connection refused). */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
