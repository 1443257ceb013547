/**
 * Message brokers from URLs: the publisher the outbox relay uses (EVENT_BROKER_URL) and the inbound
 * `order.confirmed` consumer (ORDER_EVENTS_*). `nats://` is NATS JetStream (`@tender/nats`),
 * `amqp://` / `amqps://` RabbitMQ (`@tender/rabbitmq`).
 *
 * @module
 */
import { handleOrderConfirmed, silentLogger, type ConsumeOutcome, type EventConsumer, type EventPublisher, type Logger, type ReceivedMessage, type Tender } from '@tender/core';
import { ConfigError, type ServerConfig } from './config';
import type { TenderMetrics } from './metrics';

/** The broker kinds a URL can name. */
export type BrokerKind = 'nats' | 'rabbitmq';

/** `scheme://user:pass@host` → `scheme://***@host`: a broker URL as it may be logged or shown. */
export function redactBrokerUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1***@');
}

/**
 * The broker a URL names, by its scheme.
 * @throws ConfigError for any other scheme (the URL is shown without credentials).
 */
export function brokerKind(url: string, variable = 'EVENT_BROKER_URL'): BrokerKind {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url.trim())?.[1]?.toLowerCase();
  if (scheme === 'nats') return 'nats';
  if (scheme === 'amqp' || scheme === 'amqps') return 'rabbitmq';
  throw new ConfigError([`${variable}: '${redactBrokerUrl(url)}' is not a broker URL Tender speaks (nats:// for NATS JetStream, amqp:// or amqps:// for RabbitMQ)`]);
}

/**
 * The publisher for the outbox relay, connected: `nats://` → a JetStream publisher to
 * `${topic}.<type>` (the stream, upper-cased topic, created with a duplicate window if missing);
 * `amqp(s)://` → a RabbitMQ publisher to the durable topic exchange `topic` (routing key = type).
 * Credentials in the URL are used, never logged.
 * @throws ConfigError for an unknown scheme; an Error (URL redacted) when the broker cannot be reached.
 */
export async function createPublisherFromUrl(url: string, topic: string, options: { logger?: Logger } = {}): Promise<EventPublisher> {
  const kind = brokerKind(url);
  const logger = options.logger ?? silentLogger;
  try {
    if (kind === 'nats') {
      const { createNatsPublisher } = await import('@tender/nats');
      return await createNatsPublisher({ servers: url, topic, name: 'tender relay', logger });
    }
    const { createRabbitMqPublisher } = await import('@tender/rabbitmq');
    return await createRabbitMqPublisher({ url, exchange: topic, logger });
  } catch (error) {
    throw new Error(`cannot open the ${kind} publisher at ${redactBrokerUrl(url)}: ${redactBrokerUrl(String((error as Error)?.message ?? error))}`, { cause: error });
  }
}

/** Names the order consumer uses on each broker (see the server README). */
export interface OrderConsumerNames {
  /** NATS: stream capturing `${topic}.>`, filter `${topic}.order.confirmed`. RabbitMQ: the topic exchange. */
  topic: string;
  /** NATS durable consumer / RabbitMQ queue. */
  group: string;
  /** NATS dead-letter subject / RabbitMQ dead-letter exchange and queue. */
  deadLetter: string;
}

/** The order consumer's names from the configuration. */
export function orderConsumerNames(config: ServerConfig): OrderConsumerNames {
  return {
    topic: config.ORDER_EVENTS_TOPIC,
    group: config.ORDER_EVENTS_GROUP,
    deadLetter: config.ORDER_EVENTS_DEAD_LETTER ?? `${config.ORDER_EVENTS_GROUP}.dead-letter`,
  };
}

/**
 * Starts the `order.confirmed` consumer when ORDER_EVENTS_MERCHANT_ID is set (on ORDER_EVENTS_URL,
 * else EVENT_BROKER_URL): each event creates its order's payment through
 * {@link handleOrderConfirmed}, and each settled message is counted in
 * `tender_order_events_total{outcome}`. Resolves once the subscription is established; null when
 * not configured.
 */
export async function startOrderConsumer(config: ServerConfig, tender: Tender, options: { logger?: Logger; metrics?: TenderMetrics } = {}): Promise<EventConsumer | null> {
  const merchantId = config.ORDER_EVENTS_MERCHANT_ID;
  const url = config.ORDER_EVENTS_URL ?? config.EVENT_BROKER_URL;
  if (!merchantId || !url) return null;
  const variable = config.ORDER_EVENTS_URL ? 'ORDER_EVENTS_URL' : 'EVENT_BROKER_URL';
  const kind = brokerKind(url, variable);
  const logger = options.logger ?? silentLogger;
  const names = orderConsumerNames(config);
  const onSettle = (settled: { action: ConsumeOutcome['action'] }) => options.metrics?.orderEvents.inc({ outcome: settled.action });
  const handler = (message: ReceivedMessage) =>
    handleOrderConfirmed(tender, message, {
      merchantId,
      captureMethod: config.ORDER_EVENTS_CAPTURE,
      ...(config.ORDER_EVENTS_PAYMENT_METHOD ? { paymentMethod: config.ORDER_EVENTS_PAYMENT_METHOD } : {}),
      ...(config.ORDER_EVENTS_GATEWAY ? { gateway: config.ORDER_EVENTS_GATEWAY } : {}),
    });
  let consumer: EventConsumer;
  if (kind === 'nats') {
    const { createNatsConsumer, streamNameFor } = await import('@tender/nats');
    const stream = streamNameFor(names.topic);
    consumer = createNatsConsumer({
      servers: url,
      name: 'tender order consumer',
      stream,
      // Used as it is when the order service created it; created (capturing `${topic}.>`) if not.
      createStream: { subjects: [`${names.topic}.>`] },
      durable: names.group,
      subject: `${names.topic}.order.confirmed`,
      deadLetterSubject: names.deadLetter,
      deadLetterStream: { name: `${stream}_DEAD_LETTER` },
      maxDeliver: config.ORDER_EVENTS_MAX_DELIVERIES,
      logger,
      onSettle,
    });
  } else {
    const { createRabbitMqConsumer } = await import('@tender/rabbitmq');
    consumer = createRabbitMqConsumer({
      url,
      exchange: names.topic,
      queue: names.group,
      bindingKeys: ['order.confirmed'],
      deadLetterExchange: names.deadLetter,
      deadLetterQueue: names.deadLetter,
      maxDeliveries: config.ORDER_EVENTS_MAX_DELIVERIES,
      logger,
      onSettle,
    });
  }
  try {
    await consumer.start(handler);
  } catch (error) {
    await consumer.close().catch(() => undefined);
    throw new Error(`cannot start the order.confirmed consumer on ${redactBrokerUrl(url)}: ${redactBrokerUrl(String((error as Error)?.message ?? error))}`, { cause: error });
  }
  logger.info({ broker: kind, url: redactBrokerUrl(url), topic: names.topic, group: names.group, dead_letter: names.deadLetter, merchant_id: merchantId }, 'order.confirmed consumer started');
  return consumer;
}
