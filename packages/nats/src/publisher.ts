/**
 * The JetStream publisher: one outbox event per JetStream message, acknowledged by the stream.
 *
 * @module
 */
import { PublishError, silentLogger, type BrokerMessage, type EventPublisher, type Logger } from '@tender/core';
import { JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { errors, headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { openConnection, redactUserinfo, watchConnection, type NatsConnectOptions } from './connection';
import { ensureStream, isLiteralSubject, streamNameFor } from './streams';

/** The stream the publisher makes sure of (see {@link NatsPublisherOptions.stream}). */
export interface NatsStreamOptions {
  /** Stream name (default: the topic upper-cased, `PAYMENTS_EVENTS`). */
  name?: string;
  /** Create it when missing (default true), capturing `${topic}.>`. */
  create?: boolean;
  /** Duplicate window of a created stream (default 2 minutes). */
  duplicateWindowMs?: number;
}

/** Options of {@link createNatsPublisher}. */
export interface NatsPublisherOptions extends NatsConnectOptions {
  /** A connection of yours to publish on (then `servers` is ignored and `close()` leaves it open). */
  connection?: NatsConnection;
  /** Subject prefix: an event of type `payment.captured` goes to `${topic}.payment.captured` (default `payments.events`). */
  topic?: string;
  /**
   * The stream capturing `${topic}.>`: checked (and created if missing) when the publisher starts.
   * `false` skips the check, for a stream managed elsewhere.
   */
  stream?: NatsStreamOptions | false;
  /** How long a publish waits for the stream's PubAck (default 5000 ms). */
  timeoutMs?: number;
  logger?: Logger;
}

/** The publisher, plus what it publishes to. */
export interface NatsPublisher extends EventPublisher {
  readonly name: 'nats';
  /** The subject prefix. */
  readonly topic: string;
  /** The stream's name, or null with `stream: false`. */
  readonly stream: string | null;
  /** The subject a message goes to: `${topic}.${type}`. */
  subjectOf(message: Pick<BrokerMessage, 'type'>): string;
}

const retryable = (message: string, cause?: unknown) => new PublishError(message, { retryable: true, cause });
const permanent = (message: string, cause?: unknown) => new PublishError(message, { retryable: false, cause });

/** JetStream's "message size exceeds maximum allowed" (the stream's `max_msg_size`). */
const MESSAGE_TOO_LARGE = 10054;

/** Maps whatever a publish threw to a {@link PublishError}: only what can never succeed is permanent. */
function toPublishError(error: unknown, subject: string): PublishError {
  if (error instanceof PublishError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof errors.InvalidArgumentError && /max_payload/.test(message)) {
    return permanent(`message too large for NATS (server max_payload) on ${subject}`, error);
  }
  if (error instanceof errors.InvalidSubjectError) return permanent(`invalid NATS subject ${subject}`, error);
  if (error instanceof errors.InvalidArgumentError && /header/.test(message)) return permanent(`invalid header for NATS: ${message}`, error);
  if (error instanceof JetStreamApiError && error.code === MESSAGE_TOO_LARGE) {
    return permanent(`message too large for the stream (max_msg_size) on ${subject}`, error);
  }
  if (error instanceof errors.TimeoutError) return retryable(`no PubAck for ${subject} in time`, error);
  // No stream captures the subject yet, the connection closed or is draining, JetStream restarting,
  // a stream limit (discard new): all may pass.
  return retryable(`publish to ${subject} failed: ${message}`, error);
}

/** Header names NATS accepts (RFC 7230 tokens); values must not contain CR or LF. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function buildHeaders(message: BrokerMessage): MsgHdrs {
  const h = natsHeaders();
  for (const [key, value] of Object.entries(message.headers)) {
    if (!HEADER_NAME.test(key) || /^nats-/i.test(key)) throw permanent(`header name ${JSON.stringify(key)} cannot be sent over NATS`);
    if (/[\r\n]/.test(value)) throw permanent(`header ${key} contains a line break`);
    h.set(key, value);
  }
  h.set('content-type', message.contentType || 'application/json');
  h.set('tender-event-id', message.id);
  h.set('tender-event-type', message.type);
  h.set('tender-event-key', message.key);
  h.set('tender-created-at', message.createdAt);
  return h;
}

/**
 * Creates a JetStream publisher and connects it. Each message goes to `${topic}.${type}`
 * (`payments.events.payment.captured`); subscribers take everything with `payments.events.>`.
 *
 * - **Dedup.** The event id is the `Nats-Msg-Id` (`msgID`), so a message the relay publishes again
 *   within the stream's duplicate window (a lost PubAck, a crash before the outbox row was marked) is
 *   not stored twice; the stream answers `duplicate: true`, which counts as success (docs.nats.io,
 *   "JetStream Model Deep Dive: Message Deduplication"). Later than the window, consumers dedup on
 *   the `tender-event-id` header.
 * - **Order.** Messages of one payment are stored in publish order: the relay publishes one event
 *   per payment at a time and waits for its PubAck, and a stream orders what it stores.
 * - **Outages.** The connection reconnects for ever; while it is down a publish rejects at once with
 *   a retryable {@link PublishError}, and a PubAck not received within `timeoutMs` rejects it too
 *   (retryable: the message may still be stored, and its id dedups the retry).
 * - **Permanent failures** (`retryable: false`): a message over the server's `max_payload` or the
 *   stream's `max_msg_size`, an event type that is not a valid subject, a header NATS cannot carry.
 *
 * Rejects when the server cannot be reached or the stream is missing (and creating it is off) or
 * does not capture `${topic}.>`.
 */
export async function createNatsPublisher(options: NatsPublisherOptions = {}): Promise<NatsPublisher> {
  const topic = options.topic ?? 'payments.events';
  if (!isLiteralSubject(topic)) throw new Error(`topic must be a NATS subject prefix without wildcards, got ${JSON.stringify(topic)}`);
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.timeoutMs ?? 5000;
  const own = options.connection === undefined;
  const nc = options.connection ?? (await openConnection(options));
  const server = redactUserinfo(nc.getServer());
  const watch = watchConnection(nc, (type) => {
    if (type === 'disconnect') logger.warn({ server }, 'nats publisher disconnected; publishes fail until it reconnects');
    else if (type === 'reconnect') logger.info({ server }, 'nats publisher reconnected');
  });
  let streamName: string | null = null;
  try {
    if (options.stream !== false) {
      const stream = options.stream ?? {};
      streamName = stream.name ?? streamNameFor(topic);
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, {
        name: streamName,
        subjects: [`${topic}.>`],
        ...(stream.create !== undefined ? { create: stream.create } : {}),
        ...(stream.duplicateWindowMs !== undefined ? { duplicateWindowMs: stream.duplicateWindowMs } : {}),
      });
    }
  } catch (error) {
    if (own) await nc.close().catch(() => undefined);
    throw error;
  }
  const js = jetstream(nc, { timeout: timeoutMs });
  let closed = false;
  const subjectOf = (message: Pick<BrokerMessage, 'type'>) => `${topic}.${message.type}`;

  return {
    name: 'nats',
    topic,
    stream: streamName,
    subjectOf,
    async publish(message) {
      if (closed) throw retryable('the NATS publisher is closed');
      const subject = subjectOf(message);
      if (!isLiteralSubject(message.type)) throw permanent(`event type ${JSON.stringify(message.type)} is not a valid NATS subject suffix`);
      if (!message.id) throw permanent('a message needs an id (its Nats-Msg-Id)');
      const h = buildHeaders(message);
      // While disconnected, nats.js would buffer the request and time out only after timeoutMs: the
      // relay learns sooner (and moves on to its backoff) when it is told now.
      if (!watch.connected) throw retryable(`NATS is disconnected (${server}); not published`);
      try {
        const ack = await js.publish(subject, message.body, { msgID: message.id, headers: h, timeout: timeoutMs });
        // A duplicate was stored before under the same id: the broker has it, which is success.
        if (ack.duplicate) logger.debug({ subject, id: message.id, seq: ack.seq }, 'nats: duplicate publish dropped by the stream');
      } catch (error) {
        throw toPublishError(error, subject);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      // drain() lets publishes in flight get their PubAck before the socket closes.
      if (own) await nc.drain().catch(() => nc.close());
    },
  };
}
