/**
 * Webhook verification: PayPal's own published vector (the Java SDK's), the sandbox's deliveries, and
 * every refusal: tampered body, wrong webhook id, cert URLs on other hosts (never fetched), expired or
 * untrusted certificates, stale transmission times, and online verification.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport, TenderError, type HttpRequest, type HttpResponse, type HttpTransport } from '@tender/core';
import { checkCertUrl, checkTransmissionTime, createPayPalGateway, paypalCrc32, paypalSignedMessage, verifyCertificateChain, type PayPalGateway } from '@tender/paypal';
import { createSandboxCertificates, startPayPalSandbox, type PayPalSandbox } from '@tender/paypal/sandbox';
import { gatewayFor } from './helpers';

const vector = JSON.parse(readFileSync(new URL('./fixtures/java-sdk-webhook-vector.json', import.meta.url), 'utf8')) as {
  webhookId: string;
  headers: Record<string, string>;
  body: string;
  certificatePem: string;
};

/** A transport that answers the vector's certificate URL from the fixture and records every request (nothing leaves the machine). */
function certTransport(pem: string): HttpTransport & { seen: string[] } {
  const seen: string[] = [];
  const respond = (status: number, text: string): HttpResponse => ({
    status,
    headers: {},
    body: new TextEncoder().encode(text),
    text: () => text,
    json: () => JSON.parse(text),
    attempts: 1,
  });
  return {
    gateway: 'paypal',
    seen,
    circuitState: 'closed',
    worstCaseMs: 1000,
    async request(request: HttpRequest) {
      seen.push(request.url);
      return request.url === vector.headers['paypal-cert-url'] ? respond(200, pem) : respond(404, '{}');
    },
    onEvent: () => () => {},
    close: async () => {},
  };
}

const signatureError = (code: string) => (e: unknown) => TenderError.isInstance(e) && e.type === 'webhook_signature_error' && e.code === code;

describe("PayPal's published vector (PayPal Java SDK ValidateCertTest)", () => {
  const body = new TextEncoder().encode(vector.body);
  const vectorGateway = (transport: HttpTransport, webhookId = vector.webhookId) =>
    createPayPalGateway({ clientId: 'x', clientSecret: 'y', webhookId, mode: 'sandbox', transport, webhookMaxAgeSeconds: 0 });

  it('crc32 and the signed string are byte for byte PayPal\'s', () => {
    expect(body.byteLength).toBe(1636);
    expect(paypalCrc32(body)).toBe('3494065244');
    expect(paypalSignedMessage(vector.headers['paypal-transmission-id']!, vector.headers['paypal-transmission-time']!, vector.webhookId, body)).toBe(
      '071f7d20-1584-11e7-abf0-6b62a8a99ac4|2017-03-30T20:04:05Z|96605875FF6516633|3494065244',
    );
  });

  it('verifies while the certificate was valid, its chain ending at a public root (DigiCert High Assurance EV)', async () => {
    const transport = certTransport(vector.certificatePem);
    await expect(vectorGateway(transport).verifyWebhook({ headers: vector.headers, rawBody: body }, new Date('2018-06-01T00:00:00Z'))).resolves.toBeUndefined();
    expect(transport.seen).toEqual([vector.headers['paypal-cert-url']]);
    const leaf = verifyCertificateChain(vector.certificatePem, new Date('2018-06-01T00:00:00Z'));
    expect(leaf.subject).toContain('CN=messageverificationcerts.sandbox.paypal.com');
  });

  it('is refused once the certificate has expired (2019-04-26)', async () => {
    const gateway = vectorGateway(certTransport(vector.certificatePem));
    await expect(gateway.verifyWebhook({ headers: vector.headers, rawBody: body }, new Date('2020-01-01T00:00:00Z'))).rejects.toSatisfy(signatureError('cert_expired'));
  });

  it('a chain verified once is reused only inside its validity window: the same gateway refuses it once expired', async () => {
    const transport = certTransport(vector.certificatePem);
    const gateway = createPayPalGateway({ clientId: 'x', clientSecret: 'y', webhookId: vector.webhookId, mode: 'sandbox', transport, webhookMaxAgeSeconds: 0, webhookMaxFutureSeconds: 10 ** 9 });
    const delivery = { headers: vector.headers, rawBody: body };
    await expect(gateway.verifyWebhook(delivery, new Date('2018-06-01T00:00:00Z'))).resolves.toBeUndefined();
    await expect(gateway.verifyWebhook(delivery, new Date('2018-06-02T00:00:00Z'))).resolves.toBeUndefined();
    await expect(gateway.verifyWebhook(delivery, new Date('2020-01-01T00:00:00Z'))).rejects.toSatisfy(signatureError('cert_expired'));
    await expect(gateway.verifyWebhook(delivery, new Date('2017-01-01T00:00:00Z'))).rejects.toSatisfy(signatureError('cert_expired'));
    // Still the signature of this body: a tampered one is refused from the cached certificate too.
    await expect(gateway.verifyWebhook({ ...delivery, rawBody: new TextEncoder().encode(vector.body.replace('Plan', 'Plam')) }, new Date('2018-06-01T00:00:00Z'))).rejects.toSatisfy(signatureError('signature_mismatch'));
    expect(transport.seen).toEqual([vector.headers['paypal-cert-url']]);
  });

  it('a one-byte change of the body, or another webhook id, does not verify', async () => {
    const now = new Date('2018-06-01T00:00:00Z');
    const tampered = new TextEncoder().encode(vector.body.replace('T-Shirt of the Month Club Plan', 'T-Shirt of the Month Club Plam'));
    await expect(vectorGateway(certTransport(vector.certificatePem)).verifyWebhook({ headers: vector.headers, rawBody: tampered }, now)).rejects.toSatisfy(signatureError('signature_mismatch'));
    await expect(vectorGateway(certTransport(vector.certificatePem), '96605875FF6516634').verifyWebhook({ headers: vector.headers, rawBody: body }, now)).rejects.toSatisfy(signatureError('signature_mismatch'));
  });

  it('by default the delivery is three years stale: refused before any certificate is fetched', async () => {
    const transport = certTransport(vector.certificatePem);
    const gateway = createPayPalGateway({ clientId: 'x', clientSecret: 'y', webhookId: vector.webhookId, mode: 'sandbox', transport });
    await expect(gateway.verifyWebhook({ headers: vector.headers, rawBody: body }, new Date('2020-06-01T00:00:00Z'))).rejects.toSatisfy(signatureError('stale_timestamp'));
    expect(transport.seen).toEqual([]);
  });

  it('a live gateway refuses the sandbox cert host; neither mode fetches other hosts, ports, paths or schemes', async () => {
    const transport = certTransport(vector.certificatePem);
    const live = createPayPalGateway({ clientId: 'x', clientSecret: 'y', webhookId: vector.webhookId, mode: 'live', transport, webhookMaxAgeSeconds: 0 });
    const now = new Date('2018-06-01T00:00:00Z');
    await expect(live.verifyWebhook({ headers: vector.headers, rawBody: body }, now)).rejects.toSatisfy(signatureError('cert_url_not_allowed'));
    const sandboxMode = vectorGateway(transport);
    for (const url of [
      'https://evil.example/v1/notifications/certs/CERT-1',
      'http://api.sandbox.paypal.com/v1/notifications/certs/CERT-1',
      'https://api.sandbox.paypal.com:8443/v1/notifications/certs/CERT-1',
      'https://api.sandbox.paypal.com/v1/notifications/other/CERT-1',
      'https://api.sandbox.paypal.com/v1/notifications/certs/../../oauth2/token',
      'https://user@api.sandbox.paypal.com/v1/notifications/certs/CERT-1',
      'https://api.sandbox.paypal.com.evil.example/v1/notifications/certs/CERT-1',
      'https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1?x=1',
      'file:///etc/passwd',
    ]) {
      await expect(sandboxMode.verifyWebhook({ headers: { ...vector.headers, 'paypal-cert-url': url }, rawBody: body }, now), url).rejects.toSatisfy(signatureError('cert_url_not_allowed'));
    }
    expect(transport.seen).toEqual([]);
  });

  it('cert URLs that only parse into a PayPal URL (non-canonical spellings, escapes, extra segments) are refused unfetched', async () => {
    const transport = certTransport(vector.certificatePem);
    const gateway = vectorGateway(transport);
    const now = new Date('2018-06-01T00:00:00Z');
    const base = 'https://api.sandbox.paypal.com/v1/notifications/certs';
    for (const url of [
      `${base}/%2e%2e%2f%2e%2e%2foauth2/token`,
      `${base}/CERT-1%2F..%2F..%2Foauth2%2Ftoken`,
      `${base}/%00`,
      `${base}/CERT-1/extra/path`,
      `${base}//evil`,
      `${base}/CERT-1;x=1`,
      `${base}/CERT-1#`,
      `${base}/CERT-1?`,
      'https://api.sandbox.paypal.com\\v1\\notifications\\certs\\CERT-1',
      'https://API.SANDBOX.PAYPAL.COM/v1/notifications/certs/CERT-1',
      'https://api.sandbox.paypal.com:443/v1/notifications/certs/CERT-1',
      'https:api.sandbox.paypal.com/v1/notifications/certs/CERT-1',
      'https:/api.sandbox.paypal.com/v1/notifications/certs/CERT-1',
      'HTTPS://api.sandbox.paypal.com/v1/notifications/certs/CERT-1',
      `${base}/CERT\t-1`,
      'https://api.sandbox.paypal.com./v1/notifications/certs/CERT-1',
      'https://api.sandbox.paypal.com@evil.example/v1/notifications/certs/CERT-1',
      'https://evil.example/?x=api.sandbox.paypal.com',
      'https://[::1]/v1/notifications/certs/CERT-1',
      'https://xn--pi-6kc.sandbox.paypal.com/v1/notifications/certs/CERT-1',
      'https://api.paypal.com/v1/notifications/certs/CERT-1',
    ]) {
      await expect(gateway.verifyWebhook({ headers: { ...vector.headers, 'paypal-cert-url': url }, rawBody: body }, now), url).rejects.toSatisfy(signatureError('cert_url_not_allowed'));
    }
    expect(transport.seen).toEqual([]);
    // Loopback trust takes the canonical host:port only (not 0x7f.0.0.1 or 2130706433 for 127.0.0.1).
    for (const url of ['http://0x7f.0.0.1:8123/v1/notifications/certs/C', 'http://2130706433:8123/v1/notifications/certs/C', 'http://127.1:8123/v1/notifications/certs/C']) {
      expect(() => checkCertUrl(url, 'sandbox', { hosts: ['127.0.0.1:8123'], allowHttpLoopback: true }), url).toThrow(expect.objectContaining({ code: 'cert_url_not_allowed' }));
    }
    expect(checkCertUrl('http://127.0.0.1:8123/v1/notifications/certs/CERT-a.b', 'sandbox', { hosts: ['127.0.0.1:8123'], allowHttpLoopback: true }).href).toBe('http://127.0.0.1:8123/v1/notifications/certs/CERT-a.b');
    expect(checkCertUrl(vector.headers['paypal-cert-url']!, 'sandbox').href).toBe(vector.headers['paypal-cert-url']);
  });

  it('an unsupported PAYPAL-AUTH-ALGO is refused before the certificate is fetched', async () => {
    const transport = certTransport(vector.certificatePem);
    for (const algo of ['SHA1withRSA', 'sha256withrsa', 'none']) {
      await expect(vectorGateway(transport).verifyWebhook({ headers: { ...vector.headers, 'paypal-auth-algo': algo }, rawBody: body }, new Date('2018-06-01T00:00:00Z')), algo).rejects.toSatisfy(signatureError('unsupported_auth_algo'));
    }
    expect(transport.seen).toEqual([]);
  });

  it('a certificate URL PayPal answers with 404 or a redirect is a signature error (400), and a bad answer is not cached', async () => {
    const answers: Array<[number, string]> = [];
    const seen: string[] = [];
    const transport: HttpTransport = {
      ...certTransport(vector.certificatePem),
      async request(request: HttpRequest) {
        seen.push(request.url);
        const [status, text] = answers.shift() ?? [200, vector.certificatePem];
        const headers: Record<string, string> = status === 302 ? { location: 'http://127.0.0.1:1/' } : {};
        return { status, headers, body: new TextEncoder().encode(text), text: () => text, json: () => JSON.parse(text), attempts: 1 };
      },
    };
    const gateway = vectorGateway(transport);
    const delivery = { headers: vector.headers, rawBody: body };
    const now = new Date('2018-06-01T00:00:00Z');
    answers.push([404, '{"name":"RESOURCE_NOT_FOUND"}'], [302, ''], [200, '<html>not a certificate</html>']);
    for (let i = 0; i < 3; i++) {
      const error = await gateway.verifyWebhook(delivery, now).catch((e: unknown) => e);
      expect(error, String(i)).toSatisfy(signatureError('cert_untrusted'));
      expect((error as TenderError).status).toBe(400);
    }
    // The HTML answer was not kept: the next delivery fetches again and verifies, then the cache serves.
    await expect(gateway.verifyWebhook(delivery, now)).resolves.toBeUndefined();
    await expect(gateway.verifyWebhook(delivery, now)).resolves.toBeUndefined();
    expect(seen).toHaveLength(4);
    expect(new Set(seen)).toEqual(new Set([vector.headers['paypal-cert-url']]));
    // PayPal unavailable (5xx) stays retryable, so PayPal's redelivery can verify later.
    answers.push([503, ''], [503, ''], [503, '']);
    const other = vectorGateway(transport);
    await expect(other.verifyWebhook(delivery, now)).rejects.toMatchObject({ code: 'webhook_cert_unavailable', retryable: true });
  });

  it('transmission times must be RFC 3339 with an offset (no server time zone, no rolled-over dates)', () => {
    const now = new Date('2017-03-30T20:05:00Z');
    for (const ok of ['2017-03-30T20:04:05Z', '2017-03-30T20:04:05.123Z', '2017-03-30T22:04:05+02:00', '2017-03-30t20:04:05z']) {
      expect(() => checkTransmissionTime(ok, now, 3600, 300), ok).not.toThrow();
    }
    for (const bad of ['2017-03-30T20:04:05', '2017-03-30T20:04', '2017-03-30', '2017-02-31T20:04:05Z', '2017-03-30T20:04:05Z junk', '2017-03-30T20:04:05 GMT', '+275760-09-13T00:00:00Z', '99999-01-01T00:00:00Z', '1490904245', '']) {
      expect(() => checkTransmissionTime(bad, now, 0, 10 ** 9), bad).toThrow(expect.objectContaining({ type: 'webhook_signature_error', code: 'stale_timestamp' }));
    }
  });

  it('configuration: certTrust is refused in live mode, and a bad option is named', () => {
    expect(() => createPayPalGateway({ clientId: 'x', clientSecret: 'y', webhookId: 'W1', mode: 'live', certTrust: { hosts: ['127.0.0.1:1'] } })).toThrow(
      expect.objectContaining({ code: 'invalid_configuration', param: 'certTrust' }),
    );
    expect(() => createPayPalGateway({ clientId: '', clientSecret: 'y', webhookId: 'W1', mode: 'live' })).toThrow(expect.objectContaining({ param: 'clientId' }));
    expect(() => createPayPalGateway({ clientId: 'x', clientSecret: 'y', webhookId: 'W1', mode: 'production' as 'live' })).toThrow(expect.objectContaining({ param: 'mode' }));
    expect(() => createPayPalGateway({ clientId: 'x', clientSecret: 'y', webhookId: 'W-1', mode: 'live' })).toThrow(expect.objectContaining({ param: 'webhookId' }));
    expect(() => createPayPalGateway({ clientId: 'x', clientSecret: 'y', webhookId: 'W1', mode: 'sandbox', webhookVerification: 'maybe' as 'online' })).toThrow(expect.objectContaining({ param: 'webhookVerification' }));
  });
});

describe('sandbox deliveries', () => {
  let sandbox: PayPalSandbox;
  let gateway: PayPalGateway;
  let foreign: Server;
  const foreignRequests: string[] = [];
  const event = JSON.stringify({ id: 'WH-1', event_type: 'CHECKOUT.ORDER.APPROVED', create_time: new Date().toISOString(), resource_type: 'checkout-order', resource: { id: 'ORDER1' } });
  const raw = (text: string) => new TextEncoder().encode(text);

  beforeAll(async () => {
    sandbox = await startPayPalSandbox();
    gateway = gatewayFor(sandbox);
    // Another loopback host serving a valid-looking certificate path: it must never be asked.
    foreign = createServer((req, res) => {
      foreignRequests.push(req.url ?? '');
      res.end(sandbox.certificates.signing.certificatePem + sandbox.certificates.ca.certificatePem);
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await gateway.close();
    await sandbox.close();
    await new Promise((r) => foreign.close(r));
  });

  it('a sandbox delivery verifies with certTrust (offline), and again from the certificate cache', async () => {
    const headers = sandbox.webhooks.sign(event);
    await gateway.verifyWebhook({ headers, rawBody: raw(event) }, new Date());
    await gateway.verifyWebhook({ headers: sandbox.webhooks.sign(event), rawBody: raw(event) }, new Date());
    expect(sandbox.requests.filter((r) => r.path.startsWith('/v1/notifications/certs/'))).toHaveLength(1);
  });

  it('tampered body and wrong webhook id are refused', async () => {
    const headers = sandbox.webhooks.sign(event);
    await expect(gateway.verifyWebhook({ headers, rawBody: raw(event.replace('ORDER1', 'ORDER2')) }, new Date())).rejects.toSatisfy(signatureError('signature_mismatch'));
    const other = gatewayFor(sandbox, { webhookId: 'SOMEOTHERWEBHOOK' });
    await expect(other.verifyWebhook({ headers, rawBody: raw(event) }, new Date())).rejects.toSatisfy(signatureError('signature_mismatch'));
    await other.close();
  });

  it('a cert URL on another loopback host is refused and that host sees no request', async () => {
    const port = (foreign.address() as AddressInfo).port;
    for (const url of [`http://127.0.0.1:${port}/v1/notifications/certs/CERT-x`, `https://127.0.0.1:${port}/v1/notifications/certs/CERT-x`, `http://localhost:${sandbox.port}/v1/notifications/certs/CERT-x`]) {
      const headers = { ...sandbox.webhooks.sign(event), 'paypal-cert-url': url };
      await expect(gateway.verifyWebhook({ headers, rawBody: raw(event) }, new Date()), url).rejects.toSatisfy(signatureError('cert_url_not_allowed'));
    }
    expect(foreignRequests).toEqual([]);
    // Without certTrust (the default), even the sandbox's own host is refused.
    const strict = createPayPalGateway({ clientId: sandbox.clientId, clientSecret: sandbox.clientSecret, webhookId: sandbox.webhookId, mode: 'sandbox', baseUrl: sandbox.url });
    await expect(strict.verifyWebhook({ headers: sandbox.webhooks.sign(event), rawBody: raw(event) }, new Date())).rejects.toSatisfy(signatureError('cert_url_not_allowed'));
    await strict.close();
  });

  it('a certificate that does not chain to a trusted CA is refused', async () => {
    const untrusting = gatewayFor(sandbox, { certTrust: { ...sandbox.certTrust, caCertificatesPem: [] } });
    await expect(untrusting.verifyWebhook({ headers: sandbox.webhooks.sign(event), rawBody: raw(event) }, new Date())).rejects.toSatisfy(signatureError('cert_untrusted'));
    await untrusting.close();
  });

  it('an expired sandbox certificate is refused', async () => {
    const certificates = createSandboxCertificates({ validFrom: new Date('2020-01-01T00:00:00Z'), validTo: new Date('2021-01-01T00:00:00Z') });
    const old = await startPayPalSandbox({ certificates });
    const oldGateway = gatewayFor(old);
    await expect(oldGateway.verifyWebhook({ headers: old.webhooks.sign(event), rawBody: raw(event) }, new Date())).rejects.toSatisfy(signatureError('cert_expired'));
    // The same delivery verifies at a time the certificate was valid (the clock is injected).
    const then = new Date('2020-06-01T00:00:00Z');
    await expect(oldGateway.verifyWebhook({ headers: old.webhooks.sign(event, then), rawBody: raw(event) }, then)).resolves.toBeUndefined();
    await oldGateway.close();
    await old.close();
  });

  it('stale and future transmission times are refused', async () => {
    const now = new Date();
    const old = sandbox.webhooks.sign(event, new Date(now.getTime() - 4 * 24 * 3600_000));
    await expect(gateway.verifyWebhook({ headers: old, rawBody: raw(event) }, now)).rejects.toSatisfy(signatureError('stale_timestamp'));
    const future = sandbox.webhooks.sign(event, new Date(now.getTime() + 10 * 60_000));
    await expect(gateway.verifyWebhook({ headers: future, rawBody: raw(event) }, now)).rejects.toSatisfy(signatureError('stale_timestamp'));
    const tight = gatewayFor(sandbox, { webhookMaxAgeSeconds: 60 });
    await expect(tight.verifyWebhook({ headers: sandbox.webhooks.sign(event, new Date(now.getTime() - 120_000)), rawBody: raw(event) }, now)).rejects.toSatisfy(signatureError('stale_timestamp'));
    await tight.close();
  });

  it('missing headers and another algorithm are refused', async () => {
    const headers = sandbox.webhooks.sign(event);
    const { ['paypal-transmission-sig']: _sig, ...unsigned } = headers;
    await expect(gateway.verifyWebhook({ headers: unsigned, rawBody: raw(event) }, new Date())).rejects.toSatisfy(signatureError('missing_header'));
    await expect(gateway.verifyWebhook({ headers: { ...headers, 'paypal-auth-algo': 'SHA1withRSA' }, rawBody: raw(event) }, new Date())).rejects.toSatisfy(signatureError('unsupported_auth_algo'));
  });

  it('online verification asks PayPal (verify-webhook-signature) and fetches no certificate', async () => {
    const online = gatewayFor(sandbox, { webhookVerification: 'online', certTrust: undefined });
    const before = sandbox.requests.length;
    await online.verifyWebhook({ headers: sandbox.webhooks.sign(event), rawBody: raw(event) }, new Date());
    expect(sandbox.requests.slice(before).map((r) => r.path)).toEqual(['/v1/oauth2/token', '/v1/notifications/verify-webhook-signature']);
    await expect(online.verifyWebhook({ headers: sandbox.webhooks.sign(event), rawBody: raw(event.replace('ORDER1', 'ORDER9')) }, new Date())).rejects.toSatisfy(signatureError('signature_mismatch'));
    const wrongId = gatewayFor(sandbox, { webhookVerification: 'online', webhookId: 'NOTTHISONE' });
    await expect(wrongId.verifyWebhook({ headers: sandbox.webhooks.sign(event), rawBody: raw(event) }, new Date())).rejects.toSatisfy(signatureError('signature_mismatch'));
    await online.close();
    await wrongId.close();
  });

  it('online: PayPal refusing the delivery\'s fields (400/422) is a signature error; PayPal down is retryable, not an unknown payment outcome', async () => {
    const online = gatewayFor(sandbox, { webhookVerification: 'online', certTrust: undefined });
    const headers = sandbox.webhooks.sign(event);
    for (const status of [400, 422]) {
      sandbox.faults.add({ kind: 'error', status, match: /verify-webhook-signature/ });
      const error = await online.verifyWebhook({ headers, rawBody: raw(event) }, new Date()).catch((e: unknown) => e);
      expect(error, String(status)).toSatisfy(signatureError('signature_mismatch'));
      expect((error as TenderError).status).toBe(400);
    }
    const once = gatewayFor(sandbox, { webhookVerification: 'online', certTrust: undefined, transport: createHttpTransport({ gateway: 'paypal', retry: { attempts: 1 } }) });
    sandbox.faults.add({ kind: 'error', status: 503, match: /verify-webhook-signature/ });
    const down = await once.verifyWebhook({ headers, rawBody: raw(event) }, new Date()).catch((e: unknown) => e);
    expect(down).toMatchObject({ type: 'gateway_error', retryable: true });
    expect((down as TenderError).code).not.toBe('gateway_outcome_unknown');
    await expect(online.verifyWebhook({ headers, rawBody: raw(event) }, new Date())).resolves.toBeUndefined();
    await online.close();
    await once.close();
  });
});
