import { describe, expect, it } from 'vitest';
import { createHttpTransport } from '@tender/core';
import type { WebhookRequest } from '@tender/core';
import { CALLBACK_ACK, createFiuuGateway, paymentSkey } from '@tender/fiuu';

const keys = { merchantId: 'test4321', verifyKey: 'abcdefg', secretKey: 'hilklmn' };
const transport = createHttpTransport({ gateway: 'fiuu' });
const gateway = createFiuuGateway({ ...keys, transport }, { returnPage: { targetOrigin: 'https://shop.example' } });

// Research §12 T2: a real signed result.
const T2 = { tranID: '000001', orderid: '20160331082207680000', status: '00', domain: 'test4321', amount: '10.00', currency: 'MYR', paydate: '2016-03-29 04:02:21', appcode: 'abcdefg', skey: '2e684713b97a79721e347492ef75765e' };
const req = (fields: Record<string, string>, query?: Record<string, string>): WebhookRequest => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  rawBody: new TextEncoder().encode(new URLSearchParams(fields).toString()),
  ...(query ? { query } : {}),
});

describe('result verification', () => {
  it('accepts the T2 vector on all three endpoints', () => {
    for (const nbcb of [undefined, '1', '2']) expect(() => gateway.verifyWebhook(req({ ...T2, ...(nbcb ? { nbcb } : {}) }), new Date())).not.toThrow();
  });

  it.each(['tranID', 'orderid', 'status', 'amount', 'currency', 'paydate', 'appcode'])('rejects a changed %s', (field) => {
    const tampered = { ...T2, [field]: field === 'status' ? '11' : `${T2[field as keyof typeof T2]}1` };
    expect(() => gateway.verifyWebhook(req(tampered), new Date())).toThrow(expect.objectContaining({ type: 'webhook_signature_error', code: 'invalid_signature' }));
  });

  it('rejects another merchant, upper-case hex, a missing skey, and the verify key used as the secret', () => {
    expect(() => gateway.verifyWebhook(req({ ...T2, domain: 'other' }), new Date())).toThrow(expect.objectContaining({ code: 'unknown_merchant' }));
    expect(() => gateway.verifyWebhook(req({ ...T2, skey: T2.skey.toUpperCase() }), new Date())).toThrow(expect.objectContaining({ code: 'invalid_signature' }));
    const { skey: _skey, ...noSkey } = T2;
    expect(() => gateway.verifyWebhook(req(noSkey), new Date())).toThrow(expect.objectContaining({ code: 'missing_field' }));
    const signedWithVerifyKey = { ...T2, skey: paymentSkey(T2, keys.verifyKey) };
    expect(() => gateway.verifyWebhook(req(signedWithVerifyKey), new Date())).toThrow(expect.objectContaining({ code: 'invalid_signature' }));
    const legacy = createFiuuGateway({ merchantId: keys.merchantId, verifyKey: keys.verifyKey, legacySkeyWithVerifyKey: true, transport });
    expect(() => legacy.verifyWebhook(req(signedWithVerifyKey), new Date())).not.toThrow();
  });
});

describe('parsing and acknowledgements', () => {
  it('callback (nbcb=1): CBTOKEN:MPSTATOK, no IPN echo', async () => {
    const parsed = await gateway.parseWebhook(req({ ...T2, nbcb: '1' }));
    expect(parsed.acknowledgement).toMatchObject({ status: 200, body: CALLBACK_ACK });
    expect(parsed.afterAcknowledge).toBeUndefined();
    expect(parsed.events[0]).toMatchObject({ kind: 'payment', eventId: 'fiuu:000001:00', gatewayReference: '000001', orderId: T2.orderid, result: { status: 'CAPTURED' } });
  });

  it('notification (nbcb=2): same event id as the callback (dedup), empty body, IPN echo scheduled', async () => {
    const parsed = await gateway.parseWebhook(req({ ...T2, nbcb: '2' }));
    expect(parsed.events[0]!.eventId).toBe('fiuu:000001:00');
    expect(parsed.acknowledgement.body).toBe('');
    expect(typeof parsed.afterAcknowledge).toBe('function');
  });

  it('query.kind overrides nbcb; the return URL yields a note and the return page', async () => {
    const parsed = await gateway.parseWebhook(req(T2, { kind: 'return' }));
    expect(parsed.events[0]).toMatchObject({ kind: 'note', type: 'fiuu.return_url' });
    expect(parsed.acknowledgement.headers?.['content-type']).toContain('text/html');
    expect(parsed.acknowledgement.body).toContain('"https://shop.example"');
  });

  it('maps 11 to FAILED with the reason, 22 to PROCESSING, parses extraP and the metadata echo', async () => {
    const failed = { ...T2, status: '11', error_code: 'P11', error_desc: 'Amount mismatch', nbcb: '2' };
    const f = await gateway.parseWebhook(req({ ...failed, skey: paymentSkey(failed, keys.secretKey) }));
    expect(f.events[0]).toMatchObject({ result: { status: 'FAILED', failure: { code: 'P11', message: 'Amount mismatch' } } });
    const pending = { ...T2, status: '22', nbcb: '2', extraP: JSON.stringify({ metadata: { tender_payment_id: 'pay_123', tender_capture: 'manual' }, fpx_txn_id: 'F1' }) };
    const p = await gateway.parseWebhook(req({ ...pending, skey: paymentSkey(pending, keys.secretKey) }));
    expect(p.events[0]).toMatchObject({ kind: 'payment', paymentId: 'pay_123', result: { status: 'PROCESSING', gatewayData: { fpx_txn_id: 'F1' } } });
    const auth = { ...pending, status: '00' };
    const a = await gateway.parseWebhook(req({ ...auth, skey: paymentSkey(auth, keys.secretKey) }));
    expect(a.events[0]).toMatchObject({ result: { status: 'AUTHORIZED' } });
  });

  it('DuitNow QR account enquiry is ignored', async () => {
    const enquiry = { ...T2, status: '22', nbcb: '2', extraP: JSON.stringify({ account_enquiry: 'true', enquirydate: '2025-01-01 10:00:00' }) };
    const parsed = await gateway.parseWebhook(req({ ...enquiry, skey: paymentSkey(enquiry, keys.secretKey) }));
    expect(parsed.events[0]!.kind).toBe('ignored');
  });

  it('handleReturn renders UNVERIFIED for a forged return and the status for a real one', () => {
    const forged = gateway.handleReturn(req({ ...T2, status: '11' }), { targetOrigin: 'https://shop.example' });
    expect(forged).toMatchObject({ verified: false, message: { status: 'UNVERIFIED' } });
    const real = gateway.handleReturn(req(T2), { targetOrigin: 'https://shop.example/checkout' });
    expect(real).toMatchObject({ verified: true, message: { status: 'CAPTURED', tranID: '000001', amount: '10.00' } });
    expect(real.html).toContain('postMessage(m,"https://shop.example")');
    expect(real.html).not.toContain('<script>alert');
  });
});
