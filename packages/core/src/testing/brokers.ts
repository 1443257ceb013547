/**
 * Helpers for testing event broker packages (the `EventPublisher` / `EventConsumer` spec) against a
 * real broker: is it listening, and a message as the outbox relay hands one over.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { BrokerMessage } from '../spec/event-broker/v1/index';

/** True when something accepts TCP connections on `host:port` within `timeoutMs`. */
export function tcpPortOpen(port: number, timeoutMs = 500, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const encoder = new TextEncoder();

/** A broker message as the relay would hand it over (a `payment.captured` with a fresh id unless overridden). */
export function sampleBrokerMessage(overrides: Partial<Omit<BrokerMessage, 'body'>> & { body?: Uint8Array | string } = {}): BrokerMessage {
  const { body, ...rest } = overrides;
  return {
    id: `evt_${randomBytes(8).toString('hex')}`,
    type: 'payment.captured',
    key: 'pay_1',
    body: typeof body === 'string' ? encoder.encode(body) : (body ?? encoder.encode('{"ok":true}')),
    contentType: 'application/json',
    headers: { 'tender-event-version': '1' },
    createdAt: new Date().toISOString(),
    ...rest,
  };
}
