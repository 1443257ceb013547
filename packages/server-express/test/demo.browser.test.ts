import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';

const CHROMIUM = '/usr/bin/chromium';

// What a newcomer does right after `npm start`: open /demo and pay, in a real browser, with no account.
// Skipped only on a machine without Chromium, never in CI (`.ci/run` sets TENDER_REQUIRE_CHROMIUM=1).
describe.skipIf(!existsSync(CHROMIUM) && process.env.TENDER_REQUIRE_CHROMIUM !== '1')('the /demo checkout in Chromium (simulation mode)', () => {
  let server: TenderServer;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tender-demo-'));
    const quiet = new Writable({ write(_chunk, _e, cb) { cb(); } });
    server = await startTenderServer({ env: { PORT: '0', TENDER_DATA_DIR: dir, OUTBOX_INTERVAL: '100ms' }, logger: createLogger({ destination: quiet }) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Paths a page requested: the page follows a payment over its live stream, not by polling.
  const requested = (page: import('playwright-core').Page): string[] => {
    const paths: string[] = [];
    page.on('request', (r) => paths.push(new URL(r.url()).pathname));
    return paths;
  };
  const followedByStream = (paths: string[], id: string) => {
    expect(paths).toContain(`/demo/api/payments/${id}/events`);
    expect(paths.filter((p) => p === `/demo/api/payments/${id}`)).toEqual([]);
  };

  const stored = async (id: string) => {
    const res = await fetch(`${server.url}/api/v1/payments/${id}`, { headers: { authorization: `Bearer ${server.devToken}` } });
    return (await res.json()) as { status: string; gateway: string; amount: string };
  };

  it('Fiuu seamless: the sandbox pop-up is approved and the payment ends CAPTURED on the page and in storage', async () => {
    const page = await browser.newPage();
    const paths = requested(page);
    await page.goto(`${server.url}/demo`);
    const popupOpened = page.waitForEvent('popup', { timeout: 15_000 });
    await page.click('#fiuu-pay', { timeout: 15_000 });
    const popup = await popupOpened;
    await popup.waitForSelector('#approve', { timeout: 15_000 });
    await popup.click('#approve', { timeout: 15_000 });
    // On a timeout, the assertion below shows what the page says instead.
    await page.waitForFunction(() => document.getElementById('fiuu-status')?.textContent === 'CAPTURED', undefined, { timeout: 20_000 }).catch(() => undefined);
    expect(await page.textContent('#fiuu-status')).toBe('CAPTURED');
    const shown = JSON.parse((await page.textContent('#fiuu-out')) ?? '{}') as { id: string };
    expect(await stored(shown.id)).toMatchObject({ status: 'CAPTURED', gateway: 'fiuu', amount: '10.00' });
    followedByStream(paths, shown.id);
    await page.close();
  }, 90_000);

  it('Stripe card: a test card is charged and a declined card fails', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/demo`);
    await page.selectOption('#stripe-card', 'pm_card_visa');
    await page.click('#stripe-pay');
    // On a timeout, the assertion below shows what the page says instead.
    await page.waitForFunction(() => document.getElementById('stripe-status')?.textContent === 'CAPTURED', undefined, { timeout: 20_000 }).catch(() => undefined);
    expect(await page.textContent('#stripe-status')).toBe('CAPTURED');
    const shown = JSON.parse((await page.textContent('#stripe-out')) ?? '{}') as { id: string };
    expect(await stored(shown.id)).toMatchObject({ status: 'CAPTURED', gateway: 'stripe', amount: '25.00' });
    await page.selectOption('#stripe-card', 'pm_card_chargeDeclined');
    await page.click('#stripe-pay');
    // On a timeout, the assertion below shows what the page says instead.
    await page.waitForFunction(() => document.getElementById('stripe-status')?.textContent === 'FAILED', undefined, { timeout: 20_000 }).catch(() => undefined);
    expect(await page.textContent('#stripe-status')).toBe('FAILED');
    await page.close();
  }, 90_000);

  it('PayPal: the approval page opens in a pop-up, the buyer approves, and the page shows CAPTURED', async () => {
    const page = await browser.newPage();
    const paths = requested(page);
    await page.goto(`${server.url}/demo`);
    const popupOpened = page.waitForEvent('popup', { timeout: 15_000 });
    await page.click('#paypal-pay');
    const popup = await popupOpened;
    // The sandbox's approval page: the buyer presses Approve, as on PayPal.
    await popup.waitForSelector('button[value="approve"]', { timeout: 15_000 });
    await popup.click('button[value="approve"]');
    // On a timeout, the assertion below shows what the page says instead.
    await page.waitForFunction(() => document.getElementById('paypal-status')?.textContent === 'CAPTURED', undefined, { timeout: 20_000 }).catch(() => undefined);
    expect(await page.textContent('#paypal-status')).toBe('CAPTURED');
    const shown = JSON.parse((await page.textContent('#paypal-out')) ?? '{}') as { id: string };
    expect(await stored(shown.id)).toMatchObject({ status: 'CAPTURED', gateway: 'paypal', amount: '15.00' });
    followedByStream(paths, shown.id);
    await page.close();
  }, 90_000);

  it('UPI: a scannable QR is shown, the sandbox UPI app pays it, and the page shows CAPTURED from the live stream (screenshot kept)', async () => {
    const page = await browser.newPage();
    const paths = requested(page);
    await page.goto(`${server.url}/demo`);
    await page.click('#upi-pay');
    await page.waitForSelector('#upi-qr-box:not([hidden])', { timeout: 15_000 });
    // The QR is a real image the browser decoded (a phone could scan it), of the upi:// link shown.
    await page.waitForFunction(() => (document.getElementById('upi-qr') as HTMLImageElement | null)?.naturalWidth! > 0, undefined, { timeout: 10_000 });
    expect(await page.textContent('#upi-link')).toMatch(/^upi:\/\/pay\?/);
    const shots = join(process.cwd(), 'test-output');
    mkdirSync(shots, { recursive: true });
    const shot = join(shots, 'demo-upi-qr.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    // The payer's UPI app (the sandbox's page) approves it.
    const appOpened = page.waitForEvent('popup', { timeout: 15_000 });
    await page.click('#upi-app');
    const app = await appOpened;
    await app.waitForSelector('button[value="approve"]', { timeout: 15_000 });
    await app.click('button[value="approve"]');
    await page.waitForFunction(() => document.getElementById('upi-status')?.textContent === 'CAPTURED', undefined, { timeout: 20_000 }).catch(() => undefined);
    expect(await page.textContent('#upi-status')).toBe('CAPTURED');
    const shown = JSON.parse((await page.textContent('#upi-out')) ?? '{}') as { id: string };
    expect(await stored(shown.id)).toMatchObject({ status: 'CAPTURED', gateway: 'upi', amount: '100.00' });
    followedByStream(paths, shown.id);
    await page.screenshot({ path: join(shots, 'demo-upi-captured.png'), fullPage: true });
    await page.close();
  }, 90_000);

  it('UPI with the live stream refused (a proxy answering 503): the page falls back to polling the status route and still shows CAPTURED', async () => {
    const page = await browser.newPage();
    const paths = requested(page);
    await page.route('**/demo/api/payments/*/events', (route) => route.fulfill({ status: 503, contentType: 'text/plain', body: 'stream unavailable' }));
    await page.goto(`${server.url}/demo`);
    await page.click('#upi-pay');
    await page.waitForSelector('#upi-qr-box:not([hidden])', { timeout: 15_000 });
    const appOpened = page.waitForEvent('popup', { timeout: 15_000 });
    await page.click('#upi-app');
    const app = await appOpened;
    await app.waitForSelector('button[value="approve"]', { timeout: 15_000 });
    await app.click('button[value="approve"]');
    await page.waitForFunction(() => document.getElementById('upi-status')?.textContent === 'CAPTURED', undefined, { timeout: 20_000 }).catch(() => undefined);
    expect(await page.textContent('#upi-status')).toBe('CAPTURED');
    const shown = JSON.parse((await page.textContent('#upi-out')) ?? '{}') as { id: string };
    expect(paths).toContain(`/demo/api/payments/${shown.id}/events`);
    expect(paths).toContain(`/demo/api/payments/${shown.id}`);
    await page.close();
  }, 90_000);
});
