/**
 * Unconfirmed payments: created with `confirm: false`, stored `PENDING` and never sent to a gateway
 * until `tender.payments.authorize` starts them (two-step authorize). The engine marks them in
 * `gatewayData` (a key it owns, as `cancelRequested`), so everything that treats `PENDING` as "the
 * gateway may be acting" (the reconciler, `sync`, cancel) can tell that nothing was sent.
 *
 * @module
 */
import type { Payment } from '../../payment';

/**
 * `gatewayData` key of an unconfirmed payment. Its value is {@link UnconfirmedMark}: what the
 * authorize call needs that the payment's own fields do not hold.
 */
export const UNCONFIRMED = 'unconfirmed';

/**
 * `gatewayData` key set when an authorize starts, to a {@link ConfirmedMark}: the reconciler measures
 * the payment's age from it, not from `createdAt`, since the gateway heard of the payment only then;
 * and an authorize resumed after a crash sends the same request again.
 */
export const CONFIRMED = 'authorizeStarted';

/** The value stored under {@link UNCONFIRMED}. */
export interface UnconfirmedMark {
  /** The caller's `offSession` for a saved-method charge, null when not given. */
  offSession: boolean | null;
}

/** The value stored under {@link CONFIRMED}. */
export interface ConfirmedMark extends UnconfirmedMark {
  /** When the authorize started (ISO time). */
  at: string;
}

/** True when the payment was created with `confirm: false` and not authorised since. */
export function isUnconfirmed(payment: Payment): boolean {
  return payment.status === 'PENDING' && UNCONFIRMED in payment.gatewayData;
}

/** The mark of an unconfirmed payment (a default for a malformed one). */
export function unconfirmedMark(payment: Payment): UnconfirmedMark {
  const mark = payment.gatewayData[UNCONFIRMED] as Partial<UnconfirmedMark> | undefined;
  return { offSession: typeof mark?.offSession === 'boolean' ? mark.offSession : null };
}

/** `gatewayData` without the unconfirmed mark. */
export function withoutUnconfirmed(gatewayData: Record<string, unknown>): Record<string, unknown> {
  if (!(UNCONFIRMED in gatewayData)) return gatewayData;
  const rest = { ...gatewayData };
  delete rest[UNCONFIRMED];
  return rest;
}

/** The mark an authorize left, null on a payment never created unconfirmed. */
export function confirmedMark(payment: Payment): ConfirmedMark | null {
  const mark = payment.gatewayData[CONFIRMED] as Partial<ConfirmedMark> | undefined;
  if (typeof mark !== 'object' || mark === null || typeof mark.at !== 'string') return null;
  return { at: mark.at, offSession: typeof mark.offSession === 'boolean' ? mark.offSession : null };
}

/** When the gateway first heard of the payment: its authorize's start, else its creation. */
export function startedAt(payment: Payment): string {
  return confirmedMark(payment)?.at ?? payment.createdAt;
}
