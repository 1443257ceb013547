/**
 * The sandbox's HTTP face: PayPal's REST routes (OAuth 2.0, Orders v2, Payments v2, webhook
 * verification and certificates), Bearer tokens that expire, `PayPal-Request-Id` replay,
 * `PayPal-Mock-Response` negative testing (https://developer.paypal.com/tools/sandbox/negative-testing/request-headers/),
 * HTTP faults, and a buyer-approval page at the orders' approve links.
 *
 * @module
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomBytes, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { retentionLimit, setBounded } from '@tender/core';
import { SandboxFaultQueue, type SandboxFaultMatch } from '@tender/core/testing';
import type { PayPalCertTrust } from '../config';
import { paypalSignedMessage } from '../signature';
import { createSandboxCertificates, type SandboxCertificates } from './certs';
import { SandboxReporting, type SandboxReportingControls, type SandboxReportingOptions } from './reporting';
import { DEFAULT_RETENTION, SandboxAccount, SandboxError, type SandboxRetention } from './state';
import { WebhookSender, type SandboxWebhookConfig } from './webhook-sender';

/** Options of {@link startPayPalSandbox}. */
export interface PayPalSandboxOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** REST app credentials clients must present (defaults: `sandbox-client-<random hex>` / `sandbox-client-secret`). */
  clientId?: string;
  clientSecret?: string;
  /** The webhook id signed into every delivery (default `TENDERSANDBOXWEBHOOK`). */
  webhookId?: string;
  /** Where to deliver signed webhooks; can be set later with `webhooks.configure`. */
  webhook?: SandboxWebhookConfig;
  /** Access-token lifetime in seconds (default 32400, PayPal's usual). */
  tokenTtlSeconds?: number;
  /** How many objects, events and request ids are kept. */
  retention?: SandboxRetention;
  /**
   * Also listen with TLS (certificate for `api-m.sandbox.paypal.com` from the sandbox CA), for
   * clients that only talk to PayPal's hosts; see `tlsPort` and `certificates.ca`.
   */
  tls?: boolean;
  /** Certificates to use (default: made once per process). */
  certificates?: SandboxCertificates;
  /** Transaction Search (`GET /v1/reporting/transactions`) settings. */
  reporting?: SandboxReportingOptions;
}

/** A fault applied to the next matching API requests. */
export interface HttpFault extends SandboxFaultMatch {
  /** `error`: answer `status` without acting; `drop`: act, then close the socket unanswered; `delay`: act, answer after `delayMs`. */
  kind: 'error' | 'drop' | 'delay';
  status?: number;
  delayMs?: number;
}

/** One API request the sandbox served (for tests). */
export interface RequestRecord {
  method: string;
  path: string;
  requestId: string | null;
  status: number;
}

/** A running sandbox. */
export interface PayPalSandbox {
  /** Base URL, e.g. `http://127.0.0.1:54321`: the gateway's `baseUrl`. */
  readonly url: string;
  readonly port: number;
  /** TLS port when started with `tls: true`. */
  readonly tlsPort: number | null;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookId: string;
  /** The URL the signing certificate is served at (sent in `PAYPAL-CERT-URL`). */
  readonly certUrl: string;
  /** Pass as the gateway's `certTrust` so it trusts this sandbox's certificate (simulation only). */
  readonly certTrust: PayPalCertTrust;
  readonly certificates: SandboxCertificates;
  /** Orders, authorizations, captures, refunds. */
  readonly account: SandboxAccount;
  /** Outgoing webhooks: configure, hold / release, faults, idle(), sign(). */
  readonly webhooks: WebhookSender;
  /** Transaction Search (`GET /v1/reporting/transactions`) rows, and controls to plant mismatches. */
  readonly reporting: SandboxReportingControls;
  /** API faults. */
  readonly faults: SandboxFaultQueue<HttpFault>;
  /** The latest API requests served (bounded). */
  readonly requests: readonly RequestRecord[];
  /** Number of tokens issued. */
  readonly tokensIssued: number;
  /** Makes every issued token invalid (the next API call answers 401). */
  expireTokens(): void;
  /** The buyer approves (as the approval page does); `declines: true` makes capture answer INSTRUMENT_DECLINED. */
  approve(orderId: string, options?: { declines?: boolean }): void;
  /** Actions made in PayPal's dashboard, outside the API client. */
  readonly dashboard: {
    refund(captureId: string, value?: string): Record<string, unknown>;
    dispute(captureId: string, reason?: string): Record<string, unknown>;
  };
  close(): Promise<void>;
}

let defaultCertificates: SandboxCertificates | undefined;

const MAX_BODY = 1024 * 1024;
const MOCK_STATUS: Record<string, number> = { INTERNAL_SERVER_ERROR: 500, RATE_LIMIT_REACHED: 429, PERMISSION_DENIED: 403, NOT_AUTHORIZED: 403, INVALID_RESOURCE_ID: 404 };

/** Starts a fake PayPal on loopback. */
export async function startPayPalSandbox(options: PayPalSandboxOptions = {}): Promise<PayPalSandbox> {
  // Unique per sandbox by default, so token caches never mix two sandboxes that reused one port.
  const clientId = options.clientId ?? `sandbox-client-${randomBytes(6).toString('hex')}`;
  const clientSecret = options.clientSecret ?? 'sandbox-client-secret';
  const webhookId = options.webhookId ?? 'TENDERSANDBOXWEBHOOK';
  const tokenTtl = options.tokenTtlSeconds ?? 32_400;
  const certificates = options.certificates ?? (defaultCertificates ??= createSandboxCertificates());
  const host = options.host ?? '127.0.0.1';
  const retention = {
    requestIds: retentionLimit(options.retention?.requestIds, DEFAULT_RETENTION.requestIds, 'retention.requestIds'),
    events: retentionLimit(options.retention?.events, DEFAULT_RETENTION.events, 'retention.events'),
  };
  let baseUrl = '';
  const certId = `CERT-360caa42-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
  const certPath = `/v1/notifications/certs/${certId}`;
  const account = new SandboxAccount(() => baseUrl, options.retention);
  const reporting = new SandboxReporting(account, options.reporting);
  const webhooks = new WebhookSender(options.webhook ?? null, { webhookId, certUrl: () => baseUrl + certPath, privateKeyPem: certificates.signing.privateKeyPem }, retention.events);
  account.onEvent((event) => webhooks.emit(event));
  const tokens = new Map<string, number>();
  const replies = new Map<string, { status: number; body: string }>();
  const faults = new SandboxFaultQueue<HttpFault>();
  const requests: RequestRecord[] = [];
  let tokensIssued = 0;
  const signingCert = new X509Certificate(certificates.signing.certificatePem);

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, { name: 'INTERNAL_SERVER_ERROR', message: `Sandbox failure: ${(error as Error).message}`, debug_id: debugId() });
      });
    });
  };
  const server: Server = createHttpServer(listener);
  server.keepAliveTimeout = 60_000;
  const tlsServer = options.tls ? createHttpsServer({ key: certificates.tls.privateKeyPem, cert: certificates.tls.certificatePem }, listener) : null;

  function debugId(): string {
    return randomBytes(7).toString('hex');
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'paypal-debug-id': debugId(), ...headers, ...(text ? {} : { 'content-length': '0' }) });
    res.end(text);
  }

  function record(method: string, path: string, requestId: string | null, status: number) {
    requests.push({ method, path, requestId, status });
    if (requests.length > 2 * retention.events) requests.splice(0, requests.length - retention.events);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (path === '/checkoutnow' || path === '/checkoutnow/approve') return approvalPage(req, res, url, body);
    if (method === 'GET' && path === certPath) {
      record(method, path, null, 200);
      res.writeHead(200, { 'content-type': 'application/x-pem-file' });
      res.end(certificates.signing.certificatePem + certificates.ca.certificatePem);
      return;
    }
    const requestId = header(req, 'paypal-request-id');
    const signature = `${method} ${path}`;
    const fault = faults.take(signature);
    if (fault?.kind === 'error') {
      const status = fault.status ?? 500;
      record(method, path, requestId, status);
      return send(res, status, { name: status === 429 ? 'RATE_LIMIT_REACHED' : 'INTERNAL_SERVER_ERROR', message: 'Injected fault', debug_id: debugId() });
    }
    const answer = await route(req, method, path, body, requestId);
    record(method, path, requestId, answer.status);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.delayMs ?? 100));
    res.writeHead(answer.status, { 'content-type': 'application/json', 'paypal-debug-id': debugId(), ...(answer.body ? {} : { 'content-length': '0' }) });
    res.end(answer.body);
  }

  async function route(req: IncomingMessage, method: string, path: string, raw: string, requestId: string | null): Promise<{ status: number; body: string }> {
    if (method === 'POST' && path === '/v1/oauth2/token') return token(req, raw);
    const auth = header(req, 'authorization');
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
    const expiry = bearer ? tokens.get(bearer) : undefined;
    if (expiry === undefined || expiry < Date.now()) {
      return { status: 401, body: JSON.stringify(bearer ? { error: 'invalid_token', error_description: expiry === undefined ? 'Token signature verification failed' : 'Access Token expired' } : { name: 'AUTHENTICATION_FAILURE', message: 'Authentication failed due to invalid authentication credentials or a missing Authorization header.', debug_id: debugId(), links: [{ href: 'https://developer.paypal.com/api/rest/authentication/', rel: 'information_link' }] }) };
    }
    const ledgerKey = method === 'POST' && requestId ? `${path}\n${requestId}` : null;
    if (ledgerKey) {
      const previous = replies.get(ledgerKey);
      // PayPal answers a repeated PayPal-Request-Id with the first call's result.
      if (previous) return { status: previous.status === 201 ? 200 : previous.status, body: previous.body };
    }
    let answer: { status: number; body: string };
    try {
      const mock = mockCode(req);
      if (mock) throw new SandboxError(MOCK_STATUS[mock] ?? 422, MOCK_STATUS[mock] === 500 ? 'INTERNAL_SERVER_ERROR' : MOCK_STATUS[mock] === 429 ? 'RATE_LIMIT_REACHED' : 'UNPROCESSABLE_ENTITY', mock, 'The requested action could not be performed, semantically incorrect, or failed business validation.');
      let body: Record<string, unknown> = {};
      if (method === 'POST' && raw.trim() !== '') {
        try {
          const parsed: unknown = JSON.parse(raw);
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
          body = parsed as Record<string, unknown>;
        } catch {
          throw new SandboxError(400, 'INVALID_REQUEST', 'MALFORMED_REQUEST_JSON', 'Request is not well-formed, syntactically incorrect, or violates schema.');
        }
      }
      answer =
        method === 'GET' && path === '/v1/reporting/transactions'
          ? { status: 200, body: JSON.stringify(reporting.search(new URL(req.url ?? '/', 'http://sandbox.invalid').searchParams)) }
          : api(method, path, body, header(req, 'prefer'));
    } catch (error) {
      if (!(error instanceof SandboxError)) throw error;
      answer = { status: error.status, body: JSON.stringify(error.body(debugId())) };
    }
    // Business answers are kept for replay; server errors are not (a retry runs again).
    if (ledgerKey && answer.status < 500) setBounded(replies, ledgerKey, answer, retention.requestIds);
    return answer;
  }

  function api(method: string, path: string, body: Record<string, unknown>, prefer: string | null): { status: number; body: string } {
    const json = (status: number, value: unknown) => ({ status, body: JSON.stringify(value) });
    // `Prefer: return=minimal` is PayPal's default for these POSTs: id, status and HATEOAS links
    // (https://developer.paypal.com/api/rest/requests/#http-request-headers); `return=representation`
    // answers the whole object.
    const full = prefer?.includes('return=representation') === true;
    const minimal = (value: Record<string, unknown>) => (full ? value : { id: value.id, status: value.status, ...(value.payment_source ? { payment_source: value.payment_source } : {}), links: value.links });
    const seg = path.split('/').filter(Boolean);
    if (method === 'POST' && path === '/v1/notifications/verify-webhook-signature') return json(200, { verification_status: verifySignature(body) ? 'SUCCESS' : 'FAILURE' });
    if (seg[0] === 'v2' && seg[1] === 'checkout' && seg[2] === 'orders') {
      if (method === 'POST' && seg.length === 3) return json(201, minimal(account.createOrder(body)));
      const id = seg[3]!;
      if (method === 'GET' && seg.length === 4) return json(200, account.getOrder(id));
      if (method === 'POST' && seg.length === 5 && (seg[4] === 'capture' || seg[4] === 'authorize')) return json(201, account.completeOrder(id, seg[4]));
    }
    if (seg[0] === 'v2' && seg[1] === 'payments' && seg.length >= 4) {
      const [, , kind, id, action] = seg as [string, string, string, string, string | undefined];
      if (kind === 'authorizations') {
        if (method === 'GET' && !action) return json(200, account.getAuthorization(id));
        if (method === 'POST' && action === 'capture') return json(201, minimal(account.captureAuthorization(id, body)));
        if (method === 'POST' && action === 'void') {
          const voided = account.voidAuthorization(id);
          return full ? json(200, voided) : { status: 204, body: '' };
        }
      }
      if (kind === 'captures') {
        if (method === 'GET' && !action) return json(200, account.getCapture(id));
        if (method === 'POST' && action === 'refund') return json(201, minimal(account.refundCapture(id, body)));
      }
      if (kind === 'refunds' && method === 'GET' && !action) return json(200, account.getRefund(id));
    }
    throw new SandboxError(404, 'RESOURCE_NOT_FOUND', 'INVALID_RESOURCE_ID', `No route ${method} ${path}`);
  }

  function token(req: IncomingMessage, raw: string): { status: number; body: string } {
    const auth = header(req, 'authorization');
    const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    if (auth !== expected) return { status: 401, body: JSON.stringify({ error: 'invalid_client', error_description: 'Client Authentication failed' }) };
    if (new URLSearchParams(raw).get('grant_type') !== 'client_credentials') {
      return { status: 400, body: JSON.stringify({ error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' }) };
    }
    const accessToken = `A21AA${randomBytes(24).toString('base64url')}`;
    setBounded(tokens, accessToken, Date.now() + tokenTtl * 1000, 10_000);
    tokensIssued++;
    return {
      status: 200,
      body: JSON.stringify({
        scope: 'https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/applications/verify-webhook-signature',
        access_token: accessToken,
        token_type: 'Bearer',
        app_id: 'APP-80W284485P519543T',
        expires_in: tokenTtl,
        nonce: `${new Date().toISOString()}${randomBytes(8).toString('hex')}`,
      }),
    };
  }

  function verifySignature(body: Record<string, unknown>): boolean {
    const { auth_algo, cert_url, transmission_id, transmission_sig, transmission_time, webhook_id, webhook_event } = body as Record<string, string | undefined>;
    if (auth_algo !== 'SHA256withRSA' || cert_url !== baseUrl + certPath || webhook_id !== webhookId || !transmission_id || !transmission_sig || !transmission_time || webhook_event === undefined) return false;
    const message = paypalSignedMessage(transmission_id, transmission_time, webhook_id, Buffer.from(JSON.stringify(webhook_event)));
    try {
      return cryptoVerify('sha256', Buffer.from(message), signingCert.publicKey, Buffer.from(transmission_sig, 'base64'));
    } catch {
      return false;
    }
  }

  function approvalPage(req: IncomingMessage, res: ServerResponse, url: URL, body: string): void {
    const html = (status: number, content: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`<!doctype html><html><head><meta charset="utf-8"><title>PayPal sandbox checkout</title></head><body style="font-family:sans-serif;max-width:30em;margin:2em auto">${content}</body></html>`);
    };
    if (req.method === 'GET') {
      const orderId = url.searchParams.get('token') ?? '';
      const order = account.orders.get(orderId);
      if (!order) return html(404, '<h1>Order not found</h1>');
      if (order.status !== 'CREATED' && order.status !== 'PAYER_ACTION_REQUIRED') return html(409, `<h1>This order is ${escape(order.status)}</h1>`);
      return html(
        200,
        `<h1>PayPal sandbox</h1><p>Fake PayPal: no real money moves.</p>
<p id="amount">Pay <strong>${escape(order.unit.amount.value)} ${escape(order.unit.amount.currency_code)}</strong>${order.experience?.brand_name ? ` to ${escape(order.experience.brand_name)}` : ''}</p>
<form method="post" action="/checkoutnow/approve"><input type="hidden" name="token" value="${escape(order.id)}">
<button id="approve" name="action" value="approve">Approve</button>
<button id="decline" name="action" value="decline">Approve with a card that declines</button>
<button id="cancel" name="action" value="cancel">Cancel and return</button></form>`,
      );
    }
    if (req.method === 'POST') {
      const form = new URLSearchParams(body);
      const orderId = form.get('token') ?? '';
      const action = form.get('action');
      const order = account.orders.get(orderId);
      if (!order) return html(404, '<h1>Order not found</h1>');
      if (action === 'cancel') {
        const target = order.experience?.cancel_url;
        if (!target) return html(200, '<h1 id="result">Cancelled</h1>');
        res.writeHead(302, { location: withQuery(target, { token: order.id }) }).end();
        return;
      }
      if (order.status === 'CREATED' || order.status === 'PAYER_ACTION_REQUIRED') account.approve(order.id, { declines: action === 'decline' });
      const payerId = (order.payer as { payer_id?: string } | null)?.payer_id ?? '';
      const target = order.experience?.return_url;
      if (!target) return html(200, `<h1 id="result">Approved</h1><p>Order ${escape(order.id)}, payer ${escape(payerId)}.</p>`);
      res.writeHead(302, { location: withQuery(target, { token: order.id, PayerID: payerId }) }).end();
      return;
    }
    res.writeHead(405).end();
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host}:${port}`;
  let tlsPort: number | null = null;
  if (tlsServer) {
    await new Promise<void>((resolve) => tlsServer.listen(0, host, resolve));
    tlsPort = (tlsServer.address() as AddressInfo).port;
  }

  return {
    url: baseUrl,
    port,
    tlsPort,
    clientId,
    clientSecret,
    webhookId,
    certUrl: baseUrl + certPath,
    certTrust: Object.freeze({ hosts: Object.freeze([`${host}:${port}`]), caCertificatesPem: Object.freeze([certificates.ca.certificatePem]), allowHttpLoopback: true }),
    certificates,
    account,
    webhooks,
    reporting: reporting.controls,
    faults,
    requests,
    get tokensIssued() {
      return tokensIssued;
    },
    expireTokens: () => tokens.clear(),
    approve: (orderId, opts) => void account.approve(orderId, opts),
    dashboard: {
      refund: (captureId, value) => {
        const capture = account.captures.get(captureId);
        return account.refundCapture(captureId, value && capture ? { amount: { currency_code: capture.amount.currency_code, value } } : {});
      },
      dispute: (captureId, reason) => account.dispute(captureId, reason),
    },
    async close() {
      await webhooks.idle();
      const closing = [new Promise<void>((r) => server.close(() => r()))];
      if (tlsServer) closing.push(new Promise<void>((r) => tlsServer.close(() => r())));
      server.closeAllConnections();
      tlsServer?.closeAllConnections();
      await Promise.all(closing);
    },
  };
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? (value[0] ?? null) : null;
}

function mockCode(req: IncomingMessage): string | null {
  const raw = header(req, 'paypal-mock-response');
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as { mock_application_codes?: unknown };
    return typeof parsed.mock_application_codes === 'string' ? parsed.mock_application_codes : null;
  } catch {
    return null;
  }
}

function withQuery(target: string, params: Record<string, string>): string {
  const url = new URL(target);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

