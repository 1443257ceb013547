/**
 * The RabbitMQ consumer: a durable queue bound to a topic exchange, manual acks, delayed retries
 * through a retry queue, and a dead-letter exchange and queue that receive the reason.
 *
 * @module
 */
import { silentLogger, type ConsumeOutcome, type EventConsumer, type Logger, type ReceivedMessage } from '@tender/core';
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { ChannelLink, redactUrl } from './link';

/** Header carrying why a message was dead-lettered (the handler's reason; no personal data). */
export const DEAD_LETTER_REASON_HEADER = 'tender-dead-letter-reason';
/** Header counting the deliveries a message had before it was sent through the retry queue. */
export const ATTEMPTS_HEADER = 'tender-attempts';
/** Header keeping the routing key a message was first published with (retries and dead letters change it). */
export const ROUTING_KEY_HEADER = 'tender-routing-key';

/** What happened to one message, for metrics and logs. */
export interface RabbitMqSettlement {
  action: ConsumeOutcome['action'];
  reason?: string;
  message: ReceivedMessage;
}

/** Options of {@link createRabbitMqConsumer}. */
export interface RabbitMqConsumerOptions {
  /** `amqp://user:pass@host:5672/vhost` or `amqps://...`. */
  url: string;
  /** Topic exchange the events are published to (declared durable if missing; default `order.events`). */
  exchange?: string;
  /** This service's durable queue, shared by its instances (e.g. `payment-service.order-events`). */
  queue: string;
  /** Routing keys bound (default `['order.confirmed']`; topic patterns such as `order.*` work). */
  bindingKeys?: string[];
  /**
   * `quorum` (default): a replicated queue whose `x-delivery-count` counts every redelivery, crashes
   * included, with `x-delivery-limit` as a backstop. `classic`: only the `redelivered` flag.
   */
  queueType?: 'quorum' | 'classic';
  /** Dead-letter exchange (direct, durable; default `${queue}.dead-letter`). */
  deadLetterExchange?: string;
  /** Dead-letter queue (durable; default `${queue}.dead-letter`). */
  deadLetterQueue?: string;
  /** Queue holding delayed retries until their delay expires (default `${queue}.retry`). */
  retryQueue?: string;
  /** Unacknowledged messages the broker hands this consumer at once (default 10); also the handler concurrency. */
  prefetch?: number;
  /** Deliveries before a message that keeps failing is dead-lettered (default 5). */
  maxDeliveries?: number;
  /** Delay of a `retry` without `delayMs`: doubles per delivery from this (default 1 s)... */
  retryDelayMs?: number;
  /** ...up to this (default 60 s). */
  maxRetryDelayMs?: number;
  /** How long a retry or dead-letter publish waits for the broker's confirm (default 10 s). */
  confirmTimeoutMs?: number;
  logger?: Logger;
  /** Called after each message is settled (metrics). */
  onSettle?: (settlement: RabbitMqSettlement) => void;
}

/** The consumer, plus the names it declared. */
export interface RabbitMqConsumer extends EventConsumer {
  readonly name: 'rabbitmq';
  readonly queue: string;
  readonly deadLetterExchange: string;
  readonly deadLetterQueue: string;
  readonly retryQueue: string;
}

/** One line, no control characters, bounded: safe as a header value and in logs. */
export function cleanReason(reason: string): string {
  const text = reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return (text || 'unspecified').slice(0, 500);
}

function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

/** Broker-set headers that must not travel with a copy (they would be taken for the copy's own). */
const BROKER_HEADERS = /^x-(delivery-count|death|first-death-|last-death-)/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates a RabbitMQ consumer (nothing connects until {@link EventConsumer.start}).
 *
 * Topology, declared on every (re)connect: the topic `exchange`; the consumer's durable `queue`
 * bound with `bindingKeys`, with `x-dead-letter-exchange` / `x-dead-letter-routing-key` pointing at
 * the dead-letter exchange (so what the broker itself dead-letters — a quorum queue's delivery limit —
 * lands in the dead-letter queue too); the dead-letter exchange and queue; and the retry queue, whose
 * messages expire after their delay and are dead-lettered back into `queue` (rabbitmq.com/docs/dlx,
 * /docs/ttl).
 *
 * Outcomes (manual acks): `ack` → `ack`. `retry` → a copy goes to the retry queue with
 * `expiration` = the delay and `tender-attempts` = deliveries so far (awaiting the confirm), then the
 * original is acked: the delay is real and the attempt count survives, which a classic queue's
 * boolean `redelivered` could not give. `dead_letter` → a copy with `tender-dead-letter-reason` is
 * published to the dead-letter exchange (confirmed), then the original is acked; should that publish
 * fail, the original is rejected without requeue, so the queue's own dead-lettering still keeps it.
 *
 * `deliveryCount` = `tender-attempts` + the broker's redeliveries (`x-delivery-count` on a quorum
 * queue, else 1 when `redelivered`) + 1. A retry at `deliveryCount >= maxDeliveries` is dead-lettered
 * instead, and a delivery beyond it (an earlier one crashed) is dead-lettered without calling the
 * handler. A handler that throws counts as `retry`.
 *
 * The connection is opened again after it is lost (a broker restart), with backoff, and the queue
 * consumed again; messages in hand then are redelivered by the broker.
 */
export function createRabbitMqConsumer(options: RabbitMqConsumerOptions): RabbitMqConsumer {
  const logger = options.logger ?? silentLogger;
  const exchange = options.exchange ?? 'order.events';
  const queue = options.queue;
  const bindingKeys = options.bindingKeys ?? ['order.confirmed'];
  const queueType = options.queueType ?? 'quorum';
  const deadLetterExchange = options.deadLetterExchange ?? `${queue}.dead-letter`;
  const deadLetterQueue = options.deadLetterQueue ?? `${queue}.dead-letter`;
  const retryQueue = options.retryQueue ?? `${queue}.retry`;
  const prefetch = options.prefetch ?? 10;
  const maxDeliveries = options.maxDeliveries ?? 5;
  const baseDelay = options.retryDelayMs ?? 1000;
  const maxDelay = options.maxRetryDelayMs ?? 60_000;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000;
  if (!queue) throw new Error('queue is required');
  if (bindingKeys.length === 0) throw new Error('bindingKeys must name at least one routing key');
  if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) throw new Error('maxDeliveries must be a whole number of at least 1');
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new Error('prefetch must be a whole number of at least 1');

  let handler: ((message: ReceivedMessage) => Promise<ConsumeOutcome>) | null = null;
  let stopping = false;
  let closing: Promise<void> | null = null;
  let consumerTag: string | null = null;
  let subscribed: ConfirmChannel | null = null;
  let resubscribing: Promise<void> | null = null;
  const inFlight = new Set<Promise<void>>();

  const link: ChannelLink = new ChannelLink({
    url: options.url,
    connectionName: `tender consumer (${queue})`,
    logger,
    backoffMs: 250,
    maxBackoffMs: 5000,
    onLost: () => {
      subscribed = null;
      consumerTag = null;
      if (!stopping) void resubscribe();
    },
    setup: async (channel) => {
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.assertExchange(deadLetterExchange, 'direct', { durable: true });
      await channel.assertQueue(deadLetterQueue, { durable: true });
      await channel.bindQueue(deadLetterQueue, deadLetterExchange, queue);
      const args: Record<string, unknown> = {
        'x-dead-letter-exchange': deadLetterExchange,
        'x-dead-letter-routing-key': queue,
      };
      if (queueType === 'quorum') {
        args['x-queue-type'] = 'quorum';
        // The broker's own limit, past ours: reached only if deliveries keep crashing before they settle.
        args['x-delivery-limit'] = maxDeliveries;
      }
      await channel.assertQueue(queue, { durable: true, arguments: args });
      for (const key of bindingKeys) await channel.bindQueue(queue, exchange, key);
      // Expired retries go back to the consumer's queue through the default exchange.
      await channel.assertQueue(retryQueue, { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue } });
      await channel.prefetch(prefetch);
    },
  });

  function retryDelay(deliveryCount: number): number {
    return Math.min(maxDelay, baseDelay * 2 ** Math.min(Math.max(deliveryCount - 1, 0), 30));
  }

  function received(msg: ConsumeMessage): ReceivedMessage {
    const raw = msg.properties.headers ?? {};
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(raw)) if (value !== undefined && value !== null) headers[key] = headerText(value);
    const attempts = Number.parseInt(headers[ATTEMPTS_HEADER] ?? '0', 10) || 0;
    const brokerCount = typeof raw['x-delivery-count'] === 'number' ? raw['x-delivery-count'] : msg.fields.redelivered ? 1 : 0;
    return {
      id: typeof msg.properties.messageId === 'string' ? msg.properties.messageId : null,
      subject: headers[ROUTING_KEY_HEADER] ?? msg.fields.routingKey,
      body: new Uint8Array(msg.content.buffer, msg.content.byteOffset, msg.content.byteLength),
      headers,
      deliveryCount: attempts + brokerCount + 1,
    };
  }

  /** Publishes a copy and waits for the broker's confirm. */
  function publishCopy(channel: ConfirmChannel, target: { exchange: string; routingKey: string }, msg: ConsumeMessage, headers: Record<string, unknown>, extra: Options.Publish = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no confirm within ${confirmTimeoutMs} ms`)), confirmTimeoutMs);
      const copied: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(msg.properties.headers ?? {})) if (!BROKER_HEADERS.test(key)) copied[key] = value;
      try {
        channel.publish(
          target.exchange,
          target.routingKey,
          msg.content,
          {
            persistent: true,
            ...(msg.properties.messageId ? { messageId: msg.properties.messageId } : {}),
            ...(msg.properties.contentType ? { contentType: msg.properties.contentType } : {}),
            ...(msg.properties.timestamp ? { timestamp: msg.properties.timestamp } : {}),
            ...(msg.properties.type ? { type: msg.properties.type } : {}),
            ...extra,
            headers: { ...copied, [ROUTING_KEY_HEADER]: copied[ROUTING_KEY_HEADER] ?? msg.fields.routingKey, ...headers },
          },
          (error: unknown) => {
            clearTimeout(timer);
            if (error) reject(error instanceof Error ? error : new Error(String(error)));
            else resolve();
          },
        );
      } catch (error) {
        clearTimeout(timer);
        reject(error);
      }
    });
  }

  /** Acks or rejects on the channel the delivery came on; if that channel is gone, the broker redelivers. */
  function settle(channel: ConfirmChannel, msg: ConsumeMessage, how: 'ack' | 'reject'): boolean {
    try {
      if (how === 'ack') channel.ack(msg);
      else channel.nack(msg, false, false);
      return true;
    } catch (error) {
      logger.warn({ queue, error: (error as Error).message }, 'rabbitmq consumer: channel closed before the message was settled; the broker will redeliver it');
      return false;
    }
  }

  async function handleOne(channel: ConfirmChannel, msg: ConsumeMessage): Promise<void> {
    const message = received(msg);
    const count = message.deliveryCount;
    let outcome: ConsumeOutcome;
    if (count > maxDeliveries) {
      outcome = { action: 'dead_letter', reason: `delivered ${count} times (max ${maxDeliveries}) without being settled` };
    } else {
      try {
        outcome = await handler!(message);
      } catch (error) {
        logger.warn({ queue, error: error instanceof Error ? error.name : 'error' }, 'rabbitmq consumer: handler threw; retrying');
        outcome = { action: 'retry', reason: `handler threw ${error instanceof Error ? error.name : 'a non-error'}` };
      }
      if (outcome.action === 'retry' && count >= maxDeliveries) {
        outcome = { action: 'dead_letter', reason: `gave up after ${count} deliveries: ${outcome.reason}` };
      }
    }
    let settled: RabbitMqSettlement;
    switch (outcome.action) {
      case 'ack':
        settle(channel, msg, 'ack');
        settled = { action: 'ack', message };
        break;
      case 'retry': {
        const reason = cleanReason(outcome.reason);
        const delay = Math.max(0, Math.round(outcome.delayMs ?? retryDelay(count)));
        try {
          await publishCopy(channel, { exchange: '', routingKey: retryQueue }, msg, { [ATTEMPTS_HEADER]: count, 'tender-retry-reason': reason }, { expiration: String(delay) });
          settle(channel, msg, 'ack');
        } catch (error) {
          // Not copied: the original goes back to the queue (delayed a little so a broker refusing the
          // copy is not hammered).
          logger.warn({ queue, error: (error as Error).message }, 'rabbitmq consumer: retry copy not confirmed; requeueing the original');
          await sleep(Math.min(delay, 1000));
          try {
            channel.nack(msg, false, true);
          } catch {
            // Channel gone: redelivered anyway.
          }
        }
        settled = { action: 'retry', reason, message };
        break;
      }
      case 'dead_letter': {
        const reason = cleanReason(outcome.reason);
        try {
          await publishCopy(channel, { exchange: deadLetterExchange, routingKey: queue }, msg, {
            [DEAD_LETTER_REASON_HEADER]: reason,
            'tender-dead-letter-queue': queue,
            'tender-dead-letter-deliveries': count,
            'tender-dead-letter-at': new Date().toISOString(),
          });
          settle(channel, msg, 'ack');
        } catch (error) {
          // The queue dead-letters a rejected message itself (x-dead-letter-exchange), without our
          // header but with x-death: kept either way, never dropped.
          logger.error({ queue, reason, error: (error as Error).message }, 'rabbitmq consumer: dead-letter publish failed; rejecting to the queue\'s dead-letter exchange');
          settle(channel, msg, 'reject');
        }
        settled = { action: 'dead_letter', reason, message };
        logger.warn({ queue, reason, dead_letter_queue: deadLetterQueue }, 'rabbitmq consumer: message dead-lettered');
        break;
      }
    }
    try {
      options.onSettle?.(settled);
    } catch {
      // A metrics callback must not break consumption.
    }
  }

  async function subscribe(): Promise<void> {
    const channel = await link.get();
    if (subscribed === channel) return;
    const reply = await channel.consume(
      queue,
      (msg) => {
        if (msg === null) {
          // Cancelled by the broker (the queue was deleted): subscribe again.
          logger.warn({ queue }, 'rabbitmq consumer: cancelled by the broker; subscribing again');
          subscribed = null;
          if (!stopping) void resubscribe();
          return;
        }
        if (stopping) {
          try {
            channel.nack(msg, false, true);
          } catch {
            // Redelivered when the channel closes anyway.
          }
          return;
        }
        const task: Promise<void> = handleOne(channel, msg)
          .catch((error: unknown) => logger.error({ queue, error: String(error) }, 'rabbitmq consumer: settling a message failed'))
          .finally(() => inFlight.delete(task));
        inFlight.add(task);
      },
      { noAck: false },
    );
    subscribed = channel;
    consumerTag = reply.consumerTag;
  }

  function resubscribe(): Promise<void> {
    resubscribing ??= (async () => {
      let attempt = 0;
      while (!stopping && !subscribed) {
        try {
          await subscribe();
          logger.info({ queue }, 'rabbitmq consumer: consuming again');
        } catch (error) {
          attempt++;
          logger.debug({ queue, attempt, error: (error as Error).message }, 'rabbitmq consumer: broker not back yet');
          await sleep(Math.min(5000, 200 * 2 ** Math.min(attempt, 5)));
        }
      }
    })().finally(() => {
      resubscribing = null;
    });
    return resubscribing;
  }

  return {
    name: 'rabbitmq',
    queue,
    deadLetterExchange,
    deadLetterQueue,
    retryQueue,
    async start(h) {
      if (handler) throw new Error('the RabbitMQ consumer is already started');
      handler = h;
      try {
        await subscribe();
      } catch (error) {
        stopping = true;
        await link.close();
        throw new Error(`cannot start RabbitMQ consumer on ${redactUrl(options.url)} (queue ${queue}): ${(error as Error).message}`, { cause: error });
      }
      logger.info({ exchange, queue, binding_keys: bindingKeys }, 'rabbitmq consumer started');
    },
    close() {
      closing ??= (async () => {
        stopping = true;
        const channel = subscribed;
        if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
        await resubscribing?.catch(() => undefined);
        await Promise.allSettled([...inFlight]);
        await link.close();
      })();
      return closing;
    },
  };
}
