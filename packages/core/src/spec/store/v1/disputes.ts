/**
 * Store spec v1, disputes part: disputes of payments and their audit trail. Part of
 * {@link StoreReader} and {@link StoreTx}, so a dispute change commits in one transaction with the
 * inbox record and outbox event it goes with.
 *
 * @module
 */
import type { Dispute, DisputeStatus, DisputeTransition } from '../../../dispute';

/**
 * A query over disputes, newest first (by `openedAt`, then `id`). Analytics counts disputes with
 * `merchantId` and a `from`/`to` window; the REST list pages with `limit` and `startingAfter`.
 */
export interface ListDisputesQuery {
  /** Only this merchant's disputes; every merchant's when omitted (a platform admin's query). */
  merchantId?: string;
  /** Only this payment's disputes. */
  paymentId?: string;
  status?: DisputeStatus;
  /** Opened at or after this instant (ISO 8601). */
  from?: string;
  /** Opened before this instant (ISO 8601). */
  to?: string;
  /** At most this many; all that match when omitted. */
  limit?: number;
  /** Disputes after this one (its id) in the order above. */
  startingAfter?: string;
}

/** Dispute reads, on the store and inside a transaction. */
export interface DisputeReader {
  /** A dispute by id; with `merchantId`, only if it belongs to that merchant. */
  getDispute(id: string, merchantId?: string): Promise<Dispute | null>;
  findDisputeByGatewayReference(gateway: string, gatewayReference: string): Promise<Dispute | null>;
  listDisputes(query: ListDisputesQuery): Promise<Dispute[]>;
  /** A dispute's audit trail, oldest first. */
  listDisputeTransitions(disputeId: string): Promise<DisputeTransition[]>;
}

/** Dispute writes, inside a transaction. */
export interface DisputeTx extends DisputeReader {
  /** Reads the dispute and holds it exclusively until the transaction ends. */
  lockDispute(id: string): Promise<Dispute | null>;
  /**
   * @throws TenderError `state_error`/`duplicate_dispute` when the id exists;
   * `duplicate_gateway_reference` when (gateway, gatewayReference) exists.
   */
  insertDispute(dispute: Dispute): Promise<void>;
  /**
   * Writes it if the stored version is `dispute.version - 1` (callers bump the version).
   * @throws TenderError `state_error`/`version_conflict` otherwise.
   */
  updateDispute(dispute: Dispute): Promise<void>;
  appendDisputeTransition(transition: DisputeTransition): Promise<void>;
}
