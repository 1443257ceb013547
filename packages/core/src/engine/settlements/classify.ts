/**
 * Line-by-line classification of a gateway's settlement report against Tender's records (the rules
 * are documented on `SettlementOperations`).
 *
 * @module
 */
import { Money } from '../../money';
import type { Payment, Refund } from '../../payment';
import type { SettlementLine } from '../../spec/gateway/v1/settlements';
import type { StoreReader } from '../../spec/store/v1/index';
import type { SettledRecords, SettlementClassification, SettlementRunLine } from '../../spec/store/v1/settlements';

/** Payment statuses in which the money of a capture has moved (later refunds move it back separately). */
const MONEY_MOVED: readonly string[] = ['CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED'];

/** Resolves report references to Tender records of one gateway, each read once per run. */
export class RecordResolver {
  readonly #payments = new Map<string, Promise<Payment | null>>();
  readonly #refunds = new Map<string, Promise<Refund[]>>();

  constructor(
    private readonly store: StoreReader,
    private readonly gateway: string,
  ) {}

  /** The payment a line is about: by the gateway's reference, else by the echoed order id when exactly one payment has it. */
  async payment(line: Pick<SettlementLine, 'gatewayReference' | 'orderId'>): Promise<Payment | null> {
    if (line.gatewayReference) {
      const byReference = await this.#cached(`ref:${line.gatewayReference}`, () => this.store.findPaymentByGatewayReference(this.gateway, line.gatewayReference!));
      if (byReference) return byReference;
    }
    if (line.orderId) {
      return this.#cached(`order:${line.orderId}`, async () => {
        const found = await this.store.listPaymentsByGatewayOrder(this.gateway, line.orderId!, 2);
        // Two payments echoing one order id (two merchants' orders, or retries) cannot be told apart.
        return found.length === 1 ? found[0]! : null;
      });
    }
    return null;
  }

  refunds(paymentId: string): Promise<Refund[]> {
    let refunds = this.#refunds.get(paymentId);
    if (!refunds) {
      refunds = this.store.listRefunds(paymentId);
      this.#refunds.set(paymentId, refunds);
    }
    return refunds;
  }

  #cached(key: string, read: () => Promise<Payment | null>): Promise<Payment | null> {
    let found = this.#payments.get(key);
    if (!found) {
      found = read();
      this.#payments.set(key, found);
    }
    return found;
  }
}

/** What was matched while classifying, so the records the report lacks can be found after. */
export interface MatchState {
  payments: Set<string>;
  refunds: Set<string>;
  /** Refund references the report both paid out and took back in full (a failed refund: Stripe's `refund` + `refund_failure`). */
  reversed: ReadonlySet<string>;
}

/** The refund references with lines out and back in of equal sums: a refund the gateway reversed. */
export function reversedRefunds(lines: readonly SettlementLine[]): Set<string> {
  const sums = new Map<string, { out: bigint; in: bigint; currency: string | null }>();
  for (const line of lines) {
    if (line.type !== 'refund' || !line.refundReference) continue;
    const sum = sums.get(line.refundReference) ?? { out: 0n, in: 0n, currency: line.amount.currency };
    if (sum.currency !== line.amount.currency) sum.currency = null;
    sum[line.direction] += line.amount.toMinorBigInt();
    sums.set(line.refundReference, sum);
  }
  return new Set([...sums].filter(([, s]) => s.currency !== null && s.out > 0n && s.out === s.in).map(([reference]) => reference));
}

function baseLine(line: SettlementLine): Omit<SettlementRunLine, 'classification' | 'reason' | 'merchantId' | 'tender' | 'paymentId' | 'refundId'> {
  return {
    lineId: line.lineId,
    type: line.type,
    gatewayReference: line.gatewayReference,
    refundReference: line.refundReference ?? null,
    orderId: line.orderId ?? null,
    reported: { amount: line.amount.toString(), currency: line.amount.currency, direction: line.direction, fee: line.fee ? line.fee.toString() : null },
    occurredAt: line.occurredAt,
  };
}

/** Compares a reported amount with Tender's: the classification and its reason. */
function compare(line: SettlementLine, expected: Money, direction: 'in' | 'out'): { classification: SettlementClassification; reason: string | null } {
  if (line.direction !== direction) return { classification: 'amount_mismatch', reason: 'direction_differs' };
  if (line.amount.currency !== expected.currency) return { classification: 'amount_mismatch', reason: 'currency_differs' };
  if (!line.amount.equals(expected)) return { classification: 'amount_mismatch', reason: 'amount_differs' };
  return { classification: 'matched', reason: null };
}

/** Classifies one report line; `state` collects the records it matched. */
export async function classifyLine(line: SettlementLine, resolver: RecordResolver, state: MatchState): Promise<SettlementRunLine> {
  const base = baseLine(line);
  const payment = await resolver.payment(line);
  const unknown = (classification: SettlementClassification, reason: string | null): SettlementRunLine => ({
    ...base,
    classification,
    reason,
    merchantId: payment?.merchantId ?? null,
    tender: null,
    paymentId: payment?.id ?? null,
    refundId: null,
  });
  if (line.type === 'fee') return unknown('fee', null);
  if (line.type !== 'payment' && line.type !== 'refund') return unknown('other', null);
  if (!payment) return unknown('missing_in_tender', 'unknown_reference');

  if (line.type === 'payment') {
    state.payments.add(payment.id);
    const tender = { amount: payment.amountCaptured, currency: payment.currency, status: payment.status };
    const result = MONEY_MOVED.includes(payment.status)
      ? compare(line, Money.of(payment.amountCaptured, payment.currency), 'in')
      : { classification: 'missing_in_tender' as const, reason: `tender_status_${payment.status}` };
    return { ...base, ...result, merchantId: payment.merchantId, tender, paymentId: payment.id, refundId: null };
  }

  const refunds = await resolver.refunds(payment.id);
  const refund = line.refundReference
    ? refunds.find((r) => r.gatewayReference === line.refundReference)
    : // Without the gateway's refund id, the first succeeded refund of that amount not matched yet.
      refunds.find((r) => r.status === 'SUCCEEDED' && !state.refunds.has(r.id) && r.currency === line.amount.currency && Money.of(r.amount, r.currency).equals(line.amount));
  if (!refund) return unknown('missing_in_tender', 'unknown_refund');
  state.refunds.add(refund.id);
  const tender = { amount: refund.amount, currency: refund.currency, status: refund.status };
  const result =
    refund.status === 'SUCCEEDED'
      ? compare(line, Money.of(refund.amount, refund.currency), 'out')
      : refund.status === 'FAILED' && refund.gatewayReference !== null && state.reversed.has(refund.gatewayReference)
        ? // Paid out and taken back: no money moved, as Tender's FAILED says.
          { classification: 'matched' as const, reason: 'refund_reversed' }
        : { classification: 'missing_in_tender' as const, reason: `tender_status_${refund.status}` };
  return { ...base, ...result, merchantId: payment.merchantId, tender, paymentId: payment.id, refundId: refund.id };
}

/** Whether a report (the next day's, for the lag rule) has a line about the payment or the refund. */
export function reportMentions(lines: readonly SettlementLine[]): (payment: Payment, refund?: Refund) => boolean {
  const references = new Set<string>();
  const refunds = new Set<string>();
  for (const line of lines) {
    if (line.type === 'payment') {
      if (line.gatewayReference) references.add(line.gatewayReference);
      if (line.orderId) references.add(`order:${line.orderId}`);
    } else if (line.type === 'refund' && line.refundReference) {
      refunds.add(line.refundReference);
    }
  }
  return (payment, refund) => {
    if (refund) return refund.gatewayReference !== null && refunds.has(refund.gatewayReference);
    return (payment.gatewayReference !== null && references.has(payment.gatewayReference)) || references.has(`order:${payment.orderId ?? payment.id}`);
  };
}

/** The `missing_at_gateway` lines: records of the day the report lacks (and, by the lag rule, the next day's too). */
export function missingAtGateway(records: SettledRecords, state: MatchState, inNextReport: (payment: Payment, refund?: Refund) => boolean): SettlementRunLine[] {
  const out: SettlementRunLine[] = [];
  for (const { payment, capturedAt } of records.payments) {
    if (state.payments.has(payment.id) || inNextReport(payment)) continue;
    out.push({
      lineId: `tender:${payment.id}`,
      classification: 'missing_at_gateway',
      reason: 'not_in_report',
      type: 'payment',
      merchantId: payment.merchantId,
      gatewayReference: payment.gatewayReference,
      refundReference: null,
      orderId: payment.orderId,
      reported: null,
      tender: { amount: payment.amountCaptured, currency: payment.currency, status: payment.status },
      paymentId: payment.id,
      refundId: null,
      occurredAt: capturedAt,
    });
  }
  for (const { refund, payment, succeededAt } of records.refunds) {
    if (state.refunds.has(refund.id) || inNextReport(payment, refund)) continue;
    out.push({
      lineId: `tender:${refund.id}`,
      classification: 'missing_at_gateway',
      reason: 'not_in_report',
      type: 'refund',
      merchantId: refund.merchantId,
      gatewayReference: payment.gatewayReference,
      refundReference: refund.gatewayReference,
      orderId: payment.orderId,
      reported: null,
      tender: { amount: refund.amount, currency: refund.currency, status: refund.status },
      paymentId: payment.id,
      refundId: refund.id,
      occurredAt: succeededAt,
    });
  }
  return out;
}
