import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { createTender } from '@tender/core';
import type { Tender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { startCheckoutServer } from '../../../examples/fiuu-seamless/server';
import { buildIife } from './browser-bundle';
import { sandboxAndGateway } from './helpers';

const CHROMIUM = '/usr/bin/chromium';

describe('IIFE bundle', () => {
  it('is at most 5 KB min+gzip and exposes the TenderFiuu global', async () => {
    const code = await buildIife();
    expect(gzipSync(code, { level: 9 }).length).toBeLessThanOrEqual(5120);
    expect(code).toMatch(/^("use strict";)?var TenderFiuu=/);
    expect(code).not.toMatch(/jQuery\(|require\(/);
  });
});

// A real browser: Debian chromium driven by playwright-core. Skipped only on a machine without
// Chromium, never in CI (`.ci/run` installs it and sets TENDER_REQUIRE_CHROMIUM=1).
describe.skipIf(!existsSync(CHROMIUM) && process.env.TENDER_REQUIRE_CHROMIUM !== '1')('seamless checkout in Chromium', () => {
  let env: Awaited<ReturnType<typeof sandboxAndGateway>>;
  let tender: Tender;
  let server: Awaited<ReturnType<typeof startCheckoutServer>>;
  let browser: Browser;

  beforeAll(async () => {
    env = await sandboxAndGateway();
    tender = createTender({ gateways: [env.gateway], store: new MemoryStore() });
    server = await startCheckoutServer({ tender, gateway: env.gateway, bundle: await buildIife() });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await env?.sandbox.idle();
    await env?.close();
  });

  async function payWith(decision: 'approve' | 'decline') {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    const popupOpened = page.waitForEvent('popup');
    await page.click('#pay');
    const popup = await popupOpened;
    await popup.waitForSelector(`#${decision}`);
    expect(popup.url()).toContain(`${env.sandbox.paymentHost}/RMS/pay/`);
    await popup.click(`#${decision}`);
    return page;
  }

  it('approve in the pop-up: the page and the stored payment both end CAPTURED', async () => {
    const page = await payWith('approve');
    await page.waitForFunction(() => document.getElementById('stored')?.textContent === 'CAPTURED', undefined, { timeout: 15_000 });
    expect(await page.textContent('#result')).toBe('CAPTURED');
    const [payment] = (await tender.payments.list({ limit: 10 })).data;
    expect(payment).toMatchObject({ status: 'CAPTURED', amount: '25.00', gateway: 'fiuu' });
    await page.close();
  });

  it('decline in the pop-up: FAILED on both sides', async () => {
    const page = await payWith('decline');
    await page.waitForFunction(() => document.getElementById('stored')?.textContent === 'FAILED', undefined, { timeout: 15_000 });
    expect(await page.textContent('#result')).toBe('FAILED');
    await page.close();
  });
});
