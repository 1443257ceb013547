/**
 * The sandbox's HTTP face: Stripe's routes under `/v1` (payments here, Stripe Billing in `billing/`),
 * Bearer/Basic auth, form parsing, request ids, idempotency, injected HTTP faults, a 3-D Secure "bank
 * page" under `/_sandbox/3ds/:id` (PaymentIntents and SetupIntents) and hosted invoice pages under
 * `/_sandbox/invoices/:id`.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import qs from 'qs';
import { STRIPE_API_VERSION } from '../config';
import { missing, SandboxAccount, SandboxError, stripeId, type RequestInfo, type SandboxRetention } from './api';
import { IdempotencyLedger, requestOf } from './idempotency';
import { list } from './list';
import { SandboxBalance, type SandboxBalanceControls } from './balance';
import { NOT_BILLING, SandboxBilling, type SandboxBillingOptions } from './billing';
import { expand } from './billing/expand';
import type { StripeEvent } from '../stripe-types';
import { WebhookSender, type SandboxWebhookConfig } from './webhook-sender';
import { SandboxFaultQueue, type SandboxFaultMatch } from '@tender/core/testing';

/** Options of {@link startStripeSandbox}. */
export interface StripeSandboxOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** The secret key clients must send (default `sk_test_tender_sandbox`). */
  secretKey?: string;
  /** The publishable key Stripe.js-style calls may use with a client secret (default `pk_test_tender_sandbox`). */
  publishableKey?: string;
  /** Where to send signed webhooks. Can be set later with `webhooks.configure`. */
  webhook?: SandboxWebhookConfig;
  /** `api_version` stamped on events (default the pinned version). */
  apiVersion?: string;
  /** How many objects, events and idempotency keys are kept before the oldest are forgotten. */
  retention?: SandboxRetention;
  /** Stripe Billing settings: the retry schedule of failed subscription invoices and what follows it. */
  billing?: SandboxBillingOptions;
}

/** A fault applied to the next matching API requests. */
export interface HttpFault extends SandboxFaultMatch {
  /**
   * `error`: answer `status` (default 500) without running the endpoint;
   * `drop`: run the endpoint, then destroy the socket without answering (a lost response);
   * `delay`: run the endpoint and answer after `delayMs`;
   * `stall`: wait `delayMs` before running the endpoint (its idempotency key is in flight meanwhile).
   */
  kind: 'error' | 'drop' | 'delay' | 'stall';
  status?: number;
  /** Value of `Stripe-Should-Retry` on an `error` answer. */
  shouldRetry?: boolean;
  delayMs?: number;
}

/** A running sandbox. */
export interface StripeSandbox {
  /** Base URL, e.g. `http://127.0.0.1:54321` (give it to the gateway as `baseUrl`). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly secretKey: string;
  readonly publishableKey: string;
  /** The Stripe state: PaymentIntents, Charges, Refunds, Events. */
  readonly account: SandboxAccount;
  /** Stripe Billing: Customers, PaymentMethods, SetupIntents, Prices, Subscriptions, Invoices, test clocks. */
  readonly billing: SandboxBilling;
  /** Balance transactions of captured charges and refunds (`GET /v1/balance_transactions`), and controls to plant mismatches. */
  readonly balance: SandboxBalanceControls;
  /** Outgoing webhooks: `configure`, `hold` / `release` (reorder), `faults` (duplicate, delay, drop), `idle()`. */
  readonly webhooks: WebhookSender;
  /** API faults: queue one with `faults.add(...)`, remove all with `faults.clear()`. */
  readonly faults: SandboxFaultQueue<HttpFault>;
  /** Number of API requests served (for tests asserting retries). */
  readonly requestCount: number;
  /** Finishes a 3-D Secure challenge without HTTP (tests can also POST the bank page). */
  completeThreeDSecure(paymentIntentId: string, outcome: 'approve' | 'decline'): void;
  /** Dashboard actions: refunds and disputes made outside the API client (no Tender metadata). */
  readonly dashboard: {
    refund(paymentIntentId: string, amount?: number): ReturnType<SandboxAccount['createRefund']>;
    dispute(paymentIntentId: string, reason?: string): Record<string, unknown>;
  };
  close(): Promise<void>;
}

type Params = Record<string, unknown>;

/** Starts a fake Stripe on loopback. */
export async function startStripeSandbox(options: StripeSandboxOptions = {}): Promise<StripeSandbox> {
  const secretKey = options.secretKey ?? 'sk_test_tender_sandbox';
  const publishableKey = options.publishableKey ?? 'pk_test_tender_sandbox';
  const apiVersion = options.apiVersion ?? STRIPE_API_VERSION;
  let baseUrl = '';
  const account = new SandboxAccount(apiVersion, () => baseUrl, options.retention);
  const webhooks = new WebhookSender(options.webhook ?? null, options.retention?.events);
  account.onEvent((event) => webhooks.emit(event));
  // After the webhook listener, so an invoice paid by a PaymentIntent is announced after that PaymentIntent.
  const billing = new SandboxBilling(account, () => baseUrl, options.billing, options.retention?.objects);
  const balance = new SandboxBalance(account, options.retention?.objects);
  const ledger = new IdempotencyLedger(options.retention?.idempotencyKeys);
  const faults = new SandboxFaultQueue<HttpFault>();
  // return_url of a challenge whose page was opened, so the page can send the customer back.
  const lastReturnUrl = new Map<string, string>();
  let requestCount = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { type: 'api_error', message: `Sandbox failure: ${(error as Error).message}` } }, {});
      });
    });
  });
  // Long keep-alive so benchmark and test clients reuse sockets; close() ends them.
  server.keepAliveTimeout = 60_000;

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = targetOf(req.url ?? '/');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/_sandbox/3ds/seti_')) return setupChallengePage(req, res, url, body);
    if (url.pathname.startsWith('/_sandbox/3ds/')) return threeDSecurePage(req, res, url, body);
    if (url.pathname.startsWith('/_sandbox/invoices/')) return hostedInvoicePage(res, url);
    requestCount++;
    const requestId = stripeId('req', 14);
    const headers: Record<string, string> = { 'request-id': requestId, 'stripe-version': String(req.headers['stripe-version'] ?? apiVersion) };

    const key = apiKeyOf(req);
    if (key !== secretKey && key !== publishableKey) {
      return sendJson(res, 401, {
        error: {
          type: 'invalid_request_error',
          message: key ? `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` : "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        },
      }, headers);
    }

    const signature = `${method} ${url.pathname}`;
    const fault = faults.take(signature);
    if (fault?.kind === 'error') {
      const status = fault.status ?? 500;
      if (fault.shouldRetry !== undefined) headers['stripe-should-retry'] = String(fault.shouldRetry);
      const type = status === 429 ? 'invalid_request_error' : status === 409 ? 'invalid_request_error' : 'api_error';
      const code = status === 429 ? 'rate_limit' : status === 409 ? 'idempotency_key_in_use' : undefined;
      return sendJson(res, status, { error: { type, ...(code ? { code } : {}), message: `Injected sandbox fault (HTTP ${status}).` } }, headers);
    }

    const params: Params = method === 'GET' ? (qs.parse(url.search.slice(1), { depth: 10, arrayLimit: 100 }) as Params) : (qs.parse(body, { depth: 10, arrayLimit: 100 }) as Params);
    const idempotencyKey = method === 'POST' ? (headerOf(req, 'idempotency-key') ?? null) : null;
    const info: RequestInfo = { requestId, idempotencyKey };

    let status = 200;
    let payload: unknown;
    let saveResponse = idempotencyKey !== null;
    if (idempotencyKey) {
      headers['idempotency-key'] = idempotencyKey;
      const decision = ledger.begin(key, idempotencyKey, requestOf(method, url.pathname, body));
      if (decision.kind === 'replay') {
        headers['idempotent-replayed'] = 'true';
        headers['original-request'] = decision.response.requestId ?? requestId;
        return sendRaw(res, decision.response.status, decision.response.body, headers, fault);
      }
      if (decision.kind === 'mismatch') {
        return sendJson(res, 400, {
          error: {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          },
        }, headers);
      }
      if (decision.kind === 'in_flight') {
        headers['stripe-should-retry'] = 'true';
        return sendJson(res, 409, {
          error: {
            type: 'invalid_request_error',
            code: 'idempotency_key_in_use',
            message: 'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ' + idempotencyKey + '. Please try again later.',
          },
        }, headers);
      }
    }
    if (fault?.kind === 'stall') await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 1000));
    try {
      if (key === publishableKey) checkPublishable(method, url.pathname, params);
      payload = route(method, url.pathname, params, info);
      if (params.expand !== undefined) payload = expand(billing.state, account, payload, params.expand);
    } catch (error) {
      if (!(error instanceof SandboxError)) throw error;
      status = error.status;
      payload = { error: { ...error.error, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` } };
      if (idempotencyKey && !error.executed) {
        // Rejected before the endpoint ran: Stripe saves nothing, so a corrected retry may reuse the key.
        ledger.release(key, idempotencyKey);
        saveResponse = false;
      }
    }
    const text = JSON.stringify(payload, null, 2);
    if (idempotencyKey && saveResponse) ledger.complete(key, idempotencyKey, { status, body: text, requestId });
    return sendRaw(res, status, text, headers, fault);
  }

  function checkPublishable(method: string, path: string, params: Params): void {
    // Stripe.js may only retrieve or confirm a PaymentIntent or SetupIntent, proving it holds the client secret.
    const m = /^\/v1\/(payment_intents|setup_intents)\/([^/]+)(\/confirm)?$/.exec(path);
    const secret = params.client_secret;
    const intent = m ? (m[1] === 'payment_intents' ? account.paymentIntents.get(m[2]!) : billing.state.setupIntents.get(m[2]!)) : undefined;
    if (!m || (method === 'POST' && !m[3]) || typeof secret !== 'string' || intent?.client_secret !== secret) {
      throw new SandboxError(401, { type: 'invalid_request_error', message: 'This API call cannot be made with a publishable API key. Please use a secret API key.' });
    }
    delete params.client_secret;
  }

  function route(method: string, path: string, params: Params, info: RequestInfo): unknown {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'v1') throw new SandboxError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` });
    const [, resource, id, action] = parts;
    if (resource === 'payment_intents') {
      if (method === 'POST' && !id) return account.createPaymentIntent(params, info);
      if (method === 'GET' && id === 'search') {
        const data = account.searchPaymentIntents(String(params.query ?? ''));
        const limit = Number(params.limit ?? 10);
        return { object: 'search_result', data: data.slice(0, limit), has_more: data.length > limit, next_page: null, url: '/v1/payment_intents/search' };
      }
      if (method === 'GET' && !id) return list([...account.paymentIntents.values()].reverse(), params, '/v1/payment_intents');
      if (method === 'GET' && id && !action) return account.retrievePaymentIntent(id);
      if (method === 'POST' && id && !action) return account.updatePaymentIntent(id, params);
      if (method === 'POST' && id && action === 'confirm') return account.confirmPaymentIntent(id, params, info);
      if (method === 'POST' && id && action === 'capture') return account.capturePaymentIntent(id, params, info);
      if (method === 'POST' && id && action === 'cancel') return account.cancelPaymentIntent(id, params, info);
    }
    if (resource === 'refunds') {
      if (method === 'POST' && !id) return account.createRefund(params, info);
      if (method === 'GET' && !id) {
        const filter: { paymentIntent?: string; charge?: string } = {};
        if (typeof params.payment_intent === 'string') filter.paymentIntent = params.payment_intent;
        if (typeof params.charge === 'string') filter.charge = params.charge;
        return list(account.listRefunds(filter), params, '/v1/refunds');
      }
      if (method === 'GET' && id && !action) return account.retrieveRefund(id);
    }
    if (resource === 'charges' && method === 'GET' && id && !action) return account.retrieveCharge(id);
    if (resource === 'disputes') {
      if (method === 'GET' && !id) {
        const filter: { paymentIntent?: string; charge?: string } = {};
        if (typeof params.payment_intent === 'string') filter.paymentIntent = params.payment_intent;
        if (typeof params.charge === 'string') filter.charge = params.charge;
        return list(account.listDisputes(filter) as Array<{ id: string }>, params, '/v1/disputes');
      }
      if (method === 'GET' && id && !action) return account.retrieveDispute(id);
      if (method === 'POST' && id && !action) return account.submitDisputeEvidence(id, params);
      if (method === 'POST' && id && action === 'close') return account.closeDispute(id);
    }
    if (resource === 'balance_transactions' && !action) {
      const answer = balance.route(method, id, params);
      if (answer !== undefined) return answer;
    }
    const billed = billing.route(method, parts, params, info);
    if (billed !== NOT_BILLING) return billed;
    if (resource === 'events' && method === 'GET' && !id) return list(eventsMatching(params), params, '/v1/events');
    if (resource === 'events' && method === 'GET' && id) {
      const event = account.events.find((e) => e.id === id);
      if (!event) throw missing('event', id);
      return event;
    }
    throw new SandboxError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.` });
  }

  function setupChallengePage(req: IncomingMessage, res: ServerResponse, url: Target, body: string): void {
    const id = decodeURIComponent(url.pathname.slice('/_sandbox/3ds/'.length));
    const si = billing.state.setupIntents.get(id);
    if (!si) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Unknown SetupIntent');
      return;
    }
    if (req.method === 'POST') {
      const returnUrl = (si.next_action as { redirect_to_url?: { return_url?: string } } | null)?.redirect_to_url?.return_url;
      try {
        billing.completeSetupAuthentication(id, new URLSearchParams(body).get('result') === 'decline' ? 'decline' : 'approve');
      } catch (error) {
        if (!(error instanceof SandboxError)) throw error;
        res.writeHead(409, { 'content-type': 'text/plain' }).end(error.message);
        return;
      }
      if (returnUrl) {
        const target = new URL(returnUrl);
        target.searchParams.set('setup_intent', id);
        target.searchParams.set('setup_intent_client_secret', String(si.client_secret ?? ''));
        target.searchParams.set('redirect_status', si.status === 'succeeded' ? 'succeeded' : 'failed');
        res.writeHead(302, { location: target.toString() }).end();
      } else {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>3-D Secure</title><p id="result">${escapeHtml(String(si.status))}</p>`);
      }
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      `<!doctype html><html><head><title>3-D Secure test page</title></head><body>` +
        `<h1>Sandbox bank: authenticate saving your card</h1>` +
        `<form method="post"><input type="hidden" name="result" value="approve"><button id="approve" type="submit">Complete authentication</button></form>` +
        `<form method="post"><input type="hidden" name="result" value="decline"><button id="decline" type="submit">Fail authentication</button></form>` +
        `</body></html>`,
    );
  }

  function hostedInvoicePage(res: ServerResponse, url: Target): void {
    const invoice = billing.state.invoices.get(decodeURIComponent(url.pathname.slice('/_sandbox/invoices/'.length)));
    if (!invoice || invoice.status === 'draft') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Unknown invoice');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      `<!doctype html><html><head><title>Invoice ${escapeHtml(String(invoice.number))}</title></head><body>` +
        `<h1>Invoice ${escapeHtml(String(invoice.number))}</h1>` +
        `<p id="amount">${escapeHtml(String(invoice.amount_due))} ${escapeHtml(String(invoice.currency).toUpperCase())}</p>` +
        `<p id="status">${escapeHtml(String(invoice.status))}</p></body></html>`,
    );
  }

  /** `GET /v1/events`: newest first, by `type` (`invoice.*` matches a prefix) or `types[]`. */
  function eventsMatching(params: Params): StripeEvent[] {
    const wanted = Array.isArray(params.types) ? params.types.map(String) : typeof params.type === 'string' ? [params.type] : [];
    const matches = (type: string) => wanted.length === 0 || wanted.some((w) => (w.endsWith('.*') ? type.startsWith(w.slice(0, -1)) : type === w));
    return account.events.filter((e) => matches(e.type)).reverse();
  }

  function threeDSecurePage(req: IncomingMessage, res: ServerResponse, url: Target, body: string): void {
    const id = decodeURIComponent(url.pathname.slice('/_sandbox/3ds/'.length));
    const pi = account.paymentIntents.get(id);
    if (!pi) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Unknown PaymentIntent');
      return;
    }
    if (req.method === 'POST') {
      const outcome = new URLSearchParams(body).get('result') === 'decline' ? 'decline' : 'approve';
      try {
        account.completeThreeDSecure(id, outcome);
      } catch (error) {
        if (!(error instanceof SandboxError)) throw error;
        res.writeHead(409, { 'content-type': 'text/plain' }).end(error.message);
        return;
      }
      const returnUrl = (pi.next_action as { redirect_to_url?: { return_url?: string } } | null)?.redirect_to_url?.return_url ?? lastReturnUrl.get(id);
      if (returnUrl) {
        const target = new URL(returnUrl);
        target.searchParams.set('payment_intent', id);
        target.searchParams.set('payment_intent_client_secret', pi.client_secret ?? '');
        target.searchParams.set('redirect_status', pi.status === 'succeeded' || pi.status === 'requires_capture' ? 'succeeded' : 'failed');
        res.writeHead(302, { location: target.toString() }).end();
      } else {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>3-D Secure</title><p id="result">${pi.status}</p>`);
      }
      return;
    }
    const ra = (pi.next_action as { redirect_to_url?: { return_url?: string } } | null)?.redirect_to_url?.return_url;
    if (ra) lastReturnUrl.set(id, ra);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      `<!doctype html><html><head><title>3-D Secure test page</title></head><body>` +
        `<h1>Sandbox bank: authenticate ${escapeHtml(pi.amount.toString())} ${escapeHtml(pi.currency.toUpperCase())}</h1>` +
        `<form method="post"><input type="hidden" name="result" value="approve"><button id="approve" type="submit">Complete authentication</button></form>` +
        `<form method="post"><input type="hidden" name="result" value="decline"><button id="decline" type="submit">Fail authentication</button></form>` +
        `</body></html>`,
    );
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  return {
    url: baseUrl,
    host,
    port: address.port,
    secretKey,
    publishableKey,
    account,
    billing,
    balance: balance.controls,
    webhooks,
    faults,
    get requestCount() {
      return requestCount;
    },
    completeThreeDSecure: (id, outcome) => void account.completeThreeDSecure(id, outcome),
    dashboard: {
      refund: (id, amount) => account.createRefund({ payment_intent: id, ...(amount !== undefined ? { amount: String(amount) } : {}) }, null),
      dispute: (id, reason) => account.createDispute(id, reason),
    },
    async close() {
      await webhooks.idle();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The path and query of a request target. */
interface Target {
  pathname: string;
  /** The query with its leading `?`, or empty. */
  search: string;
}

/** Splits an origin-form target (`/v1/x?y`) without building a URL object per request. */
function targetOf(raw: string): Target {
  if (!raw.startsWith('/')) {
    const url = new URL(raw, 'http://sandbox');
    return { pathname: url.pathname, search: url.search };
  }
  const q = raw.indexOf('?');
  return q < 0 ? { pathname: raw, search: '' } : { pathname: raw.slice(0, q), search: raw.slice(q) };
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function apiKeyOf(req: IncomingMessage): string | null {
  const auth = headerOf(req, 'authorization');
  if (!auth) return null;
  if (auth.startsWith('Bearer ')) return auth.slice(7).trim();
  if (auth.startsWith('Basic ')) return Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0] ?? null;
  return null;
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string>): void {
  sendRaw(res, status, JSON.stringify(payload, null, 2), headers);
}

function sendRaw(res: ServerResponse, status: number, text: string, headers: Record<string, string>, fault?: HttpFault): void {
  if (fault?.kind === 'drop') {
    // The work is done but the client never hears back: a lost response.
    res.socket?.destroy();
    return;
  }
  const write = () => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  if (fault?.kind === 'delay') setTimeout(write, fault.delayMs ?? 1000);
  else write();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
