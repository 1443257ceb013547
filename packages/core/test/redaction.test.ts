import { describe, expect, it } from 'vitest';
import { REDACTED, redact, redactString, redactingLogger } from '@tender/core';

// 4111 1111 1111 1111 and 5555 5555 5555 4444 are the standard Luhn-valid test PANs.
describe('redact', () => {
  it('removes secrets by field name, whatever the case or separator', () => {
    const out = redact({
      headers: {
        Authorization: 'Bearer sk_live_123',
        'stripe-signature': 't=1,v1=abc',
        'X-Razorpay-Signature': 'abc',
        'PayPal-Transmission-Sig': 'sig',
        cookie: 'session=1',
        'idempotency-key': 'idem_1',
        'content-type': 'application/json',
      },
      form: { skey: 'deadbeef', vcode: 'cafebabe', Signature: 'x', VrfKey: 'y', checksum: 'z', amount: '10.00', orderid: 'ORD-1' },
      config: { FIUU_SECRET_KEY: 's', verifyKey: 'v', api_key: 'k', client_secret: 'c', webhookSecret: 'w', password: 'p' },
    });
    expect(out.headers).toEqual({
      Authorization: REDACTED,
      'stripe-signature': REDACTED,
      'X-Razorpay-Signature': REDACTED,
      'PayPal-Transmission-Sig': REDACTED,
      cookie: REDACTED,
      'idempotency-key': 'idem_1',
      'content-type': 'application/json',
    });
    expect(out.form).toEqual({ skey: REDACTED, vcode: REDACTED, Signature: REDACTED, VrfKey: REDACTED, checksum: REDACTED, amount: '10.00', orderid: 'ORD-1' });
    expect(Object.values(out.config).every((v) => v === REDACTED)).toBe(true);
  });

  it("masks Fiuu's PII fields (bill_name, bill_email, bill_mobile) and keeps enough to debug", () => {
    expect(
      redact({ bill_name: 'Ahmad Razak', bill_email: 'ahmad.razak@example.com.my', bill_mobile: '+60 12-345 6789', mpsbill_email: 'a@b.co', phone: 60123456789 }),
    ).toEqual({ bill_name: 'A***', bill_email: 'a***@example.com.my', bill_mobile: '*******6789', mpsbill_email: 'a***@b.co', phone: '*******6789' });
    expect(redact({ customer: { name: 'Jane Doe', email: 'jane@x.io', phone: '0123' } })).toEqual({
      customer: { name: 'J***', email: 'j***@x.io', phone: '***' },
    });
    expect(redact({ vpa: 'jane@okaxis', address: { line1: '1 Jalan Ampang', city: 'KL' } })).toEqual({
      vpa: 'j***',
      address: { line1: '1***', city: 'K***' },
    });
  });

  it('masks card-like digit runs (Luhn-valid, 13–19 digits) anywhere, but not order ids or amounts', () => {
    expect(redactString('card 4111 1111 1111 1111 declined')).toBe('card ************1111 declined');
    expect(redactString('ref=5555-5555-5555-4444')).toBe('ref=************4444');
    expect(redactString('pan=5555-5555-5555-4444')).toBe(`pan=${REDACTED}`);
    expect(redact({ note: '4111111111111111' })).toEqual({ note: '************1111' });
    expect(redactString('order 20160331082207680000 txn 25248208 amount 100.50')).toBe('order 20160331082207680000 txn 25248208 amount 100.50');
    expect(redactString('4111111111111112')).toBe('4111111111111112'); // fails Luhn
  });

  it('masks e-mails, international phones and auth credentials inside free text', () => {
    expect(redactString('notify jane.doe@example.com now')).toBe('notify j***@example.com now');
    expect(redactString('call +60 12 345 6789 today')).toBe('call *******6789 today');
    expect(redactString('header was Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc')).toBe(`header was Bearer ${REDACTED}`);
    expect(redactString('Basic dXNlcjpwYXNz')).toBe(`Basic ${REDACTED}`);
  });

  it('redacts form bodies and URL query strings field by field', () => {
    expect(redactString('amount=10.00&orderid=ORD-1&skey=abc123&bill_email=jane%40x.io&bill_name=Jane+Doe')).toBe(
      `amount=10.00&orderid=ORD-1&skey=${REDACTED}&bill_email=j***@x.io&bill_name=J***`,
    );
    expect(redactString('https://api.fiuu.com/RMS/q_by_tid.php?amount=10.00&txID=1&skey=abc#frag')).toBe(
      `https://api.fiuu.com/RMS/q_by_tid.php?amount=10.00&txID=1&skey=${REDACTED}#frag`,
    );
    expect(redact(new URLSearchParams([['vcode', 'x'], ['amount', '1.00']]))).toBe(`vcode=${REDACTED}&amount=1.00`);
    expect(redact([['a', 'b']])).toEqual([['a', 'b']]);
  });

  it('handles errors, binary, Maps, dates, cycles and depth without touching the input', () => {
    const input: Record<string, unknown> = { token: 't', when: new Date(0), bytes: Buffer.from('secret body'), map: new Map([['secret', 'x']]) };
    input.self = input;
    const out = redact(input) as Record<string, unknown>;
    expect(out).toMatchObject({ token: REDACTED, bytes: '[binary 11 bytes]', map: { secret: REDACTED }, self: '[Circular]' });
    expect(out.when).toEqual(new Date(0));
    expect(input.token).toBe('t');

    const err = Object.assign(new Error('failed for jane@x.io'), { code: 'E1', apiKey: 'k' });
    expect(redact({ err })).toEqual({ err: { name: 'Error', message: 'failed for j***@x.io', code: 'E1', apiKey: REDACTED } });

    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i++) deep = { deep };
    expect(JSON.stringify(redact(deep))).toContain('[Truncated]');
    expect(redact(null)).toBe(null);
    expect(redact(42)).toBe(42);
  });

  it('redactingLogger redacts objects and messages before they reach the logger', () => {
    const lines: Array<[Record<string, unknown>, string | undefined]> = [];
    const sink = {
      debug: (o: Record<string, unknown>, m?: string) => lines.push([o, m]),
      info: (o: Record<string, unknown>, m?: string) => lines.push([o, m]),
      warn: (o: Record<string, unknown>, m?: string) => lines.push([o, m]),
      error: (o: Record<string, unknown>, m?: string) => lines.push([o, m]),
    };
    const log = redactingLogger(sink);
    log.info({ bill_email: 'jane@x.io', headers: { authorization: 'Basic abc' } }, 'paid by jane@x.io');
    log.error({ card: '4111111111111111' });
    expect(lines).toEqual([
      [{ bill_email: 'j***@x.io', headers: { authorization: REDACTED } }, 'paid by j***@x.io'],
      [{ card: '************1111' }, undefined],
    ]);
  });
});
