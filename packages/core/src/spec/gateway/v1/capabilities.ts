/**
 * Gateway spec v1: what a gateway declares it can do; the engine checks it before calling.
 *
 * @module
 */
/** What a gateway can do. The engine checks these before calling, so callers get a clear 400. */
export interface GatewayCapabilities {
  /**
   * Payment method names this gateway accepts (`FPX`, `card`, `upi`, ...); `'*'` accepts any, and an entry
   * ending in `*` accepts every name with that prefix (`FIUU:*` for raw channel codes, `pm_*` for tokens).
   */
  paymentMethods: readonly string[] | '*';
  /** ISO 4217 codes accepted; `'*'` for any. */
  currencies: readonly string[] | '*';
  /** Authorise now, capture later. */
  manualCapture: boolean;
  /** Capture less than the authorised amount. */
  partialCapture: boolean;
  /** Refund less than the captured amount, possibly several times. */
  partialRefund: boolean;
  /** Cancel (void) an authorisation or an unpaid payment. */
  cancel: boolean;
  /** Whether `retrieve` can requery the provider (needed for reconciliation). */
  retrieve: boolean;
  /**
   * The largest amount the provider takes, in minor units: one number for every currency, or a map by
   * ISO 4217 code (`'*'` for the rest). Routing treats a larger payment as not supported, so it is
   * refused with a 400 before anything is stored. Absent: only Tender's own limit (2^53 - 1 minor units).
   */
  maxAmountMinor?: number | Readonly<Record<string, number>>;
  /** Creates customer objects for the merchant's users (`GatewayV1.customers`). */
  customers?: boolean;
  /** Saves payment methods on customers and charges them later (`GatewayV1.savedMethods`); needs `customers`. */
  savedMethods?: boolean;
  /** Runs subscriptions and their invoices (`GatewayV1.subscriptions`); needs `customers`. */
  subscriptions?: boolean;
  /** Serves its settlement / transaction report for reconciliation (`GatewayV1.settlements`). */
  settlements?: boolean;
}
