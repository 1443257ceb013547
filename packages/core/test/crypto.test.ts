import { describe, expect, it } from 'vitest';
import {
  TenderError,
  checkTimestamp,
  hmacSha256,
  md5Hex,
  rawBodyBytes,
  sha256Hex,
  timingSafeEqualString,
  verifyHmacSha256,
} from '@tender/core';

const clockAt = (unixSeconds: number) => ({ now: () => new Date(unixSeconds * 1000) });

// Vectors from the vendors' public documents: Stripe's manual signature check
// (https://docs.stripe.com/webhooks#verify-manually), Razorpay's webhook validation
// (https://razorpay.com/docs/webhooks/validate-test/) and the Fiuu API Spec for Merchant
// (github.com/FiuuPayment/Documentation-Fiuu_API_Spec, vcode and skey sections).
describe('Stripe webhook vectors (HMAC-SHA256 hex over `${t}.${raw body}`)', () => {
  const secret = 'whsec_test_secret';
  const compact = '{"id":"evt_test_webhook","object":"event"}';
  const pretty = JSON.stringify({ id: 'evt_test_webhook', object: 'event' }, null, 2);

  it('reproduces both published vectors', () => {
    expect(hmacSha256(secret, `1700000000.${compact}`)).toBe('d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990');
    expect(hmacSha256(secret, ['1700000000.', Buffer.from(pretty)])).toBe(
      '4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150',
    );
  });

  it('verifies on the raw bytes and fails on re-serialised JSON of the same event', () => {
    const raw = Buffer.from(pretty);
    const sig = '4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150';
    expect(verifyHmacSha256({ secret, payload: ['1700000000.', raw], signature: sig })).toBe(true);
    const reserialised = JSON.stringify(JSON.parse(raw.toString()));
    expect(verifyHmacSha256({ secret, payload: ['1700000000.', reserialised], signature: sig })).toBe(false);
  });

  it('rejects tampered bytes, a wrong timestamp, a wrong secret, and wrong-length or empty signatures', () => {
    const sig = 'd95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990';
    const ok = (payload: string, signature: string | string[], key = secret) =>
      verifyHmacSha256({ secret: key, payload, signature });
    expect(ok(`1700000000.${compact}`, sig)).toBe(true);
    expect(ok(`1700000000.${compact.replace('event', 'evenT')}`, sig)).toBe(false);
    expect(ok(`1700000001.${compact}`, sig)).toBe(false);
    expect(ok(`1700000000.${compact}`, sig, 'whsec_other')).toBe(false);
    expect(ok(`1700000000.${compact}`, sig.slice(0, -2))).toBe(false);
    expect(ok(`1700000000.${compact}`, `${sig}00`)).toBe(false);
    expect(ok(`1700000000.${compact}`, '')).toBe(false);
    expect(ok(`1700000000.${compact}`, [])).toBe(false);
    // Several v1 signatures during a secret roll: any match passes; hex case is irrelevant.
    expect(ok(`1700000000.${compact}`, ['00'.repeat(32), sig.toUpperCase()])).toBe(true);
  });

  it('a single flipped bit anywhere in the body fails', () => {
    const body = Buffer.from(compact);
    const sig = hmacSha256(secret, ['1700000000.', body]);
    for (let i = 0; i < body.length; i++) {
      const tampered = Buffer.from(body);
      tampered[i] = tampered[i]! ^ 1;
      expect(verifyHmacSha256({ secret, payload: ['1700000000.', tampered], signature: sig })).toBe(false);
    }
  });
});

describe('Razorpay vectors (HMAC-SHA256 hex)', () => {
  it.each([
    ['123456', '{"a":1,"b":2,"c":{"d":3}}', '2fe04e22977002e6c7cb553adab8b460cb9e2a4970d5953cb27a8472752e3bbc'],
    ['EnLs21M47BllR3X8PSFtjtbd', 'order_IEIaMR65cu6nz3|pay_IH4NVgf4Dreq1l', '0d4e745a1838664ad6c9c9902212a32d627d68e917290b0ad5f08ff4561bc50f'],
    ['EnLs21M47BllR3X8PSFtjtbd', 'pay_IDZNwZZFtnjyym|sub_ID6MOhgkcoHj9I', '601f383334975c714c91a7d97dd723eb56520318355863dcf3821c0d07a17693'],
    [
      'EnLs21M47BllR3X8PSFtjtbd',
      'plink_IH3cNucfVEgV68|TSsd1989|paid|pay_IH3d0ara9bSsjQ',
      '07ae18789e35093e51d0a491eb9922646f3f82773547e5b0f67ee3f2d3bf7d5b',
    ],
  ])('secret %s over %s', (secret, message, expected) => {
    expect(hmacSha256(secret, message)).toBe(expected);
    expect(verifyHmacSha256({ secret, payload: Buffer.from(message), signature: expected })).toBe(true);
    expect(verifyHmacSha256({ secret, payload: `${message} `, signature: expected })).toBe(false);
  });

  it('base64 encoding round-trips and is compared exactly', () => {
    const b64 = hmacSha256('123456', '{"a":1,"b":2,"c":{"d":3}}', 'base64');
    expect(Buffer.from(b64, 'base64').toString('hex')).toBe('2fe04e22977002e6c7cb553adab8b460cb9e2a4970d5953cb27a8472752e3bbc');
    expect(verifyHmacSha256({ secret: '123456', payload: '{"a":1,"b":2,"c":{"d":3}}', signature: b64, encoding: 'base64' })).toBe(true);
    expect(
      verifyHmacSha256({ secret: '123456', payload: '{"a":1,"b":2,"c":{"d":3}}', signature: b64.toLowerCase(), encoding: 'base64' }),
    ).toBe(false);
  });
});

describe('Fiuu md5 vectors (lower-case hex of plain concatenation)', () => {
  it.each([
    ['T1 vcode', ['10.00', 'test1234', '20160331082207680000', 'abcdefg'], 'f3d5496b444ae3d11e09fa92a753ac60'],
    ['T4 refund Signature', ['P', 'your_merchant_id', 'merchant_refund_ref_id', '25248208', '10.00', 'your_secret_key'], 'aafbef8720b13a33b37370a1a3b1c238'],
    ['T5 reversal skey', ['25248208', 'your_merchant_id', 'your_secret_key'], 'd07b97e2b8c7234792d3fb1fe56db619'],
    ['T6 reversal VrfKey', ['your_secret_key', 'your_merchant_id', '25248203', '00'], 'f56d5ea9932861454b7fd69851f57f7c'],
    [
      'T7 refund response Signature',
      ['P', 'your_merchant_id', 'merchant_refund_ref_id', '19', '25248208', '10.00', '22', 'your_secret_key'],
      '816071a1a72a260b87d7570beb0a670a',
    ],
  ])('%s', (_name, parts, expected) => {
    expect(md5Hex(parts)).toBe(expected);
    expect(md5Hex(parts.join(''))).toBe(expected);
  });

  it.each([
    ['00', '2e684713b97a79721e347492ef75765e'],
    ['22', '7f5b456722717f87ae37810d641742cb'],
  ])('T2/T3 two-level skey (status %s), secret key not verify key', (status, expected) => {
    const pre = md5Hex(['000001', '20160331082207680000', status, 'test4321', '10.00', 'MYR']);
    expect(md5Hex(['2016-03-29 04:02:21', 'test4321', pre, 'abcdefg', 'hilklmn'])).toBe(expected);
    expect(md5Hex(['2016-03-29 04:02:21', 'test4321', pre, 'abcdefg', 'abcdefg'])).not.toBe(expected);
  });

  it('channel_status HMAC-SHA256 skey (derived fixture)', () => {
    expect(hmacSha256('abcdefg', ['20250515000000', 'test1234'])).toBe(
      '5b27a8e7a23e629bd62a4238ca92ea7af73a02924e2ddecb928758e4010b0f89',
    );
  });

  it('sha256Hex matches the PhonePe v2 Authorization vector', () => {
    expect(sha256Hex('username:password')).toBe('bc842c31a9e54efe320d30d948be61291f3ceee4766e36ab25fa65243cd76e0e');
  });
});

describe('timingSafeEqualString', () => {
  it('is true only for identical inputs, whatever the lengths', () => {
    expect(timingSafeEqualString('abc', 'abc')).toBe(true);
    expect(timingSafeEqualString(Buffer.from('abc'), 'abc')).toBe(true);
    expect(timingSafeEqualString('abc', 'abd')).toBe(false);
    expect(timingSafeEqualString('abc', 'abcd')).toBe(false);
    expect(timingSafeEqualString('', 'a')).toBe(false);
    expect(timingSafeEqualString('', '')).toBe(true);
    expect(timingSafeEqualString('é', Buffer.from('é', 'latin1'))).toBe(false);
  });
});

describe('checkTimestamp', () => {
  const t = 1_700_000_000;
  it('accepts timestamps inside the tolerance on both sides', () => {
    expect(checkTimestamp(t, { toleranceSeconds: 300, clock: clockAt(t + 300) })).toEqual({ ok: true, ageSeconds: 300 });
    expect(checkTimestamp(String(t), { toleranceSeconds: 300, clock: clockAt(t - 299) }).ok).toBe(true);
    expect(checkTimestamp(new Date(t * 1000), { toleranceSeconds: 300, clock: clockAt(t) }).ok).toBe(true);
  });
  it('rejects stale, future and malformed timestamps', () => {
    expect(checkTimestamp(t, { toleranceSeconds: 300, clock: clockAt(t + 301) })).toEqual({ ok: false, reason: 'stale', ageSeconds: 301 });
    expect(checkTimestamp(t, { toleranceSeconds: 300, clock: clockAt(t - 301) })).toMatchObject({ ok: false, reason: 'future' });
    expect(checkTimestamp(t, { toleranceSeconds: 300, futureToleranceSeconds: Infinity, clock: clockAt(t - 10_000) }).ok).toBe(true);
    for (const bad of ['', 'abc', '17e8', '-5', '1.5', String(Number.NaN)]) {
      expect(checkTimestamp(bad, { toleranceSeconds: 300, clock: clockAt(t) })).toEqual({ ok: false, reason: 'invalid', ageSeconds: null });
    }
  });
});

describe('rawBodyBytes', () => {
  it('passes bytes and text through and refuses parsed objects', () => {
    const bytes = Buffer.from('{"a":1}');
    expect(rawBodyBytes(bytes)).toBe(bytes);
    expect(Buffer.from(rawBodyBytes('{"a":1}')).equals(bytes)).toBe(true);
    expect(Buffer.from(rawBodyBytes(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))).equals(bytes)).toBe(true);
    try {
      rawBodyBytes({ a: 1 });
      expect.unreachable();
    } catch (err) {
      expect(TenderError.isInstance(err)).toBe(true);
      expect(err).toMatchObject({ type: 'webhook_signature_error', code: 'raw_body_required', status: 400 });
    }
  });
});
