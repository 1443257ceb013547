import { createTestGateway } from '@tender/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers';

let h: Harness;
const gateway = createTestGateway({ flow: 'redirect' });
beforeAll(async () => {
  h = await startHarness({ gateway });
});
afterAll(async () => {
  await h.close();
});

const post = (path: string, req: { headers: Record<string, unknown>; rawBody: Uint8Array }) =>
  fetch(`${h.url}${path}`, { method: 'POST', headers: req.headers as Record<string, string>, body: Buffer.from(req.rawBody) });

describe('inbound gateway webhooks (raw body, signature only)', () => {
  it('applies a signed webhook, acknowledges a duplicate with 200 and rejects a bad signature with 400', async () => {
    const created = await h.call('POST', '/api/v1/payments', { body: { amount: '12.00', currency: 'MYR', payment_method: 'FPX' } });
    expect(created.body.status).toBe('REQUIRES_ACTION');
    expect(created.body.next_action).toMatchObject({ type: 'redirect' });
    gateway.complete(created.body.id, 'approve');
    const hook = gateway.webhookFor(created.body.id, { eventId: 'evt_1' });
    const first = await post('/api/v1/webhooks/test', hook);
    expect(first.status).toBe(200);
    expect((await h.call('GET', `/api/v1/payments/${created.body.id}`)).body.status).toBe('CAPTURED');
    const duplicate = await post('/api/v1/webhooks/test', hook);
    expect(duplicate.status).toBe(200);

    const tampered = { headers: hook.headers as Record<string, unknown>, rawBody: new TextEncoder().encode(new TextDecoder().decode(hook.rawBody).replace('CAPTURED', 'REFUNDED')) };
    const bad = await post('/api/v1/webhooks/test', tampered);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.type).toBe('webhook_signature_error');
    const unsigned = await fetch(`${h.url}/api/v1/webhooks/test`, { method: 'POST', body: 'garbage' });
    expect(unsigned.status).toBe(400);
    expect((await fetch(`${h.url}/api/v1/webhooks/nope`, { method: 'POST', body: '{}' })).status).toBe(404);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/webhook_events_total\{gateway="test",outcome="duplicate"\} 1/);
    expect(metrics).toMatch(/webhook_events_total\{gateway="test",outcome="invalid_signature"\} 2/);
  });
});
