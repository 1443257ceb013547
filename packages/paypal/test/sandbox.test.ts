/**
 * The sandbox as a PayPal: OAuth errors, 401s, business errors, negative testing, the approval page,
 * request-id replay, and bounded retention. Plain HTTP, as any client would speak it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';

const opened: PayPalSandbox[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
async function start(options: Parameters<typeof startPayPalSandbox>[0] = {}) {
  const sandbox = await startPayPalSandbox(options);
  opened.push(sandbox);
  return sandbox;
}

async function token(sandbox: PayPalSandbox, secret = sandbox.clientSecret, body = 'grant_type=client_credentials') {
  return fetch(`${sandbox.url}/v1/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${sandbox.clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
}

async function api(sandbox: PayPalSandbox, bearer: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, any>) : null };
}

const orderBody = (value: string, currency = 'USD') => ({ intent: 'CAPTURE', purchase_units: [{ amount: { currency_code: currency, value } }] });

describe('PayPal sandbox', () => {
  it('OAuth: client credentials with Basic auth; bad secret and grant refused; tokens expire', async () => {
    const sandbox = await start({ tokenTtlSeconds: 1 });
    const ok = await token(sandbox);
    const t = (await ok.json()) as Record<string, unknown>;
    expect(t).toMatchObject({ token_type: 'Bearer', expires_in: 1, access_token: expect.stringMatching(/^A21AA/), app_id: expect.any(String), nonce: expect.any(String) });
    expect((await token(sandbox, 'wrong')).status).toBe(401);
    expect(await (await token(sandbox, 'wrong')).json()).toMatchObject({ error: 'invalid_client' });
    expect((await token(sandbox, sandbox.clientSecret, 'grant_type=password')).status).toBe(400);
    expect((await api(sandbox, 'nope', 'GET', '/v2/checkout/orders/X')).status).toBe(401);
    const bearer = t.access_token as string;
    expect((await api(sandbox, bearer, 'GET', '/v2/checkout/orders/X')).status).toBe(404);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await api(sandbox, bearer, 'GET', '/v2/checkout/orders/X')).toMatchObject({ status: 401, json: { error: 'invalid_token' } });
  });

  it('business errors: DECIMAL_PRECISION, CURRENCY_NOT_SUPPORTED, ORDER_NOT_APPROVED, ORDER_ALREADY_CAPTURED, REFUND_AMOUNT_EXCEEDED; PayPal-Mock-Response', async () => {
    const sandbox = await start();
    const bearer = ((await (await token(sandbox)).json()) as { access_token: string }).access_token;
    const issue = (r: { json: Record<string, any> | null }) => r.json?.details?.[0]?.issue;
    for (const [value, currency, expected] of [
      ['10.5', 'JPY', 'DECIMAL_PRECISION'],
      ['10.50', 'HUF', 'DECIMAL_PRECISION'],
      ['1.50', 'TWD', 'DECIMAL_PRECISION'],
      ['10.555', 'USD', 'DECIMAL_PRECISION'],
      ['10.00', 'INR', 'CURRENCY_NOT_SUPPORTED'],
    ] as const) {
      const r = await api(sandbox, bearer, 'POST', '/v2/checkout/orders', orderBody(value, currency));
      expect(r.status, `${value} ${currency}`).toBe(422);
      expect(r.json).toMatchObject({ name: 'UNPROCESSABLE_ENTITY', debug_id: expect.any(String) });
      expect(issue(r)).toBe(expected);
    }
    expect((await api(sandbox, bearer, 'POST', '/v2/checkout/orders', orderBody('1000000000.00'))).status).toBe(400);
    const created = await api(sandbox, bearer, 'POST', '/v2/checkout/orders', orderBody('10.00'));
    expect(created.status).toBe(201);
    const id = created.json!.id as string;
    expect(issue(await api(sandbox, bearer, 'POST', `/v2/checkout/orders/${id}/capture`, {}))).toBe('ORDER_NOT_APPROVED');
    sandbox.approve(id);
    const mocked = await api(sandbox, bearer, 'POST', `/v2/checkout/orders/${id}/capture`, {}, { 'paypal-mock-response': '{"mock_application_codes":"INSTRUMENT_DECLINED"}' });
    expect(mocked.status).toBe(422);
    expect(issue(mocked)).toBe('INSTRUMENT_DECLINED');
    const captured = await api(sandbox, bearer, 'POST', `/v2/checkout/orders/${id}/capture`, {}, { 'paypal-request-id': 'cap-1' });
    expect(captured.json).toMatchObject({ status: 'COMPLETED' });
    expect(issue(await api(sandbox, bearer, 'POST', `/v2/checkout/orders/${id}/capture`, {}))).toBe('ORDER_ALREADY_CAPTURED');
    // The same PayPal-Request-Id: the first answer again, not a second capture.
    const replay = await api(sandbox, bearer, 'POST', `/v2/checkout/orders/${id}/capture`, {}, { 'paypal-request-id': 'cap-1' });
    expect(replay.json).toEqual(captured.json);
    expect(sandbox.account.orders.get(id)!.captureIds).toHaveLength(1);
    const captureId = captured.json!.purchase_units[0].payments.captures[0].id as string;
    expect(issue(await api(sandbox, bearer, 'POST', `/v2/payments/captures/${captureId}/refund`, { amount: { currency_code: 'USD', value: '10.01' } }))).toBe('REFUND_AMOUNT_EXCEEDED');
    expect((await api(sandbox, bearer, 'POST', `/v2/payments/captures/${captureId}/refund`, {}, { prefer: 'return=representation' })).json).toMatchObject({ status: 'COMPLETED', amount: { value: '10.00' } });
    expect(issue(await api(sandbox, bearer, 'POST', `/v2/payments/captures/${captureId}/refund`, {}))).toBe('CAPTURE_FULLY_REFUNDED');
    const mock500 = await api(sandbox, bearer, 'GET', `/v2/checkout/orders/${id}`, undefined, { 'paypal-mock-response': '{"mock_application_codes":"INTERNAL_SERVER_ERROR"}' });
    expect(mock500.status).toBe(500);
  });

  it('the approval page: Approve redirects to return_url with token and PayerID; Cancel to cancel_url', async () => {
    const sandbox = await start();
    const bearer = ((await (await token(sandbox)).json()) as { access_token: string }).access_token;
    const body = { ...orderBody('5.00'), payment_source: { paypal: { experience_context: { return_url: 'https://shop.example/ok?x=1', cancel_url: 'https://shop.example/no' } } } };
    const order = (await api(sandbox, bearer, 'POST', '/v2/checkout/orders', body)).json!;
    expect(order.status).toBe('PAYER_ACTION_REQUIRED');
    const link = (order.links as Array<{ rel: string; href: string }>).find((l) => l.rel === 'payer-action')!.href;
    const page = await (await fetch(link)).text();
    expect(page).toContain('5.00 USD');
    expect(page).toContain('id="approve"');
    const form = (action: string) => fetch(`${sandbox.url}/checkoutnow/approve`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${order.id}&action=${action}`, redirect: 'manual' });
    const cancelled = await form('cancel');
    expect(cancelled.status).toBe(302);
    expect(cancelled.headers.get('location')).toBe(`https://shop.example/no?token=${order.id}`);
    expect(sandbox.account.orders.get(order.id)!.status).toBe('PAYER_ACTION_REQUIRED');
    const approved = await form('approve');
    const location = new URL(approved.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe('https://shop.example/ok');
    expect(location.searchParams.get('x')).toBe('1');
    expect(location.searchParams.get('token')).toBe(order.id);
    expect(location.searchParams.get('PayerID')).toBe((sandbox.account.orders.get(order.id)!.payer as { payer_id: string }).payer_id);
    expect((await api(sandbox, bearer, 'GET', `/v2/checkout/orders/${order.id}`)).json).toMatchObject({ status: 'APPROVED', payer: { payer_id: location.searchParams.get('PayerID') } });
    expect((await fetch(link)).status).toBe(409);
  });

  it('retention: objects, request ids and delivery history stay bounded', async () => {
    const sandbox = await start({ retention: { objects: 3, requestIds: 2, events: 4 } });
    const bearer = ((await (await token(sandbox)).json()) as { access_token: string }).access_token;
    const ids: string[] = [];
    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      ids.push((await api(sandbox, bearer, 'POST', '/v2/checkout/orders', orderBody('1.00'), { 'paypal-request-id': key })).json!.id as string);
    }
    expect(sandbox.account.orders.size).toBe(3);
    expect(sandbox.account.orders.has(ids[0]!)).toBe(false);
    // 'e' is still remembered; 'a' was forgotten, so it makes a new order (as PayPal after its retention).
    expect((await api(sandbox, bearer, 'POST', '/v2/checkout/orders', orderBody('1.00'), { 'paypal-request-id': 'e' })).json!.id).toBe(ids[4]);
    expect((await api(sandbox, bearer, 'POST', '/v2/checkout/orders', orderBody('1.00'), { 'paypal-request-id': 'a' })).json!.id).not.toBe(ids[0]);
    expect(sandbox.requests.length).toBeLessThanOrEqual(8);
    expect(sandbox.account.limits).toEqual({ objects: 3, requestIds: 2, events: 4 });
    await expect(startPayPalSandbox({ retention: { objects: 0 } })).rejects.toThrow(/retention.objects/);
  });
});
