/**
 * `tender.subscriptions`: subscriptions run by the gateway's billing engine (Stripe Billing), and
 * their mirror here. Tender asks the gateway to start or cancel one and stores what the gateway
 * answers; everything later (trial end, renewals, retries, period-end cancellation) reaches the
 * mirror through webhooks (`webhooks.ts`) or `sync`, with the rules of `mirror.ts`.
 *
 * @module
 */
import { SUBSCRIPTION_STATUSES, type BillingTransition, type SavedPaymentMethod, type Subscription, type SubscriptionStatus } from '../../billing';
import { invalidRequest, notFound, stateConflict } from '../../errors';
import { newId } from '../../ids';
import type { GatewaySubscriptionResult } from '../../spec/gateway/v1/index';
import { validateIdempotencyKey } from '../idempotency';
import { validateMetadata } from '../inputs';
import type { Page } from '../payments/reads';
import { holdCallerKey } from './caller-key';
import { customerFor } from './customers';
import { apiCause, merchantOf, pageOf, type BillingHost } from './host';
import { derivedKey, keyedId } from './keys';
import { gatewayToken, optionalBoolean, optionalId, optionalInteger, pageLimit, requireObject, requiredId, MAX_QUANTITY, MAX_TRIAL_DAYS } from './inputs';
import { applyInvoice, applySubscription, runMirror, TENDER_METADATA_PREFIX, type ReportSource } from './mirror';
import { savedMethodNotFound } from '../payments/saved-method';
import { saveToken } from './payment-methods';
import { billingGateway, type BillingGateway } from './select-gateway';
import type { BillingCallOptions, BillingListOptions, CreateSubscriptionInput } from './types';

/** Statuses after which nothing more happens to a subscription. */
const ENDED: ReadonlySet<SubscriptionStatus> = new Set(['canceled', 'incomplete_expired']);

/** A validated create request. */
interface ValidCreate {
  userId: string;
  priceId: string;
  paymentMethod: string | null;
  trialDays: number | null;
  quantity: number;
  gateway: string | null;
  metadata: Record<string, string>;
}

function validateCreateSubscription(raw: CreateSubscriptionInput, options: BillingCallOptions): ValidCreate {
  requireObject(raw);
  if (options.idempotencyKey !== undefined) validateIdempotencyKey(options.idempotencyKey);
  const metadata = validateMetadata(raw.metadata);
  for (const key of Object.keys(metadata)) {
    if (key.startsWith(TENDER_METADATA_PREFIX)) throw invalidRequest('invalid_metadata', `metadata keys starting with '${TENDER_METADATA_PREFIX}' are Tender's own`, `metadata[${key}]`);
  }
  const paymentMethod = optionalId(raw.paymentMethod, 'payment_method');
  return {
    userId: requiredId(raw.userId, 'user_id'),
    priceId: requiredId(raw.priceId, 'price_id'),
    paymentMethod: paymentMethod === null || paymentMethod.startsWith('spm_') ? paymentMethod : gatewayToken(paymentMethod, 'payment_method'),
    trialDays: optionalInteger(raw.trialDays, 'trial_days', 0, MAX_TRIAL_DAYS),
    quantity: optionalInteger(raw.quantity, 'quantity', 1, MAX_QUANTITY) ?? 1,
    gateway: optionalId(raw.gateway, 'gateway'),
    metadata,
  };
}

/**
 * The saved method a create names: a Tender id (the user's live method at this gateway, else 404),
 * or a gateway token, saved for the user first. Absent: null, and the gateway charges the
 * customer's default, which `tender.paymentMethods` keeps equal to the user's default here.
 */
async function methodFor(host: BillingHost, input: ValidCreate, merchantId: string, gateway: BillingGateway<'subscriptions'>, options: BillingCallOptions): Promise<SavedPaymentMethod | null> {
  if (input.paymentMethod === null) return null;
  if (input.paymentMethod.startsWith('spm_')) {
    // A 404 naming the body's field (not the path's `id`): unknown, removed, another merchant's or
    // another user's all look the same.
    const method = await host.ctx.store.getSavedPaymentMethod(input.paymentMethod, merchantId);
    if (!method || method.deletedAt !== null || method.userId !== input.userId || method.gateway !== gateway.id) throw savedMethodNotFound(input.paymentMethod);
    return method;
  }
  const saving = billingGateway(host.ctx, 'savedMethods', gateway.id);
  return saveToken(host, { merchantId, userId: input.userId, token: input.paymentMethod, gateway: saving, setDefault: false }, options);
}

/** `tender.subscriptions.create`. */
export async function createSubscription(host: BillingHost, raw: CreateSubscriptionInput, options: BillingCallOptions = {}): Promise<Subscription> {
  const { ctx } = host;
  const input = validateCreateSubscription(raw, options);
  const gateway = billingGateway(ctx, 'subscriptions', input.gateway);
  const merchantId = merchantOf(host, options);
  // Under a caller's key the id is derived from it: a retry sends the gateway the same request
  // (metadata included), which a gateway's idempotency requires, and names the same record.
  const key = options.idempotencyKey;
  const id = key === undefined ? newId('subs') : keyedId('subs', merchantId, key);
  // The key is this request's: another body under it is a 422, not the first request's subscription.
  await holdCallerKey(ctx, merchantId, key, 'subscriptions.create', null, input);
  if (key !== undefined) {
    // A retry of a create that got its answer stored: that record, as it is now. Asking again would
    // replay the gateway's first answer, which is older news than what webhooks stored since.
    const made = await ctx.store.getSubscription(id, merchantId);
    if (made) return made;
  }
  const method = await methodFor(host, input, merchantId, gateway, options);
  const customer = await customerFor(host, { merchantId, userId: input.userId, gateway: gateway.id, email: null, name: null });
  const readAt = ctx.clock.now();
  const result = await gateway.subscriptions.create(
    {
      subscriptionId: id,
      merchantId,
      userId: input.userId,
      gatewayCustomerId: customer.gatewayCustomerId,
      priceId: input.priceId,
      quantity: input.quantity,
      // The user's default is not pinned on the subscription: renewals then charge the customer's
      // default at the gateway, so a new default card is what the next renewal or retry charges.
      // Another method is pinned (Stripe `default_payment_method` wins over the customer's,
      // https://docs.stripe.com/api/subscriptions/object#subscription_object-default_payment_method).
      paymentMethod: method && !method.isDefault ? method.token : null,
      trialDays: input.trialDays,
      metadata: input.metadata,
    },
    { idempotencyKey: key === undefined ? `subscription:${id}` : derivedKey('subscription', merchantId, key), now: readAt },
  );
  const source: ReportSource = { gateway: gateway.id, readAt: readAt.toISOString(), cause: apiCause(options, 'subscription created') };
  const subscription = await runMirror(ctx, (unit) => applySubscription(unit, result, source, { id, merchantId, userId: input.userId }));
  if (!subscription) throw stateConflict('subscription_binding_conflict', "The gateway's subscription does not belong to this request; see the logs");
  await mirrorLatestInvoice(host, gateway, result, subscription, source.cause);
  return (await ctx.store.getSubscription(subscription.id, merchantId)) ?? subscription;
}

/**
 * Mirrors the subscription's newest invoice (the first one, after a create). Its failure is logged
 * only: the invoice's webhooks, or `sync`, bring it later.
 */
async function mirrorLatestInvoice(host: BillingHost, gateway: BillingGateway<'subscriptions'>, result: GatewaySubscriptionResult, subscription: Subscription, cause: ReportSource['cause']): Promise<void> {
  const { ctx } = host;
  if (!result.latestInvoiceReference) return;
  const readAt = ctx.clock.now();
  try {
    const invoice = await gateway.subscriptions.retrieveInvoice({ gatewayReference: result.latestInvoiceReference }, { idempotencyKey: `retrieve_invoice:${result.latestInvoiceReference}`, now: readAt });
    await runMirror(ctx, async (unit) => {
      const current = (await unit.tx.lockSubscription(subscription.id)) ?? subscription;
      return applyInvoice(unit, invoice, { gateway: gateway.id, readAt: readAt.toISOString(), cause }, current);
    });
  } catch (error) {
    ctx.logger.warn({ subscriptionId: subscription.id, invoice: result.latestInvoiceReference, error: String(error) }, "mirroring the subscription's latest invoice failed; its webhooks bring it");
  }
}

/** The merchant's subscription (404 otherwise). */
async function ownSubscription(host: BillingHost, id: string, options: BillingCallOptions | undefined): Promise<Subscription> {
  const subscription = await host.ctx.store.getSubscription(requiredId(id, 'id'), merchantOf(host, options));
  if (!subscription) throw notFound('subscription', id);
  return subscription;
}

/** `tender.subscriptions.get`. */
export function getSubscription(host: BillingHost, id: string, options: BillingCallOptions = {}): Promise<Subscription> {
  return ownSubscription(host, id, options);
}

/** `tender.subscriptions.list`. */
export async function listSubscriptions(host: BillingHost, options: BillingListOptions & { status?: SubscriptionStatus } = {}): Promise<Page<Subscription>> {
  const limit = pageLimit(options.limit);
  const userId = optionalId(options.userId, 'user_id');
  const startingAfter = optionalId(options.startingAfter, 'starting_after');
  if (options.status !== undefined && !SUBSCRIPTION_STATUSES.includes(options.status)) {
    throw invalidRequest('invalid_status', `status must be one of ${SUBSCRIPTION_STATUSES.join(', ')}`, 'status');
  }
  const rows = await host.ctx.store.listSubscriptions({
    merchantId: merchantOf(host, options),
    limit: limit + 1,
    ...(userId !== null ? { userId } : {}),
    ...(startingAfter !== null ? { startingAfter } : {}),
    ...(options.status !== undefined ? { status: options.status } : {}),
  });
  return pageOf(rows, limit);
}

/** `tender.subscriptions.cancel`. */
export async function cancelSubscription(host: BillingHost, id: string, input: { atPeriodEnd?: boolean } = {}, options: BillingCallOptions = {}): Promise<Subscription> {
  const { ctx } = host;
  if (options.idempotencyKey !== undefined) validateIdempotencyKey(options.idempotencyKey);
  const atPeriodEnd = optionalBoolean(requireObject(input ?? {}).atPeriodEnd, 'at_period_end', false);
  const subscription = await ownSubscription(host, id, options);
  await holdCallerKey(ctx, subscription.merchantId, options.idempotencyKey, 'subscriptions.cancel', subscription.id, { atPeriodEnd });
  // Nothing left to cancel: answered as stored, without asking the gateway (which refuses it). A
  // stored cancelAtPeriodEnd is no such answer: the cancellation may have been undone at the gateway
  // (Stripe's dashboard, `cancel_at_period_end=false`) before its webhook arrived, and asking again
  // is harmless, so the gateway is asked and what it answers is stored.
  if (ENDED.has(subscription.status)) return subscription;
  const gateway = billingGateway(ctx, 'subscriptions', subscription.gateway);
  const readAt = ctx.clock.now();
  const result = await gateway.subscriptions.cancel(
    { gatewayReference: subscription.gatewayReference, atPeriodEnd },
    // Each call gets a key of its own, even under a caller's key: canceling again is harmless (the
    // gateway answers the subscription as canceled), while a replayed first answer would be older
    // news than what webhooks stored since.
    { idempotencyKey: `cancel_subscription:${newId('idk')}`, now: readAt },
  );
  const source: ReportSource = { gateway: gateway.id, readAt: readAt.toISOString(), cause: apiCause(options, atPeriodEnd ? 'cancel at period end requested' : 'cancel requested') };
  return (await runMirror(ctx, (unit) => applySubscription(unit, result, source, null))) ?? subscription;
}

/** `tender.subscriptions.sync`: requeries the subscription and its newest invoice and stores what the gateway answers. */
export async function syncSubscription(host: BillingHost, id: string, options: BillingCallOptions = {}): Promise<Subscription> {
  const { ctx } = host;
  const subscription = await ownSubscription(host, id, options);
  const gateway = billingGateway(ctx, 'subscriptions', subscription.gateway);
  const readAt = ctx.clock.now();
  const result = await gateway.subscriptions.retrieve({ gatewayReference: subscription.gatewayReference }, { idempotencyKey: `retrieve_subscription:${subscription.id}`, now: readAt });
  const cause = apiCause(options, 'sync: requery');
  const after = (await runMirror(ctx, (unit) => applySubscription(unit, result, { gateway: gateway.id, readAt: readAt.toISOString(), cause }, null))) ?? subscription;
  await mirrorLatestInvoice(host, gateway, result, after, cause);
  return (await ctx.store.getSubscription(after.id, after.merchantId)) ?? after;
}

/** `tender.subscriptions.transitions`. */
export async function subscriptionTransitions(host: BillingHost, id: string, options: BillingCallOptions = {}): Promise<BillingTransition[]> {
  const subscription = await ownSubscription(host, id, options);
  return host.ctx.store.listBillingTransitions(subscription.id);
}
