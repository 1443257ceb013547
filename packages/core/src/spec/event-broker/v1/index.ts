/**
 * Event broker spec (v1): what the outbox relay needs to publish events to a message broker, and what
 * an inbound consumer (e.g. `order.confirmed`) needs to receive them. `@tender/nats` (JetStream) and
 * `@tender/rabbitmq` (AMQP 0-9-1 with publisher confirms) implement it.
 *
 * Delivery is at least once in both directions: the relay publishes an event again after a crash or a
 * failed confirm, so every message carries the event id (`Nats-Msg-Id`, AMQP `message-id`) for the
 * broker's or the consumer's deduplication.
 *
 * @module
 */

/** One message to publish: an outbox event, already encoded. */
export interface BrokerMessage {
  /** Event id: the broker's dedup key (`Nats-Msg-Id`) and the AMQP `message-id`. */
  id: string;
  /** Event type, e.g. `payment.captured` (the AMQP routing key; the last tokens of a NATS subject). */
  type: string;
  /** Ordering key: the payment id. Messages with one key are published in order, one at a time. */
  key: string;
  /** Encoded body (JSON, UTF-8). */
  body: Uint8Array;
  /** `application/json` unless the encoder says otherwise. */
  contentType: string;
  /** Extra headers (string values), e.g. `tender-event-version`, `tender-merchant-id`. */
  headers: Readonly<Record<string, string>>;
  /** When the event was created (ISO-8601). */
  createdAt: string;
}

/** A broker the outbox relay publishes to. */
export interface EventPublisher {
  /** e.g. `nats`, `rabbitmq` (metrics label). */
  readonly name: string;
  /**
   * Publishes one message and resolves only once the broker has taken responsibility for it (a
   * JetStream PubAck, an AMQP publisher confirm). Rejects otherwise; a {@link PublishError} with
   * `retryable: false` means the message can never be published (too large, refused), any other
   * error that a later attempt may succeed.
   */
  publish(message: BrokerMessage): Promise<void>;
  /** Closes connections; pending publishes reject. */
  close(): Promise<void>;
}

/** A publish that failed; `retryable: false` for a message the broker will never take. */
export class PublishError extends Error {
  /** Whether a later attempt may succeed. */
  readonly retryable: boolean;
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'PublishError';
    this.retryable = options.retryable;
  }
}

/** A message received from a broker. */
export interface ReceivedMessage {
  /** The message id the producer set (`Nats-Msg-Id`, AMQP `message-id`), if any. */
  id: string | null;
  /** NATS subject or AMQP routing key. */
  subject: string;
  body: Uint8Array;
  headers: Readonly<Record<string, string>>;
  /** 1 on first delivery; more after redeliveries (NATS `deliveryCount`; AMQP `redelivered` gives 2). */
  deliveryCount: number;
}

/** What a consumer's handler decided about one message. */
export type ConsumeOutcome =
  /** Done (its effect is durable): acknowledge. */
  | { action: 'ack' }
  /** Could not be handled now (storage down...): redeliver later. */
  | { action: 'retry'; delayMs?: number; reason: string }
  /** Can never be handled (malformed...): move to the dead-letter subject/queue with the reason. */
  | { action: 'dead_letter'; reason: string };

/** A durable subscription that hands each message to a handler and acts on its outcome. */
export interface EventConsumer {
  /** e.g. `nats`, `rabbitmq`. */
  readonly name: string;
  /**
   * Starts consuming. Each message is acknowledged only after `handler` resolves `ack`; a handler
   * that throws counts as `retry`. Resolves once the subscription is established.
   */
  start(handler: (message: ReceivedMessage) => Promise<ConsumeOutcome>): Promise<void>;
  /** Stops taking messages, waits for the ones in hand, closes connections. */
  close(): Promise<void>;
}
