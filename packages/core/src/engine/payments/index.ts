/**
 * Payment operations: create, capture, cancel, refund, and reads. Each money-moving operation runs in
 * three phases (Brandur's atomic phases): (1) one transaction claims the idempotency key and records
 * the intent before any gateway is called; (2) the gateway call, outside any transaction, with a key
 * derived from the record so a repeat never charges twice; (3) one transaction applies the answer and
 * stores the response for replays. A crash between (2) and (3) leaves the payment `PROCESSING` or
 * `PENDING` for the reconciler, or for a retry that takes the key over after its lease.
 *
 *
 * One module per operation (`create`, `authorize`, `capture`, `cancel`, `refund`, `reads`) over the
 * shared steps in `steps.ts` (claim or replay the key, mark its recovery point, complete it with the
 * response) and `start.ts` (the gateway call that starts a payment, for create and authorize).
 *
 * @module
 */
import type { Payment, Refund } from '../../payment';
import type { EngineContext } from '../context';
import type { CaptureInput, CreatePaymentInput, RefundInput, RequestOptions, ReviewInput } from '../inputs';
import type { RoutingRule } from '../routing';
import { authorizePayment } from './authorize';
import { cancelPayment, settleRequestedCancel } from './cancel';
import { capturePayment } from './capture';
import { createPayment } from './create';
import { getPayment, listPayments, requeryAndApply, type ListPaymentsOptions, type Page } from './reads';
import { refundPayment } from './refund';
import { reviewPayment } from './risk';
import type { PaymentsHost } from './steps';
import { isUnconfirmed } from './unconfirmed';

export type { ListPaymentsOptions, Page } from './reads';

/** @internal */
export class PaymentOperations {
  /** Creates whose gateway call is running in this process, by payment id (a cancel waits for them). */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** Syncs running in this process, by payment id: concurrent callers share one requery. */
  private readonly syncing = new Map<string, Promise<Payment>>();
  /** When each payment was last synced (ms), bounded: at most one requery per payment per interval. */
  private readonly lastSync = new Map<string, number>();
  /** What the operation modules reach of this object. */
  private readonly host: PaymentsHost;

  constructor(
    private readonly ctx: EngineContext,
    routing: readonly RoutingRule[],
  ) {
    this.host = {
      ctx,
      routing,
      inFlight: this.inFlight,
      cancel: (id, options) => this.cancel(id, options),
      refund: (id, raw, options) => this.refund(id, raw, options),
      settleRequestedCancel: (payment) => this.settleRequestedCancel(payment),
    };
  }

  /**
   * Creates a payment and starts it at a gateway. With `confirm: false` the payment is stored
   * `PENDING` and no gateway is called until {@link PaymentOperations.authorize}. A `paymentMethod`
   * naming a saved method (`spm_...`, or its token with `userId`) charges it on its gateway, off
   * session unless `offSession: false`.
   * @throws TenderError 400 for bad input (nothing is stored); 404 (param `payment_method`) for a saved
   * method that is unknown, removed or another merchant's; 400 `saved_method_user_mismatch`,
   * `saved_method_gateway_mismatch`, `saved_methods_not_supported`.
   */
  create(raw: CreatePaymentInput, options: RequestOptions = {}): Promise<Payment> {
    return createPayment(this.host, raw, options);
  }

  /**
   * Starts at its gateway a payment created with `confirm: false` (two-step authorize) and answers it
   * as the gateway left it: `AUTHORIZED` for manual capture (the default of such a payment), then
   * {@link PaymentOperations.capture}. Crash-safe and idempotent as create: with an idempotency key a
   * repeat answers the same payment, and the gateway is called with the payment's own key.
   * @throws TenderError 404 for another merchant's payment; 409 `state_error` `payment_already_confirmed`
   * for a payment that is not unconfirmed and `PENDING`.
   */
  authorize(id: string, options: RequestOptions = {}): Promise<Payment> {
    return authorizePayment(this.host, id, options);
  }

  /**
   * Decides a payment the risk engine held `REQUIRES_REVIEW`: `approve` continues as its create would
   * have (to its gateway, or for a `confirm: false` payment back to unconfirmed `PENDING`), `decline`
   * fails it (`risk_declined`). The decision, its reason and the actor (`options.actor`) are on the
   * audit trail. Idempotent with a key; an approval is crash-safe as authorize.
   * @throws TenderError 400 `invalid_decision`; 404 for another merchant's payment; 409 `state_error`
   * `payment_not_in_review` for a payment not held for review.
   */
  review(id: string, input: ReviewInput, options: RequestOptions = {}): Promise<Payment> {
    return reviewPayment(this.host, id, input, options);
  }

  /**
   * Completes a cancel the merchant asked for while the payment's outcome was open (or a payment paid
   * after it was cancelled): voids what is authorised or awaiting the customer, refunds what was
   * captured, and drops the request once nothing is held. Internal idempotency keys make it safe to
   * run from the create that was in flight and from the reconciler alike.
   * @internal
   */
  settleRequestedCancel(payment: Payment): Promise<Payment> {
    return settleRequestedCancel(this.host, payment);
  }

  /** A payment by id (404 for another merchant's payment). */
  get(id: string, options: { merchantId?: string } = {}): Promise<Payment> {
    return getPayment(this.ctx, id, options);
  }

  /**
   * Asks the gateway for the payment's current state now and applies it, as the reconciler would:
   * for a buyer back from an approval page (PayPal's return URL), or a status poll that should not
   * wait for the next reconciliation run. Only the gateway's own answer (`retrieve`) can change the
   * payment, so a caller that is not trusted (a browser) can trigger it but never decide it. Payments
   * that are not open (`PENDING`, `PROCESSING`, `REQUIRES_ACTION`) are answered as stored. Concurrent
   * calls share one requery, and a payment is requeried at most once per `minIntervalMs` (default
   * 2 s); in between the stored payment is answered. A failed requery is logged and the stored payment
   * answered: the reconciler tries again.
   */
  async sync(id: string, options: { merchantId?: string; minIntervalMs?: number } = {}): Promise<Payment> {
    const payment = await this.get(id, options);
    if (payment.status !== 'PENDING' && payment.status !== 'PROCESSING' && payment.status !== 'REQUIRES_ACTION') return payment;
    // Never sent to a gateway: nothing to ask.
    if (isUnconfirmed(payment)) return payment;
    // A create still at the gateway in this process answers for itself in a moment.
    if (this.inFlight.has(id)) return payment;
    const running = this.syncing.get(id);
    if (running) return running;
    const now = this.ctx.clock.now().getTime();
    const last = this.lastSync.get(id);
    if (last !== undefined && now - last < (options.minIntervalMs ?? 2000)) return payment;
    this.lastSync.delete(id);
    this.lastSync.set(id, now);
    if (this.lastSync.size > 10_000) this.lastSync.delete(this.lastSync.keys().next().value!);
    const work = requeryAndApply(this.ctx, payment).finally(() => this.syncing.delete(id));
    this.syncing.set(id, work);
    return work;
  }

  /** Payments of a merchant (or of one of its users, `userId`), newest first, with cursor pagination. */
  list(options: ListPaymentsOptions = {}): Promise<Page<Payment>> {
    return listPayments(this.ctx, options);
  }

  /** Captures an authorised payment, in full or (where the gateway allows) in part. */
  capture(id: string, raw: CaptureInput = {}, options: RequestOptions = {}): Promise<Payment> {
    return capturePayment(this.host, id, raw, options);
  }

  /** Cancels (voids) a payment that has not been captured. */
  cancel(id: string, options: RequestOptions = {}): Promise<Payment> {
    return cancelPayment(this.host, id, options);
  }

  /** Refunds part or all of a captured payment. The sum of non-failed refunds never exceeds the capture. */
  refund(id: string, raw: RefundInput = {}, options: RequestOptions = {}): Promise<Refund> {
    return refundPayment(this.host, id, raw, options);
  }
}
