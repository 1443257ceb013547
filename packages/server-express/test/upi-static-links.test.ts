import { parseUpiLink } from '@tender/upi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@tender/server-express';
import { startHarness, type Harness } from './helpers';

let on: Harness;
let off: Harness;
beforeAll(async () => {
  on = await startHarness({ app: { upiStaticLinks: { payeeVpa: 'shop@okbank', payeeName: 'Corner Shop' } } });
  off = await startHarness();
});
afterAll(async () => {
  await Promise.all([on.close(), off.close()]);
});

describe('POST /api/v1/upi/static-links (the merchant VPA, no PSP)', () => {
  it("answers an NPCI link to the merchant's VPA with its QR, says it is unverifiable, and records no payment", async () => {
    const res = await on.call('POST', '/api/v1/upi/static-links', { body: { amount_paisa: 12345, reference: 'ORD-77/a', note: 'Table 4' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ object: 'upi_static_link', verifiable: false });
    expect(res.body.warning).toMatch(/nothing confirms/);
    const link = parseUpiLink(res.body.payment_url);
    expect(link).toMatchObject({ payeeVpa: 'shop@okbank', payeeName: 'Corner Shop', amountPaise: 12345, transactionRef: 'ORD77a', note: 'Table 4', currency: 'INR' });
    expect(res.body.qr_code).toMatch(/^data:image\/png;base64,/);
    expect(res.body.qr_svg).toMatch(/^<svg/);
    // A counter QR: the payer types the amount.
    const open = await on.call('POST', '/api/v1/upi/static-links', { body: {} });
    expect(parseUpiLink(open.body.payment_url).amountPaise).toBeUndefined();
    expect((await on.tender.payments.list({ merchantId: 'm1' })).data).toEqual([]);
  });

  it('refuses bad amounts and unknown fields by name, needs payments:write, and is 404 when no VPA is configured', async () => {
    for (const body of [{ amount_paisa: 0 }, { amount_paisa: 1.5 }, { amount_paisa: '-3' }, { vpa: 'other@bank' }]) {
      const res = await on.call('POST', '/api/v1/upi/static-links', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.param).toBe(Object.keys(body)[0]);
    }
    const readOnly = await on.call('POST', '/api/v1/upi/static-links', { body: {}, token: await on.token('m1', ['payments:read']) });
    expect(readOnly.status).toBe(403);
    const none = await off.call('POST', '/api/v1/upi/static-links', { body: {} });
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('static_links_not_configured');
  });

  it('reads UPI_MERCHANT_VPA and UPI_MERCHANT_NAME together, checking the VPA', () => {
    expect(loadConfig({ UPI_MERCHANT_VPA: 'shop@okbank', UPI_MERCHANT_NAME: 'Corner Shop' })).toMatchObject({ UPI_MERCHANT_VPA: 'shop@okbank' });
    expect(() => loadConfig({ UPI_MERCHANT_VPA: 'shop@okbank' })).toThrow(/UPI_MERCHANT_NAME: is required/);
    expect(() => loadConfig({ UPI_MERCHANT_VPA: 'not a vpa', UPI_MERCHANT_NAME: 'x' })).toThrow(/UPI_MERCHANT_VPA: must be a UPI address/);
  });
});
