import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

  const stored = async (id: string) => {
    const res = await fetch(`${server.url}/api/v1/payments/${id}`, { headers: { authorization: `Bearer ${server.devToken}` } });
    return (await res.json()) as { status: string; gateway: string; amount: string };
  };

  it('Fiuu seamless: the sandbox pop-up is approved and the payment ends CAPTURED on the page and in storage', async () => {
    const page = await browser.newPage();
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
});
