import qs from 'qs';
import { describe, expect, it } from 'vitest';
import { Money, TenderError } from '@tender/core';
import { encodeForm, fromStripeAmount, toStripeAmount } from '@tender/stripe';

describe('Stripe form encoding', () => {
  it('writes nested objects, indexed arrays, and empty values like stripe-node', () => {
    expect(
      encodeForm({
        amount: 1000,
        currency: 'usd',
        confirm: true,
        skipped: undefined,
        metadata: { order_id: '42', cleared: '', 'a b': 'x&y=z' },
        payment_method_types: ['card', 'link'],
        payment_method_options: { card: { capture_method: 'manual' } },
        description: "it's (almost) *free*!",
      }),
    ).toBe(
      'amount=1000&currency=usd&confirm=true&metadata[order_id]=42&metadata[cleared]=&metadata[a%20b]=x%26y%3Dz' +
        '&payment_method_types[0]=card&payment_method_types[1]=link&payment_method_options[card][capture_method]=manual' +
        '&description=it%27s%20%28almost%29%20%2Afree%2A%21',
    );
  });

  it('sends null as an empty value (unset) and an empty array as an empty value (clear a list)', () => {
    expect(encodeForm({ metadata: null, expand: [] })).toBe('metadata=&expand=');
  });

  it('writes dates as unix seconds', () => {
    expect(encodeForm({ at: new Date(1700000000123) })).toBe('at=1700000000');
  });

  it('matches the encoder stripe-node uses (qs, indices, brackets readable) on a nested payload', () => {
    const data = { amount: 5, metadata: { k: 'v ü ✓', 'x[y]': 'ok' }, list: ['a', 'b'], deep: { a: { b: { c: '1' } } }, flag: false };
    const stripeNode = qs.stringify(data, { arrayFormat: 'indices' }).replace(/%5B/g, '[').replace(/%5D/g, ']');
    expect(encodeForm(data)).toBe(stripeNode);
  });
});

describe('Stripe amounts', () => {
  const minor = (amount: string, currency: string) => toStripeAmount(Money.of(amount, currency));

  it('uses two decimals for most currencies', () => {
    expect(minor('100.50', 'USD')).toBe(10050);
    expect(minor('0.01', 'MYR')).toBe(1);
  });

  it('never multiplies zero-decimal currencies (JPY, KRW) and handles MGA, which ISO gives two decimals', () => {
    expect(minor('1000', 'JPY')).toBe(1000);
    expect(minor('5000', 'KRW')).toBe(5000);
    expect(minor('1500', 'MGA')).toBe(1500);
    expect(() => minor('15.50', 'MGA')).toThrow(/0 decimals/);
  });

  it('takes three-decimal currencies in thousandths whose last digit must be 0 (rejected, not rounded)', () => {
    expect(minor('5.120', 'KWD')).toBe(5120);
    expect(minor('1.5', 'BHD')).toBe(1500);
    try {
      minor('5.124', 'KWD');
      throw new Error('expected rejection');
    } catch (error) {
      expect(TenderError.isInstance(error)).toBe(true);
      expect((error as TenderError).code).toBe('amount_not_supported');
      expect((error as TenderError).status).toBe(400);
    }
  });

  it('sends ISK as two-decimal but whole units only', () => {
    expect(minor('100', 'ISK')).toBe(10000);
  });

  it('converts back exactly', () => {
    expect(fromStripeAmount(10050, 'usd').toString()).toBe('100.50');
    expect(fromStripeAmount(1000, 'jpy').toString()).toBe('1000');
    expect(fromStripeAmount(5120, 'kwd').toString()).toBe('5.120');
    expect(fromStripeAmount(10000, 'isk').toString()).toBe('100');
    expect(fromStripeAmount(1500, 'mga').toString()).toBe('1500.00');
  });
});
