import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/** How a {@link cuttableRelay} misbehaves on purpose. */
export interface RelayOptions {
  /** Holds back the server's bytes for this long after each connection opens (a slow handshake). */
  holdRepliesMs?: number;
  /** Called with each chunk the client sends, once it has been forwarded to the server. */
  onClientData?: (chunk: Buffer) => void;
}

/** A TCP relay to `host:port` that can be cut (every connection dropped, new ones refused) and restored. */
export async function cuttableRelay(host: string, port: number, options: RelayOptions = {}) {
  const sockets = new Set<Socket>();
  let down = false;
  const relay = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = createConnection(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      options.onClientData?.(chunk);
    });
    const releaseAt = Date.now() + (options.holdRepliesMs ?? 0);
    const held: Buffer[] = [];
    upstream.on('data', (chunk: Buffer) => {
      const wait = releaseAt - Date.now();
      if (wait <= 0 && held.length === 0) return void client.write(chunk);
      held.push(chunk);
      if (held.length === 1) {
        setTimeout(() => {
          for (const c of held.splice(0)) if (!client.destroyed) client.write(c);
        }, Math.max(0, wait));
      }
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  const relayPort = (relay.address() as { port: number }).port;
  return {
    port: relayPort,
    /** `url` (a postgres:// or redis:// URL) pointed at the relay instead. */
    via(url: string): string {
      const relayed = new URL(url);
      relayed.hostname = '127.0.0.1';
      relayed.port = String(relayPort);
      return relayed.toString();
    },
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  };
}
