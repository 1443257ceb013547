/**
 * The operator dashboard (`/dashboard`, packages/dashboard) in Chromium against a real server: the
 * REST API over an engine on the Stripe sandbox, the webhook workers delivering to a receiver on
 * loopback, data seeded through the API. Each page shows that data; capture, refund, redeliver and
 * review act through the API and are checked over it; a token without a scope does not see the
 * action. Screenshots go to `test-output/` (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { MemoryVelocityStore, createHttpTransport, createRiskEngine, createTender, parseRiskConfig, type HttpTransport } from '@tender/core';
import { FakeClock, MemoryStore } from '@tender/core/testing';
import { createStripeGateway } from '@tender/stripe';
import { startStripeSandbox, type StripeSandbox } from '@tender/stripe/sandbox';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { signToken } from '../src/auth';
import { DASHBOARD_CSP, dashboardDistPath } from '../src/dashboard';
import { createLogger } from '../src/logging';
import { startWorkers, type Workers } from '../src/workers';
import { listen, SECRET } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const DAY = '2026-03-02';
const NOON = Date.parse(`${DAY}T12:00:00Z`) / 1000;
const ALL_SCOPES = ['payments:read', 'payments:write', 'refunds:write', 'admin:read', 'admin:write'];
const SHOTS = join(process.cwd(), 'test-output');
// Payments over 500 USD are held for review.
const RISK_RULES = ['block_threshold: 90', 'review_threshold: 50', 'rules:', '  - { id: big, type: amount_above, amount_above: { USD: "500" }, score: 60 }'].join('\n');

type Json = Record<string, any>;

describe.skipIf(!existsSync(CHROMIUM) && process.env.TENDER_REQUIRE_CHROMIUM !== '1')('the /dashboard app in Chromium', () => {
  let sandbox: StripeSandbox;
  let transport: HttpTransport;
  let workers: Workers;
  let browser: Browser;
  let receiver: Server;
  /** The app as simulation mode serves it (its dev token handed out) and as elsewhere (sign-in form). */
  let simUrl: string;
  let plainUrl: string;
  const closers: Array<() => void> = [];
  let token: string;
  /** Event ids the receiver got, in order (a redelivery repeats one). */
  const received: string[] = [];
  let failDeclined = true;
  /** The API's paths, from its OpenAPI document: pages of routes other helpers add check for them. */
  let paths: Set<string>;
  const seeded: Record<'refundable' | 'authorized' | 'mismatched' | 'declined' | 'held1' | 'held2', Json> = {} as never;

  const call = async (method: string, path: string, body?: unknown, as = token): Promise<Json> => {
    const res = await fetch(`${simUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${as}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as Json;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  beforeAll(async () => {
    // The suite runs from sources; the app is the one thing that must be built (CI's `npm test` builds it first).
    if (!existsSync(join(dashboardDistPath(), 'index.html'))) {
      execFileSync('npx', ['vite', 'build'], { cwd: fileURLToPath(new URL('../../dashboard', import.meta.url)), stdio: 'ignore' });
    }
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        // The declined payment's events fail (HTTP 500) until the webhooks test lets them through:
        // one attempt (maxAttempts below) and they are dead, a failed delivery the event list shows.
        if (failDeclined && body.includes('ORD-DECLINED')) {
          res.writeHead(500).end('down');
          return;
        }
        try {
          received.push((JSON.parse(body) as { id: string }).id);
        } catch {
          /* not an event */
        }
        res.writeHead(200).end('ok');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await new Promise((r) => receiver.once('listening', r));

    sandbox = await startStripeSandbox();
    transport = createHttpTransport({ gateway: 'stripe', retry: { attempts: 1 } });
    const clock = new FakeClock(`${DAY}T12:00:00.000Z`);
    const store = new MemoryStore();
    const risk = createRiskEngine({ config: parseRiskConfig(RISK_RULES), velocity: new MemoryVelocityStore(), store, clock });
    const tender = createTender({ gateways: [createStripeGateway({ secretKey: sandbox.secretKey, baseUrl: sandbox.url, transport })], store, clock, risk });
    const logger = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    token = await signToken({ secret: SECRET, merchantId: 'm1', scopes: ALL_SCOPES });
    const base = { auth: { secret: SECRET }, rateLimit: false as const, logger, webhookEndpoints: { allowPrivateNetworks: true } };
    for (const dashboard of [{ devToken: token }, {}]) {
      const server = await listen(createApp(tender, { ...base, dashboard }));
      closers.push(() => {
        server.server.closeAllConnections();
        server.server.close();
      });
      if (dashboard.devToken) simUrl = server.url;
      else plainUrl = server.url;
    }
    workers = startWorkers({ tender, logger, webhooks: { allowPrivateNetworks: true }, outbox: { intervalMs: 100, baseDelayMs: 100, maxAttempts: 1 } });

    await call('POST', '/webhook-endpoints', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, description: 'dashboard test receiver' });
    seeded.refundable = await call('POST', '/payments', { amount: '20.00', currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_visa', order_id: 'ORD-REFUND' });
    seeded.authorized = await call('POST', '/payments', { amount: '15.00', currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_visa', order_id: 'ORD-CAPTURE', capture_method: 'manual' });
    seeded.mismatched = await call('POST', '/payments', { amount: '30.00', currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_visa', order_id: 'ORD-MISMATCH' });
    seeded.declined = await call('POST', '/payments', { amount: '9.00', currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_chargeDeclined', order_id: 'ORD-DECLINED' });
    const refund = await call('POST', `/payments/${seeded.mismatched.id}/refund`, { amount: '5.00', reason: 'seeded' });
    expect([seeded.refundable.status, seeded.authorized.status, seeded.mismatched.status, seeded.declined.status]).toEqual(['CAPTURED', 'AUTHORIZED', 'CAPTURED', 'FAILED']);
    // The settlement report of DAY: the charges and the refund onto that day, one amount altered at Stripe.
    [seeded.refundable.gateway_reference, seeded.mismatched.gateway_reference, refund.gateway_reference].forEach((id, i) => sandbox.balance.moveTo(id as string, NOON + i * 60));
    sandbox.balance.alterAmount(seeded.mismatched.gateway_reference as string, 2950);
    clock.set('2026-03-03T12:00:00.000Z');
    // Held for review, on the next day (outside the settlement day and the analytics window).
    seeded.held1 = await call('POST', '/payments', { amount: '600.00', currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_visa', order_id: 'ORD-HELD-1' });
    seeded.held2 = await call('POST', '/payments', { amount: '700.00', currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_visa', order_id: 'ORD-HELD-2' });
    expect([seeded.held1.status, seeded.held2.status]).toEqual(['REQUIRES_REVIEW', 'REQUIRES_REVIEW']);

    paths = new Set(Object.keys(((await (await fetch(`${simUrl}/openapi.json`)).json()) as { paths: Json }).paths));
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await workers?.stop();
    for (const close of closers) close();
    receiver?.close();
    await sandbox?.close();
    await transport?.close();
  });

  /** A page of the simulation-mode app (signed in by its dev token), with the page's errors collected. */
  const open = async (hash: string, url = simUrl): Promise<{ page: Page; problems: string[] }> => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => {
      // A refused call logs "Failed to load resource"; the pages show those refusals and the tests assert them.
      if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push(m.text());
    });
    await page.goto(`${url}/dashboard#${hash}`);
    return { page, problems };
  };

  /** Controls without an accessible name (label, aria-label, or a button's text): none may exist. */
  const unnamedControls = (page: Page) =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('input, select, textarea, button'))
        .filter((el) => !((el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent?.trim())))
        .map((el) => el.outerHTML),
    );

  /** The names of the controls Tab reaches, in order, from the top of the page. */
  const tabOrder = async (page: Page, presses: number): Promise<string[]> => {
    const names: string[] = [];
    for (let i = 0; i < presses; i++) {
      await page.keyboard.press('Tab');
      names.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          if (!el) return '';
          // A wrapping label's own text, without the options of the select inside it.
          const label = (el as HTMLInputElement).labels?.[0]?.firstChild?.textContent?.trim();
          return label ?? el.getAttribute('aria-label') ?? el.textContent?.trim() ?? el.tagName;
        }),
      );
    }
    return names;
  };

  it('serves the built app under a CSP that allows only its own files and API; the dev token only where configured', async () => {
    const res = await fetch(`${simUrl}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect((await fetch(`${simUrl}${asset}`)).headers.get('cache-control')).toMatch(/immutable/);
    expect(await (await fetch(`${simUrl}/dashboard/session`)).json()).toEqual({ token });
    const none = await fetch(`${plainUrl}/dashboard/session`);
    expect(none.status).toBe(404);
    expect(((await none.json()) as Json).error.code).toBe('route_not_found');
  });

  it('payments: the seeded payments with filters, search and paging; every control named and reachable by Tab, focus visible', async () => {
    const { page, problems } = await open('/payments');
    const rows = page.locator('tbody tr[data-payment]');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(6);
    expect(await page.locator('[data-testid=merchant]').textContent()).toBe('m1');
    await page.getByLabel('Status').selectOption('FAILED');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator(`tr[data-payment="${seeded.declined.id}"]`).waitFor();
    expect(await rows.count()).toBe(1);
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Gateway').selectOption('paypal');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No payments match.').waitFor();
    await page.getByLabel('Gateway').selectOption('stripe');
    await page.getByLabel('Created from').fill(DAY);
    await page.getByLabel('Created to').fill(DAY);
    await page.getByLabel('Payment id or order id').fill('ORD-CAPTURE');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator(`tr[data-payment="${seeded.authorized.id}"]`).waitFor();
    expect(await rows.count()).toBe(1);
    await page.getByLabel('Payment id or order id').fill(seeded.mismatched.id);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator(`tr[data-payment="${seeded.mismatched.id}"]`).waitFor();
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    // Paging by the API's cursor: 5 per page, then the sixth, then back.
    await page.getByLabel('Payment id or order id').fill('');
    await page.getByLabel('Gateway').selectOption('');
    await page.getByLabel('Created from').fill('');
    await page.getByLabel('Created to').fill('');
    await page.getByLabel('Per page').selectOption('5');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count()).toBe(5);
    const firstPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-payment')));
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(firstPage).not.toContain(await rows.first().getAttribute('data-payment'));
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => rows.count()).toBe(5);
    expect(await page.locator('table thead th[scope=col]').count()).toBe(7);
    expect(await unnamedControls(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-payments.png'), fullPage: true });
    // Keyboard: from the top, Tab reaches the navigation, every filter and the Apply button.
    await page.reload();
    await rows.first().waitFor();
    await page.locator('body').focus();
    // (Chromium stops on each part of a date input: day, month, year.)
    const order = await tabOrder(page, 24);
    expect(order).toEqual(expect.arrayContaining(['Payments', 'Webhooks', 'Analytics', 'Status', 'Gateway', 'Apply']));
    expect(order.indexOf('Status')).toBeLessThan(order.indexOf('Apply'));
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a payment: its timeline from the audit trail; a partial refund from the page changes the payment (checked over the API)', async () => {
    const { page, problems } = await open(`/payments/${seeded.refundable.id}`);
    await page.locator('[data-testid=timeline] tbody tr').first().waitFor();
    const trail = (await call('GET', `/payments/${seeded.refundable.id}/transitions`)).data as Json[];
    expect(await page.locator('[data-testid=timeline] tbody tr').count()).toBe(trail.length);
    expect(await page.locator('[data-testid=timeline]').textContent()).toContain('CAPTURED');
    expect(await page.getByRole('button', { name: 'Capture' }).count()).toBe(0);
    await page.getByLabel('Amount').fill('7.00');
    await page.getByLabel('Reason').fill('customer asked');
    await page.getByRole('button', { name: 'Refund' }).click();
    await page.getByText('Refund: done.').waitFor();
    await page.locator('[data-testid=refunds] tbody tr').first().waitFor();
    expect(await page.locator('[data-testid=payment-status]').textContent()).toBe('PARTIALLY_REFUNDED');
    const after = await call('GET', `/payments/${seeded.refundable.id}`);
    expect(after).toMatchObject({ status: 'PARTIALLY_REFUNDED', amount_refunded: '7.00' });
    const refunds = (await call('GET', `/payments/${seeded.refundable.id}/refunds`)).data as Json[];
    expect(refunds).toEqual([expect.objectContaining({ amount: '7.00', reason: 'customer asked', status: 'SUCCEEDED' })]);
    expect(await page.locator('[data-testid=timeline] tbody tr').count()).toBeGreaterThan(trail.length);
    if (!paths.has('/api/v1/payments/{id}/disputes')) expect(await page.locator('[data-testid=not-available]').textContent()).toContain('Disputes are not available');
    else await page.getByText(/No disputes\.|Disputes of this payment/).first().waitFor();
    // Refunding more than is left: the API's refusal shown as it worded it, nothing changed.
    await page.getByLabel('Amount').fill('500.00');
    await page.getByRole('button', { name: 'Refund' }).click();
    const alert = page.locator('form[aria-label=Refund] [role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Error 4\d\d/);
    expect((await call('GET', `/payments/${seeded.refundable.id}`)).amount_refunded).toBe('7.00');
    await page.screenshot({ path: join(SHOTS, 'dashboard-payment.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('capture from the page: the authorised payment is CAPTURED at the API', async () => {
    const { page, problems } = await open(`/payments/${seeded.authorized.id}`);
    await page.getByRole('button', { name: 'Capture' }).click();
    await page.getByText('Capture: done.').waitFor();
    await page.locator('[data-testid=payment-status]', { hasText: 'CAPTURED' }).waitFor();
    expect(await call('GET', `/payments/${seeded.authorized.id}`)).toMatchObject({ status: 'CAPTURED', amount_captured: '15.00' });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('webhooks: recent events with their delivery; a failed delivery listed as dead, redelivered from its row, then delivered', async () => {
    const { page, problems } = await open('/webhooks');
    const rows = page.locator('[data-testid=events] tbody tr[data-event]');
    await rows.first().waitFor();
    // The declined payment's event failed at the receiver: dead, with the receiver's answer.
    await expect
      .poll(async () => ((await call('GET', `/events?delivery_status=dead&payment_id=${String(seeded.declined.id)}`)).data as Json[]).length, { timeout: 15_000 })
      .toBeGreaterThan(0);
    await page.getByLabel('Delivery status').selectOption('dead');
    const dead = page.locator('[data-testid=events] tbody tr[data-event]', { hasText: 'dead' });
    await dead.first().waitFor();
    const deadId = (await dead.first().getAttribute('data-event'))!;
    expect(await dead.first().textContent()).toContain('500');
    failDeclined = false;
    await page.getByRole('button', { name: `Redeliver ${deadId}` }).click();
    await page.getByText(`Redelivery of ${deadId} queued (delivery pending).`).waitFor();
    await expect.poll(() => received.includes(deadId), { timeout: 15_000 }).toBe(true);
    await page.getByLabel('Delivery status').selectOption('delivered');
    await page.locator(`[data-testid=events] tr[data-event="${deadId}"]`, { hasText: 'delivered' }).waitFor();
    await page.getByLabel('Delivery status').selectOption('');
    await expect.poll(() => rows.count()).toBeGreaterThan(1);
    expect(await unnamedControls(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('webhooks: the endpoint listed, an event found by the id its delivery carried, redelivered to the receiver', async () => {
    await expect.poll(() => received.length, { timeout: 15_000 }).toBeGreaterThan(0);
    const eventId = received[0]!;
    const { page, problems } = await open('/webhooks');
    await page.locator('[data-testid=endpoints]', { hasText: 'dashboard test receiver' }).waitFor();
    await page.getByLabel('Event id').fill(eventId);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.locator('[data-testid=delivery-status]', { hasText: 'delivered' }).waitFor();
    await page.getByRole('button', { name: 'Redeliver', exact: true }).click();
    await page.getByText(/Redelivery queued/).waitFor();
    await expect.poll(() => received.filter((id) => id === eventId).length, { timeout: 15_000 }).toBe(2);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.locator('[data-testid=delivery-status]', { hasText: 'delivered' }).waitFor();
    expect(await unnamedControls(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-webhooks.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('settlements: the day reconciled against Stripe, the altered amount highlighted as a mismatch', async () => {
    const { page, problems } = await open('/settlements');
    if (!paths.has('/api/v1/admin/settlements')) {
      await page.locator('[data-testid=not-available]').waitFor();
      await page.close();
      return;
    }
    await page.getByLabel('Day (UTC)').fill(DAY);
    await page.getByLabel('Gateway').selectOption('stripe');
    await page.getByRole('button', { name: 'Show report' }).click();
    const mismatch = page.locator('tr.mismatch[data-classification=amount_mismatch]');
    await mismatch.waitFor();
    expect(await mismatch.textContent()).toContain(seeded.mismatched.id);
    expect(await mismatch.textContent()).toContain('29.50');
    expect(await page.locator('tr[data-classification=matched]', { hasText: seeded.refundable.id }).count()).toBe(1);
    expect(await page.locator('[data-testid=settlement-summary]').textContent()).toMatch(/[1-9]\d* not matched/);
    await page.screenshot({ path: join(SHOTS, 'dashboard-settlements.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('analytics: volume and success rate by gateway and by day, as a chart and a table', async () => {
    const { page, problems } = await open('/analytics');
    if (!paths.has('/api/v1/admin/analytics/payments')) {
      await page.locator('[data-testid=not-available]').waitFor();
      expect(await page.locator('[data-testid=not-available]').textContent()).toContain('Analytics is not available on this server');
      await page.screenshot({ path: join(SHOTS, 'dashboard-analytics.png'), fullPage: true });
      await page.close();
      return;
    }
    await page.getByLabel('From (UTC day)').fill(DAY);
    await page.getByLabel('To (exclusive)').fill('2026-03-03');
    await page.getByLabel('Group by').selectOption('gateway');
    await page.getByRole('button', { name: 'Show' }).click();
    const stripeRow = page.locator('[data-testid=analytics-table] tbody tr', { hasText: 'stripe' });
    await stripeRow.waitFor();
    // 4 payments, 3 of them captured of 4 with an outcome.
    expect(await stripeRow.locator('td').first().textContent()).toBe('4');
    expect(await stripeRow.textContent()).toContain('75%');
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('.chart').getAttribute('aria-hidden')).toBe('true');
    await page.getByLabel('Group by').selectOption('day');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator('[data-testid=analytics-table] tbody tr', { hasText: DAY }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'dashboard-analytics.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('risk reviews: the held payments listed; approve sends one to Stripe, decline fails the other (checked over the API)', async () => {
    const { page, problems } = await open('/reviews');
    if (!paths.has('/api/v1/admin/reviews')) {
      await page.locator('[data-testid=not-available]').waitFor();
      expect(await page.locator('[data-testid=not-available]').textContent()).toContain('The risk review queue is not available on this server');
      await page.close();
      return;
    }
    const rows = page.locator('[data-testid=reviews] tbody tr');
    await rows.nth(1).waitFor();
    expect(await page.locator('[data-testid=reviews]').textContent()).toContain(seeded.held1.id);
    expect(await unnamedControls(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-reviews.png'), fullPage: true });
    await page.getByLabel(`Reason`).first().waitFor();
    await page.locator(`input[name="reason-${seeded.held1.id}"]`).fill('known customer');
    await page.getByRole('button', { name: `Approve ${seeded.held1.id}` }).click();
    await page.getByText(`${seeded.held1.id}: approved, now CAPTURED.`).waitFor();
    await page.getByRole('button', { name: `Decline ${seeded.held2.id}` }).click();
    await page.getByText(`${seeded.held2.id}: declined, now FAILED.`).waitFor();
    await page.getByText('No payments are waiting for review.').waitFor();
    expect((await call('GET', `/payments/${seeded.held1.id}`)).status).toBe('CAPTURED');
    expect(await call('GET', `/payments/${seeded.held2.id}`)).toMatchObject({ status: 'FAILED', failure: { code: 'risk_declined' } });
    const trail = (await call('GET', `/payments/${seeded.held1.id}/transitions`)).data as Json[];
    expect(trail.map((t) => t.reason).join(' ')).toContain('known customer');
    expect(problems).toEqual([]);
    await page.close();
  });

  it("a platform admin names the merchant whose analytics it reads; another admin has no such field", async () => {
    const { page, problems } = await open('/analytics', plainUrl);
    await page.getByLabel('API token').fill(await signToken({ secret: SECRET, merchantId: 'ops', scopes: ['payments:read', 'admin:read', 'platform:admin'] }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('From (UTC day)').fill(DAY);
    await page.getByLabel('To (exclusive)').fill('2026-03-03');
    const totals = page.locator('[data-testid=analytics-totals]');
    for (const [merchant, count] of [['m1', 4], ['m2', 0]] as const) {
      await page.getByLabel('Merchant id (platform admin)').fill(merchant);
      await page.getByRole('button', { name: 'Show' }).click();
      await page.locator('[data-testid=analytics-totals]', { hasText: `${count} payments,` }).waitFor();
    }
    expect(await totals.textContent()).toContain('0 payments');
    expect(problems).toEqual([]);
    await page.close();
    const own = await open('/analytics');
    await own.page.locator('[data-testid=analytics-totals]').waitFor();
    expect(await own.page.getByLabel('Merchant id (platform admin)').count()).toBe(0);
    await own.page.close();
  });

  it('signed in with a pasted read-only token: no admin pages, no refund or capture, no redeliver', async () => {
    const readOnly = await signToken({ secret: SECRET, merchantId: 'm1', scopes: ['payments:read'] });
    const { page, problems } = await open(`/payments/${seeded.mismatched.id}`, plainUrl);
    await page.getByLabel('API token').fill(readOnly);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid=payment-status]').waitFor();
    expect(await page.locator('nav a').allTextContents()).toEqual(['Payments', 'Webhooks']);
    expect(await page.getByRole('button', { name: 'Refund' }).count()).toBe(0);
    expect(await page.getByText('This token’s scopes do not allow the actions of this payment.').count()).toBe(1);
    // The token stays in this tab's sessionStorage, never in the URL.
    expect(page.url()).not.toContain(readOnly);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([readOnly]);
    await page.goto(`${plainUrl}/dashboard#/webhooks`);
    await page.getByLabel('Event id').fill(received[0]!);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.locator('[data-testid=delivery-status]').waitFor();
    expect(await page.getByRole('button', { name: 'Redeliver' }).count()).toBe(0);
    // An admin route called anyway is the API's 403, its message shown.
    await page.goto(`${plainUrl}/dashboard#/settlements`);
    await page.getByRole('button', { name: 'Show report' }).click();
    const alert = page.locator('[role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Error 403');
    await page.screenshot({ path: join(SHOTS, 'dashboard-read-only.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a token the server refuses (401) signs the tab out, back to the form with the reason', async () => {
    const { page, problems } = await open('/payments', plainUrl);
    await page.getByLabel('API token').fill(await signToken({ secret: `${SECRET}-not-the-servers`, merchantId: 'm1', scopes: ALL_SCOPES }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The server refused the token (401): sign in again.').waitFor();
    expect(await page.getByLabel('API token').count()).toBe(1);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });
});
