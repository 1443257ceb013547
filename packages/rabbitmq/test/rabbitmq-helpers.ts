/**
 * Test helpers against the real RabbitMQ on 127.0.0.1:5672 (guest/guest): reachability, unique
 * names, reading queues, and stopping/starting the broker application.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { sampleBrokerMessage, tcpPortOpen, waitFor } from '@tender/core/testing';

export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** True when something accepts connections on 127.0.0.1:5672. */
export function rabbitUp(timeoutMs = 500): Promise<boolean> {
  return tcpPortOpen(5672, timeoutMs);
}

/**
 * Whether the broker tests run: always in CI (`.ci/run` starts RabbitMQ and sets
 * TENDER_REQUIRE_RABBITMQ=1, so an unreachable broker fails them instead of skipping), else when
 * one answers.
 */
export const haveRabbit = process.env.TENDER_REQUIRE_RABBITMQ === '1' || (await rabbitUp());

/** Random names, so runs (and parallel files) never share exchanges or queues. */
export const unique = (prefix: string) => `${prefix}.${randomBytes(5).toString('hex')}`;

/** A broker message as the relay would hand it over. */
export const message = sampleBrokerMessage;

/** The test's own connection and channel, for declaring, reading and cleaning up. */
export async function testChannel(): Promise<{ connection: ChannelModel; channel: Channel }> {
  const connection = await connect(AMQP_URL);
  connection.on('error', () => undefined);
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  return { connection, channel };
}

/** Takes every message in `queue` now (basic.get until empty), acking them. */
export async function drain(channel: Channel, queue: string): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (;;) {
    const m = await channel.get(queue, { noAck: true });
    if (!m) return out;
    out.push(m);
  }
}

/** Tests wait on conditions with the shared helper. */
export { waitFor };

function rabbitmqctl(...args: string[]): void {
  const result = spawnSync('rabbitmqctl', args, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`rabbitmqctl ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
}

/** True once the broker takes an AMQP connection (not only TCP: the app may still be booting). */
export async function amqpReady(): Promise<boolean> {
  if (!(await rabbitUp(300))) return false;
  try {
    const connection = await connect(AMQP_URL, { timeout: 1000 });
    connection.on('error', () => undefined);
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** `rabbitmqctl stop_app`: the broker closes every connection and stops listening; the node stays up. */
export async function stopRabbit(): Promise<void> {
  rabbitmqctl('stop_app');
  await waitFor(async () => !(await rabbitUp(200)), 'port 5672 to close', 30_000, 100);
}

/** `rabbitmqctl start_app` (a no-op when running), then waits until AMQP connections are taken. */
export async function startRabbit(): Promise<void> {
  if (!(await amqpReady())) {
    try {
      rabbitmqctl('start_app');
    } catch {
      // The node itself is down (not only the app): start it as the machine does.
      spawnSync('rabbitmq-server', ['-detached'], { encoding: 'utf8', timeout: 60_000 });
    }
  }
  await waitFor(() => amqpReady(), 'RabbitMQ to take connections', 60_000, 200);
}
