/**
 * Stripe's v1 list pagination (https://docs.stripe.com/api/pagination): `limit` 1–100 (default 10),
 * `starting_after` / `ending_before` cursors, `has_more`.
 *
 * @module
 */
import type { StripeList } from '../stripe-types';

type Params = Record<string, unknown>;

/** One page of `items` (newest first, as Stripe lists) for the request's cursor parameters. */
export function list<T extends { id: string }>(items: T[], params: Params, url: string): StripeList<T> {
  const limit = Math.min(100, Math.max(1, Number(params.limit ?? 10) || 10));
  if (typeof params.ending_before === 'string') {
    const i = items.findIndex((x) => x.id === params.ending_before);
    const end = i < 0 ? 0 : i;
    const start = Math.max(0, end - limit);
    return { object: 'list', data: items.slice(start, end), has_more: start > 0, url };
  }
  let start = 0;
  if (typeof params.starting_after === 'string') {
    const i = items.findIndex((x) => x.id === params.starting_after);
    start = i < 0 ? items.length : i + 1;
  }
  const page = items.slice(start, start + limit);
  return { object: 'list', data: page, has_more: start + limit < items.length, url };
}
