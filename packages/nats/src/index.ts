/**
 * `@tender/nats`: Tender's event broker spec over NATS JetStream — {@link createNatsPublisher} for
 * the outbox relay (payment events to `payments.events.<type>`, deduplicated by event id) and
 * {@link createNatsConsumer} for inbound events such as `order.confirmed` (a durable pull consumer
 * with explicit acks and a dead-letter subject).
 *
 * @packageDocumentation
 */
export { createNatsPublisher, type NatsPublisher, type NatsPublisherOptions, type NatsStreamOptions } from './publisher';
export { createNatsConsumer, DEAD_LETTER_REASON_HEADER, type NatsConsumer, type NatsConsumerOptions, type NatsSettlement } from './consumer';
export { splitCredentials, redactUserinfo, type NatsConnectOptions } from './connection';
export { ensureStream, filterCovers, streamNameFor, type EnsureStreamOptions } from './streams';
