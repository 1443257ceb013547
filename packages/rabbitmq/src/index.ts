/**
 * `@tender/rabbitmq`: Tender's event broker spec over RabbitMQ (AMQP 0-9-1) —
 * {@link createRabbitMqPublisher} for the outbox relay (a durable topic exchange, routing key = event
 * type, publisher confirms) and {@link createRabbitMqConsumer} for inbound events such as
 * `order.confirmed` (a durable queue, manual acks, delayed retries, a dead-letter queue with the reason).
 *
 * @packageDocumentation
 */
export { createRabbitMqPublisher, type RabbitMqPublisher, type RabbitMqPublisherOptions } from './publisher';
export {
  createRabbitMqConsumer,
  DEAD_LETTER_REASON_HEADER,
  ATTEMPTS_HEADER,
  ROUTING_KEY_HEADER,
  type RabbitMqConsumer,
  type RabbitMqConsumerOptions,
  type RabbitMqSettlement,
} from './consumer';
export { redactUrl } from './link';
