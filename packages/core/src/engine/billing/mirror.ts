/**
 * Applying what a gateway reported about a subscription or an invoice (a call's answer or a requery)
 * to Tender's records. Every apply runs in one store transaction (a {@link UnitOfWork}) that locks
 * the record, and follows the same rules as payments:
 *
 * - **Stale reads lose.** Each record keeps `syncedAt`, the time the read it holds *started*; a read
 *   that started earlier is older news and is not applied, even when it finishes later (two requeries
 *   of one subscription can answer out of order).
 * - **The state machine decides.** A status move that `SUBSCRIPTION_TRANSITIONS` /
 *   `INVOICE_TRANSITIONS` forbids is logged as a warning and the report is not applied.
 * - **Only the gateway's answer binds.** A subscription not stored yet is bound to a Tender record
 *   through the `tender_subscription_id`, `tender_merchant_id` and `tender_user_id` metadata Tender
 *   wrote at creation, as read back over the gateway's authenticated API (or, for the create call's
 *   own answer, the record the call was made for).
 * - **Audited and published.** A status change is appended to the audit trail; each change enqueues
 *   its outbox event (`subscription.created|updated|canceled`, `invoice.created|finalized|paid|
 *   payment_failed|voided|updated`) in the same transaction, published once it commits.
 * - **Invoice money is a Tender payment.** An invoice reported `paid` with the gateway's payment
 *   reference gets a `CAPTURED` Tender payment (unless one already has that reference), with its
 *   transition and `payment.captured` event, in the same transaction. A failed attempt creates no
 *   payment: no money moved (it shows as `attemptCount` and `invoice.payment_failed`).
 *
 * @module
 */
import type { Invoice, InvoiceStatus, Subscription } from '../../billing';
import { TenderError } from '../../errors';
import { newId } from '../../ids';
import { Money } from '../../money';
import type { Payment } from '../../payment';
import type { GatewayInvoiceResult, GatewaySubscriptionResult } from '../../spec/gateway/v1/index';
import { canTransitionInvoice, canTransitionSubscription } from '../../state-machine';
import type { EngineContext } from '../context';
import { UnitOfWork, type ChangeCause } from '../unit-of-work';
import { defaultMethodOf } from './payment-methods';

/** Where a report comes from. */
export interface ReportSource {
  gateway: string;
  /** When the call or requery that produced the report started (ISO 8601). */
  readAt: string;
  cause: ChangeCause;
}

/** The Tender record a subscription not stored yet belongs to. */
export interface SubscriptionBinding {
  id: string;
  merchantId: string;
  userId: string;
}

/** Metadata keys Tender writes on the gateway's subscription; not the merchant's metadata. */
export const TENDER_METADATA_PREFIX = 'tender_';

/** The binding Tender wrote in the gateway's metadata at creation, or null when it is not all there. */
export function bindingFromMetadata(result: GatewaySubscriptionResult): SubscriptionBinding | null {
  const id = result.metadata.tender_subscription_id;
  const merchantId = result.metadata.tender_merchant_id;
  const userId = result.metadata.tender_user_id;
  if (!id || !merchantId || !userId) return null;
  return { id, merchantId, userId };
}

/** Fields that say what a subscription is (everything but bookkeeping). */
const SUBSCRIPTION_BOOKKEEPING = new Set(['version', 'updatedAt', 'syncedAt', 'createdAt']);
/** Fields that say what an invoice is. */
const INVOICE_BOOKKEEPING = SUBSCRIPTION_BOOKKEEPING;

function sameContent(a: object, b: object, bookkeeping: ReadonlySet<string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (bookkeeping.has(key)) continue;
    const x = (a as Record<string, unknown>)[key];
    const y = (b as Record<string, unknown>)[key];
    if (x !== y && JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}

/** The merchant's own metadata of a gateway subscription (Tender's keys left out). */
function merchantMetadata(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (!k.startsWith(TENDER_METADATA_PREFIX)) out[k] = v;
  return out;
}

/** Tender's id of the user's saved method with this token, or null. */
async function savedMethodId(unit: UnitOfWork, merchantId: string, userId: string, gateway: string, token: string | null): Promise<string | null> {
  if (!token) return null;
  const method = await unit.tx.findSavedPaymentMethodByToken(merchantId, gateway, token);
  return method && method.userId === userId ? method.id : null;
}

/**
 * The saved method a subscription's renewals charge: the one the gateway's subscription names, else
 * (it charges the customer's default) the user's default here at this gateway, as of this apply.
 */
async function renewalMethodId(unit: UnitOfWork, merchantId: string, userId: string, gateway: string, token: string | null): Promise<string | null> {
  if (token) return savedMethodId(unit, merchantId, userId, gateway, token);
  const fallback = await defaultMethodOf(unit.tx, merchantId, userId);
  return fallback && fallback.gateway === gateway ? fallback.id : null;
}

async function auditBilling(unit: UnitOfWork, record: { id: string; merchantId: string }, type: 'subscription' | 'invoice', from: string | null, to: string, cause: ChangeCause): Promise<void> {
  await unit.tx.appendBillingTransition({
    id: newId('tr'),
    merchantId: record.merchantId,
    resourceType: type,
    resourceId: record.id,
    from,
    to,
    reason: cause.reason,
    actor: cause.actor,
    at: unit.now,
  });
}

/** The record's fields as the gateway reports them. */
function subscriptionFields(result: GatewaySubscriptionResult): Omit<Subscription, 'id' | 'merchantId' | 'userId' | 'gateway' | 'paymentMethodId' | 'createdAt' | 'updatedAt' | 'syncedAt' | 'version'> {
  return {
    gatewayReference: result.gatewayReference,
    gatewayCustomerId: result.gatewayCustomerId,
    status: result.status,
    priceId: result.priceId,
    quantity: result.quantity,
    amount: result.amount ? result.amount.toString() : null,
    currency: result.amount ? result.amount.currency : null,
    interval: result.interval,
    intervalCount: result.intervalCount,
    trialStart: result.trialStart,
    trialEnd: result.trialEnd,
    currentPeriodStart: result.currentPeriodStart,
    currentPeriodEnd: result.currentPeriodEnd,
    cancelAtPeriodEnd: result.cancelAtPeriodEnd,
    canceledAt: result.canceledAt,
    endedAt: result.endedAt,
    latestInvoiceReference: result.latestInvoiceReference,
    metadata: merchantMetadata(result.metadata),
  };
}

/** Stores a subscription not stored yet, bound to `bound`, with its first transition and events. */
async function insertSubscription(unit: UnitOfWork, result: GatewaySubscriptionResult, source: ReportSource, bound: SubscriptionBinding): Promise<Subscription> {
  const subscription: Subscription = {
    id: bound.id,
    merchantId: bound.merchantId,
    userId: bound.userId,
    gateway: source.gateway,
    ...subscriptionFields(result),
    paymentMethodId: await renewalMethodId(unit, bound.merchantId, bound.userId, source.gateway, result.defaultPaymentMethod),
    createdAt: unit.now,
    updatedAt: unit.now,
    syncedAt: source.readAt,
    version: 1,
  };
  await unit.tx.insertSubscription(subscription);
  await auditBilling(unit, subscription, 'subscription', null, subscription.status, source.cause);
  await unit.emitEvent('subscription.created', subscription.merchantId, subscription);
  if (subscription.status === 'canceled') await unit.emitEvent('subscription.canceled', subscription.merchantId, subscription);
  return subscription;
}

/**
 * Applies a subscription report in `unit`: inserts the record when it is not stored yet (bound
 * through the gateway's metadata, else `binding`), or writes the report over the stored one.
 * Returns the record after it, or null when the report binds to no Tender subscription.
 */
export async function applySubscription(unit: UnitOfWork, result: GatewaySubscriptionResult, source: ReportSource, binding: SubscriptionBinding | null): Promise<Subscription | null> {
  const { logger } = unit.ctx;
  let found = await unit.tx.findSubscriptionByGatewayReference(source.gateway, result.gatewayReference);
  const fromMetadata = bindingFromMetadata(result);
  if (!found) {
    const bound = fromMetadata ?? binding;
    if (!bound) {
      logger.info({ gateway: source.gateway, gatewayReference: result.gatewayReference }, 'gateway subscription carries no Tender binding; not mirrored');
      return null;
    }
    if (binding && (bound.merchantId !== binding.merchantId || bound.userId !== binding.userId)) {
      logger.error({ gateway: source.gateway, gatewayReference: result.gatewayReference, subscriptionId: binding.id }, "the gateway's subscription names another merchant or user than the call made for it; not mirrored");
      return null;
    }
    const clash = await unit.tx.getSubscription(bound.id);
    if (clash && (clash.gateway !== source.gateway || clash.gatewayReference !== result.gatewayReference)) {
      logger.error({ gateway: source.gateway, gatewayReference: result.gatewayReference, subscriptionId: bound.id }, 'gateway subscription names a Tender subscription stored with another reference; not mirrored');
      return null;
    }
    // Stored with this very reference by a concurrent apply that committed between the two reads
    // (a copy of the create, or its webhook): the report is applied over it below.
    if (clash) found = clash;
    else return insertSubscription(unit, result, source, bound);
  }
  const stored = (await unit.tx.lockSubscription(found.id)) ?? found;
  if (stored.syncedAt > source.readAt) {
    logger.debug({ subscriptionId: stored.id, syncedAt: stored.syncedAt, readAt: source.readAt }, 'subscription report read before the stored state; not applied');
    return stored;
  }
  if (fromMetadata && (fromMetadata.id !== stored.id || fromMetadata.merchantId !== stored.merchantId)) {
    logger.error({ subscriptionId: stored.id, gatewayReference: result.gatewayReference }, "the gateway's subscription names another Tender subscription than the one stored with its reference; not applied");
    return stored;
  }
  if (result.status !== stored.status && !canTransitionSubscription(stored.status, result.status)) {
    logger.warn({ subscriptionId: stored.id, from: stored.status, to: result.status }, 'subscription report not allowed by the transition table; not applied');
    return stored;
  }
  const next: Subscription = {
    ...stored,
    ...subscriptionFields(result),
    paymentMethodId: await renewalMethodId(unit, stored.merchantId, stored.userId, stored.gateway, result.defaultPaymentMethod),
    syncedAt: source.readAt,
  };
  const changed = !sameContent(stored, next, SUBSCRIPTION_BOOKKEEPING);
  // An unchanged report still moves syncedAt forward, so an older read finishing later loses to it.
  if (!changed && next.syncedAt === stored.syncedAt) return stored;
  const written: Subscription = { ...next, version: stored.version + 1, updatedAt: changed ? unit.now : stored.updatedAt };
  await unit.tx.updateSubscription(written);
  if (written.status !== stored.status) await auditBilling(unit, written, 'subscription', stored.status, written.status, source.cause);
  if (changed) {
    const type = written.status === 'canceled' && stored.status !== 'canceled' ? 'subscription.canceled' : 'subscription.updated';
    await unit.emitEvent(type, written.merchantId, written);
  }
  return written;
}

/** Events of an invoice's status as it enters it. */
const INVOICE_STATUS_EVENT: Partial<Record<InvoiceStatus, string>> = {
  open: 'invoice.finalized',
  paid: 'invoice.paid',
  void: 'invoice.voided',
};

function invoiceFields(result: GatewayInvoiceResult): Omit<Invoice, 'id' | 'merchantId' | 'userId' | 'gateway' | 'subscriptionId' | 'paymentId' | 'createdAt' | 'updatedAt' | 'syncedAt' | 'version'> {
  return {
    gatewayReference: result.gatewayReference,
    status: result.status,
    currency: result.amountDue.currency,
    amountDue: result.amountDue.toString(),
    amountPaid: result.amountPaid.toString(),
    amountRemaining: result.amountRemaining.toString(),
    billingReason: result.billingReason,
    number: result.number,
    hostedInvoiceUrl: result.hostedInvoiceUrl,
    periodStart: result.periodStart,
    periodEnd: result.periodEnd,
    attemptCount: result.attemptCount,
    nextPaymentAttempt: result.nextPaymentAttempt,
    paidAt: result.paidAt,
  };
}

/**
 * The Tender payment recording a paid invoice's money: the one holding the gateway's payment
 * reference, else a new `CAPTURED` payment of the invoice's user. Null when no money moved (a zero
 * invoice, as at the start of a trial) or the gateway names no payment.
 */
async function invoicePayment(unit: UnitOfWork, invoice: Invoice, result: GatewayInvoiceResult, source: ReportSource): Promise<string | null> {
  if (result.status !== 'paid' || !result.paymentReference || result.amountPaid.isZero()) return null;
  const existing = await unit.tx.findPaymentByGatewayReference(source.gateway, result.paymentReference);
  if (existing) {
    if (existing.merchantId === invoice.merchantId) return existing.id;
    unit.ctx.logger.error({ invoiceId: invoice.id, paymentId: existing.id }, "the invoice's payment reference is another merchant's payment; not linked");
    return null;
  }
  const amount = result.amountPaid;
  const currency = amount.currency;
  const payment: Payment = {
    id: newId('pay'),
    merchantId: invoice.merchantId,
    orderId: null,
    userId: invoice.userId,
    savedPaymentMethodId: await savedMethodId(unit, invoice.merchantId, invoice.userId, source.gateway, result.paymentMethod),
    status: 'CAPTURED',
    amount: amount.toString(),
    currency,
    amountCaptured: amount.toString(),
    amountRefunded: Money.zero(currency).toString(),
    captureMethod: 'automatic',
    gateway: source.gateway,
    gatewayReference: result.paymentReference,
    paymentMethod: result.paymentMethod,
    description: `Invoice ${result.number ?? result.gatewayReference}`,
    customer: {},
    returnUrl: null,
    notifyUrl: null,
    metadata: { invoice_id: invoice.id, ...(invoice.subscriptionId ? { subscription_id: invoice.subscriptionId } : {}) },
    nextAction: null,
    failure: null,
    gatewayData: {},
    createdAt: unit.now,
    updatedAt: unit.now,
    version: 1,
  };
  await unit.insertSettledPayment(payment, { actor: source.cause.actor, reason: `invoice ${invoice.id} paid (${source.cause.reason})` });
  return payment.id;
}

/**
 * Applies an invoice report of `subscription` (stored, the invoice's own) in `unit`. Returns the
 * invoice after it, or null when the report contradicts the subscription.
 */
export async function applyInvoice(unit: UnitOfWork, result: GatewayInvoiceResult, source: ReportSource, subscription: Subscription): Promise<Invoice | null> {
  const { logger } = unit.ctx;
  if (result.subscriptionReference !== subscription.gatewayReference || result.gatewayCustomerId !== subscription.gatewayCustomerId) {
    logger.error({ subscriptionId: subscription.id, invoice: result.gatewayReference }, "invoice report names another subscription or customer than the subscription's; not applied");
    return null;
  }
  const found = await unit.tx.findInvoiceByGatewayReference(source.gateway, result.gatewayReference);
  if (!found) {
    const draft: Invoice = {
      id: newId('inv'),
      merchantId: subscription.merchantId,
      userId: subscription.userId,
      gateway: source.gateway,
      subscriptionId: subscription.id,
      ...invoiceFields(result),
      paymentId: null,
      createdAt: unit.now,
      updatedAt: unit.now,
      syncedAt: source.readAt,
      version: 1,
    };
    const invoice: Invoice = { ...draft, paymentId: await invoicePayment(unit, draft, result, source) };
    await unit.tx.insertInvoice(invoice);
    await auditBilling(unit, invoice, 'invoice', null, invoice.status, source.cause);
    await unit.emitEvent('invoice.created', invoice.merchantId, invoice);
    const entered = INVOICE_STATUS_EVENT[invoice.status];
    if (entered) await unit.emitEvent(entered, invoice.merchantId, invoice);
    if (invoice.attemptCount > 0 && invoice.status !== 'paid') await unit.emitEvent('invoice.payment_failed', invoice.merchantId, invoice);
    return invoice;
  }
  const stored = (await unit.tx.lockInvoice(found.id)) ?? found;
  if (stored.syncedAt > source.readAt) {
    logger.debug({ invoiceId: stored.id, syncedAt: stored.syncedAt, readAt: source.readAt }, 'invoice report read before the stored state; not applied');
    return stored;
  }
  if (result.status !== stored.status && !canTransitionInvoice(stored.status, result.status)) {
    logger.warn({ invoiceId: stored.id, from: stored.status, to: result.status }, 'invoice report not allowed by the transition table; not applied');
    return stored;
  }
  const draft: Invoice = { ...stored, ...invoiceFields(result), syncedAt: source.readAt };
  const next: Invoice = draft.paymentId === null ? { ...draft, paymentId: await invoicePayment(unit, draft, result, source) } : draft;
  const changed = !sameContent(stored, next, INVOICE_BOOKKEEPING);
  if (!changed && next.syncedAt === stored.syncedAt) return stored;
  const written: Invoice = { ...next, version: stored.version + 1, updatedAt: changed ? unit.now : stored.updatedAt };
  await unit.tx.updateInvoice(written);
  if (!changed) return written;
  const events: string[] = [];
  if (written.status !== stored.status) {
    await auditBilling(unit, written, 'invoice', stored.status, written.status, source.cause);
    const entered = INVOICE_STATUS_EVENT[written.status];
    if (entered) events.push(entered);
  }
  if (written.attemptCount > stored.attemptCount && written.status !== 'paid') events.push('invoice.payment_failed');
  if (events.length === 0) events.push('invoice.updated');
  for (const type of events) await unit.emitEvent(type, written.merchantId, written);
  return written;
}

/**
 * Runs `fn` in a unit of work; when its insert lost a race (a webhook or an earlier try stored the
 * record first: `duplicate_gateway_reference`, `duplicate_subscription`, `duplicate_invoice`), runs
 * it once more, so the report is applied over the stored record.
 */
export async function runMirror<T>(ctx: EngineContext, fn: (unit: UnitOfWork) => Promise<T>): Promise<T> {
  try {
    return await UnitOfWork.run(ctx, fn);
  } catch (error) {
    if (!TenderError.isInstance(error) || !['duplicate_gateway_reference', 'duplicate_subscription', 'duplicate_invoice'].includes(error.code)) throw error;
    return UnitOfWork.run(ctx, fn);
  }
}
