/** Test helpers: a loopback HTTP receiver for the sandbox's webhooks. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One webhook as the receiver saw it. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A receiver that records every request and answers with `answer` (default 200). */
export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** Starts a receiver; `answer` may hand the request to an engine and return its acknowledgement. */
export async function startReceiver(answer?: (r: Received) => Promise<{ status: number; headers?: Record<string, string>; body: string }>): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks) };
      received.push(r);
      (answer ? answer(r) : Promise.resolve<{ status: number; headers?: Record<string, string>; body: string }>({ status: 200, body: 'ok' })).then(
        (ack) => res.writeHead(ack.status, ack.headers ?? {}).end(ack.body),
        (error: { status?: number; message?: string }) => res.writeHead(error.status ?? 500).end(String(error.message)),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/upi`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
