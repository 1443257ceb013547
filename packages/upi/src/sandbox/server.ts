/**
 * The sandbox's HTTP face: Razorpay's routes under `/v1` with Basic auth and JSON bodies, Razorpay's
 * error envelope, injected faults and delays, and a "UPI app" page (`/upi-app/:paymentId`) where a
 * person (or a test) approves or declines an intent or collect request.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pushBounded, retentionLimit, timingSafeEqualString } from '@tender/core';
import { SandboxFaultQueue, type SandboxFaultMatch } from '@tender/core/testing';
import { computeRazorpayPaymentSignature } from '../signature';
import { badRequest, razorpayId, RazorpaySandboxError, SandboxAccount, type SandboxPayment, type SandboxRetention } from './account';
import { SandboxSettlements, type SandboxSettlementControls, type SandboxSettlementOptions } from './settlements';
import { WebhookSender, type SandboxWebhookConfig } from './webhook-sender';

/** Delays the sandbox applies (ms). `null` turns an automatic step off. */
export interface SandboxDelays {
  /** Before every API answer (default 0). */
  responseMs?: number;
  /** A pending refund settles (`processed`) this long after it was made (default 20; null: only by `settleRefund`). */
  refundSettleMs?: number | null;
  /**
   * When set, a collect request to Razorpay's test VPAs answers itself this long after it was made, as
   * in Razorpay's test mode: `success@razorpay` approves, `failure@razorpay` declines. Default null: every
   * request waits for the UPI app page or `approve` / `decline`.
   */
  collectAutoMs?: number | null;
  /** How often unpaid payments past their `expiry_time` are expired (default 1000; null: only by `expire`). */
  expirySweepMs?: number | null;
}

/** Options of {@link startRazorpaySandbox}. */
export interface RazorpaySandboxOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** The key id clients must send (default `rzp_test_tendersandbox`). */
  keyId?: string;
  /** The key secret clients must send (default random). */
  keySecret?: string;
  /** Where to send signed webhooks (`secret` defaults to the sandbox's `webhookSecret`). */
  webhook?: SandboxWebhookConfig;
  /** The webhook secret (default random). */
  webhookSecret?: string;
  delays?: SandboxDelays;
  /** Merchant name and VPA on intent links. */
  merchantName?: string;
  merchantVpa?: string;
  /** How many objects, keys and events are kept before the oldest are forgotten. */
  retention?: SandboxRetention & { requests?: number };
  /** Time source (ms) for `created_at` and expiry; default `Date.now`. */
  now?: () => number;
  /** The settlement recon report (`GET /v1/settlements/recon/combined`): page size cap. */
  settlements?: SandboxSettlementOptions;
}

/** A fault applied to the next matching API requests. */
export interface HttpFault extends SandboxFaultMatch {
  /**
   * `error`: answer `status` (default 500, `SERVER_ERROR`) without running the endpoint;
   * `drop`: run the endpoint, then destroy the socket without answering (a lost response);
   * `delay`: run the endpoint and answer after `delayMs`.
   */
  kind: 'error' | 'drop' | 'delay';
  status?: number;
  delayMs?: number;
}

/** A running sandbox. */
export interface RazorpaySandbox {
  /** Base URL, e.g. `http://127.0.0.1:54321` (the gateway's `baseUrl`). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly keyId: string;
  readonly keySecret: string;
  /** The secret new webhooks are signed with. */
  readonly webhookSecret: string;
  /** The Razorpay state: orders, payments, refunds. */
  readonly account: SandboxAccount;
  /** Outgoing webhooks: `configure`, `hold`/`release`, `faults`, `rotateSecret`, `redeliver`, `idle()`. */
  readonly webhooks: WebhookSender;
  /** API faults: `faults.add(...)`, `faults.clear()`. */
  readonly faults: SandboxFaultQueue<HttpFault>;
  /** The settlement recon report's items, and controls to plant mismatches. */
  readonly settlements: SandboxSettlementControls;
  /** `METHOD /path?query` of every API request served, oldest first (bounded). */
  readonly requests: readonly string[];
  /** The payer approves the payment in their UPI app (also after a failure: an in-app retry). */
  approve(paymentId: string, options?: { vpa?: string }): SandboxPayment;
  /** The payer declines the payment. */
  decline(paymentId: string): SandboxPayment;
  /** The payment's time runs out unpaid. */
  expire(paymentId: string): SandboxPayment;
  /** Razorpay auto-refunds an authorisation not captured in time (`refunded`, `captured: false`, refund webhooks). */
  autoRefund(paymentId: string): void;
  /** Settles a pending refund now. */
  settleRefund(refundId: string, outcome?: 'processed' | 'failed'): void;
  /**
   * What Razorpay's checkout hands the merchant's callback for a paid order payment:
   * `razorpay_payment_id`, `razorpay_order_id` and `razorpay_signature` (HMAC-SHA256 of
   * `order_id|payment_id` with the key secret).
   */
  checkoutCallback(paymentId: string): { razorpay_payment_id: string; razorpay_order_id: string; razorpay_signature: string };
  /** The checkout signature of any `order_id|payment_id` pair with this sandbox's key secret. */
  checkoutSignature(orderId: string, paymentId: string): string;
  /** The UPI app page of a payment (`GET` shows it, `POST action=approve|decline` answers it). */
  upiAppUrl(paymentId: string): string;
  close(): Promise<void>;
}

/** Starts a fake Razorpay on loopback. */
export async function startRazorpaySandbox(options: RazorpaySandboxOptions = {}): Promise<RazorpaySandbox> {
  const keyId = options.keyId ?? 'rzp_test_tendersandbox';
  const keySecret = options.keySecret ?? randomBytes(18).toString('base64url');
  const delays = options.delays ?? {};
  const now = options.now ?? Date.now;
  const webhooks = new WebhookSender(options.webhook ?? null, options.webhook?.secret ?? options.webhookSecret ?? `whsec_${randomBytes(12).toString('hex')}`, options.retention?.events);
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      try {
        fn();
      } catch {
        // The object moved on meanwhile (approved by hand, forgotten by retention).
      }
    }, ms);
    timers.add(t);
  };
  // Declared before the account: its event callback records what settles.
  let settlements: SandboxSettlements | undefined;
  const account = new SandboxAccount(
    (type, payload) => {
      settlements?.onEvent(type, payload);
      const id = razorpayId('evt').slice(4);
      const contains = Object.keys(payload);
      const body = JSON.stringify({ entity: 'event', account_id: 'acc_TenderSandbox01', event: type, contains, payload, created_at: Math.floor(now() / 1000) });
      webhooks.emit(id, type, body);
    },
    {
      ...(options.merchantName ? { merchantName: options.merchantName } : {}),
      ...(options.merchantVpa ? { merchantVpa: options.merchantVpa } : {}),
      ...(options.retention ? { retention: options.retention } : {}),
      now,
    },
  );
  settlements = new SandboxSettlements(now, options.settlements, (orderId) => account.orders.get(orderId)?.receipt ?? null);
  const requestLimit = retentionLimit(options.retention?.requests, 10_000, 'retention.requests');
  const requests: string[] = [];
  const faults = new SandboxFaultQueue<HttpFault>();
  const expected = `Basic ${Buffer.from(`${keyId}:${keySecret}`).toString('base64')}`;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'SERVER_ERROR', description: `Sandbox failure: ${(error as Error).message}`, source: 'NA', step: 'NA', reason: 'NA', metadata: {} } });
      });
    });
  });
  server.keepAliveTimeout = 60_000;

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const method = req.method ?? 'GET';
    const page = /^\/upi-app\/([^/]+)$/.exec(url.pathname);
    if (page) return upiAppPage(req, res, decodeURIComponent(page[1]!), body);
    if (!url.pathname.startsWith('/v1/')) return sendJson(res, 404, envelope(404, 'BAD_REQUEST_ERROR', 'The requested URL was not found on the server.'));
    const signature = `${method} ${url.pathname}`;
    pushBounded(requests, `${signature}${url.search}`, requestLimit);

    if (!timingSafeEqualString(expected, String(req.headers.authorization ?? ''))) {
      return sendJson(res, 401, envelope(401, 'BAD_REQUEST_ERROR', 'The api key provided is invalid'));
    }
    const fault = faults.take(signature);
    if (fault?.kind === 'error') {
      const status = fault.status ?? 500;
      const code = status === 429 ? 'BAD_REQUEST_ERROR' : status >= 500 ? 'SERVER_ERROR' : 'BAD_REQUEST_ERROR';
      return sendJson(res, status, envelope(status, code, status === 429 ? 'Too many requests' : `Injected sandbox fault (HTTP ${status})`));
    }
    let params: Record<string, unknown> = {};
    if ((method === 'POST' || method === 'PATCH') && body !== '') {
      try {
        const parsed: unknown = JSON.parse(body);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        params = parsed as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, envelope(400, 'BAD_REQUEST_ERROR', 'The request body is not valid JSON'));
      }
    }
    let status = 200;
    let payload: unknown;
    try {
      payload = route(method, url, params, req);
    } catch (error) {
      if (!(error instanceof RazorpaySandboxError)) throw error;
      status = error.status;
      payload = { error: error.error };
    }
    const wait = (delays.responseMs ?? 0) + (fault?.kind === 'delay' ? (fault.delayMs ?? 1000) : 0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    sendJson(res, status, payload);
  }

  const collection = (items: unknown[]) => ({ entity: 'collection', count: items.length, items });
  /** `count` / `skip` paging of an already newest-first list. */
  const listPaged = <T>(items: T[], query: URLSearchParams): T[] => {
    const count = Math.min(100, Math.max(1, Number(query.get('count') ?? 10) || 10));
    const skip = Math.max(0, Number(query.get('skip') ?? 0) || 0);
    return items.slice(skip, skip + count);
  };
  let boundUrl = '';
  const baseUrl = () => boundUrl;

  function route(method: string, url: URL, params: Record<string, unknown>, req: IncomingMessage): unknown {
    const path = url.pathname.replace(/\/+$/, '');
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/orders') return account.orderJson(account.createOrder(params));
    if (method === 'GET' && path === '/v1/orders') return collection(account.listOrders(url.searchParams).map((o) => account.orderJson(o)));
    if (method === 'GET' && (m = /^\/v1\/orders\/([^/]+)$/.exec(path))) return account.orderJson(account.order(m[1]!));
    if (method === 'GET' && (m = /^\/v1\/orders\/([^/]+)\/payments$/.exec(path))) return collection(account.orderPayments(m[1]!));
    if (method === 'POST' && path === '/v1/payments/validate/vpa') return account.validateVpa(params);
    if (method === 'POST' && path === '/v1/payments/create/upi') {
      const { payment, link } = account.createUpiPayment(params);
      if (payment.upi.flow === 'collect') scheduleCollect(payment);
      return link ? { razorpay_payment_id: payment.id, link } : { razorpay_payment_id: payment.id };
    }
    if (method === 'POST' && path === '/v1/payments/create/json') {
      // S2S JSON v2 (https://razorpay.com/docs/payments/payment-gateway/s2s-integration/json/v2/build-integration/upi/intent/):
      // the link and the status URL come as `next` actions.
      const { payment, link } = account.createUpiPayment(params);
      if (payment.upi.flow === 'collect') scheduleCollect(payment);
      const poll = { action: 'poll', url: `${baseUrl()}/v1/payments/${payment.id}` };
      return { razorpay_payment_id: payment.id, next: link ? [{ action: 'intent', url: link }, poll] : [poll] };
    }
    if (method === 'GET' && path === '/v1/payments') return collection(account.listPayments(url.searchParams));
    if (method === 'GET' && path === '/v1/settlements/recon/combined') return settlements!.recon(url.searchParams);
    if (method === 'GET' && path === '/v1/refunds') return collection(account.listRefunds(url.searchParams));
    if (method === 'PATCH' && (m = /^\/v1\/payments\/([^/]+)$/.exec(path))) return account.editNotes(account.payment(m[1]!), params);
    if (method === 'PATCH' && (m = /^\/v1\/orders\/([^/]+)$/.exec(path))) return account.orderJson(account.editNotes(account.order(m[1]!), params));
    if (method === 'PATCH' && (m = /^\/v1\/refunds\/([^/]+)$/.exec(path))) return account.editNotes(account.refundById(m[1]!), params);
    if (method === 'GET' && (m = /^\/v1\/payments\/([^/]+)$/.exec(path))) return account.payment(m[1]!);
    if (method === 'POST' && (m = /^\/v1\/payments\/([^/]+)\/capture$/.exec(path))) return account.capture(m[1]!, params);
    if (method === 'POST' && (m = /^\/v1\/payments\/([^/]+)\/refund$/.exec(path))) {
      const key = req.headers['x-refund-idempotency'];
      const { refund, replayed } = account.refund(m[1]!, params, typeof key === 'string' ? key : null);
      if (!replayed && delays.refundSettleMs !== null) later(delays.refundSettleMs ?? 20, () => account.settleRefund(refund.id));
      return refund;
    }
    if (method === 'GET' && (m = /^\/v1\/payments\/([^/]+)\/refunds$/.exec(path))) return collection(listPaged(account.paymentRefunds(m[1]!), url.searchParams));
    if (method === 'GET' && (m = /^\/v1\/payments\/([^/]+)\/refunds\/([^/]+)$/.exec(path))) {
      const refund = account.refundById(m[2]!);
      if (refund.payment_id !== m[1]) throw badRequest('The id provided does not exist', 'id', 'NA');
      return refund;
    }
    if (method === 'GET' && (m = /^\/v1\/refunds\/([^/]+)$/.exec(path))) return account.refundById(m[1]!);
    throw new RazorpaySandboxError(404, envelope(404, 'BAD_REQUEST_ERROR', 'The requested URL was not found on the server.').error);
  }

  function scheduleCollect(payment: SandboxPayment): void {
    if (delays.collectAutoMs === null || delays.collectAutoMs === undefined) return;
    const vpa = payment.vpa?.toLowerCase();
    if (vpa === 'success@razorpay') later(delays.collectAutoMs, () => account.payment(payment.id).status === 'created' && account.approve(payment.id));
    if (vpa === 'failure@razorpay') later(delays.collectAutoMs, () => account.payment(payment.id).status === 'created' && account.decline(payment.id));
  }

  function upiAppPage(req: IncomingMessage, res: ServerResponse, paymentId: string, body: string): void {
    const payment = account.payments.get(paymentId);
    if (!payment) return sendHtml(res, 404, page('Unknown payment', `<p>No payment <code>${escapeHtml(paymentId)}</code>.</p>`));
    if (req.method === 'POST') {
      const action = new URLSearchParams(body).get('action');
      try {
        if (action === 'approve') account.approve(paymentId);
        else if (action === 'decline') account.decline(paymentId);
        else return sendHtml(res, 400, page('Bad request', '<p>action must be approve or decline.</p>'));
      } catch (error) {
        if (error instanceof RazorpaySandboxError) return sendHtml(res, 409, page('Not possible', `<p>${escapeHtml(error.message)}</p>`));
        throw error;
      }
    }
    const meta = account.paymentMeta(paymentId);
    const rupees = `₹${(payment.amount / 100).toFixed(2)}`;
    const open = payment.status === 'created' || (payment.status === 'failed' && req.method !== 'POST');
    const details = [
      `<p>Pay <strong>${escapeHtml(rupees)}</strong> to <strong>${escapeHtml(options.merchantName ?? 'Tender Sandbox')}</strong></p>`,
      `<p>Payment <code>${escapeHtml(payment.id)}</code> · ${payment.upi.flow === 'collect' ? `collect request to <code>${escapeHtml(payment.vpa ?? '')}</code>` : 'intent'} · status <strong id="status">${escapeHtml(payment.status)}</strong></p>`,
      meta?.link ? `<p><code id="link">${escapeHtml(meta.link)}</code></p>` : '',
      open
        ? `<form method="post"><button name="action" value="approve" id="approve">Approve</button> <button name="action" value="decline" id="decline"${payment.status === 'failed' ? ' disabled' : ''}>Decline</button></form>`
        : '',
    ].join('\n');
    sendHtml(res, 200, page('Sandbox UPI app', details));
  }

  const sweep = delays.expirySweepMs === null ? null : setInterval(() => account.expireDue(), delays.expirySweepMs ?? 1000);
  sweep?.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host}:${address.port}`;
  boundUrl = url;

  return {
    url,
    host,
    port: address.port,
    keyId,
    keySecret,
    get webhookSecret() {
      return webhooks.currentSecret;
    },
    account,
    webhooks,
    faults,
    settlements: settlements.controls,
    requests,
    approve: (id, o) => account.approve(id, o),
    decline: (id) => account.decline(id),
    expire: (id) => account.expire(id),
    autoRefund: (id) => void account.autoRefund(id),
    settleRefund: (id, outcome) => void account.settleRefund(id, outcome),
    checkoutCallback: (id) => {
      const payment = account.payment(id);
      return { razorpay_payment_id: payment.id, razorpay_order_id: payment.order_id, razorpay_signature: computeRazorpayPaymentSignature(payment.order_id, payment.id, keySecret) };
    },
    checkoutSignature: (orderId, paymentId) => computeRazorpayPaymentSignature(orderId, paymentId, keySecret),
    upiAppUrl: (id) => `${url}/upi-app/${encodeURIComponent(id)}`,
    async close() {
      if (sweep) clearInterval(sweep);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await webhooks.idle();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function envelope(status: number, code: string, description: string): { error: RazorpaySandboxError['error'] } {
  return { error: { code, description, source: 'NA', step: 'NA', reason: status === 401 ? 'authentication_failed' : 'NA', metadata: {} } };
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) }).end(html);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>\n${body}\n</body></html>`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
