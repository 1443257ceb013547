/**
 * Request shaping, inspected with msw. msw intercepts the global `fetch`, not undici's dispatcher, so
 * these tests deliver the output of `prepareRequest` (the function the transport sends from) with
 * `fetch` and assert what a server would parse. `transport.test.ts` proves, against a loopback
 * server, that the undici path sends the same bytes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { prepareRequest } from '@tender/core';
import type { HttpRequest, PreparedRequest } from '@tender/core';

const seen: Request[] = [];
const server = setupServer(
  http.all('https://gateway.test/*', ({ request }) => {
    seen.push(request.clone());
    return HttpResponse.json({ ok: true });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  seen.length = 0;
  server.resetHandlers();
});
afterAll(() => server.close());

async function deliver(prepared: PreparedRequest): Promise<Request> {
  const init: RequestInit = { method: prepared.method, headers: prepared.headers };
  if (prepared.body) init.body = new Uint8Array(prepared.body);
  await fetch(`${prepared.origin}${prepared.path}`, init);
  return seen[0]!;
}

const shape = (request: Omit<HttpRequest, 'method'> & { method?: HttpRequest['method'] }) =>
  prepareRequest({ method: 'POST', ...request } as HttpRequest, { 'user-agent': 'tender/fiuu' });

describe('prepareRequest as seen by a server (msw)', () => {
  it('form bodies are urlencoded in the given order, with form rules for spaces and reserved characters', async () => {
    const req = await deliver(
      shape({
        url: 'https://gateway.test/RMS/API/refundAPI/index.php',
        form: [
          ['RefundType', 'P'],
          ['MerchantID', 'my merchant'],
          ['RefID', 'a+b&c=d/é'],
          ['Amount', '10.00'],
        ],
      }),
    );
    expect(req.method).toBe('POST');
    expect(req.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    const text = await req.text();
    expect(text).toBe('RefundType=P&MerchantID=my+merchant&RefID=a%2Bb%26c%3Dd%2F%C3%A9&Amount=10.00');
    const parsed = new URLSearchParams(text);
    expect([...parsed.keys()]).toEqual(['RefundType', 'MerchantID', 'RefID', 'Amount']);
    expect(parsed.get('RefID')).toBe('a+b&c=d/é');
  });

  it('an object form keeps its key order', async () => {
    const req = await deliver(shape({ url: 'https://gateway.test/pay', form: { z: '1', a: '2', m: '' } }));
    expect(await req.text()).toBe('z=1&a=2&m=');
  });

  it('JSON bodies are sent as application/json', async () => {
    const req = await deliver(shape({ url: 'https://gateway.test/v2/checkout/orders', json: { intent: 'CAPTURE', amount: { value: '100.50' } } }));
    expect(req.headers.get('content-type')).toBe('application/json');
    expect(await req.json()).toEqual({ intent: 'CAPTURE', amount: { value: '100.50' } });
  });

  it('raw bodies are sent untouched with the caller content-type', async () => {
    const bytes = new Uint8Array([1, 2, 3, 250]);
    const req = await deliver(shape({ url: 'https://gateway.test/raw', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } }));
    expect(req.headers.get('content-type')).toBe('application/octet-stream');
    expect(new Uint8Array(await req.arrayBuffer())).toEqual(bytes);
  });

  it('merges default and request headers (request wins, names case-insensitive) and keeps the query', async () => {
    const req = await deliver(
      shape({
        method: 'GET',
        url: 'https://gateway.test/RMS/query/q_by_oid.php?oID=ORD-1&domain=test',
        headers: { Authorization: 'Basic abc', 'User-Agent': 'custom/1', 'Idempotency-Key': 'k-1' },
      }),
    );
    expect(req.method).toBe('GET');
    expect(new URL(req.url).searchParams.get('oID')).toBe('ORD-1');
    expect(req.headers.get('authorization')).toBe('Basic abc');
    expect(req.headers.get('user-agent')).toBe('custom/1');
    expect(req.headers.get('idempotency-key')).toBe('k-1');
  });

  it('an explicit content-type overrides the form default', async () => {
    const req = await deliver(
      shape({ url: 'https://gateway.test/pay', form: { a: '1' }, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } }),
    );
    expect(req.headers.get('content-type')).toBe('application/x-www-form-urlencoded; charset=utf-8');
  });
});
