/**
 * transport: requests/s through `createHttpTransport` (keep-alive pool + retry + circuit breaker, no
 * faults) against bare `undici.request` on an `Agent` with the same pool size, both to the same
 * loopback server (running in a worker thread so it does not share the client's event loop). Runs
 * alternate (A/B/A/B) so drift hits both sides alike.
 */
import { Worker } from 'node:worker_threads';
import { Agent, request } from 'undici';
import { createHttpTransport } from '../packages/core/src/index';
import { compare, throughput } from './lib';
import type { BenchResult } from './lib';

const SERVER = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const body = JSON.stringify({ id: 'pay_01', status: 'CAPTURED', amount: '100.50', currency: 'MYR' });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

export default async function transportBench(): Promise<BenchResult> {
  const worker = new Worker(SERVER, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const url = `http://127.0.0.1:${port}/v1/payments/pay_01`;
  const connections = 16;
  const concurrency = 16;

  const agent = new Agent({ connections, keepAliveTimeout: 4_000 });
  const bare = async () => {
    const res = await request(url, { method: 'GET', dispatcher: agent });
    await res.body.arrayBuffer();
  };
  const transport = createHttpTransport({ gateway: 'bench', pool: { connections } });
  const viaTransport = async () => {
    const res = await transport.request({ method: 'GET', url, operation: 'retrieve' });
    if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
  };

  // Warm up both pools and the JIT.
  await throughput(bare, { ms: 1_000, concurrency });
  await throughput(viaTransport, { ms: 1_000, concurrency });

  // Short alternating rounds (order flipped every round) so load from other processes on a shared
  // machine lands on both sides alike; the median per-round ratio is recorded as a check.
  const rounds = 8;
  const ms = 1_500;
  let bareTotal = 0;
  let transportTotal = 0;
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let b: number;
    let t: number;
    if (i % 2 === 0) {
      b = await throughput(bare, { ms, concurrency });
      t = await throughput(viaTransport, { ms, concurrency });
    } else {
      t = await throughput(viaTransport, { ms, concurrency });
      b = await throughput(bare, { ms, concurrency });
    }
    bareTotal += b;
    transportTotal += t;
    ratios.push(t / b);
  }
  ratios.sort((x, y) => x - y);
  const median = (ratios[rounds / 2 - 1]! + ratios[rounds / 2]!) / 2;

  await transport.close();
  await agent.close();
  await worker.terminate();
  return compare('transport', transportTotal / rounds, 'req/s', 'bare undici.request (same Agent pool size)', bareTotal / rounds, {
    concurrency,
    connections,
    rounds,
    median_round_ratio: Math.round(median * 1000) / 1000,
    min_round_ratio: Math.round(ratios[0]! * 1000) / 1000,
  });
}
