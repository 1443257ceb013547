import { describe, expect, it } from 'vitest';
import { Money, TenderError, currencyExponent } from '@tender/core';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(TenderError.isInstance(e)).toBe(true);
    return (e as TenderError).code;
  }
  throw new Error('expected a TenderError');
};

describe('Money', () => {
  it('does exact decimal arithmetic (0.1 + 0.2 is 0.30)', () => {
    expect(Money.of('0.10', 'MYR').add(Money.of('0.20', 'MYR')).toString()).toBe('0.30');
    expect(Money.of(0.1, 'USD').add(Money.of(0.2, 'USD')).toString()).toBe('0.30');
    expect(Money.of('100.50', 'MYR').subtract(Money.of('0.51', 'MYR')).toString()).toBe('99.99');
  });

  it('knows 0-, 2- and 3-decimal currencies', () => {
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('MYR')).toBe(2);
    expect(currencyExponent('KWD')).toBe(3);
    expect(Money.of('1000', 'JPY').toMinor()).toBe(1000);
    expect(Money.of('1.25', 'KWD').toString()).toBe('1.250');
    expect(Money.of('1.25', 'KWD').toMinor()).toBe(1250);
    expect(Money.of('100.5', 'MYR').toMinor()).toBe(10050);
    expect(Money.fromMinor(10050, 'MYR').toString()).toBe('100.50');
    expect(Money.fromMinor('1250', 'KWD').toString()).toBe('1.250');
    expect(Money.fromMinor(500, 'JPY').toString()).toBe('500');
    expect(Money.of('92233720368547758.07', 'USD').toMinorBigInt()).toBe(9223372036854775807n);
  });

  it('rejects excess precision instead of rounding', () => {
    expect(code(() => Money.of('100.505', 'MYR'))).toBe('amount_too_precise');
    expect(code(() => Money.of('1.5', 'JPY'))).toBe('amount_too_precise');
    expect(code(() => Money.of('1.2345', 'KWD'))).toBe('amount_too_precise');
    expect(code(() => Money.of(100.505, 'MYR'))).toBe('amount_too_precise');
    expect(Money.of('100.500', 'MYR').toString()).toBe('100.50');
  });

  it('rejects negative, non-finite, malformed amounts and unknown currencies', () => {
    expect(code(() => Money.of('-1.00', 'MYR'))).toBe('amount_negative');
    expect(code(() => Money.of(-1, 'MYR'))).toBe('amount_negative');
    expect(code(() => Money.of(Number.NaN, 'MYR'))).toBe('invalid_amount');
    expect(code(() => Money.of(Number.POSITIVE_INFINITY, 'MYR'))).toBe('invalid_amount');
    for (const bad of ['', '1e3', '0x10', '1,000.00', ' . ', '1.', '.5', 'abc']) expect(code(() => Money.of(bad, 'MYR'))).toBe('invalid_amount');
    expect(code(() => Money.of('1.00', 'XYZ'))).toBe('invalid_currency');
    expect(code(() => Money.of('1.00', 'myr1'))).toBe('invalid_currency');
    expect(code(() => Money.fromMinor(1.5, 'MYR'))).toBe('invalid_amount');
    expect(code(() => Money.fromMinor(-5, 'MYR'))).toBe('amount_negative');
    expect(code(() => Money.of('1.00', 'MYR').add(Money.of('1.00', 'SGD')))).toBe('currency_mismatch');
  });

  it('accepts lower-case currency codes and JSON numbers by their text', () => {
    expect(Money.of(100.5, 'myr').toString()).toBe('100.50');
    expect(Money.of(19.99, 'USD').toMinor()).toBe(1999);
    expect(Money.of(1.005, 'KWD').toMinor()).toBe(1005);
  });
});
