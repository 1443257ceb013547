/**
 * A unit of work: one store transaction plus the rules for changing payments and refunds inside it.
 * Every status change goes through here, so each one is checked against the transition table,
 * written to the audit trail and to the outbox in the same transaction.
 *
 * @module
 */
import { TenderError, notFound } from '../errors';
import { newId } from '../ids';
import { Money } from '../money';
import { paymentAmount, refundAmount, type Actor, type Payment, type PaymentStatus, type Refund } from '../payment';
import { REFUNDABLE_PAYMENT_STATUSES, assertPaymentTransition, assertRefundTransition, canTransitionPayment, canTransitionRefund, isStalePaymentReport } from '../state-machine';
import type { GatewayPaymentResult, GatewayRefundResult } from '../spec/gateway/v1/index';
import type { OutboxEvent, StoreTx } from '../spec/store/v1/index';
import { defaultEventPayload } from '../events/envelope';
import type { EngineContext } from './context';

/**
 * `gatewayData` key marking a payment the merchant cancelled while its outcome was still open (a create
 * in flight) or that was paid after it was cancelled: the engine voids or refunds it once the gateway's
 * answer is known, and drops the key when done.
 */
export const CANCEL_REQUESTED = 'cancelRequested';

/** Why and by whom a change is made. */
export interface ChangeCause {
  actor: Actor;
  reason: string;
}

/** @internal */
export class UnitOfWork {
  readonly events: OutboxEvent[] = [];
  /** The payments written in this unit, as last written (kept in `ctx.recent` once committed). */
  readonly #written = new Map<string, Payment>();

  constructor(
    readonly tx: StoreTx,
    readonly ctx: EngineContext,
    readonly now: string,
  ) {}

  /** Runs `fn` in a transaction and publishes its events once committed. */
  static async run<T>(ctx: EngineContext, fn: (unit: UnitOfWork) => Promise<T>): Promise<T> {
    let unit: UnitOfWork | undefined;
    const result = await ctx.store.transaction(async (tx) => {
      unit = new UnitOfWork(tx, ctx, ctx.clock.now().toISOString());
      return fn(unit);
    });
    if (unit) {
      for (const payment of unit.#written.values()) ctx.recent.remember(payment);
      if (unit.events.length > 0) ctx.publish(unit.events);
    }
    return result;
  }

  /**
   * Runs `fn` on `known`, a payment read or written earlier, without reading or locking it again:
   * the unit expects the payment to still be at `known.version` (and every payment write is
   * conditional on its version), so if anything changed the payment since, the unit fails with
   * `version_conflict` and runs once more on the locked, current row. A unit that only writes then
   * costs a SQL store a single statement instead of BEGIN, SELECT ... FOR UPDATE, write, COMMIT.
   */
  static async runOn<T>(ctx: EngineContext, known: Payment, fn: (unit: UnitOfWork, payment: Payment) => Promise<T>): Promise<T> {
    try {
      return await UnitOfWork.run(ctx, async (unit) => {
        await unit.tx.expectPaymentVersion(known.id, known.version);
        return fn(unit, known);
      });
    } catch (error) {
      if (!TenderError.isInstance(error) || error.code !== 'version_conflict') throw error;
      return UnitOfWork.run(ctx, async (unit) => {
        const current = await unit.tx.lockPayment(known.id);
        if (!current) throw notFound('payment', known.id);
        return fn(unit, current);
      });
    }
  }

  private async emit(type: string, merchantId: string, paymentId: string | null, refundId: string | null, data: object): Promise<void> {
    const event: OutboxEvent = {
      id: newId('evt'),
      merchantId,
      type,
      paymentId,
      refundId,
      // Records are never mutated in place by the engine (every change is a copy), so no clone here;
      // the store copies what it keeps.
      data: data as Record<string, unknown>,
      payload: null,
      createdAt: this.now,
    };
    try {
      event.payload = this.ctx.eventPayload(event);
    } catch (error) {
      // A presentation bug must not undo a state change: the default envelope still says what happened.
      this.ctx.logger.error({ eventId: event.id, type, error: String(error) }, 'event payload encoder threw; the default envelope is stored');
      event.payload = defaultEventPayload(event);
    }
    await this.tx.enqueueOutbox(event);
    this.events.push(event);
  }

  /**
   * Enqueues an event about something that is not a payment or refund (`subscription.*`,
   * `invoice.*`, `payment_method.*`): its outbox row has no payment id. Published after commit with
   * the unit's other events.
   */
  async emitEvent(type: string, merchantId: string, data: object): Promise<void> {
    await this.emit(type, merchantId, null, null, data);
  }

  /**
   * Inserts a payment that the gateway settled before Tender heard of it (an invoice the gateway's
   * billing charged): its first status is the gateway's (`null -> CAPTURED` on the trail), published
   * as `payment.<status>` rather than `payment.created`.
   */
  async insertSettledPayment(payment: Payment, cause: ChangeCause): Promise<void> {
    await this.#insertFirst(payment, cause);
    await this.emit(`payment.${payment.status.toLowerCase()}`, payment.merchantId, payment.id, null, payment);
  }

  /** Stores a new payment and the trail entry of its first status. */
  async #insertFirst(payment: Payment, cause: ChangeCause): Promise<void> {
    await this.tx.insertPayment(payment);
    this.#written.set(payment.id, payment);
    await this.tx.appendTransition({
      id: newId('tr'),
      merchantId: payment.merchantId,
      paymentId: payment.id,
      refundId: null,
      from: null,
      to: payment.status,
      reason: cause.reason,
      actor: cause.actor,
      at: this.now,
    });
  }

  /** Inserts a new payment in its first status and records it. */
  async insertPayment(payment: Payment, cause: ChangeCause): Promise<void> {
    await this.#insertFirst(payment, cause);
    await this.emit('payment.created', payment.merchantId, payment.id, null, payment);
  }

  /**
   * Writes `next` over `previous`; a status change is checked against the table, audited and published.
   * @throws TenderError 409 `illegal_transition`.
   */
  async writePayment(previous: Payment, next: Payment, cause: ChangeCause): Promise<Payment> {
    const changed = previous.status !== next.status;
    if (changed) assertPaymentTransition(previous.status, next.status);
    const written: Payment = { ...next, version: previous.version + 1, updatedAt: this.now };
    await this.tx.updatePayment(written);
    this.#written.set(written.id, written);
    if (changed) {
      await this.tx.appendTransition({
        id: newId('tr'),
        merchantId: written.merchantId,
        paymentId: written.id,
        refundId: null,
        from: previous.status,
        to: written.status,
        reason: cause.reason,
        actor: cause.actor,
        at: this.now,
      });
      await this.emit(`payment.${written.status.toLowerCase()}`, written.merchantId, written.id, null, written);
    }
    return written;
  }

  /** Records something that happened to a payment without changing its status (a dispute, a stale report). */
  async note(payment: Payment, type: string, cause: ChangeCause, data: Record<string, unknown> = {}): Promise<void> {
    await this.tx.appendTransition({
      id: newId('tr'),
      merchantId: payment.merchantId,
      paymentId: payment.id,
      refundId: null,
      from: payment.status,
      to: payment.status,
      reason: `${type}: ${cause.reason}`,
      actor: cause.actor,
      at: this.now,
    });
    await this.emit(`payment.${type}`, payment.merchantId, payment.id, null, { payment, ...data });
  }

  async insertRefund(refund: Refund, cause: ChangeCause): Promise<void> {
    await this.tx.insertRefund(refund);
    await this.tx.appendTransition({
      id: newId('tr'),
      merchantId: refund.merchantId,
      paymentId: refund.paymentId,
      refundId: refund.id,
      from: null,
      to: refund.status,
      reason: cause.reason,
      actor: cause.actor,
      at: this.now,
    });
    await this.emit(`refund.${refund.status.toLowerCase()}`, refund.merchantId, refund.paymentId, refund.id, refund);
  }

  async writeRefund(previous: Refund, next: Refund, cause: ChangeCause): Promise<Refund> {
    const changed = previous.status !== next.status;
    if (changed) assertRefundTransition(previous.status, next.status);
    const written: Refund = { ...next, updatedAt: this.now };
    await this.tx.updateRefund(written);
    if (changed) {
      await this.tx.appendTransition({
        id: newId('tr'),
        merchantId: written.merchantId,
        paymentId: written.paymentId,
        refundId: written.id,
        from: previous.status,
        to: written.status,
        reason: cause.reason,
        actor: cause.actor,
        at: this.now,
      });
      await this.emit(`refund.${written.status.toLowerCase()}`, written.merchantId, written.paymentId, written.id, written);
    }
    return written;
  }

  /**
   * Why a report cannot be about `payment`, or null when it passes every integrity check: the amount
   * and currency the gateway reports must be ours, and a payment already tied to one gateway
   * transaction is never re-tied to another, nor tied to a reference another payment holds.
   */
  private async integrityProblem(payment: Payment, result: GatewayPaymentResult, direct: boolean): Promise<{ type: string; data: Record<string, unknown> } | null> {
    if (result.amount && (result.amount.currency !== payment.currency || !result.amount.equals(paymentAmount(payment)))) {
      return { type: 'amount_mismatch', data: { reportedAmount: result.amount.toString(), reportedCurrency: result.amount.currency } };
    }
    const reference = result.gatewayReference;
    if (reference && payment.gatewayReference && reference !== payment.gatewayReference) {
      return { type: 'reference_mismatch', data: { reportedReference: reference } };
    }
    // The answer to this payment's own call names its own transaction (the store's uniqueness rule
    // still holds); only reports from elsewhere are checked against other payments' references.
    if (reference && !payment.gatewayReference && !direct) {
      const holder = await this.tx.findPaymentByGatewayReference(payment.gateway, reference);
      if (holder && holder.id !== payment.id) return { type: 'reference_conflict', data: { reportedReference: reference } };
    }
    return null;
  }

  /**
   * Applies what a gateway reported about a payment (call result, webhook or requery). A report that
   * fails an integrity check changes nothing on the payment (it is noted on the trail); stale
   * reports (out-of-order webhooks) and reports the table forbids are noted but change nothing.
   * `options.edit`: a change of the caller's own (dropping a pending-operation marker) written with
   * the report; `options.direct`: the report is the gateway's answer to this payment's own call.
   */
  async applyGatewayResult(payment: Payment, result: GatewayPaymentResult, cause: ChangeCause, options: { edit?: (p: Payment) => Payment; direct?: boolean } = {}): Promise<Payment> {
    let next: Payment = options.edit ? options.edit(payment) : { ...payment };
    const problem = await this.integrityProblem(payment, result, options.direct === true);
    if (problem) {
      this.ctx.logger.error({ paymentId: payment.id, problem: problem.type, reportedStatus: result.status }, 'gateway report failed an integrity check; not applied');
      await this.note(payment, problem.type, cause, { reportedStatus: result.status, ...problem.data });
      return hasChanges(payment, next) ? this.writePayment(payment, next, cause) : payment;
    }
    if (result.gatewayReference && !next.gatewayReference) next.gatewayReference = result.gatewayReference;
    if (result.gatewayData) next.gatewayData = { ...next.gatewayData, ...result.gatewayData };

    // A refunded payment was captured first: when we have not seen the capture yet (events out of
    // order, a requery), the capture is applied here and the refunds below set the refund status.
    const refundStatus = result.status === 'PARTIALLY_REFUNDED' || result.status === 'REFUNDED';
    const captured = REFUNDABLE_PAYMENT_STATUSES.includes(payment.status) || payment.status === 'REFUNDED';
    const target: PaymentStatus = refundStatus && !captured ? 'CAPTURED' : result.status;
    if (!(refundStatus && captured) && target !== payment.status) {
      if (isStalePaymentReport(payment.status, target)) {
        await this.note(payment, 'stale_report_ignored', cause, { reportedStatus: target });
      } else if (!canTransitionPayment(payment.status, target)) {
        this.ctx.logger.warn({ paymentId: payment.id, from: payment.status, to: target }, 'gateway report not allowed by the transition table');
        await this.note(payment, 'report_not_applied', cause, { reportedStatus: target });
      } else {
        next.status = target;
        next.nextAction = target === 'REQUIRES_ACTION' ? (result.nextAction ?? payment.nextAction) : null;
        if (target === 'FAILED' || target === 'EXPIRED' || target === 'CANCELLED') {
          next.failure = result.failure ?? (target === 'FAILED' ? { code: 'payment_failed', message: 'The gateway reported the payment as failed' } : payment.failure);
        } else if (target === 'AUTHORIZED' || target === 'CAPTURED') {
          next.failure = null;
        }
        if (target === 'CAPTURED') {
          next.amountCaptured = (result.amountCaptured ?? paymentAmount(payment)).toString();
          if (payment.status === 'CANCELLED') {
            // Money moved after the merchant cancelled (a hosted page paid late): the payment says
            // CAPTURED, as the money is, and is marked so the engine gives the money back.
            next.gatewayData = { ...next.gatewayData, [CANCEL_REQUESTED]: this.now };
          }
        }
      }
    } else if (target === payment.status && result.nextAction !== undefined && target === 'REQUIRES_ACTION') {
      next.nextAction = result.nextAction;
    }
    if (hasChanges(payment, next)) next = await this.writePayment(payment, next, cause);
    if (result.refunds && result.refunds.length > 0) next = await this.syncRefunds(next, result.refunds, cause);
    return next;
  }

  /**
   * Brings the payment's refunds in line with what the gateway reports: known refunds are updated, and
   * refunds made elsewhere (the gateway's dashboard) become Refund records of their own.
   */
  async syncRefunds(payment: Payment, reported: readonly GatewayRefundResult[], cause: ChangeCause): Promise<Payment> {
    const refunds = await this.tx.listRefunds(payment.id);
    let current = payment;
    const matchOf = (report: GatewayRefundResult) =>
      refunds.find((r) => (report.refundId && r.id === report.refundId) || (report.gatewayReference && r.gatewayReference === report.gatewayReference));
    // Known refunds first (a failure there gives its amount back), then new failed ones, then new ones.
    const rank = (report: GatewayRefundResult) => (matchOf(report) ? 0 : report.status === 'FAILED' ? 1 : 2);
    const ordered = [...reported].sort((a, b) => rank(a) - rank(b));
    let changedKnown = false;
    for (const report of ordered) {
      const match = matchOf(report);
      if (match) {
        const applied = await this.applyRefundReport(match, report, cause);
        if (applied !== match) {
          refunds[refunds.indexOf(match)] = applied;
          changedKnown = true;
        }
        continue;
      }
      if (changedKnown) {
        // The totals below must see what the known refunds just became.
        current = await this.recomputeRefunded(current, cause);
        changedKnown = false;
      }
      if (!REFUNDABLE_PAYMENT_STATUSES.includes(current.status) && !(report.status === 'FAILED' && current.status === 'REFUNDED')) {
        this.ctx.logger.warn({ paymentId: payment.id, status: current.status }, 'gateway reported a refund on a payment that is not captured');
        continue;
      }
      const captured = paymentAmount(current, 'amountCaptured');
      const refunded = paymentAmount(current, 'amountRefunded');
      // A failed refund we never saw created is recorded too (as FAILED, counting for nothing), so its
      // creation arriving later cannot bring it back as pending or succeeded.
      if (report.status !== 'FAILED' && refunded.add(report.amount).greaterThan(captured)) {
        this.ctx.logger.error({ paymentId: payment.id, amount: report.amount.toString() }, 'gateway reported a refund beyond the captured amount; not recorded');
        continue;
      }
      const refund: Refund = {
        id: newId('re'),
        merchantId: current.merchantId,
        paymentId: current.id,
        status: report.status,
        amount: report.amount.toString(),
        currency: current.currency,
        reason: 'external',
        gatewayReference: report.gatewayReference,
        failure: report.status === 'FAILED' ? (report.failure ?? { code: 'refund_failed', message: 'The gateway reported the refund as failed' }) : null,
        metadata: {},
        createdAt: this.now,
        updatedAt: this.now,
      };
      await this.insertRefund(refund, { actor: cause.actor, reason: `refund made outside Tender (${cause.reason})` });
      refunds.push(refund);
      current = await this.recomputeRefunded(current, cause);
    }
    return this.recomputeRefunded(current, cause);
  }

  /** Applies a gateway's report about one of our refunds; stale or forbidden reports are ignored. */
  async applyRefundReport(refund: Refund, report: GatewayRefundResult, cause: ChangeCause): Promise<Refund> {
    const next: Refund = { ...refund };
    if (report.gatewayReference && !next.gatewayReference) next.gatewayReference = report.gatewayReference;
    if (report.status !== refund.status) {
      if (canTransitionRefund(refund.status, report.status)) {
        next.status = report.status;
        if (report.status === 'FAILED') next.failure = report.failure ?? { code: 'refund_failed', message: 'The gateway reported the refund as failed' };
      } else {
        this.ctx.logger.info({ refundId: refund.id, from: refund.status, to: report.status }, 'refund report ignored');
      }
    }
    if (next.status === refund.status && next.gatewayReference === refund.gatewayReference) return refund;
    return this.writeRefund(refund, next, cause);
  }

  /** Re-derives `amountRefunded` and the refund-driven status from the payment's refunds. */
  async recomputeRefunded(payment: Payment, cause: ChangeCause): Promise<Payment> {
    const refunds = await this.tx.listRefunds(payment.id);
    let total = Money.zero(payment.currency);
    for (const r of refunds) if (r.status !== 'FAILED') total = total.add(refundAmount(r));
    const next: Payment = { ...payment, amountRefunded: total.toString() };
    if (REFUNDABLE_PAYMENT_STATUSES.includes(payment.status) || payment.status === 'REFUNDED') {
      const captured = paymentAmount(payment, 'amountCaptured');
      const status: PaymentStatus = total.isZero() ? 'CAPTURED' : total.lessThan(captured) ? 'PARTIALLY_REFUNDED' : 'REFUNDED';
      next.status = status;
    }
    if (!hasChanges(payment, next)) return payment;
    return this.writePayment(payment, next, cause);
  }
}

function hasChanges(a: Payment, b: Payment): boolean {
  return (
    a.status !== b.status ||
    a.gatewayReference !== b.gatewayReference ||
    a.amountCaptured !== b.amountCaptured ||
    a.amountRefunded !== b.amountRefunded ||
    a.gateway !== b.gateway ||
    !sameData(a.nextAction, b.nextAction) ||
    !sameData(a.failure, b.failure) ||
    !sameData(a.gatewayData, b.gatewayData)
  );
}

/** Unchanged nested data keeps its reference (changes are copies), so that check comes first. */
function sameData(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
