/**
 * `tender.paymentMethods`: gateway tokens saved on the user's gateway customer for later,
 * merchant-initiated charges, with one default per user.
 *
 * Saving asks the gateway first (Stripe: a SetupIntent confirmed off-session), then stores the
 * token and its display data; the default is set at the gateway before it is recorded here, so what
 * the gateway's billing charges is what Tender shows. Removing detaches at the gateway first, then
 * soft-deletes, so a method shown as removed can no longer be charged. Each change publishes an
 * outbox event (`payment_method.saved`, `payment_method.default_changed`, `payment_method.removed`).
 *
 * @module
 */
import type { SavedPaymentMethod } from '../../billing';
import { TenderError, notFound, stateConflict } from '../../errors';
import { newId } from '../../ids';
import type { StoreReader } from '../../spec/store/v1/index';
import type { Page } from '../payments/reads';
import { UnitOfWork } from '../unit-of-work';
import { holdCallerKey } from './caller-key';
import { customerFor } from './customers';
import { merchantOf, pageOf, type BillingHost } from './host';
import { derivedKey } from './keys';
import { gatewayToken, optionalBoolean, optionalId, pageLimit, requireObject, requiredId } from './inputs';
import { billingGateway, type BillingGateway } from './select-gateway';
import type { BillingCallOptions, BillingListOptions, SavePaymentMethodInput } from './types';

/** A validated save request. */
export interface SaveRequest {
  merchantId: string;
  userId: string;
  token: string;
  gateway: BillingGateway<'savedMethods'>;
  setDefault: boolean;
}

/** `tender.paymentMethods.save`. */
export async function saveMethod(host: BillingHost, raw: SavePaymentMethodInput, options: BillingCallOptions = {}): Promise<SavedPaymentMethod> {
  requireObject(raw);
  const userId = requiredId(raw.userId, 'user_id');
  const token = gatewayToken(raw.token, 'token');
  const gatewayId = optionalId(raw.gateway, 'gateway');
  const setDefault = optionalBoolean(raw.setDefault, 'set_default', false);
  const gateway = billingGateway(host.ctx, 'savedMethods', gatewayId);
  const merchantId = merchantOf(host, options);
  await holdCallerKey(host.ctx, merchantId, options.idempotencyKey, 'payment_methods.save', null, { userId, token, gateway: gateway.id, setDefault });
  return saveToken(host, { merchantId, userId, token, gateway, setDefault }, options);
}

/**
 * Saves a validated token for the user (the save path `subscriptions.create` shares): the stored
 * method when the token is already the user's, else saved at the gateway and stored.
 * @throws TenderError 409 when the token is another user's or was removed.
 * @internal
 */
export async function saveToken(host: BillingHost, request: SaveRequest, options: BillingCallOptions = {}): Promise<SavedPaymentMethod> {
  const { ctx } = host;
  const { merchantId, userId, token, gateway } = request;
  const existing = await ctx.store.findSavedPaymentMethodByToken(merchantId, gateway.id, token);
  if (existing) return alreadySaved(host, existing, request, options);
  const customer = await customerFor(host, { merchantId, userId, gateway: gateway.id, email: null, name: null });
  const saved = await gateway.savedMethods.save(
    { gatewayCustomerId: customer.gatewayCustomerId, token },
    { idempotencyKey: derivedKey('save_method', merchantId, userId, gateway.id, token), now: ctx.clock.now() },
  );
  // The gateway may answer with another token than the one sent (Stripe makes a new PaymentMethod
  // of a test token such as `pm_card_visa`); an answer already stored is that save, replayed.
  const replayed = saved.token === token ? null : await ctx.store.findSavedPaymentMethodByToken(merchantId, gateway.id, saved.token);
  if (replayed) return alreadySaved(host, replayed, request, options);
  const makeDefault = request.setDefault || (await defaultMethodOf(ctx.store, merchantId, userId)) === null;
  if (makeDefault) {
    // At the gateway first: its billing charges the customer's default, which must be what we show.
    await gateway.savedMethods.setDefault({ gatewayCustomerId: customer.gatewayCustomerId, token: saved.token }, { idempotencyKey: freshKey('default_method'), now: ctx.clock.now() });
  }
  const stored = await UnitOfWork.run(ctx, async (unit) => {
    // Another save of this token may have committed while the gateway was asked.
    const raced = (await unit.tx.findSavedPaymentMethodByToken(merchantId, gateway.id, saved.token)) ?? (await unit.tx.findSavedPaymentMethodByToken(merchantId, gateway.id, token));
    if (raced) return { raced: true as const, method: raced };
    const method: SavedPaymentMethod = {
      id: newId('spm'),
      merchantId,
      userId,
      gateway: gateway.id,
      token: saved.token,
      type: saved.type,
      card: saved.card,
      walletEmail: saved.walletEmail,
      isDefault: makeDefault,
      createdAt: unit.now,
      updatedAt: unit.now,
      deletedAt: null,
    };
    await unit.tx.insertSavedPaymentMethod(method);
    await unit.emitEvent('payment_method.saved', merchantId, method);
    if (makeDefault) await unit.emitEvent('payment_method.default_changed', merchantId, method);
    return { raced: false as const, method };
  }).catch(async (error: unknown) => {
    // A save of this token committed between the read above and this insert (a concurrent copy
    // of the request, in another transaction the read could not see yet): that save is the answer.
    if (!TenderError.isInstance(error) || error.code !== 'duplicate_saved_payment_method') throw error;
    const winner = (await ctx.store.findSavedPaymentMethodByToken(merchantId, gateway.id, saved.token)) ?? (await ctx.store.findSavedPaymentMethodByToken(merchantId, gateway.id, token));
    if (!winner) throw error;
    return { raced: true as const, method: winner };
  });
  if (stored.raced) return alreadySaved(host, stored.method, request, options);
  if (makeDefault) await alignGatewayDefault(host, merchantId, userId, gateway, customer.gatewayCustomerId);
  return stored.method;
}

/** A token already stored for the merchant: the user's own method (made default if asked), else a 409. */
async function alreadySaved(host: BillingHost, existing: SavedPaymentMethod, request: SaveRequest, options: BillingCallOptions): Promise<SavedPaymentMethod> {
  // The message names neither user: a user id may be personal data of someone else.
  if (existing.userId !== request.userId) throw stateConflict('payment_method_in_use', 'This payment method is saved for another user of the merchant');
  if (existing.deletedAt !== null) {
    throw stateConflict('payment_method_removed', 'This payment method was removed and cannot be saved again; collect the card again with the gateway\'s hosted fields');
  }
  if (request.setDefault && !existing.isDefault) return setDefaultMethod(host, existing.id, options);
  return existing;
}

/**
 * The user's default method (one per user, whatever the gateway), or null. Pages through the
 * user's methods: there is no read of the default alone.
 * @internal
 */
export async function defaultMethodOf(reader: StoreReader, merchantId: string, userId: string): Promise<SavedPaymentMethod | null> {
  let startingAfter: string | undefined;
  for (;;) {
    const rows = await reader.listSavedPaymentMethods({ merchantId, userId, limit: 100, ...(startingAfter ? { startingAfter } : {}) });
    const found = rows.find((m) => m.isDefault && m.deletedAt === null);
    if (found) return found;
    if (rows.length < 100) return null;
    startingAfter = rows[rows.length - 1]!.id;
  }
}

/**
 * A key of its own for a call that sets state (a default): a key reused later would make the gateway
 * replay the first answer instead of acting (A, then B, then A again must end on A).
 */
function freshKey(operation: string): string {
  return `${operation}:${newId('idk')}`;
}

/** The merchant's live method (404 when unknown, another merchant's, or removed). */
export async function liveMethod(host: BillingHost, id: string, merchantId: string): Promise<SavedPaymentMethod> {
  const method = await host.ctx.store.getSavedPaymentMethod(requiredId(id, 'id'), merchantId);
  if (!method || method.deletedAt !== null) throw notFound('payment method', id);
  return method;
}

/** `tender.paymentMethods.get`. */
export function getMethod(host: BillingHost, id: string, options: BillingCallOptions = {}): Promise<SavedPaymentMethod> {
  return liveMethod(host, id, merchantOf(host, options));
}

/** `tender.paymentMethods.list`. */
export async function listMethods(host: BillingHost, options: BillingListOptions = {}): Promise<Page<SavedPaymentMethod>> {
  const limit = pageLimit(options.limit);
  const userId = optionalId(options.userId, 'user_id');
  const startingAfter = optionalId(options.startingAfter, 'starting_after');
  const rows = await host.ctx.store.listSavedPaymentMethods({
    merchantId: merchantOf(host, options),
    limit: limit + 1,
    ...(userId !== null ? { userId } : {}),
    ...(startingAfter !== null ? { startingAfter } : {}),
  });
  return pageOf(rows, limit);
}

/** The gateway customer a stored method is saved on. */
async function customerOf(host: BillingHost, method: SavedPaymentMethod): Promise<string> {
  const customer = await host.ctx.store.getGatewayCustomer(method.merchantId, method.userId, method.gateway);
  if (!customer) throw stateConflict('customer_missing', 'The customer this payment method is saved on is not stored');
  return customer.gatewayCustomerId;
}

/** Most rounds {@link alignGatewayDefault} makes before leaving the rest to the next change. */
const ALIGN_ROUNDS = 5;

/**
 * Makes the gateway customer's default the user's default as stored, after a change of it committed.
 * A change asks the gateway first and stores second, so two changes at once can reach the gateway in
 * one order and the store in the other (Tender showing A while the gateway's renewals charge B).
 * Each change therefore sends the stored default once more after its write and reads it again until
 * it stays: the last of those sends carries the last stored default, as every write is followed by a
 * send and every send by a read. A failed send is logged, not the caller's error: its own change is
 * at the gateway and stored.
 */
async function alignGatewayDefault(host: BillingHost, merchantId: string, userId: string, gateway: BillingGateway<'savedMethods'>, gatewayCustomerId: string): Promise<void> {
  const { ctx } = host;
  let current = await defaultMethodOf(ctx.store, merchantId, userId);
  for (let round = 0; round < ALIGN_ROUNDS; round++) {
    if (!current || current.gateway !== gateway.id) return;
    try {
      await gateway.savedMethods.setDefault({ gatewayCustomerId, token: current.token }, { idempotencyKey: freshKey('default_method'), now: ctx.clock.now() });
    } catch (error) {
      ctx.logger.warn({ paymentMethodId: current.id, error: String(error) }, "re-sending the user's default to the gateway failed; the next change of the default sends it again");
      return;
    }
    const after = await defaultMethodOf(ctx.store, merchantId, userId);
    if (after?.id === current.id) return;
    current = after;
  }
  ctx.logger.warn({ gateway: gateway.id }, "the user's default kept changing while it was sent to the gateway; the next change sends it again");
}

/** `tender.paymentMethods.setDefault`. */
export async function setDefaultMethod(host: BillingHost, id: string, options: BillingCallOptions = {}): Promise<SavedPaymentMethod> {
  const { ctx } = host;
  const merchantId = merchantOf(host, options);
  const method = await liveMethod(host, id, merchantId);
  const gateway = billingGateway(ctx, 'savedMethods', method.gateway);
  const gatewayCustomerId = await customerOf(host, method);
  await gateway.savedMethods.setDefault({ gatewayCustomerId, token: method.token }, { idempotencyKey: freshKey('default_method'), now: ctx.clock.now() });
  const updated = await UnitOfWork.run(ctx, async (unit) => {
    const before = await unit.tx.getSavedPaymentMethod(method.id, merchantId);
    const after = await unit.tx.setDefaultSavedPaymentMethod(merchantId, method.id, unit.now);
    if (!after) throw notFound('payment method', id);
    if (!before?.isDefault) await unit.emitEvent('payment_method.default_changed', merchantId, after);
    return after;
  });
  await alignGatewayDefault(host, merchantId, method.userId, gateway, gatewayCustomerId);
  return updated;
}

/** `tender.paymentMethods.remove`. */
export async function removeMethod(host: BillingHost, id: string, options: BillingCallOptions = {}): Promise<SavedPaymentMethod> {
  const { ctx } = host;
  const merchantId = merchantOf(host, options);
  const method = await ctx.store.getSavedPaymentMethod(requiredId(id, 'id'), merchantId);
  if (!method) throw notFound('payment method', id);
  if (method.deletedAt !== null) return method;
  const gateway = billingGateway(ctx, 'savedMethods', method.gateway);
  // Detached at the gateway first: a method shown as removed must not be chargeable any more.
  await gateway.savedMethods.remove({ gatewayCustomerId: await customerOf(host, method), token: method.token }, { idempotencyKey: derivedKey('remove_method', merchantId, method.id), now: ctx.clock.now() });
  return UnitOfWork.run(ctx, async (unit) => {
    const before = await unit.tx.getSavedPaymentMethod(method.id, merchantId);
    const removed = await unit.tx.removeSavedPaymentMethod(merchantId, method.id, unit.now);
    if (!removed) throw notFound('payment method', id);
    if (before && before.deletedAt === null) await unit.emitEvent('payment_method.removed', merchantId, removed);
    return removed;
  });
}
