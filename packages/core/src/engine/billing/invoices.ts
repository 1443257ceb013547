/**
 * `tender.invoices`: the mirrored invoices of subscriptions (reads only; the gateway's billing
 * creates, finalizes and charges them, and `mirror.ts` keeps them).
 *
 * @module
 */
import type { BillingTransition, Invoice } from '../../billing';
import { notFound } from '../../errors';
import type { Page } from '../payments/reads';
import { merchantOf, pageOf, type BillingHost } from './host';
import { optionalId, pageLimit, requiredId } from './inputs';
import type { BillingCallOptions, BillingListOptions } from './types';

async function ownInvoice(host: BillingHost, id: string, options: BillingCallOptions | undefined): Promise<Invoice> {
  const invoice = await host.ctx.store.getInvoice(requiredId(id, 'id'), merchantOf(host, options));
  if (!invoice) throw notFound('invoice', id);
  return invoice;
}

/** `tender.invoices.get`. */
export function getInvoice(host: BillingHost, id: string, options: BillingCallOptions = {}): Promise<Invoice> {
  return ownInvoice(host, id, options);
}

/** `tender.invoices.list`: newest first; `subscriptionId` must be the merchant's subscription (404 otherwise). */
export async function listInvoices(host: BillingHost, options: BillingListOptions & { subscriptionId?: string } = {}): Promise<Page<Invoice>> {
  const limit = pageLimit(options.limit);
  const merchantId = merchantOf(host, options);
  const userId = optionalId(options.userId, 'user_id');
  const startingAfter = optionalId(options.startingAfter, 'starting_after');
  const subscriptionId = optionalId(options.subscriptionId, 'subscription_id');
  if (subscriptionId !== null && !(await host.ctx.store.getSubscription(subscriptionId, merchantId))) throw notFound('subscription', subscriptionId);
  const rows = await host.ctx.store.listInvoices({
    merchantId,
    limit: limit + 1,
    ...(userId !== null ? { userId } : {}),
    ...(startingAfter !== null ? { startingAfter } : {}),
    ...(subscriptionId !== null ? { subscriptionId } : {}),
  });
  return pageOf(rows, limit);
}

/** `tender.invoices.transitions`. */
export async function invoiceTransitions(host: BillingHost, id: string, options: BillingCallOptions = {}): Promise<BillingTransition[]> {
  const invoice = await ownInvoice(host, id, options);
  return host.ctx.store.listBillingTransitions(invoice.id);
}
