/**
 * Money: an exact decimal amount in major units plus its ISO 4217 currency. All arithmetic goes through
 * decimal.js; a JS float never touches an amount. An amount with more decimals than the currency
 * allows is rejected, never rounded.
 *
 * @module
 */
import Decimal from 'decimal.js';
import { currencyExponent } from './currencies';
import { invalidRequest, TenderError } from './errors';

// An independent Decimal constructor so a host app's global Decimal settings cannot change ours.
const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
type Dec = InstanceType<typeof D>;

const POWERS_OF_TEN = [0, 1, 2, 3, 4].map((e) => new D(10).pow(e));
const scale = (exponent: number): Dec => POWERS_OF_TEN[exponent] ?? new D(10).pow(exponent);

const DECIMAL_TEXT = /^[0-9]+(\.[0-9]+)?$/;
const NUMBER_TEXT = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

// Money is immutable, so one zero per currency is shared.
const ZEROS = new Map<string, Money>();

/** Anything Tender accepts as an amount in major units. */
export type AmountInput = string | number | Money;

/**
 * An exact amount of one currency. Immutable; construct with {@link Money.of} (major units,
 * e.g. `"100.50"`) or {@link Money.fromMinor} (minor units, e.g. `10050`).
 */
export class Money {
  private constructor(
    private readonly value: Dec,
    /** ISO 4217 code, upper case. */
    readonly currency: string,
    /** Minor-unit exponent of the currency (MYR 2, JPY 0, KWD 3). */
    readonly exponent: number,
  ) {}

  /**
   * Parses an amount in major units. Strings must be plain decimals (`"100"`, `"100.50"`); numbers are
   * converted through their shortest decimal text, never through float arithmetic.
   * @param param - name of the request field, used in the error.
   * @throws TenderError `invalid_amount`, `amount_negative` or `amount_too_precise`; `invalid_currency`.
   */
  static of(amount: AmountInput, currency: string, param = 'amount'): Money {
    const code = normaliseCurrency(currency);
    const exponent = currencyExponent(code);
    if (amount instanceof Money) {
      if (amount.currency !== code) throw invalidRequest('currency_mismatch', `Expected ${code}, got ${amount.currency}`, param);
      return amount;
    }
    const value = parseDecimal(amount, param);
    if (value.decimalPlaces() > exponent) {
      throw invalidRequest(
        'amount_too_precise',
        `${code} allows ${exponent} decimal place${exponent === 1 ? '' : 's'}; '${String(amount)}' has ${value.decimalPlaces()}`,
        param,
      );
    }
    return new Money(value, code, exponent);
  }

  /** Builds Money from an integer count of minor units (cents, sen, paisa, fils). */
  static fromMinor(minor: number | bigint | string, currency: string, param = 'amount'): Money {
    const code = normaliseCurrency(currency);
    const exponent = currencyExponent(code);
    const text = typeof minor === 'string' ? minor.trim() : minor.toString();
    if (typeof minor === 'number' && !Number.isSafeInteger(minor)) {
      throw invalidRequest('invalid_amount', `Minor-unit amount must be a safe integer, got ${text}`, param);
    }
    if (!/^-?[0-9]+$/.test(text)) throw invalidRequest('invalid_amount', `Minor-unit amount must be an integer, got '${text}'`, param);
    if (text.startsWith('-')) throw invalidRequest('amount_negative', 'Amount must not be negative', param);
    return new Money(new D(text).dividedBy(scale(exponent)), code, exponent);
  }

  /** Zero in the given currency. */
  static zero(currency: string): Money {
    let zero = ZEROS.get(currency);
    if (!zero) {
      zero = Money.fromMinor(0, currency);
      ZEROS.set(currency, zero);
    }
    return zero;
  }

  /** The amount as an integer number of minor units (throws beyond 2^53). */
  toMinor(): number {
    const minor = this.value.times(scale(this.exponent));
    const n = minor.toNumber();
    if (!Number.isSafeInteger(n)) {
      throw invalidRequest('invalid_amount', 'Amount is too large to express in minor units', 'amount');
    }
    return n;
  }

  /** The amount as a bigint number of minor units. */
  toMinorBigInt(): bigint {
    return BigInt(this.value.times(scale(this.exponent)).toFixed(0));
  }

  /** Major units with exactly the currency's decimals: `"100.50"`, `"1000"` (JPY), `"1.250"` (KWD). */
  toString(): string {
    return this.value.toFixed(this.exponent);
  }

  /** Same as {@link Money.toString}; lets Money serialise as its decimal string. */
  toJSON(): string {
    return this.toString();
  }

  add(other: Money): Money {
    this.assertSame(other);
    return new Money(this.value.plus(other.value), this.currency, this.exponent);
  }

  /** Subtraction; a negative result is an error (Tender never represents negative money). */
  subtract(other: Money): Money {
    this.assertSame(other);
    const result = this.value.minus(other.value);
    if (result.isNegative() && !result.isZero()) {
      throw invalidRequest('amount_negative', `${this} ${this.currency} minus ${other} would be negative`);
    }
    return new Money(result, this.currency, this.exponent);
  }

  /** -1, 0 or 1. */
  compare(other: Money): number {
    this.assertSame(other);
    return this.value.comparedTo(other.value);
  }

  equals(other: Money): boolean {
    return this.currency === other.currency && this.value.equals(other.value);
  }

  greaterThan(other: Money): boolean {
    return this.compare(other) > 0;
  }

  lessThan(other: Money): boolean {
    return this.compare(other) < 0;
  }

  isZero(): boolean {
    return this.value.isZero();
  }

  private assertSame(other: Money): void {
    if (other.currency !== this.currency) {
      throw new TenderError({
        type: 'invalid_request_error',
        code: 'currency_mismatch',
        message: `Cannot combine ${this.currency} with ${other.currency}`,
        param: 'currency',
      });
    }
  }
}

/** Upper-cases and checks a currency code. */
export function normaliseCurrency(currency: unknown): string {
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency.trim())) {
    throw invalidRequest('invalid_currency', 'currency must be a three-letter ISO 4217 code', 'currency');
  }
  const code = currency.trim().toUpperCase();
  currencyExponent(code);
  return code;
}

function parseDecimal(amount: unknown, param: string): Dec {
  let text: string;
  if (typeof amount === 'number') {
    if (!Number.isFinite(amount)) throw invalidRequest('invalid_amount', 'Amount must be a finite number', param);
    // String(n) is the shortest text that round-trips to n, i.e. the JSON source text for any
    // literal a person would write; decimal.js then works from that text, not from the float.
    text = String(amount);
    if (!NUMBER_TEXT.test(text)) throw invalidRequest('invalid_amount', `Invalid amount '${text}'`, param);
  } else if (typeof amount === 'string') {
    text = amount.trim();
    if (text.startsWith('-') && DECIMAL_TEXT.test(text.slice(1))) {
      throw invalidRequest('amount_negative', 'Amount must not be negative', param);
    }
    if (!DECIMAL_TEXT.test(text)) {
      throw invalidRequest('invalid_amount', `Amount must be a decimal string such as "100.50", got '${amount}'`, param);
    }
  } else {
    throw invalidRequest('invalid_amount', 'Amount must be a decimal string or a number', param);
  }
  const value = new D(text);
  if (value.isNegative() && !value.isZero()) throw invalidRequest('amount_negative', 'Amount must not be negative', param);
  return value;
}
