/**
 * A fake Fiuu on loopback. It speaks the wire protocol of the Fiuu API Spec v13.86 (payment, results, requery, capture, refund) (same paths under `/RMS/`
 * and `/MOLPay/`, same fields, same hashes, same error codes) and rejects what Fiuu rejects: a wrong
 * vcode gives P03, a bad skey or Signature on an API gives its documented code, an unknown merchant
 * is refused. Results reach the merchant through the browser (return URL) and server-to-server
 * (notification `nbcb=2` and callback `nbcb=1`), with faults that tests can inject.
 *
 * This module is the sandbox's HTTP face: it parses requests, routes them, records API calls and
 * applies API faults. The rest is in `state.ts` (transactions), `payment-page.ts` and `pages.ts` (the
 * hosted payment page), `api.ts` (merchant APIs), `delivery.ts` (results to the merchant) and
 * `faults.ts`.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pushBounded } from '@tender/core';
import { API_OPERATIONS, MerchantApi, type SandboxIpnEcho } from './api';
import { ResultDelivery, type SandboxDelivery } from './delivery';
import { SandboxFaultQueues, type SandboxFaults, type SandboxOperation } from './faults';
import { HostedPaymentPages } from './payment-page';
import { SettlementReports, type SandboxSettlementControls, type SandboxSettlementOptions } from './settlement-report';
import { SandboxLedger, type SandboxMerchant, type SandboxTransaction } from './state';

/** Options of {@link startFiuuSandbox}. */
export interface FiuuSandboxOptions {
  merchants: SandboxMerchant[];
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Reject a requery of the same transaction sooner than this with `Q99` (Fiuu's block). Default 0 (off). */
  requeryMinIntervalMs?: number;
  /** How a refund ends after its immediate `22`: default `success`. */
  refundOutcome?: 'success' | 'rejected' | 'pending';
  /**
   * How much the sandbox remembers. Past these counts the oldest are forgotten (a long-running fake,
   * such as the reference server's simulation mode, must not grow without bound): a forgotten
   * transaction is "not found" to every API. Defaults: 100 000 transactions, 10 000 deliveries and
   * IPN echoes.
   */
  retention?: { transactions?: number; history?: number };
  /** How settlement reports (`API/settlement/report.php`) are built: page size, commission. */
  settlement?: SandboxSettlementOptions;
}

/** One merchant-API request the sandbox received (answered, failed or stalled by a fault alike). */
export interface SandboxApiCall {
  operation: Exclude<SandboxOperation, 'any'>;
  /** Path after the `/RMS/` or `/MOLPay/` prefix, e.g. `q_by_tid.php`. */
  path: string;
  /** The request's fields (GET and POST merged, POST winning). */
  fields: Record<string, string>;
}

/** A running sandbox. */
export interface FiuuSandbox {
  /** Base URL (`http://127.0.0.1:port`); also the payment and API host. */
  url: string;
  paymentHost: string;
  apiHost: string;
  faults: SandboxFaults;
  /** Changes to the settlement reports, to plant mismatches. */
  settlements: SandboxSettlementControls;
  /** Emits `delivery` ({@link SandboxDelivery}) and `ipn` ({@link SandboxIpnEcho}). */
  events: EventEmitter;
  deliveries: SandboxDelivery[];
  ipnEchoes: SandboxIpnEcho[];
  /** Every merchant-API request received, oldest first (bounded like `deliveries`): count requeries with it. */
  apiCalls: SandboxApiCall[];
  transactions(): SandboxTransaction[];
  transaction(tranID: string): SandboxTransaction | undefined;
  findByOrder(merchantId: string, orderid: string): SandboxTransaction | undefined;
  /** Finishes a pending transaction (the bank answered late) and delivers the new outcome. */
  complete(tranID: string, decision: 'approve' | 'decline'): Promise<void>;
  /** Re-sends the current outcome's notification and callback (Fiuu's retry). */
  resend(tranID: string): Promise<void>;
  /** Sends a DuitNow QR account-enquiry notification for a transaction (not a payment). */
  sendAccountEnquiry(tranID: string): Promise<void>;
  /** Resolves once every delivery started so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts a fake Fiuu on 127.0.0.1.
 * @example
 * const sandbox = await startFiuuSandbox({ merchants: [{ merchantId: 'SB_acme', verifyKey, secretKey }] });
 * const gateway = createFiuuGateway({ merchantId: 'SB_acme', verifyKey, secretKey, paymentHost: sandbox.paymentHost, apiHost: sandbox.apiHost, transport });
 */
export async function startFiuuSandbox(options: FiuuSandboxOptions): Promise<FiuuSandbox> {
  const ledger = new SandboxLedger(options.merchants, options.retention);
  const events = new EventEmitter();
  const faults = new SandboxFaultQueues();
  const delivery = new ResultDelivery(ledger, faults, events);
  const pages = new HostedPaymentPages(ledger, delivery);
  const api = new MerchantApi(ledger, options, events);
  const reports = new SettlementReports(ledger, options.settlement);
  const apiCalls: SandboxApiCall[] = [];
  let closed = false;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const body = req.method === 'POST' ? await readBody(req) : '';
    // GET and POST may be mixed; the POST value wins (tip 8 of Fiuu's Cheatsheet-BestPractices-Fiuu_API README).
    const f: Record<string, string> = Object.fromEntries(url.searchParams);
    for (const [k, v] of new URLSearchParams(body)) f[k] = v;
    const m = /^\/(RMS|MOLPay)\/(.*)$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end('Not found');
    const prefix = m[1]!;
    const path = m[2]!;
    const operation = API_OPERATIONS[path];
    if (operation) {
      pushBounded(apiCalls, { operation, path, fields: { ...f } }, ledger.keepHistory);
      if (faults.applyApiFault(operation, res)) return;
    }
    const pay = /^pay\/([^/]+)\/?(?:([^/]+)\.php)?$/.exec(path);
    if (pay) return pages.pay(res, prefix, decodeURIComponent(pay[1]!), pay[2] && pay[2] !== 'index' ? pay[2] : null, f);
    if (path === 'sandbox/act.php') return pages.act(res, f);
    if (path === 'API/settlement/report.php') return reports.handle(res, f);
    if (!api.handle(path, res, f)) res.writeHead(404).end('Not found');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    paymentHost: url,
    apiHost: url,
    faults: faults.controls,
    settlements: reports.controls,
    events,
    deliveries: delivery.deliveries,
    ipnEchoes: api.ipnEchoes,
    apiCalls,
    transactions: () => ledger.all(),
    transaction: (tranID) => ledger.get(tranID),
    findByOrder: (merchantId, orderid) => ledger.latestOfOrder(merchantId, orderid),
    async complete(tranID, decision) {
      const t = ledger.require(tranID);
      if (t.status !== '22') throw new Error(`Fiuu sandbox: transaction ${tranID} is not pending`);
      ledger.settle(t, decision);
      await delivery.sendOutcome(t);
    },
    async resend(tranID) {
      await delivery.sendOutcome(ledger.require(tranID));
    },
    async sendAccountEnquiry(tranID) {
      await delivery.sendAccountEnquiry(ledger.require(tranID));
    },
    idle: () => delivery.idle(),
    async close() {
      if (closed) return;
      closed = true;
      faults.releaseStalled();
      await delivery.settled();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
