/**
 * The payments this engine wrote most recently, as committed. An operation on a payment the engine
 * has just written (the capture right after a create) starts from this copy instead of reading the
 * row back: the unit that acts on it expects the row to still be at the copy's version (every payment
 * write is conditional on its version), so a copy made stale by another writer costs a retry on the
 * locked, current row (`UnitOfWork.runOn`), never a wrong write.
 *
 * @module
 */
import { cloneData } from '../clone';
import type { Payment } from '../payment';

/** How many payments are kept: the ones a caller acts on next are the newest. */
const CAPACITY = 1024;

/** @internal */
export class RecentPayments {
  readonly #byId = new Map<string, Payment>();

  /** Keeps a copy of `payment` as committed (callers may change the object they were given). */
  remember(payment: Payment): void {
    this.#byId.delete(payment.id);
    this.#byId.set(payment.id, cloneData(payment));
    if (this.#byId.size > CAPACITY) this.#byId.delete(this.#byId.keys().next().value!);
  }

  /** A copy of the merchant's payment as this engine last committed it, or null when not kept. */
  get(id: string, merchantId: string): Payment | null {
    const kept = this.#byId.get(id);
    return kept && kept.merchantId === merchantId ? cloneData(kept) : null;
  }
}
