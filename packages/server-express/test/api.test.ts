import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fiuuCreateBody, startHarness, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const expectError = (res: { status: number; body: any }, status: number, code?: string) => {
  expect(res.status).toBe(status);
  expect(res.body.error).toBeTypeOf('object');
  expect(typeof res.body.error.type).toBe('string');
  expect(typeof res.body.error.message).toBe('string');
  if (code) expect(res.body.error.code).toBe(code);
  expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
};

describe('payments', () => {
  it('creates a payment from a Fiuu create body, number amount read exactly', async () => {
    const res = await h.call('POST', '/api/v1/payments', { raw: JSON.stringify(fiuuCreateBody).replace('100.5', '100.10') });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'payment',
      status: 'CAPTURED',
      amount: '100.10',
      amount_minor: 10010,
      currency: 'MYR',
      gateway: 'test',
      order_id: 'ORD123456',
      payment_method: 'FPX',
      capture_method: 'automatic',
      bill_email: 'john@example.com',
      return_url: 'https://example.com/return',
      notify_url: 'https://example.com/webhook',
    });
    expect(res.body.id).toMatch(/^pay_/);
    expect(res.body.gateway_reference).toBeTruthy();
    const got = await h.call('GET', `/api/v1/payments/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('accepts amount_paisa (minor units) and rejects both amounts', async () => {
    const res = await h.call('POST', '/api/v1/payments', { body: { amount_paisa: 10000, currency: 'INR' } });
    expect(res.status).toBe(201);
    expect(res.body.amount).toBe('100.00');
    expect(res.body.amount_minor).toBe(10000);
    expectError(await h.call('POST', '/api/v1/payments', { body: { amount: '1', amount_paisa: 100, currency: 'INR' } }), 400, 'ambiguous_amount');
  });

  it('rejects bad input with 4xx error JSON', async () => {
    expectError(await h.call('POST', '/api/v1/payments', { raw: '{"amount":' }), 400, 'invalid_json');
    expectError(await h.call('POST', '/api/v1/payments', { body: { amount: '1.001', currency: 'MYR' } }), 400, 'amount_too_precise');
    expectError(await h.call('POST', '/api/v1/payments', { body: { amount: 1.001, currency: 'MYR' } }), 400, 'amount_too_precise');
    expectError(await h.call('POST', '/api/v1/payments', { body: { amount: '10' } }), 400, 'parameter_missing');
    expectError(await h.call('POST', '/api/v1/payments', { body: { amount: '10', currency: 'MYR', capture_method: 'later' } }), 400);
    expectError(await h.call('POST', '/api/v1/payments', { body: { amount: '10', currency: 'XXQ' } }), 400);
    expectError(await h.call('POST', '/api/v1/payments', { body: [1, 2] }), 400);
    expectError(await h.call('POST', '/api/v1/payments', { raw: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
    expectError(await h.call('POST', '/api/v1/payments', { raw: JSON.stringify({ amount: 'x'.repeat(200_000), currency: 'MYR' }) }), 413);
    const bad = await h.call('POST', '/api/v1/payments', { body: { amount: '10', currency: 'MYR', bill_email: 'nope' } });
    expectError(bad, 400, 'invalid_email');
    expect(bad.body.error.param).toBe('bill_email');
  });

  it('answers 404 for unknown and malformed ids and routes', async () => {
    expectError(await h.call('GET', '/api/v1/payments/pay_nope'), 404, 'resource_missing');
    expectError(await h.call('GET', `/api/v1/payments/${encodeURIComponent('../../etc\u0000')}`), 404);
    expectError(await h.call('GET', '/api/v1/refunds/re_nope'), 404);
    expectError(await h.call('GET', '/api/v1/nothing-here'), 404);
    expectError(await h.call('GET', '/nothing-here'), 404);
  });

  it('captures, cancels and refunds through the API with state errors as 409', async () => {
    const created = await h.call('POST', '/api/v1/payments', { body: { amount: '50.00', currency: 'MYR', capture_method: 'manual' } });
    expect(created.body.status).toBe('AUTHORIZED');
    const id = created.body.id;
    expectError(await h.call('POST', `/api/v1/payments/${id}/refund`, { body: {} }), 409, 'payment_not_refundable');
    expectError(await h.call('POST', `/api/v1/payments/${id}/capture`, { body: { amount: '60.00' } }), 400, 'amount_too_large');
    const captured = await h.call('POST', `/api/v1/payments/${id}/capture`, { body: { amount: 50 } });
    expect(captured.status).toBe(200);
    expect(captured.body).toMatchObject({ status: 'CAPTURED', amount_captured: '50.00' });
    expectError(await h.call('POST', `/api/v1/payments/${id}/cancel`), 409, 'payment_not_cancellable');
    const refund = await h.call('POST', `/api/v1/payments/${id}/refund`, { body: { amount: 20.1, refund_reason: 'Customer requested refund' } });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ object: 'refund', payment_id: id, amount: '20.10', amount_minor: 2010, reason: 'Customer requested refund', status: 'SUCCEEDED' });
    expectError(await h.call('POST', `/api/v1/payments/${id}/refund`, { body: { amount: '30.00' } }), 400, 'amount_too_large');
    const list = await h.call('GET', `/api/v1/payments/${id}/refunds`);
    expect(list.body).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    expect(list.body.data).toHaveLength(1);
    expect((await h.call('GET', `/api/v1/refunds/${refund.body.id}`)).body.id).toBe(refund.body.id);
    const payment = await h.call('GET', `/api/v1/payments/${id}`);
    expect(payment.body).toMatchObject({ status: 'PARTIALLY_REFUNDED', amount_refunded: '20.10' });
    const trail = await h.call('GET', `/api/v1/payments/${id}/transitions`);
    expect(trail.body.data.map((t: { to: string }) => t.to)).toContain('PARTIALLY_REFUNDED');

    const second = await h.call('POST', '/api/v1/payments', { body: { amount: '5.00', currency: 'MYR', capture_method: 'manual' } });
    const cancelled = await h.call('POST', `/api/v1/payments/${second.body.id}/cancel`);
    expect(cancelled.body.status).toBe('CANCELLED');
  });

  it('lists with a cursor and looks up by order_id', async () => {
    for (let i = 0; i < 5; i++) await h.call('POST', '/api/v1/payments', { body: { amount: '1.00', currency: 'MYR', order_id: `LIST-${i}` } });
    const first = await h.call('GET', '/api/v1/payments?limit=2');
    expect(first.body.data).toHaveLength(2);
    expect(first.body.has_more).toBe(true);
    const next = await h.call('GET', `/api/v1/payments?limit=2&starting_after=${first.body.next_cursor}`);
    expect(next.body.data).toHaveLength(2);
    expect(next.body.data[0].id).not.toBe(first.body.data[1].id);
    const byOrder = await h.call('GET', '/api/v1/payments?order_id=LIST-3');
    expect(byOrder.body.data).toHaveLength(1);
    expect(byOrder.body.data[0].order_id).toBe('LIST-3');
    expectError(await h.call('GET', '/api/v1/payments?limit=0'), 400);
    expectError(await h.call('GET', '/api/v1/payments?limit=1&limit=2'), 400);
    expectError(await h.call('GET', '/api/v1/payments?status=NOPE'), 400);
  });

  it('replays with Idempotent-Replayed and rejects a reused key with another body (422)', async () => {
    const headers = { 'idempotency-key': 'key-replay-1' };
    const a = await h.call('POST', '/api/v1/payments', { body: { amount: '9.99', currency: 'MYR' }, headers });
    const b = await h.call('POST', '/api/v1/payments', { body: { amount: 9.99, currency: 'MYR' }, headers });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.headers.get('idempotent-replayed')).toBeNull();
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body).toEqual(a.body);
    expectError(await h.call('POST', '/api/v1/payments', { body: { amount: '10.00', currency: 'MYR' }, headers }), 422);
    expectError(await h.call('POST', '/api/v1/payments', { body: { amount: '10.00', currency: 'MYR' }, headers: { 'idempotency-key': 'bad key with spaces' } }), 400, 'invalid_idempotency_key');
  });
});

describe('operations', () => {
  it('serves health, ready, metrics and security headers', async () => {
    const health = await fetch(`${h.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    expect(health.headers.get('x-request-id')).toBeTruthy();
    expect((await fetch(`${h.url}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/payments_total\{method="FPX",status="CAPTURED",currency="MYR"\} \d+/);
    expect(metrics).toContain('http_requests_total');
    expect(metrics).toContain('http_request_duration_seconds');
    expect(metrics).toContain('payment_duration_seconds');
    expect(metrics).toMatch(/route="\/api\/v1\/payments\/:id"/);
  });

  it('logs JSON lines with request ids and no PII', async () => {
    await h.call('POST', '/api/v1/payments', { body: { ...fiuuCreateBody, order_id: 'LOG-1', amount: '1.00' }, headers: { 'x-request-id': 'req-abc-123' } });
    const lines = h.logs.map((l) => JSON.parse(l));
    const line = lines.find((l) => l.req_id === 'req-abc-123');
    expect(line).toMatchObject({ status: 201, method: 'POST' });
    expect(h.logs.join('\n')).not.toContain('john@example.com');
    // The W3C trace id of the caller is on the request's log line.
    await h.call('GET', '/api/v1/payments', { headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } });
    const traced = h.logs.map((l) => JSON.parse(l)).find((l) => l.trace_id === '4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traced).toMatchObject({ status: 200, method: 'GET' });
  });
});

describe('capture and refund amounts', () => {
  it('refuse amount together with amount_paisa, changing nothing; either alone works', async () => {
    const created = await h.call('POST', '/api/v1/payments', { body: { amount: '50.00', currency: 'MYR', capture_method: 'manual' } });
    expect(created.body.status).toBe('AUTHORIZED');
    const id = created.body.id;
    for (const body of [{ amount: '10.00', amount_paisa: 2000 }, { amount: '10.00', amount_paisa: 1000 }]) {
      const both = await h.call('POST', `/api/v1/payments/${id}/capture`, { body });
      expectError(both, 400, 'ambiguous_amount');
      expect(both.body.error.param).toBe('amount');
    }
    const unchanged = await h.call('GET', `/api/v1/payments/${id}`);
    expect(unchanged.body).toMatchObject({ status: 'AUTHORIZED', amount_captured: '0.00' });
    const byMinor = await h.call('POST', `/api/v1/payments/${id}/capture`, { body: { amount_paisa: 2000 } });
    expect(byMinor.status).toBe(200);
    expect(byMinor.body.amount_captured).toBe('20.00');
    // The refund of the pair is refused the same way.
    expectError(await h.call('POST', `/api/v1/payments/${id}/refund`, { body: { amount: '1.00', amount_paisa: 100 } }), 400, 'ambiguous_amount');
    const other = await h.call('POST', '/api/v1/payments', { body: { amount: '30.00', currency: 'MYR', capture_method: 'manual' } });
    const byMajor = await h.call('POST', `/api/v1/payments/${other.body.id}/capture`, { body: { amount: '12.50' } });
    expect(byMajor.body.amount_captured).toBe('12.50');
  });
});
