/**
 * A run's counts and per-currency totals. Sums are kept in integer minor units (bigint) and written
 * as signed decimal strings: `net` can be negative (a day of refunds), which {@link Money} never is.
 *
 * @module
 */
import { currencyExponent } from '../../currencies';
import { Money } from '../../money';
import { SETTLEMENT_CLASSIFICATIONS, type SettlementClassification, type SettlementRunLine, type SettlementTotals } from '../../spec/store/v1/settlements';

interface Sums {
  grossIn: bigint;
  grossOut: bigint;
  fees: bigint;
}

/** A signed count of minor units as a decimal string in major units (`-12.50`, `1000` for JPY). */
export function formatMinor(minor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, '0');
  const major = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return negative ? `-${major}` : major;
}

/** How many lines of each classification. */
export function countLines(lines: readonly SettlementRunLine[]): Record<SettlementClassification, number> {
  const counts = Object.fromEntries(SETTLEMENT_CLASSIFICATIONS.map((c) => [c, 0])) as Record<SettlementClassification, number>;
  for (const line of lines) counts[line.classification]++;
  return counts;
}

/**
 * Totals of what the report said, per currency: gross in, gross out, fees (fee lines, net of fee
 * refunds, plus each line's own fee) and net. `missing_at_gateway` lines have no reported amount.
 */
export function totalLines(lines: readonly SettlementRunLine[]): Record<string, SettlementTotals> {
  const sums = new Map<string, Sums>();
  const of = (currency: string): Sums => {
    let s = sums.get(currency);
    if (!s) sums.set(currency, (s = { grossIn: 0n, grossOut: 0n, fees: 0n }));
    return s;
  };
  for (const line of lines) {
    const reported = line.reported;
    if (!reported) continue;
    const minor = Money.of(reported.amount, reported.currency).toMinorBigInt();
    const s = of(reported.currency);
    if (line.classification === 'fee') s.fees += reported.direction === 'out' ? minor : -minor;
    else if (reported.direction === 'in') s.grossIn += minor;
    else s.grossOut += minor;
    if (reported.fee !== null) s.fees += Money.of(reported.fee, reported.currency).toMinorBigInt();
  }
  const totals: Record<string, SettlementTotals> = {};
  for (const currency of [...sums.keys()].sort()) {
    const s = sums.get(currency)!;
    totals[currency] = {
      grossIn: formatMinor(s.grossIn, currency),
      grossOut: formatMinor(s.grossOut, currency),
      fees: formatMinor(s.fees, currency),
      net: formatMinor(s.grossIn - s.grossOut - s.fees, currency),
    };
  }
  return totals;
}
