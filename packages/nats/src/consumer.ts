/**
 * The JetStream consumer: a durable pull consumer with explicit acks that hands each message to a
 * handler and acts on its {@link ConsumeOutcome}, with a dead-letter subject for what can never be
 * handled.
 *
 * @module
 */
import { silentLogger, type ConsumeOutcome, type EventConsumer, type Logger, type ReceivedMessage } from '@tender/core';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, nanos, type NatsConnection } from '@nats-io/transport-node';
import { openConnection, redactUserinfo, versionAtLeast, watchConnection, type NatsConnectOptions } from './connection';
import { ensureStream, filterCovers, isLiteralSubject, isNotFound, isSubjectFilter, streamNameFor } from './streams';

/** Header carrying why a message was dead-lettered (no personal data: the handler's reason). */
export const DEAD_LETTER_REASON_HEADER = 'tender-dead-letter-reason';

/** What happened to one message, for metrics and logs. */
export interface NatsSettlement {
  /** What was done: acknowledged, redelivered later, or moved to the dead-letter subject. */
  action: ConsumeOutcome['action'];
  /** The handler's (or the consumer's) reason for `retry` and `dead_letter`. */
  reason?: string;
  message: ReceivedMessage;
}

/** Options of {@link createNatsConsumer}. */
export interface NatsConsumerOptions extends NatsConnectOptions {
  /** A connection of yours (then `servers` is ignored and `close()` leaves it open). */
  connection?: NatsConnection;
  /** The stream holding the messages, e.g. `ORDER_EVENTS`. */
  stream: string;
  /**
   * Create the stream when it does not exist, capturing these subjects (for a stream nobody else
   * manages). Default: the stream must exist.
   */
  createStream?: { subjects: string[]; duplicateWindowMs?: number };
  /** Durable consumer name: the subscription that survives restarts (shared by every instance). */
  durable: string;
  /** Subject filter, e.g. `order.events.order.confirmed` (or `order.events.>`). */
  subject: string;
  /** Where dead letters go (a literal subject outside `subject`), e.g. `payment-service.dead-letter`. */
  deadLetterSubject: string;
  /**
   * The stream that keeps dead letters: a stream already capturing `deadLetterSubject` is used; else
   * one is created (name default `${stream}_DEAD_LETTER`) unless `create` is false.
   */
  deadLetterStream?: { name?: string; create?: boolean };
  /** Deliveries before a message that keeps failing is dead-lettered (default 5). */
  maxDeliver?: number;
  /** How long the server waits for an ack before redelivering (default 30 s); kept alive while the handler runs. */
  ackWaitMs?: number;
  /** Delay before a `retry` without `delayMs` is redelivered: doubles per delivery from this (default 1 s)... */
  retryDelayMs?: number;
  /** ...up to this (default 60 s). */
  maxRetryDelayMs?: number;
  /** Messages handled at once (default 1). */
  concurrency?: number;
  logger?: Logger;
  /** Called after each message is settled (metrics). */
  onSettle?: (settlement: NatsSettlement) => void;
}

/** The consumer, plus its dead-letter subject. */
export interface NatsConsumer extends EventConsumer {
  readonly name: 'nats';
  readonly deadLetterSubject: string;
}

class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** One line, no control characters, bounded: safe as a header value and in logs. */
export function cleanReason(reason: string): string {
  const text = reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return (text || 'unspecified').slice(0, 500);
}

function received(m: JsMsg): ReceivedMessage {
  const headers: Record<string, string> = {};
  if (m.headers) for (const key of m.headers.keys()) headers[key] = m.headers.get(key);
  const id = m.headers?.get('Nats-Msg-Id') || null;
  return { id, subject: m.subject, body: m.data, headers, deliveryCount: m.info.deliveryCount };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates a JetStream consumer (nothing connects until {@link EventConsumer.start}).
 *
 * `start` makes sure the stream exists (optionally creating it), that a stream keeps the
 * dead-letter subject, and creates or updates the durable pull consumer (`ack_policy: explicit`,
 * `ack_wait`, `filter_subject`), then consumes with `consumer.consume()` (docs.nats.io, "JetStream
 * Consumers"). Outcomes: `ack` → `ackAck()` (the ack is confirmed by the server; a lost ack means one
 * more delivery, which the handler's idempotency absorbs); `retry` → `nak(delay)`; `dead_letter` →
 * the original body and headers plus `tender-dead-letter-reason` are published to the dead-letter
 * subject (awaiting the stream's PubAck, with a message id so a repeat is dropped), then `term()`.
 *
 * Max deliveries are enforced here rather than by the server's `max_deliver` (which is left
 * unlimited): the server would stop redelivering silently, leaving the message unhandled in the
 * stream. A delivery with `deliveryCount >= maxDeliver` whose handler asks for a retry is
 * dead-lettered instead, and one beyond it (the previous delivery crashed) is dead-lettered without
 * calling the handler. A handler that throws counts as `retry`.
 *
 * The connection reconnects for ever; `consume()` resumes pulling after a reconnect (the durable
 * consumer and its acknowledgements live on the server), and a consume loop that ends on its own is
 * started again with backoff.
 */
export function createNatsConsumer(options: NatsConsumerOptions): NatsConsumer {
  const logger = options.logger ?? silentLogger;
  const maxDeliver = options.maxDeliver ?? 5;
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const baseDelay = options.retryDelayMs ?? 1000;
  const maxDelay = options.maxRetryDelayMs ?? 60_000;
  const concurrency = options.concurrency ?? 1;
  if (!isSubjectFilter(options.subject)) throw new Error(`subject must be a NATS subject filter, got ${JSON.stringify(options.subject)}`);
  if (!isLiteralSubject(options.deadLetterSubject)) throw new Error(`deadLetterSubject must be a NATS subject without wildcards, got ${JSON.stringify(options.deadLetterSubject)}`);
  if (filterCovers(options.subject, options.deadLetterSubject)) {
    throw new Error(`deadLetterSubject ${options.deadLetterSubject} is inside the consumed subjects ${options.subject}: dead letters would be consumed again`);
  }
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1) throw new Error('maxDeliver must be a whole number of at least 1');
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be a whole number of at least 1');
  if (!/^[A-Za-z0-9_-]+$/.test(options.durable)) throw new Error('durable must be letters, digits, _ and - only');

  let nc: NatsConnection | null = null;
  let started: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  let stopping = false;
  let current: ConsumerMessages | null = null;
  let loop: Promise<void> | null = null;
  const inFlight = new Set<Promise<void>>();
  const slots = new Slots(concurrency);

  async function setup(connection: NatsConnection): Promise<{ js: JetStreamClient; jsm: JetStreamManager }> {
    const jsm = await jetstreamManager(connection);
    if (options.createStream) {
      await ensureStream(jsm, {
        name: options.stream,
        subjects: options.createStream.subjects,
        ...(options.createStream.duplicateWindowMs !== undefined ? { duplicateWindowMs: options.createStream.duplicateWindowMs } : {}),
      });
    } else {
      await jsm.streams.info(options.stream).catch((error: unknown) => {
        throw isNotFound(error) ? new Error(`NATS stream ${options.stream} does not exist`) : error;
      });
    }
    // Dead letters must be kept by some stream, or the "publish" would have nothing to store them.
    const holder = await jsm.streams.find(options.deadLetterSubject).catch(() => null);
    if (!holder) {
      await ensureStream(jsm, {
        name: options.deadLetterStream?.name ?? `${streamNameFor(options.stream)}_DEAD_LETTER`,
        subjects: [options.deadLetterSubject],
        create: options.deadLetterStream?.create ?? true,
      });
    }
    const wanted = { ack_wait: nanos(ackWaitMs), max_deliver: -1, filter_subject: options.subject };
    const existing = await jsm.consumers.info(options.stream, options.durable).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw error;
    });
    if (!existing) {
      await jsm.consumers.add(options.stream, { durable_name: options.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...wanted });
    } else {
      if (existing.config.ack_policy !== AckPolicy.Explicit) throw new Error(`NATS consumer ${options.durable} exists without explicit acks`);
      const c = existing.config;
      if (c.ack_wait !== wanted.ack_wait || c.max_deliver !== wanted.max_deliver || (c.filter_subject ?? '') !== wanted.filter_subject) {
        await jsm.consumers.update(options.stream, options.durable, wanted);
      }
    }
    return { js: jetstream(connection), jsm };
  }

  /** nak/term on a closed connection throw; the server then redelivers after ack_wait anyway. */
  function respond(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      logger.warn({ error: String(error) }, 'nats consumer: could not settle the message (connection closed); it will be redelivered');
    }
  }

  function retryDelay(deliveryCount: number): number {
    return Math.min(maxDelay, baseDelay * 2 ** Math.min(Math.max(deliveryCount - 1, 0), 30));
  }

  async function deadLetter(js: JetStreamClient, m: JsMsg, message: ReceivedMessage, reason: string): Promise<void> {
    const h = natsHeaders();
    // The original headers, but not JetStream's own (the original Nats-Msg-Id would be this
    // stream's dedup key; the dead letter gets its own below).
    for (const [key, value] of Object.entries(message.headers)) if (!/^nats-/i.test(key)) h.set(key, value);
    h.set(DEAD_LETTER_REASON_HEADER, reason);
    h.set('tender-dead-letter-subject', m.subject);
    h.set('tender-dead-letter-stream', m.info.stream);
    h.set('tender-dead-letter-stream-seq', String(m.info.streamSequence));
    h.set('tender-dead-letter-deliveries', String(m.info.deliveryCount));
    h.set('tender-dead-letter-at', new Date().toISOString());
    if (message.id) h.set('tender-original-message-id', message.id);
    // One dead letter per stored message, however often this runs for it (a crash before term).
    await js.publish(options.deadLetterSubject, m.data, { headers: h, msgID: `${m.info.stream}:${options.durable}:${m.info.streamSequence}` });
  }

  async function handleOne(js: JetStreamClient, m: JsMsg, handler: (message: ReceivedMessage) => Promise<ConsumeOutcome>): Promise<void> {
    const message = received(m);
    const count = message.deliveryCount;
    // Tells the server the message is being worked on, so a slow handler (a gateway call) is not
    // redelivered to another instance meanwhile.
    const keepAlive = setInterval(() => {
      try {
        m.working();
      } catch {
        // The connection is closed: the message is redelivered after ack_wait, as it should be.
      }
    }, Math.max(500, Math.floor(ackWaitMs / 2)));
    let outcome: ConsumeOutcome;
    try {
      if (count > maxDeliver) {
        outcome = { action: 'dead_letter', reason: `delivered ${count} times (max ${maxDeliver}) without being settled` };
      } else {
        try {
          outcome = await handler(message);
        } catch (error) {
          logger.warn({ subject: m.subject, seq: m.info.streamSequence, error: error instanceof Error ? error.name : 'error' }, 'nats consumer: handler threw; retrying');
          outcome = { action: 'retry', reason: `handler threw ${error instanceof Error ? error.name : 'a non-error'}` };
        }
        if (outcome.action === 'retry' && count >= maxDeliver) {
          outcome = { action: 'dead_letter', reason: `gave up after ${count} deliveries: ${outcome.reason}` };
        }
      }
    } finally {
      clearInterval(keepAlive);
    }
    let settled: NatsSettlement;
    switch (outcome.action) {
      case 'ack':
        settled = { action: 'ack', message };
        try {
          await m.ackAck();
        } catch (error) {
          // The effect is durable; a lost ack only means one more delivery, which replays.
          logger.warn({ subject: m.subject, seq: m.info.streamSequence, error: String(error) }, 'nats consumer: ack not confirmed; the message may be delivered again');
        }
        break;
      case 'retry': {
        const reason = cleanReason(outcome.reason);
        settled = { action: 'retry', reason, message };
        const delay = outcome.delayMs ?? retryDelay(count);
        respond(() => m.nak(delay));
        break;
      }
      case 'dead_letter': {
        const reason = cleanReason(outcome.reason);
        try {
          await deadLetter(js, m, message, reason);
        } catch (error) {
          // Not stored as a dead letter: keep it, try again later (never drop it).
          logger.error({ subject: m.subject, seq: m.info.streamSequence, error: String(error) }, 'nats consumer: dead-letter publish failed; will retry');
          respond(() => m.nak(retryDelay(count)));
          settled = { action: 'retry', reason: `dead-letter publish failed: ${reason}`, message };
          break;
        }
        // The reason travels with term only from nats-server 2.11 (older servers ignore a +TERM with
        // a reason, and redeliver); the dead letter carries it either way.
        respond(() => (versionAtLeast(nc?.info?.version ?? null, 2, 11) ? m.term(reason) : m.term()));
        settled = { action: 'dead_letter', reason, message };
        logger.warn({ subject: m.subject, seq: m.info.streamSequence, reason, dead_letter_subject: options.deadLetterSubject }, 'nats consumer: message dead-lettered');
        break;
      }
    }
    try {
      options.onSettle?.(settled);
    } catch {
      // A metrics callback must not break consumption.
    }
  }

  async function consumeLoop(js: JetStreamClient, handler: (message: ReceivedMessage) => Promise<ConsumeOutcome>, ready: (error?: unknown) => void): Promise<void> {
    let failures = 0;
    let first = true;
    while (!stopping) {
      try {
        const consumer = await js.consumers.get(options.stream, options.durable);
        const messages = await consumer.consume({ max_messages: Math.max(2, concurrency) });
        current = messages;
        if (first) ready();
        first = false;
        failures = 0;
        for await (const m of messages) {
          if (stopping) {
            // Left for another instance now rather than after ack_wait.
            respond(() => m.nak());
            continue;
          }
          await slots.acquire();
          if (stopping) {
            slots.release();
            respond(() => m.nak());
            continue;
          }
          const task: Promise<void> = handleOne(js, m, handler)
            .catch((error: unknown) => logger.error({ error: String(error) }, 'nats consumer: settling a message failed'))
            .finally(() => {
              slots.release();
              inFlight.delete(task);
            });
          inFlight.add(task);
        }
      } catch (error) {
        if (first) {
          ready(error);
          return;
        }
        logger.warn({ error: String(error) }, 'nats consumer: consume stopped; starting again');
      }
      if (stopping) break;
      failures++;
      await sleep(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)));
    }
  }

  return {
    name: 'nats',
    deadLetterSubject: options.deadLetterSubject,
    start(handler) {
      if (started) throw new Error('the NATS consumer is already started');
      started = (async () => {
        const own = options.connection === undefined;
        const connection = options.connection ?? (await openConnection(options));
        nc = connection;
        const server = redactUserinfo(connection.getServer());
        watchConnection(connection, (type) => {
          if (type === 'disconnect') logger.warn({ server }, 'nats consumer disconnected; waiting to reconnect');
          else if (type === 'reconnect') logger.info({ server }, 'nats consumer reconnected');
        });
        try {
          const { js } = await setup(connection);
          await new Promise<void>((resolve, reject) => {
            loop = consumeLoop(js, handler, (error) => (error === undefined ? resolve() : reject(error)));
          });
        } catch (error) {
          stopping = true;
          if (own) await connection.close().catch(() => undefined);
          throw error;
        }
        logger.info({ stream: options.stream, durable: options.durable, subject: options.subject }, 'nats consumer started');
      })();
      return started;
    },
    close() {
      closing ??= (async () => {
        stopping = true;
        await started?.catch(() => undefined);
        await current?.close().catch(() => undefined);
        await loop;
        await Promise.allSettled([...inFlight]);
        if (nc && options.connection === undefined) await nc.drain().catch(() => nc?.close());
      })();
      return closing;
    },
  };
}
