/**
 * Gateway spec v1, settlement part: the gateway's own report of what it settled (or transacted) on
 * one day, line by line, for reconciliation against Tender's records. Optional: a gateway declares
 * `capabilities.settlements` and implements {@link GatewayV1.settlements}.
 *
 * Sources: Fiuu's settlement and daily transaction reports, Stripe balance transactions (and payouts),
 * Razorpay settlement reconciliation, PayPal transaction search.
 *
 * @module
 */
import type { Money } from '../../../money';
import type { GatewayCallContext } from './operations';

/** What one line of a settlement report moved. */
export type SettlementLineType = 'payment' | 'refund' | 'dispute' | 'fee' | 'adjustment' | 'payout';

/** One line of a gateway's settlement or transaction report, normalised. */
export interface SettlementLine {
  /** The gateway's id of the line itself (balance transaction id, report row key); unique in the report. */
  lineId: string;
  type: SettlementLineType;
  /**
   * The gateway's id of the payment (or refund) the line is about, as Tender stores it in
   * `gatewayReference` (Stripe PaymentIntent id, Fiuu `tranID`, Razorpay `pay_...`, PayPal capture's order id).
   */
  gatewayReference: string | null;
  /** The gateway's refund id, for refund lines. */
  refundReference?: string | null;
  /** The merchant reference the gateway echoes (Fiuu `orderid`), when it does. */
  orderId?: string | null;
  /**
   * Gross amount of the line as a magnitude ({@link Money} is never negative); {@link SettlementLine.direction}
   * says which way it moved. A Stripe balance transaction of `amount: -1000` is `amount` 10.00, `direction` `out`.
   */
  amount: Money;
  /**
   * Which way the gross amount moved on the merchant's balance: `in` (payments, a won dispute's
   * reversal, a credit adjustment) or `out` (refunds, disputes' withdrawals, fees, payouts, a debit adjustment).
   */
  direction: 'in' | 'out';
  /** The gateway's fee on the line, positive, when it reports one. */
  fee: Money | null;
  /** Net amount (the magnitude of amount - fee, in the line's direction), when the gateway reports it. */
  net: Money | null;
  /** When the transaction happened (ISO-8601). */
  occurredAt: string;
  /** When it was (or will be) settled, when the gateway says (ISO-8601). */
  settledAt?: string | null;
  /** The gateway's settlement / payout id, when it says. */
  settlementId?: string | null;
  /** The gateway's own status word for the line, as given. */
  gatewayStatus?: string | null;
}

/** Input of {@link GatewaySettlementsV1.fetchReport}. */
export interface SettlementReportInput {
  /** The day, `YYYY-MM-DD`, in the gateway's reporting time zone (UTC unless the gateway documents another). */
  date: string;
}

/** A gateway's settlement report. */
export interface GatewaySettlementsV1 {
  /** Every line of the day's report (all pages). */
  fetchReport(input: SettlementReportInput, ctx: GatewayCallContext): Promise<SettlementLine[]>;
}
