/**
 * transport: requests/s through `createHttpTransport` (retry, circuit breaker, request shaping, no
 * faults) against what it sits on: undici's `Agent.dispatch` with a minimal handler that buffers the
 * body, on the same `Agent` (the transport is handed that Agent as its `dispatcher`), so the ratio is
 * the cost of the transport's own work. Both go to one loopback server running in a worker thread,
 * so it does not share the client's event loop; rounds alternate A/B/A/B. `extra` also records
 * `undici.request` (with its body stream) on the same Agent.
 */
import { Worker } from 'node:worker_threads';
import { Agent, request, type Dispatcher } from 'undici';
import { createHttpTransport } from '@tender/core';
import { alternateThroughput, compare, round3, roundsText, throughput, type BenchResult } from './lib';

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

const CONNECTIONS = 16;
const CONCURRENCY = 16;
const ROUNDS = 6;
const ROUND_MS = 1_500;

/** One GET through `agent.dispatch`, the body buffered: the least any client on this Agent does. */
function dispatchOnce(agent: Agent, origin: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status = 0;
    const handler: Dispatcher.DispatchHandler = {
      // undici takes a handler for its current (controller) interface by this method's presence.
      onRequestStart() {},
      onResponseStart(_ctrl, statusCode) {
        status = statusCode;
      },
      onResponseData(_ctrl, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        Buffer.concat(chunks);
        if (status !== 200) reject(new Error(`unexpected ${status}`));
        else resolve();
      },
      onResponseError(_ctrl, error) {
        reject(error);
      },
    };
    agent.dispatch({ origin, path, method: 'GET', headers: { 'user-agent': 'bench' } }, handler);
  });
}

export default async function transportBench(): Promise<BenchResult> {
  const worker = new Worker(SERVER, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const origin = `http://127.0.0.1:${port}`;
  const path = '/v1/payments/pay_01';
  const url = `${origin}${path}`;

  // The transport's own defaults for the Agent it would create, given to both sides.
  const agent = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 4_000, connect: { timeout: 10_000 } });
  const bare = () => dispatchOnce(agent, origin, path);
  const transport = createHttpTransport({ gateway: 'bench', dispatcher: agent });
  const viaTransport = async () => {
    const res = await transport.request({ method: 'GET', url, operation: 'retrieve' });
    if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
  };
  const viaRequest = async () => {
    const res = await request(url, { method: 'GET', dispatcher: agent });
    await res.body.arrayBuffer();
  };

  try {
    // JIT and pool warm-up of all three before anything is measured.
    for (const fn of [bare, viaTransport, viaRequest]) await throughput(fn, { ms: 700, concurrency: CONCURRENCY });
    const main = await alternateThroughput(viaTransport, bare, { rounds: ROUNDS, ms: ROUND_MS, concurrency: CONCURRENCY });
    const extra = await alternateThroughput(viaRequest, bare, { rounds: 2, ms: ROUND_MS, concurrency: CONCURRENCY });
    return compare('transport', main.meanA, 'req/s', 'undici Agent.dispatch, minimal buffering handler, same Agent', main.meanB, {
      concurrency: CONCURRENCY,
      connections: CONNECTIONS,
      rounds: roundsText(main),
      median_round_ratio: round3(main.medianRatio),
      undici_request_per_s: Math.round(extra.meanA),
      undici_request_vs_dispatch: round3(extra.medianRatio),
    });
  } finally {
    await transport.close();
    await agent.close();
    await worker.terminate();
  }
}
