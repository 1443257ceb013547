/**
 * The simulation-mode demo checkout at `GET /demo`: a Fiuu seamless checkout through the
 * `@tender/fiuu` browser bundle, a card payment through the Stripe sandbox, PayPal through the
 * PayPal sandbox's approval page, and UPI through a QR code the Razorpay sandbox's "UPI app" page
 * pays. It acts for the merchant `demo` without a token, so it is only ever mounted in simulation
 * mode (sandboxes only).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TenderError, type Payment, type Tender } from '@tender/core';
import { seamlessConfigResponse } from '@tender/fiuu';
import express, { Router } from 'express';
import { asTenderError, badRequest, sendError } from './errors';
import { parseJsonText } from './json-body';
import { paymentJson } from './serialize';
import type { LiveStatus } from './live';

/** Merchant id the demo acts for. */
export const DEMO_MERCHANT = 'demo';

/** Finds the IIFE bundle of `@tender/fiuu` (built by its tsup config). */
export function fiuuBrowserBundlePath(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const file = join(dirname(require.resolve('@tender/fiuu/package.json')), 'dist', 'browser', 'tender-fiuu.iife.js');
    return existsSync(file) ? file : null;
  } catch {
    return null;
  }
}

const STRIPE_CARDS = [
  ['pm_card_visa', 'Visa 4242 (succeeds)'],
  ['pm_card_mastercard', 'Mastercard 4444 (succeeds)'],
  ['pm_card_chargeDeclined', 'Visa 0002 (declined)'],
  ['pm_card_chargeDeclinedInsufficientFunds', 'Visa 9995 (insufficient funds)'],
  ['pm_card_authenticationRequired', 'Visa 3184 (3-D Secure)'],
] as const;

function page(nonce: string): string {
  const options = STRIPE_CARDS.map(([v, l]) => `<option value="${v}">${l}</option>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Tender demo checkout (simulation)</title>
<style nonce="${nonce}">body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border:1px solid #ccc;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}label{display:block;margin:.4rem 0}
button{padding:.5rem 1rem;font-size:1rem}pre{background:#f5f5f5;padding:.6rem;overflow:auto;font-size:.8rem}.banner{background:#fff3cd;padding:.6rem;border-radius:6px}code{word-break:break-all}</style>
</head><body>
<h1>Tender demo checkout</h1>
<p class="banner"><strong>Simulation mode.</strong> Payments go to local sandboxes of Fiuu, Stripe, PayPal and Razorpay (UPI); no money moves.</p>
<section><h2>Fiuu seamless (FPX, e-wallets)</h2>
<label>Amount (MYR) <input id="fiuu-amount" value="10.00"></label>
<label>Channel <select id="fiuu-method"><option>FPX</option><option>GRABPAY</option><option>TNG</option><option>BOOST</option><option>SHOPEEPAY</option></select></label>
<button id="fiuu-pay">Pay with Fiuu</button>
<p>Status: <strong id="fiuu-status">-</strong></p><pre id="fiuu-out"></pre></section>
<section><h2>Card (Stripe sandbox)</h2>
<label>Amount (MYR) <input id="stripe-amount" value="25.00"></label>
<label>Test card <select id="stripe-card">${options}</select></label>
<button id="stripe-pay">Pay by card</button>
<p>Status: <strong id="stripe-status">-</strong></p><p id="stripe-action"></p><pre id="stripe-out"></pre></section>
<section><h2>PayPal (PayPal sandbox)</h2>
<label>Amount (USD) <input id="paypal-amount" value="15.00"></label>
<button id="paypal-pay">Pay with PayPal</button>
<p>Status: <strong id="paypal-status">-</strong></p><pre id="paypal-out"></pre></section>
<section><h2>UPI (Razorpay sandbox)</h2>
<label>Amount (INR) <input id="upi-amount" value="100.00"></label>
<button id="upi-pay">Pay with UPI</button>
<p>Status: <strong id="upi-status">-</strong></p>
<div id="upi-qr-box" hidden><p>Scan with any UPI app, or <a id="upi-app" target="_blank" rel="opener">open the sandbox UPI app</a>.</p>
<img id="upi-qr" alt="UPI QR code" width="240" height="240"><p><code id="upi-link"></code></p><p>Expires at <span id="upi-expires"></span></p></div>
<pre id="upi-out"></pre></section>
<script src="/demo/tender-fiuu.iife.js"></script>
<script nonce="${nonce}">
(function(){
  var $ = function(id){ return document.getElementById(id); };
  function show(prefix, payment){ $(prefix+'-status').textContent = payment.status; $(prefix+'-out').textContent = JSON.stringify(payment, null, 2); }
  function poll(prefix, id, done){
    var tries = 0;
    (function next(){
      fetch('/demo/api/payments/' + encodeURIComponent(id)).then(function(r){ return r.json(); }).then(function(p){
        show(prefix, p);
        if ((p.status === 'REQUIRES_ACTION' || p.status === 'PROCESSING' || p.status === 'PENDING') && ++tries < 120) setTimeout(next, 1000);
        else if (done) done(p);
      });
    })();
  }
  // Follows the payment over its live stream (the bundle's watchPayment: Server-Sent Events, polling
  // the status route if the stream fails); without the bundle, by polling.
  function watch(prefix, id, done){
    if (!window.TenderFiuu || !window.TenderFiuu.watchPayment) return poll(prefix, id, done);
    var base = '/demo/api/payments/' + encodeURIComponent(id);
    window.TenderFiuu.watchPayment({ events: base + '/events', status: base, onUpdate: function(p){ show(prefix, p); }, timeoutMs: 120000 })
      .then(function(p){ if (done) done(p); }, function(){ poll(prefix, id, done); });
  }
  function start(path, body){
    return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(function(r){ return r.json(); });
  }
  $('paypal-pay').onclick = function(){
    $('paypal-status').textContent = 'creating the order...';
    // Opened now, inside the click, so no pop-up blocker stops it; pointed at PayPal once the order exists.
    var popup = window.open('about:blank', 'tender-paypal', 'width=480,height=640');
    start('/demo/api/paypal', { amount: $('paypal-amount').value }).then(function(p){
      if (p.error) { $('paypal-status').textContent = 'error: ' + p.error.message; if (popup) popup.close(); return; }
      show('paypal', p);
      if (p.next_action && p.next_action.url) {
        if (popup) popup.location.href = p.next_action.url; else window.location.href = p.next_action.url;
        $('paypal-status').textContent = 'waiting for the buyer to approve at PayPal...';
      }
      watch('paypal', p.id);
    });
  };
  $('upi-pay').onclick = function(){
    $('upi-status').textContent = 'creating the payment...'; $('upi-qr-box').hidden = true;
    start('/demo/api/upi', { amount: $('upi-amount').value }).then(function(p){
      if (p.error) { $('upi-status').textContent = 'error: ' + p.error.message; return; }
      show('upi', p);
      if (p.qr_code) {
        $('upi-qr').src = p.qr_code; $('upi-link').textContent = p.payment_url; $('upi-expires').textContent = p.expires_at || '-';
        $('upi-app').href = '/demo/upi/app/' + encodeURIComponent(p.id); $('upi-qr-box').hidden = false;
      }
      watch('upi', p.id, function(){ $('upi-qr-box').hidden = true; });
    });
  };
  $('fiuu-pay').onclick = function(){
    if (!window.TenderFiuu) { $('fiuu-status').textContent = 'browser bundle missing: build @tender/fiuu'; return; }
    $('fiuu-status').textContent = 'waiting for the customer...';
    window.TenderFiuu.checkout({ config: '/demo/api/fiuu/config', params: { amount: $('fiuu-amount').value, payment_method: $('fiuu-method').value, order_id: 'DEMO-' + Date.now() } })
      .then(function(result){ $('fiuu-status').textContent = result.status; if (result.paymentId) watch('fiuu', result.paymentId); })
      .catch(function(error){ $('fiuu-status').textContent = 'error: ' + error.message; });
  };
  $('stripe-pay').onclick = function(){
    $('stripe-status').textContent = 'paying...'; $('stripe-action').textContent = '';
    fetch('/demo/api/stripe', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: $('stripe-amount').value, payment_method: $('stripe-card').value }) })
      .then(function(r){ return r.json(); })
      .then(function(p){
        if (p.error) { $('stripe-status').textContent = 'error: ' + p.error.message; return; }
        show('stripe', p);
        if (p.next_action && p.next_action.url) {
          var a = document.createElement('a'); a.href = p.next_action.url; a.target = '_blank'; a.textContent = 'Complete 3-D Secure';
          $('stripe-action').appendChild(a); watch('stripe', p.id);
        }
      });
  };
})();
</script></body></html>`;
}

/** Options of {@link createDemoRouter}. */
export interface DemoOptions {
  publicUrl: string;
  /** The sandbox's "UPI app" page for a UPI payment (simulation mode), or null when there is none. */
  upiAppUrl?: (payment: Payment) => string | null;
  /** Live status, for the page's stream of a demo payment (`/demo/api/payments/{id}/events`). */
  live?: LiveStatus;
}

function demoBody(req: { body?: unknown }): Record<string, unknown> {
  const parsed = parseJsonText(typeof req.body === 'string' && req.body ? req.body : '{}');
  // `null`, an array, a string or a number is no order: refused, rather than read (a 500 for null)
  // or charged with the defaults.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('invalid_body', 'The request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** The demo routes (`/demo`, `/demo/api/*`, `/demo/tender-fiuu.iife.js`). */
export function createDemoRouter(tender: Tender, options: DemoOptions): Router {
  const router = Router();
  const bundle = fiuuBrowserBundlePath();
  router.get('/demo', (_req, res) => {
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Security-Policy', `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self' data:; connect-src 'self'; form-action *; frame-ancestors 'none'`);
    res.type('html').send(page(nonce));
  });
  router.get('/demo/tender-fiuu.iife.js', (_req, res) => {
    if (!bundle) {
      res.status(404).type('text/plain').send('// @tender/fiuu browser bundle not built: run its build (tsup)');
      return;
    }
    res.type('application/javascript').send(readFileSync(bundle));
  });
  router.get('/demo/api/fiuu/config', async (req, res) => {
    try {
      const q = req.query as Record<string, unknown>;
      const str = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
      const payment = await tender.payments.create(
        {
          amount: str('amount') ?? '10.00',
          currency: 'MYR',
          gateway: 'fiuu',
          paymentMethod: str('payment_method') ?? 'FPX',
          orderId: str('order_id') ?? `DEMO-${Date.now()}`,
          description: 'Tender demo order',
          customer: { name: 'Demo Customer', email: 'demo@example.com', phone: '+60123456789' },
          returnUrl: `${options.publicUrl}/api/v1/payments/fiuu/return`,
        },
        { merchantId: DEMO_MERCHANT },
      );
      res.json(seamlessConfigResponse(payment));
    } catch (error) {
      const e = asTenderError(error);
      sendError(res, e, { status: false, error_code: e.code, error_desc: e.message });
    }
  });
  router.post('/demo/api/stripe', express.text({ type: () => true, limit: '10kb' }), async (req, res) => {
    try {
      const body = demoBody(req);
      const payment = await tender.payments.create(
        {
          amount: typeof body.amount === 'string' ? body.amount : '25.00',
          currency: 'MYR',
          gateway: 'stripe',
          paymentMethod: typeof body.payment_method === 'string' && body.payment_method.startsWith('pm_card_') ? body.payment_method : 'pm_card_visa',
          orderId: `DEMO-CARD-${Date.now()}`,
          returnUrl: `${options.publicUrl}/demo`,
        },
        { merchantId: DEMO_MERCHANT },
      );
      res.status(201).json(paymentJson(payment));
    } catch (error) {
      sendError(res, asTenderError(error));
    }
  });
  router.post('/demo/api/paypal', express.text({ type: () => true, limit: '10kb' }), async (req, res) => {
    try {
      const body = demoBody(req);
      const payment = await tender.payments.create(
        {
          amount: typeof body.amount === 'string' ? body.amount : '15.00',
          currency: 'USD',
          gateway: 'paypal',
          paymentMethod: 'paypal',
          orderId: `DEMO-PAYPAL-${Date.now()}`,
          description: 'Tender demo order',
          returnUrl: `${options.publicUrl}/demo/return`,
        },
        { merchantId: DEMO_MERCHANT },
      );
      res.status(201).json(paymentJson(payment));
    } catch (error) {
      sendError(res, asTenderError(error));
    }
  });
  router.post('/demo/api/upi', express.text({ type: () => true, limit: '10kb' }), async (req, res) => {
    try {
      const body = demoBody(req);
      const payment = await tender.payments.create(
        {
          amount: typeof body.amount === 'string' ? body.amount : '100.00',
          currency: 'INR',
          gateway: 'upi',
          paymentMethod: 'upi',
          orderId: `DEMO-UPI-${Date.now()}`,
          description: 'Tender demo order',
          customer: { name: 'Demo Customer', email: 'demo@example.com', phone: '+919876543210' },
        },
        { merchantId: DEMO_MERCHANT },
      );
      res.status(201).json(paymentJson(payment));
    } catch (error) {
      sendError(res, asTenderError(error));
    }
  });
  // Where the demo's "open the sandbox UPI app" link goes: the sandbox's page for this payment.
  router.get('/demo/upi/app/:id', async (req, res) => {
    try {
      const payment = await tender.payments.get(String(req.params.id).slice(0, 64), { merchantId: DEMO_MERCHANT });
      const target = options.upiAppUrl?.(payment) ?? null;
      if (!target) throw badRequest('no_upi_app', 'This payment has no sandbox UPI app page');
      res.redirect(303, target);
    } catch (error) {
      sendError(res, asTenderError(error));
    }
  });
  // The buyer's landing page after PayPal's approval page (the payment's return URL).
  router.get('/demo/return', (_req, res) => {
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'`);
    res.type('html').send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Back from PayPal</title></head><body><p id="back">Thanks: the demo page shows the payment's status. You can close this window.</p><script nonce="${nonce}">if (window.opener) setTimeout(function(){ window.close(); }, 500);</script></body></html>`,
    );
  });
  // The live stream of a demo payment, for the page (which has no token): the API's own stream, for
  // the demo merchant.
  router.get('/demo/api/payments/:id/events', async (req, res) => {
    try {
      if (!options.live) throw new TenderError({ type: 'not_found_error', code: 'route_not_found', message: 'Live status is not enabled for the demo' });
      await options.live.eventStream(req, res, { merchantId: DEMO_MERCHANT, paymentId: String(req.params.id).slice(0, 64) });
    } catch (error) {
      if (!res.headersSent) sendError(res, asTenderError(error));
    }
  });
  router.get('/demo/api/payments/:id', async (req, res) => {
    try {
      // A status poll: the gateway is asked (at most every 2 s per payment) so the page follows the
      // payment without waiting for a webhook; only the gateway's answer can change it.
      res.json(paymentJson(await tender.payments.sync(String(req.params.id).slice(0, 64), { merchantId: DEMO_MERCHANT })));
    } catch (error) {
      sendError(res, asTenderError(error));
    }
  });
  return router;
}
