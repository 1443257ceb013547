/**
 * One AMQP connection with one confirm channel, opened lazily and opened again after it is lost,
 * with backoff between attempts. The publisher and the consumer each keep one.
 *
 * @module
 */
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from '@tender/core';

/** `amqp://user:pass@host/vhost` → `amqp://***@host/vhost`: addresses in messages and logs never carry credentials. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1***@');
}

/** Options of a {@link ChannelLink}. */
export interface LinkOptions {
  /** `amqp://` or `amqps://` URL (credentials, vhost, `?heartbeat=`...). */
  url: string;
  /** Shown in the broker's management UI (`connection_name`). */
  connectionName: string;
  /** Socket connect timeout (default 5000 ms). */
  connectTimeoutMs?: number;
  /** AMQP heartbeat in seconds (default 10): a dead peer is noticed within about two of them. */
  heartbeatSeconds?: number;
  /** First wait after a failed attempt (default 250 ms), doubling up to `maxBackoffMs` (default 3 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Declares what the channel needs (exchanges, queues) every time it is opened. */
  setup: (channel: ConfirmChannel) => Promise<void>;
  /** Called when an open channel is lost (not when closed by {@link ChannelLink.close}). */
  onLost?: (error: Error | undefined) => void;
  logger: Logger;
}

/** Raised while the link waits before its next attempt, or when an attempt fails. */
export class LinkDownError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LinkDownError';
  }
}

function withHeartbeat(url: string, seconds: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${seconds}`;
}

/**
 * A lazily (re)opened connection + confirm channel. {@link ChannelLink.get} answers the open channel,
 * opens one, or — during the backoff after a failed attempt — throws {@link LinkDownError} at once, so
 * callers fail fast while the broker is away and succeed soon after it is back.
 */
export class ChannelLink {
  private connection: ChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  private opening: Promise<ConfirmChannel> | null = null;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastError: unknown = null;
  private closed = false;
  /** Set while a publish waits for the channel's write buffer to drain. */
  private drained: Promise<void> | null = null;

  constructor(private readonly options: LinkOptions) {}

  /** True while a channel is open. */
  get isOpen(): boolean {
    return this.channel !== null;
  }

  /** The open channel, opening one if needed. */
  async get(): Promise<ConfirmChannel> {
    if (this.closed) throw new LinkDownError('closed');
    if (this.channel) return this.channel;
    if (this.opening) return this.opening;
    const wait = this.nextAttemptAt - Date.now();
    if (wait > 0) {
      throw new LinkDownError(`RabbitMQ at ${redactUrl(this.options.url)} is unreachable (${describe(this.lastError)}); next attempt in ${wait} ms`, { cause: this.lastError });
    }
    this.opening = this.open().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  /** Resolves once a publish may write again (after `publish()` returned false, until 'drain'). */
  async writable(): Promise<void> {
    while (this.drained) await this.drained;
  }

  /** Records that `channel.publish` returned false: later writes wait for the channel's 'drain'. */
  markFull(channel: ConfirmChannel): void {
    if (this.drained) return;
    this.drained = new Promise<void>((resolve) => {
      const done = () => {
        channel.off('drain', done);
        channel.off('close', done);
        this.drained = null;
        resolve();
      };
      channel.on('drain', done);
      channel.on('close', done);
    });
  }

  private async open(): Promise<ConfirmChannel> {
    let connection: ChannelModel | null = null;
    try {
      connection = await connect(withHeartbeat(this.options.url, this.options.heartbeatSeconds ?? 10), {
        timeout: this.options.connectTimeoutMs ?? 5000,
        clientProperties: { connection_name: this.options.connectionName },
      });
      const conn = connection;
      // Without an 'error' listener an EventEmitter throws: a broker going away would crash the process.
      conn.on('error', (error: Error) => this.options.logger.debug({ error: error.message }, 'rabbitmq connection error'));
      conn.on('close', (error?: Error) => this.lost(conn, error));
      const channel = await conn.createConfirmChannel();
      channel.on('error', (error: Error) => this.options.logger.warn({ error: error.message }, 'rabbitmq channel error'));
      channel.on('close', () => {
        // A channel closed by the broker (a refused declaration, a publish to a missing exchange)
        // takes its connection along: the next get() starts clean.
        if (this.channel === channel) {
          this.channel = null;
          void conn.close().catch(() => undefined);
        }
      });
      await this.options.setup(channel);
      if (this.closed) {
        await conn.close().catch(() => undefined);
        throw new LinkDownError('closed');
      }
      this.connection = conn;
      this.channel = channel;
      this.failures = 0;
      this.nextAttemptAt = 0;
      this.lastError = null;
      return channel;
    } catch (error) {
      this.failures++;
      this.lastError = error;
      const base = this.options.backoffMs ?? 250;
      this.nextAttemptAt = Date.now() + Math.min(this.options.maxBackoffMs ?? 3000, base * 2 ** Math.min(this.failures - 1, 20));
      await connection?.close().catch(() => undefined);
      throw error instanceof LinkDownError ? error : new LinkDownError(`RabbitMQ at ${redactUrl(this.options.url)}: ${describe(error)}`, { cause: error });
    }
  }

  private lost(connection: ChannelModel, error: Error | undefined): void {
    if (this.connection !== connection && this.connection !== null) return;
    const wasOpen = this.connection === connection;
    this.connection = null;
    this.channel = null;
    if (wasOpen && !this.closed) {
      this.options.logger.warn({ url: redactUrl(this.options.url), error: error?.message }, 'rabbitmq connection lost; it is opened again on next use');
      this.options.onLost?.(error);
    }
  }

  /** Closes the channel and the connection; {@link ChannelLink.get} throws from now on. */
  async close(): Promise<void> {
    this.closed = true;
    await this.opening?.catch(() => undefined);
    const connection = this.connection;
    this.connection = null;
    const channel = this.channel;
    this.channel = null;
    await channel?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
  }
}

function describe(error: unknown): string {
  if (!error) return 'not connected';
  const e = error as { code?: unknown; message?: unknown };
  return redactUrl(String(e.message ?? e.code ?? error));
}
