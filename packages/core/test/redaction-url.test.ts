import { describe, expect, it } from 'vitest';
import { REDACTED, redact, redactString, redactUrl } from '@tender/core';

describe('redactUrl', () => {
  it('redacts the query of a request line by parameter name, however it is encoded', () => {
    expect(redactUrl('/api/v1/payments/seamless/config?order_id=O1&bill_name=Jane+Doe&bill_email=jane%40x.io&bill_mobile=0123456789')).toBe(
      '/api/v1/payments/seamless/config?order_id=O1&bill_name=J***&bill_email=j***@x.io&bill_mobile=******6789',
    );
    expect(redactUrl('/api/v1/payments?access_token=eyJ.eyJ.sig')).toBe(`/api/v1/payments?access_token=${REDACTED}`);
    expect(redactUrl('/return?tranID=1&skey=abc&status=00')).toBe(`/return?tranID=1&skey=${REDACTED}&status=00`);
    expect(redactUrl('https://x.example/cb#access_token=abc&state=1')).toBe(`https://x.example/cb#access_token=${REDACTED}&state=1`);
    expect(redactUrl('/x?next=https%3A%2F%2Fshop%2Fok%3Fskey%3Dabc')).toBe(`/x?next=https://shop/ok?skey=${REDACTED}`);
    expect(redactUrl('/x?flag&q=4111111111111111')).toBe('/x?flag&q=************1111');
    expect(redactUrl('/api/v1/payments/pay_1?limit=10')).toBe('/api/v1/payments/pay_1?limit=10');
  });

  it('is what redactString applies to URLs, relative ones and ones inside text included', () => {
    expect(redactString('/p?bill_email=a%40b.co')).toBe('/p?bill_email=a***@b.co');
    expect(redactString('GET failed: https://api.example/q?skey=abc&oID=1 timed out')).toBe(`GET failed: https://api.example/q?skey=${REDACTED}&oID=1 timed out`);
    expect(redact({ path: '/p?bill_mobile=0123456789' })).toEqual({ path: '/p?bill_mobile=******6789' });
  });

  it('names a nested form key by its last part, and redacts [name, value] pair lists as objects', () => {
    expect(redactString('amount=1&metadata[cvv]=123&card[number]=4111111111111111')).toBe(`amount=1&metadata[cvv]=${REDACTED}&card[number]=${REDACTED}`);
    expect(redact({ body: [['orderid', 'O1'], ['skey', 'abc'], ['bill_name', 'Jane']] })).toEqual({ body: [['orderid', 'O1'], ['skey', REDACTED], ['bill_name', 'J***']] });
  });
});
