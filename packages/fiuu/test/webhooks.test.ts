import { describe, expect, it } from 'vitest';
import { createHttpTransport, TenderError } from '@tender/core';
import type { Payment, WebhookEvent, WebhookRequest } from '@tender/core';
import { CALLBACK_ACK, createFiuuGateway, paymentSkey } from '@tender/fiuu';

const keys = { merchantId: 'test4321', verifyKey: 'abcdefg', secretKey: 'hilklmn' };
const transport = createHttpTransport({ gateway: 'fiuu' });
const gateway = createFiuuGateway({ ...keys, transport }, { returnPage: { targetOrigin: 'https://shop.example' } });

// A real signed result: the skey test vector of omnipay-molpay's tests/Message/CompletePurchaseRequestTest.php
// (keyed with the secret key, not the verify key).
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
    // T2 names no channel, so it may be a card authorisation: bound unconfirmed, then requeried.
    expect(parsed.events).toMatchObject([
      { kind: 'payment', eventId: 'fiuu:000001:00', gatewayReference: '000001', orderId: T2.orderid, result: { status: 'PROCESSING' } },
      { kind: 'requery', eventId: 'fiuu:000001:00:requery', gatewayReference: '000001', orderId: T2.orderid },
    ]);
    // An FPX result (no pre-authorisation possible) is one event, a sale.
    const fpx = await gateway.parseWebhook(req({ ...T2, nbcb: '1', channel: 'fpx' }));
    expect(fpx.events).toMatchObject([{ kind: 'payment', eventId: 'fiuu:000001:00', result: { status: 'CAPTURED' } }]);
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
    expect(p.events[0]).toMatchObject({ kind: 'payment', hint: { paymentId: 'pay_123' }, result: { status: 'PROCESSING', gatewayData: { fpx_txn_id: 'F1' } } });
    // The echoed tender_capture is unsigned: what a 00 means comes from the stored payment (resultFor).
    const auth = { ...pending, status: '00' };
    const a = (await gateway.parseWebhook(req({ ...auth, skey: paymentSkey(auth, keys.secretKey) }))).events[0] as Extract<WebhookEvent, { kind: 'payment' }>;
    expect(a.resultFor!(open('manual'))).toMatchObject({ status: 'AUTHORIZED' });
    // Channel-less: a sale or an authorisation, which the requery event that follows settles.
    expect(a.resultFor!(open('automatic'))).toMatchObject({ status: 'PROCESSING' });
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

type PaymentEvent = Extract<WebhookEvent, { kind: 'payment' }>;
/** A stored payment awaiting its outcome, as `resultFor` sees it. */
function open(captureMethod: 'manual' | 'automatic', paymentMethod: string | null = null): Payment {
  return { status: 'REQUIRES_ACTION', captureMethod, paymentMethod, currency: 'MYR' } as Payment;
}
const signed = (fields: Record<string, string>) => ({ ...fields, skey: paymentSkey(fields as typeof T2, keys.secretKey) });
const metadataEcho = (metadata: Record<string, string>) => JSON.stringify({ metadata: JSON.stringify(metadata) });

describe('binding: only signed fields lead to a payment', () => {
  it('a genuine result whose extraP names another payment binds by its signed tranID and orderid; the named id is only a hint', async () => {
    const forged = signed({ ...T2, nbcb: '2', extraP: metadataEcho({ tender_payment_id: 'pay_OTHER_MERCHANT' }) });
    const [event] = (await gateway.parseWebhook(req(forged))).events;
    expect(event).toMatchObject({ kind: 'payment', gatewayReference: T2.tranID, orderId: T2.orderid, hint: { paymentId: 'pay_OTHER_MERCHANT' } });
    expect((event as PaymentEvent).paymentId ?? null).toBeNull();
    // The return URL's copy (a note) binds the same way.
    const [note] = (await gateway.parseWebhook(req({ ...forged, nbcb: '' }, { kind: 'return' }))).events;
    expect(note).toMatchObject({ kind: 'note', gatewayReference: T2.tranID, orderId: T2.orderid, hint: { paymentId: 'pay_OTHER_MERCHANT' } });
    expect((note as { paymentId?: string | null }).paymentId ?? null).toBeNull();
  });

  it('a 00 for a manual-capture payment whose form dropped tender_capture is an authorisation: resultFor reads the stored payment', async () => {
    const card = signed({ ...T2, nbcb: '1', channel: 'credit', extraP: metadataEcho({ tender_payment_id: 'pay_1' }) });
    const event = (await gateway.parseWebhook(req(card))).events[0] as PaymentEvent;
    const manual = event.resultFor!(open('manual', 'CARD'));
    expect(manual.status).toBe('AUTHORIZED');
    expect(manual.amountCaptured).toBeUndefined();
    expect(manual.amount?.toString()).toBe('10.00');
    const sale = signed({ ...T2, nbcb: '1', channel: 'fpx', extraP: metadataEcho({ tender_payment_id: 'pay_1' }) });
    const automatic = ((await gateway.parseWebhook(req(sale))).events[0] as PaymentEvent).resultFor!(open('automatic', 'FPX'));
    expect(automatic).toMatchObject({ status: 'CAPTURED', gatewayReference: T2.tranID });
    expect(automatic.amountCaptured?.toString()).toBe('10.00');
    // And an echoed tender_capture=manual does not make an automatic payment's sale an authorisation.
    const echoed = signed({ ...T2, nbcb: '1', channel: 'fpx', extraP: metadataEcho({ tender_capture: 'manual' }) });
    const e2 = (await gateway.parseWebhook(req(echoed))).events[0] as PaymentEvent;
    expect(e2.resultFor!(open('automatic', 'FPX')).status).toBe('CAPTURED');
  });

  it('a card 00 on an automatic payment is not read as a sale: PROCESSING, then a requery event; nor is an unsigned fpx claim on a card payment', async () => {
    const card = signed({ ...T2, nbcb: '2', channel: 'credit' });
    const events = (await gateway.parseWebhook(req(card))).events;
    expect(events.map((e) => [e.kind, e.eventId])).toEqual([['payment', 'fiuu:000001:00'], ['requery', 'fiuu:000001:00:requery']]);
    const bound = (events[0] as PaymentEvent).resultFor!(open('automatic', 'CARD'));
    expect(bound).toMatchObject({ status: 'PROCESSING', gatewayReference: T2.tranID });
    expect(bound.amountCaptured).toBeUndefined();
    // A payment no longer open keeps its status; the requery moves it.
    expect((events[0] as PaymentEvent).resultFor!({ ...open('automatic', 'CARD'), status: 'EXPIRED' }).status).toBe('EXPIRED');

    const claim = signed({ ...T2, nbcb: '2', channel: 'fpx' });
    const [only, ...rest] = (await gateway.parseWebhook(req(claim))).events;
    expect(rest).toEqual([]);
    expect((only as PaymentEvent).resultFor!(open('automatic', 'CARD')).status).toBe('PROCESSING');
    expect((only as PaymentEvent).resultFor!(open('automatic')).status).toBe('PROCESSING');
    expect((only as PaymentEvent).resultFor!(open('automatic', 'FPX')).status).toBe('CAPTURED');
  });

  it('the unsigned account_enquiry marker cannot turn a signed 00 into an ignored report', async () => {
    const success = signed({ ...T2, nbcb: '2', extraP: JSON.stringify({ account_enquiry: 'true', enquirydate: '2025-01-01 10:00:00' }) });
    expect((await gateway.parseWebhook(req(success))).events[0]).toMatchObject({ kind: 'payment', eventId: 'fiuu:000001:00' });
  });
});

describe('signed but unusable results are typed 400s, never crashes', () => {
  it.each([
    ['amount', 'ten', /amount/],
    ['amount', '10.005', /amount/],
    ['currency', 'XYZ', /currency/],
    ['status', '33', /status/],
  ])('%s %s -> 400 invalid_webhook_payload naming the field', async (field, value, named) => {
    const bad = signed({ ...T2, nbcb: '2', [field]: value });
    gateway.verifyWebhook(req(bad), new Date());
    const error = await Promise.resolve()
      .then(() => gateway.parseWebhook(req(bad)))
      .then(() => null, (e: unknown) => e);
    expect(TenderError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_webhook_payload', status: 400, param: field });
    expect((error as Error).message).toMatch(named);
  });

  it('a paydate that is not a date does not throw (the report is kept, without occurredAt)', async () => {
    const odd = signed({ ...T2, nbcb: '2', channel: 'fpx', paydate: '2016-13-45 99:99:99' });
    const [event] = (await gateway.parseWebhook(req(odd))).events;
    expect(event).toMatchObject({ kind: 'payment', result: { status: 'CAPTURED' } });
    expect((event as PaymentEvent).occurredAt).toBeUndefined();
  });
});
