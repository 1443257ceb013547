/**
 * The RabbitMQ publisher: outbox events to a durable topic exchange over a confirm channel.
 *
 * @module
 */
import { PublishError, silentLogger, type BrokerMessage, type EventPublisher, type Logger } from '@tender/core';
import type { ConfirmChannel } from 'amqplib';
import { ChannelLink, LinkDownError, redactUrl } from './link';

/** Options of {@link createRabbitMqPublisher}. */
export interface RabbitMqPublisherOptions {
  /** `amqp://user:pass@host:5672/vhost` or `amqps://...`. */
  url: string;
  /** Durable topic exchange the events go to (default `payments.events`); declared on connect. */
  exchange?: string;
  /** How long a publish waits for the broker's confirm (default 10 s). */
  confirmTimeoutMs?: number;
  /** Socket connect timeout (default 5 s). */
  connectTimeoutMs?: number;
  /** Largest body published (default 16 MiB, RabbitMQ 4's default `max_message_size`); larger is refused. */
  maxMessageBytes?: number;
  /** Connect at creation, so a bad URL or credentials fail at start (default true). */
  connectNow?: boolean;
  logger?: Logger;
}

/** The publisher, plus its exchange. */
export interface RabbitMqPublisher extends EventPublisher {
  readonly name: 'rabbitmq';
  readonly exchange: string;
}

const retryable = (message: string, cause?: unknown) => new PublishError(message, { retryable: true, cause });
const permanent = (message: string, cause?: unknown) => new PublishError(message, { retryable: false, cause });

/** AMQP short strings (routing key, message id, header names) are at most 255 bytes. */
const SHORT_STRING = 255;
const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Creates a RabbitMQ publisher (and, unless `connectNow: false`, connects it). Each message is
 * published to the durable topic exchange with routing key = event type (`payment.captured`; bind
 * with `payment.#` or `#` for everything), `messageId` = event id, `persistent: true` (delivery mode
 * 2: kept across a broker restart in a durable queue), `contentType`, `timestamp` (seconds) and the
 * message's headers plus `tender-event-key`.
 *
 * `publish` resolves on the broker's publisher confirm and rejects (retryable) on a nack, on the
 * channel closing before the confirm, or when no confirm came within `confirmTimeoutMs`
 * (rabbitmq.com/docs/confirms). When `publish()` reports a full write buffer, later publishes wait
 * for 'drain' (amqplib's channel API docs). A message unroutable when published (no queue bound) is
 * confirmed and dropped by RabbitMQ: bind the consumers' queues (or an alternate exchange) first.
 *
 * The connection is opened lazily and again after it is lost (a broker restart), with backoff from
 * 250 ms to 3 s between attempts: a publish while the broker is away rejects at once with a
 * retryable {@link PublishError}, and one soon after it is back succeeds. RabbitMQ does not dedup on
 * `message-id`: consumers do (the relay may publish an event twice).
 */
export async function createRabbitMqPublisher(options: RabbitMqPublisherOptions): Promise<RabbitMqPublisher> {
  const exchange = options.exchange ?? 'payments.events';
  if (!exchange || byteLength(exchange) > SHORT_STRING) throw new Error('exchange must be a name of 1-255 bytes');
  const logger = options.logger ?? silentLogger;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000;
  const maxBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
  const link = new ChannelLink({
    url: options.url,
    connectionName: `tender publisher (${exchange})`,
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    logger,
    setup: async (channel) => {
      await channel.assertExchange(exchange, 'topic', { durable: true });
    },
  });
  if (options.connectNow !== false) {
    try {
      await link.get();
    } catch (error) {
      await link.close();
      throw new Error(`cannot open RabbitMQ publisher on ${redactUrl(options.url)}: ${(error as Error).message}`, { cause: error });
    }
  }
  let closed = false;
  const pending = new Set<(error: PublishError) => void>();

  function send(channel: ConfirmChannel, message: BrokerMessage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error?: PublishError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        pending.delete(finish);
        if (error) reject(error);
        else resolve();
      };
      // Retryable: the message may have been taken after all; its id lets consumers drop the repeat.
      const timer = setTimeout(() => finish(retryable(`no confirm from RabbitMQ within ${confirmTimeoutMs} ms`)), confirmTimeoutMs);
      pending.add(finish);
      const created = Date.parse(message.createdAt);
      try {
        const ok = channel.publish(
          exchange,
          message.type,
          Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
          {
            messageId: message.id,
            persistent: true,
            contentType: message.contentType || 'application/json',
            // AMQP's timestamp is POSIX seconds.
            ...(Number.isFinite(created) ? { timestamp: Math.floor(created / 1000) } : {}),
            type: message.type,
            appId: 'tender',
            headers: { ...message.headers, 'tender-event-key': message.key, 'tender-created-at': message.createdAt },
          },
          (error: unknown) => {
            // A nack, or the channel closing with the message unconfirmed (amqplib calls back with
            // 'channel closed').
            if (error) finish(retryable(`RabbitMQ did not confirm the message: ${(error as Error)?.message ?? String(error)}`, error));
            else finish();
          },
        );
        if (!ok) link.markFull(channel);
      } catch (error) {
        // amqplib throws synchronously for a closed channel (retryable) and for content it cannot
        // encode, e.g. a header table over 64 KiB (never publishable).
        const name = (error as Error)?.name;
        if (name === 'IllegalOperationError') finish(retryable(`RabbitMQ channel closed: ${(error as Error).message}`, error));
        else finish(permanent(`message cannot be encoded for AMQP: ${(error as Error)?.message ?? String(error)}`, error));
      }
    });
  }

  return {
    name: 'rabbitmq',
    exchange,
    async publish(message) {
      if (closed) throw retryable('the RabbitMQ publisher is closed');
      if (!message.id || byteLength(message.id) > SHORT_STRING) throw permanent('message id must be 1-255 bytes (AMQP message-id)');
      if (!message.type || byteLength(message.type) > SHORT_STRING) throw permanent('event type must be 1-255 bytes (AMQP routing key)');
      if (message.body.byteLength > maxBytes) throw permanent(`message of ${message.body.byteLength} bytes is over the ${maxBytes}-byte limit`);
      for (const key of Object.keys(message.headers)) if (!key || byteLength(key) > SHORT_STRING) throw permanent(`header name ${JSON.stringify(key)} is not an AMQP short string`);
      let channel: ConfirmChannel;
      try {
        channel = await link.get();
      } catch (error) {
        throw retryable(error instanceof LinkDownError ? error.message : `RabbitMQ unavailable: ${String(error)}`, error);
      }
      await link.writable();
      await send(channel, message);
    },
    async close() {
      if (closed) return;
      closed = true;
      await link.close();
      for (const finish of [...pending]) finish(retryable('the RabbitMQ publisher closed before the confirm'));
    },
  };
}
