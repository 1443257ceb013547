/**
 * Test helpers against the real NATS server on 127.0.0.1:4222 (JetStream on): reachability, unique
 * names, reading a stream back, and restarting the server the machine started.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { sampleBrokerMessage, tcpPortOpen, waitFor } from '@tender/core/testing';

export const NATS_URL = 'nats://127.0.0.1:4222';

/** True when something accepts connections on 127.0.0.1:4222. */
export function natsUp(timeoutMs = 500): Promise<boolean> {
  return tcpPortOpen(4222, timeoutMs);
}

/**
 * Whether the broker tests run: always in CI (`.ci/run` starts NATS and sets TENDER_REQUIRE_NATS=1,
 * so an unreachable server fails them instead of skipping), else when a server answers.
 */
export const haveNats = process.env.TENDER_REQUIRE_NATS === '1' || (await natsUp());

/** A short random suffix, so runs (and parallel files) never share streams or consumers. */
export const unique = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

/** A broker message as the relay would hand it over. */
export const message = sampleBrokerMessage;

/** A plain connection for the test's own checks. */
export function testConnection(): Promise<NatsConnection> {
  return connect({ servers: NATS_URL, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
}

/** Every message stored in `stream`, in stream order (read one by one: works on any server version). */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMsg[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = (await jsm.streams.info(stream));
  const out: StoredMsg[] = [];
  for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m) out.push(m);
  }
  return out;
}

/** Deletes streams, ignoring the ones already gone. */
export async function deleteStreams(nc: NatsConnection, ...names: string[]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
}

/** Tests wait on conditions with the shared helper. */
export { waitFor };

// The machine's NATS, started exactly like this (see .ci/run); restarted by the restart tests only.
const START = ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/nats-server', '--', '-a', '127.0.0.1', '-p', '4222', '-js', '-sd', '/var/lib/nats-server', '-l', '/var/log/nats-server.log'];

/** Pids of nats-server processes listening on port 4222 (read from /proc, no pattern matching on names). */
export function natsServerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args[0] !== '/usr/sbin/nats-server' && !args[0]?.endsWith('/nats-server')) continue;
    const port = args.indexOf('-p');
    if (port >= 0 && args[port + 1] === '4222') pids.push(Number(entry));
  }
  return pids;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops the machine's nats-server (SIGTERM, then SIGKILL after 10 s) and waits until it is gone. */
export async function stopNatsServer(): Promise<void> {
  const pids = natsServerPids();
  if (pids.length === 0) throw new Error('no nats-server on port 4222 to stop');
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  try {
    await waitFor(() => pids.every((pid) => !alive(pid)), 'nats-server to exit', 10_000);
  } catch {
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
    await waitFor(() => pids.every((pid) => !alive(pid)), 'nats-server to exit after SIGKILL', 5000);
  }
  await waitFor(async () => !(await natsUp(200)), 'port 4222 to close', 5000);
}

/** Starts nats-server with the machine's command (a no-op if one runs) and waits until JetStream answers. */
export async function startNatsServer(): Promise<void> {
  if (natsServerPids().length === 0) {
    const result = spawnSync('start-stop-daemon', START, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`start-stop-daemon failed (${result.status}): ${result.stderr}`);
  }
  await waitFor(
    async () => {
      if (!(await natsUp(200))) return false;
      const nc = await connect({ servers: NATS_URL, timeout: 1000, reconnect: false });
      try {
        await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
        return true;
      } finally {
        await nc.close();
      }
    },
    'nats-server with JetStream to answer',
    30_000,
    100,
  );
}
