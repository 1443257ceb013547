/**
 * `expand[]` (https://docs.stripe.com/api/expanding_objects) for every sandbox response: replaces ids
 * with the objects they name, along dotted paths (`latest_charge`, `latest_invoice`, `data.customer`,
 * `latest_invoice.payments.data.payment.payment_intent`), up to Stripe's four levels.
 *
 * @module
 */
import type { SandboxAccount } from '../api';
import { invalidRequest, type BillingState } from './state';

type Json = Record<string, unknown>;

/** The object behind an id, by its prefix. */
function lookup(state: BillingState, account: SandboxAccount, id: string): unknown {
  const prefix = id.slice(0, id.indexOf('_'));
  switch (prefix) {
    case 'cus':
      return state.customers.get(id);
    case 'pm':
      return state.paymentMethods.get(id);
    case 'seti':
      return state.setupIntents.get(id);
    case 'prod':
      return state.products.get(id);
    case 'price':
      return state.prices.get(id);
    case 'sub':
      return state.subscriptions.get(id);
    case 'in':
      return state.invoices.get(id);
    case 'clock':
      return state.testClocks.get(id);
    case 'pi':
      return account.paymentIntents.get(id);
    case 'ch':
      return account.charges.get(id);
    case 're':
      return account.refunds.get(id);
    default:
      return undefined;
  }
}

/** A copy of `body` with the `expand` paths filled in; `body` itself is not changed. */
export function expand(state: BillingState, account: SandboxAccount, body: unknown, paths: unknown): unknown {
  if (paths === undefined) return body;
  const list = Array.isArray(paths) ? paths : [paths];
  if (list.some((p) => typeof p !== 'string')) throw invalidRequest('Invalid array', 'expand');
  if (list.length === 0) return body;
  const copy = structuredClone(body) as Json;
  for (const path of list as string[]) {
    const parts = path.split('.');
    if (parts.filter((p) => p !== 'data').length > 4) throw invalidRequest(`You cannot expand more than 4 levels of a property. Property: ${path}`, 'expand');
    walk(copy, parts, path);
  }
  return copy;

  function walk(node: unknown, parts: string[], path: string): void {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, parts, path);
      return;
    }
    const [head, ...rest] = parts as [string, ...string[]];
    const obj = node as Json;
    if (!(head in obj)) throw invalidRequest(`This property cannot be expanded (${path}).`, 'expand');
    let value = obj[head];
    if (typeof value === 'string') {
      const found = lookup(state, account, value);
      if (found === undefined) throw invalidRequest(`This property cannot be expanded (${path}).`, 'expand');
      value = structuredClone(found);
      obj[head] = value;
    }
    if (rest.length > 0) walk(value, rest, path);
  }
}
