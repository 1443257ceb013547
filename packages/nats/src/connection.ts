/**
 * Connecting to NATS: reconnect settings that never give up, credentials taken out of server URLs,
 * and a watch on the connection's status so a publish can refuse at once while it is down.
 *
 * @module
 */
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';

/** How to reach NATS (shared by the publisher and the consumer). */
export interface NatsConnectOptions {
  /**
   * Server URL(s): `nats://127.0.0.1:4222`, `127.0.0.1:4222`. Credentials in a URL
   * (`nats://user:pass@host:4222`, or `nats://token@host:4222`) are taken out of it and passed as
   * `user`/`pass` (or `token`) so they never appear in the client's server list or in logs.
   */
  servers?: string | string[];
  /** Client name shown in the server's monitoring (default `tender`). */
  name?: string;
  /** Anything else nats.js takes (TLS, an authenticator...); overrides the defaults below. */
  connectionOptions?: Omit<NodeConnectionOptions, 'servers'>;
}

/** The servers without credentials, and the credentials found in them. */
export function splitCredentials(servers: string | string[] | undefined): {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
} {
  const list = servers === undefined ? ['127.0.0.1:4222'] : Array.isArray(servers) ? servers : servers.split(',');
  const out: { servers: string[]; user?: string; pass?: string; token?: string } = { servers: [] };
  for (const raw of list.map((s) => s.trim()).filter(Boolean)) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `nats://${raw}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new Error(`invalid NATS server address: ${redactUserinfo(raw)}`);
    }
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      // `nats://token@host` is NATS's token form; `nats://user:pass@host` a user and password.
      if (pass) Object.assign(out, { user, pass });
      else out.token = user;
    }
    out.servers.push(`${url.protocol}//${url.host}`);
  }
  if (out.servers.length === 0) throw new Error('no NATS server address given');
  return out;
}

/** `scheme://user:pass@host` → `scheme://***@host`, for messages that show an address. */
export function redactUserinfo(address: string): string {
  return address.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1***@');
}

/**
 * Opens a connection that reconnects for ever: `maxReconnectAttempts: -1` (the client otherwise gives
 * up after 10 attempts and closes, and a closed connection never comes back), `waitOnFirstConnect`
 * off so a server that is down at start is an error at once, and pings every 10 s so a half-open TCP
 * connection is noticed in about 30 s rather than minutes (docs.nats.io, "Automatic Reconnections"
 * and "Ping/Pong Protocol").
 */
export async function openConnection(options: NatsConnectOptions): Promise<NatsConnection> {
  const { servers, ...credentials } = splitCredentials(options.servers);
  return connect({
    servers,
    name: options.name ?? 'tender',
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 250,
    pingInterval: 10_000,
    maxPingOut: 3,
    timeout: 5000,
    ...credentials,
    ...options.connectionOptions,
  });
}

/** Follows a connection's status: `connected` is false from a disconnect until the reconnect. */
export interface ConnectionWatch {
  readonly connected: boolean;
  /** Server version (`2.10.4`) of the current connection, or null before the first INFO. */
  serverVersion(): string | null;
}

/** Starts following `nc.status()`; ends by itself when the connection closes. */
export function watchConnection(nc: NatsConnection, onStatus?: (type: string) => void): ConnectionWatch {
  let connected = !nc.isClosed();
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnecting' || status.type === 'staleConnection') connected = false;
      else if (status.type === 'reconnect') connected = true;
      else if (status.type === 'close') connected = false;
      if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'close') onStatus?.(status.type);
    }
  })().catch(() => undefined);
  void nc.closed().then(() => {
    connected = false;
  });
  return {
    get connected() {
      return connected && !nc.isClosed();
    },
    serverVersion: () => nc.info?.version ?? null,
  };
}

/** True when `version` (`2.11.0`) is at least `major.minor`. */
export function versionAtLeast(version: string | null, major: number, minor: number): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return false;
  const [maj, min] = [Number(match[1]), Number(match[2])];
  return maj > major || (maj === major && min >= minor);
}
