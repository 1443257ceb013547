import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

// A UPI create body in paise with the common alias names and a merchant_id (the token's merchant here).
const BODY_MERCHANT = '123e4567-e89b-12d3-a456-426614174001';
const upiCreateBody = {
  user_id: '123e4567-e89b-12d3-a456-426614174000',
  merchant_id: BODY_MERCHANT,
  amount_paisa: 10000,
  currency: 'INR',
  payment_method: 'UPI',
  payment_details: { vpa: 'user@paytm' },
  description: 'Payment for order #12345',
  callback_url: 'https://merchant.com/webhook',
  metadata: { order_id: '12345', customer_email: 'user@example.com' },
};

async function stored(merchantId: string) {
  return (await h.tender.payments.list({ merchantId })).data;
}

describe("create and refund body fields (aliases, merchant_id, payment_details) are honoured or refused, never dropped", () => {
  it('takes payment_details.vpa only: raw card data and other fields are refused by name, unlogged, and nothing is stored', async () => {
    const token = await h.token(BODY_MERCHANT);
    const card = '4111111111111111';
    for (const [details, code, param] of [
      [{ card_number: card, cvv: '123', expiry_month: '12' }, 'raw_card_data_not_allowed', 'payment_details'],
      [{ vpa: 'user@paytm', number: card }, 'raw_card_data_not_allowed', 'payment_details'],
      [{ card: { number: card, cvc: '123' } }, 'raw_card_data_not_allowed', 'payment_details'],
      [{ bank: 'HDFC' }, 'parameter_unsupported', 'payment_details.bank'],
      [{ vpa: 42 }, 'parameter_invalid', 'payment_details.vpa'],
      ['user@paytm', 'parameter_invalid', 'payment_details'],
      [{ vpa: 'not a vpa' }, 'invalid_vpa', 'vpa'],
    ] as const) {
      const res = await h.call('POST', '/api/v1/payments', { body: { ...upiCreateBody, payment_details: details }, token });
      expect(res.status, JSON.stringify(details)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code, param });
      expect(JSON.stringify(res.body)).not.toContain(card);
    }
    expect(h.logs.join('')).not.toContain(card);
    expect(await stored(BODY_MERCHANT)).toEqual([]);
  });

  it('honours user_id, merchant_id, description and callback_url', async () => {
    const { payment_details: _dropped, ...rest } = upiCreateBody;
    const res = await h.call('POST', '/api/v1/payments', { body: { ...rest, currency: 'MYR', payment_method: 'FPX' }, token: await h.token(BODY_MERCHANT) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      amount: '100.00',
      description: 'Payment for order #12345',
      notify_url: 'https://merchant.com/webhook',
      metadata: { order_id: '12345', customer_email: 'user@example.com', user_id: upiCreateBody.user_id },
    });
    // The same value under both names is one value.
    const both = await h.call('POST', '/api/v1/payments', {
      body: { amount: '1.00', currency: 'MYR', description: 'd', bill_description: 'd', callback_url: 'https://m.example/cb', notify_url: 'https://m.example/cb', user_id: 'u1', metadata: { user_id: 'u1' } },
    });
    expect(both.status).toBe(201);
    expect(both.body).toMatchObject({ description: 'd', notify_url: 'https://m.example/cb', metadata: { user_id: 'u1' } });
  });

  it("refuses another merchant's merchant_id with 403, and stores nothing", async () => {
    const res = await h.call('POST', '/api/v1/payments', { body: { amount: '1.00', currency: 'MYR', merchant_id: 'someone-else' }, token: await h.token('mm-merchant') });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ type: 'permission_error', code: 'merchant_mismatch', param: 'merchant_id' });
    expect(await stored('mm-merchant')).toEqual([]);
  });

  it('refuses two different values for one field under its two names', async () => {
    const token = await h.token('amb-merchant');
    for (const [extra, param] of [
      [{ description: 'a', bill_description: 'b' }, 'description'],
      [{ callback_url: 'https://a.example/x', notify_url: 'https://b.example/y' }, 'callback_url'],
      [{ user_id: 'u1', metadata: { user_id: 'u2' } }, 'metadata.user_id'],
    ] as const) {
      const res = await h.call('POST', '/api/v1/payments', { body: { amount: '1.00', currency: 'MYR', ...extra }, token });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'ambiguous_parameter', param });
    }
    expect(await stored('amb-merchant')).toEqual([]);
  });

  it('refuses a field no schema knows with 400 unknown_parameter naming it, on every body route', async () => {
    const token = await h.token('unknown-merchant');
    const create = await h.call('POST', '/api/v1/payments', { body: { amount: '1.00', currency: 'MYR', card_number: '4111111111111111' }, token });
    expect(create.status).toBe(400);
    expect(create.body.error).toMatchObject({ type: 'invalid_request_error', code: 'unknown_parameter', param: 'card_number' });
    expect(create.body.error.message).toContain('card_number');
    expect(await stored('unknown-merchant')).toEqual([]);
    const p = await h.call('POST', '/api/v1/payments', { body: { amount: '5.00', currency: 'MYR', capture_method: 'manual' }, token });
    expect(p.status).toBe(201);
    for (const [path, body] of [
      [`/api/v1/payments/${p.body.id}/capture`, { amount: '1.00', capture_amount: '1.00' }],
      [`/api/v1/payments/${p.body.id}/cancel`, { reason: 'x' }],
      [`/api/v1/payments/${p.body.id}/refund`, { amount: '1.00', refund_amount: '1.00' }],
      ['/api/v1/webhook-endpoints', { url: 'https://m.example/hook', enabled: true }],
    ] as const) {
      const res = await h.call('POST', path, { body, token });
      expect(res.status, path).toBe(400);
      expect(res.body.error.code, path).toBe('unknown_parameter');
      expect(res.body.error.param, path).toBe(Object.keys(body).at(-1));
    }
    // Nothing moved.
    expect((await h.call('GET', `/api/v1/payments/${p.body.id}`, { token })).body.status).toBe('AUTHORIZED');
    expect((await h.call('GET', '/api/v1/webhook-endpoints', { token })).body.data).toEqual([]);
  });

  it('documents the fields and the refusal of unknown ones in the OpenAPI document', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    const create = doc.components.schemas.CreatePayment;
    expect(create.additionalProperties).toBe(false);
    for (const field of ['user_id', 'merchant_id', 'description', 'callback_url', 'payment_details']) expect(create.properties[field]?.description, field).toBeTruthy();
    for (const id of ['CapturePayment', 'CancelPayment', 'RefundPayment', 'CreateWebhookEndpoint']) expect(doc.components.schemas[id].additionalProperties, id).toBe(false);
  });
});
