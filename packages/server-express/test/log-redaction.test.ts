import { Writable } from 'node:stream';
import { MemoryStore } from '@tender/core/testing';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startTenderServer, type TenderServer } from '@tender/server-express';

// Values planted in requests; none of them may appear in the log, in any encoding.
const NAME_FIRST = 'Zelda';
const NAME_LAST = 'Quixotewright';
const EMAIL_LOCAL = 'zelda.planted.pii';
const EMAIL = `${EMAIL_LOCAL}@example.org`;
const MOBILE = '0198765432';
const ACCESS_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLXF1ZXJ5LXRva2VuIn0.cGxhbnRlZC1xdWVyeS1zaWduYXR1cmU';
const SKEY = '7f3e9a0c5b2d4e6f8a1b3c5d7e9f0a2b';
const BEARER = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLWhlYWRlciJ9.cGxhbnRlZC1oZWFkZXItc2lnbmF0dXJl';
const BASIC = Buffer.from('planted-user:planted-basic-password').toString('base64');
const CARD = '4111111111111111';
const CARD_SPACED = '5555 5555 5555 4444';
const CVV_FIELD = 'cvv-planted-987';

let server: TenderServer;
const lines: string[] = [];

beforeAll(async () => {
  const logger = createLogger({ level: 'trace', destination: new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } }) });
  server = await startTenderServer({ env: { PORT: '0', RECONCILE_INTERVAL: '0', OUTBOX_INTERVAL: '100ms', LOG_LEVEL: 'trace' }, logger, store: new MemoryStore() });
});
afterAll(async () => {
  await server?.close();
});

const authed = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${server.devToken}`, ...extra });

describe('the log of a whole run', () => {
  it('holds none of the secrets and personal data the requests carried', async () => {
    const pii = new URLSearchParams({ bill_name: `${NAME_FIRST} ${NAME_LAST}`, bill_email: EMAIL, bill_mobile: MOBILE });
    // Seamless config: a GET whose query carries the customer's name, e-mail and mobile.
    const config = await fetch(`${server.url}/api/v1/payments/seamless/config?order_id=LOG-1&amount=12.00&payment_method=FPX&${pii}`, { headers: authed() });
    expect(config.status).toBe(201);
    const seamless = (await config.json()) as { tender: { paymentId: string; paymentUrl: string; fields: Record<string, string> } };
    // The same with %20 and %40 instead of + and @, and a refused one (bad e-mail) still carrying the rest.
    const encoded = `bill_name=${encodeURIComponent(`${NAME_FIRST} ${NAME_LAST}`)}&bill_email=${encodeURIComponent(EMAIL)}&bill_mobile=${MOBILE}`;
    expect((await fetch(`${server.url}/api/v1/payments/seamless/config?order_id=LOG-2&amount=12.00&${encoded}`, { headers: authed() })).status).toBe(201);
    expect((await fetch(`${server.url}/api/v1/payments/seamless/config?order_id=LOG-3&amount=12.00&bill_email=not-an-email&bill_name=${NAME_LAST}&bill_mobile=${MOBILE}`, { headers: authed() })).status).toBe(400);

    // A credential in the query string, with and without a valid Authorization header.
    expect((await fetch(`${server.url}/api/v1/payments?access_token=${ACCESS_TOKEN}`, { headers: authed() })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/payments?access_token=${ACCESS_TOKEN}`)).status).toBe(401);
    // Credentials in headers that fail.
    expect((await fetch(`${server.url}/api/v1/payments`, { headers: { authorization: `Bearer ${BEARER}` } })).status).toBe(401);
    expect((await fetch(`${server.url}/api/v1/payments`, { headers: { authorization: `Basic ${BASIC}` } })).status).toBe(401);

    // Fiuu's return URL, by GET with the result in the query (a forged skey), and by POST.
    const fiuuResult = new URLSearchParams({ tranID: '30012345', orderid: 'LOG-1', status: '00', domain: 'SB_tender_simulation', amount: '12.00', currency: 'MYR', appcode: '', paydate: '2026-01-01 10:00:00', skey: SKEY });
    expect((await fetch(`${server.url}/api/v1/payments/fiuu/return?${fiuuResult}`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/payments/fiuu/return`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fiuuResult.toString() })).status).toBe(200);
    // A forged notification.
    expect((await fetch(`${server.url}/api/v1/webhooks/fiuu`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${fiuuResult}&nbcb=1` })).status).toBeLessThan(500);
    // The real checkout of the first payment, through the Fiuu sandbox (its real skey, return and notification).
    await completeHostedPayment({ url: seamless.tender.paymentUrl, fields: seamless.tender.fields }, 'approve', { followReturn: true });

    // Bodies with card-like data and personal data: accepted (through the Stripe sandbox) and refused.
    const card = await fetch(`${server.url}/api/v1/payments`, {
      method: 'POST',
      headers: authed({ 'content-type': 'application/json' }),
      body: JSON.stringify({ amount: '5.00', currency: 'MYR', gateway: 'stripe', payment_method: 'pm_card_visa', bill_name: `${NAME_FIRST} ${NAME_LAST}`, bill_email: EMAIL, bill_mobile: MOBILE, bill_description: `card ${CARD}`, metadata: { note: `pan ${CARD_SPACED}`, cvv: CVV_FIELD } }),
    });
    expect(card.status).toBe(201);
    const refused = await fetch(`${server.url}/api/v1/payments`, {
      method: 'POST',
      headers: authed({ 'content-type': 'application/json' }),
      body: JSON.stringify({ amount: 'x', currency: 'MYR', bill_description: `card ${CARD}`, bill_name: NAME_LAST, card_number: CARD }),
    });
    expect(refused.status).toBe(400);
    // Let the outbox deliver and the notification settle, so their lines are in the log too.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const log = lines.join('');
    // The run was logged (request lines included), with the planted values masked.
    expect(log).toContain('/api/v1/payments/seamless/config?order_id=LOG-1');
    expect(log).toContain('access_token=[REDACTED]');
    expect(log).toContain('skey=[REDACTED]');
    // Nor any other skey (the sandbox's real ones, e.g. in the notification forwarded back to Fiuu).
    expect(log).not.toMatch(/skey\W{1,4}[0-9a-f]{32}/i);
    const planted = [NAME_LAST, NAME_FIRST, EMAIL_LOCAL, MOBILE, ACCESS_TOKEN, ...ACCESS_TOKEN.split('.'), SKEY, BEARER, ...BEARER.split('.'), BASIC, CARD, CARD_SPACED, CARD_SPACED.replace(/ /g, ''), CVV_FIELD, server.devToken!];
    for (const value of planted) {
      for (const form of new Set([value, encodeURIComponent(value), value.replace(/ /g, '+'), JSON.stringify(value).slice(1, -1)])) {
        expect(log.includes(form), `the log contains ${form}`).toBe(false);
      }
    }
  });
});
