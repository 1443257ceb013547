/**
 * The sandbox's billing objects obey `retention.objects` like its payments: past the limit the oldest
 * customer (or subscription, invoice...) is forgotten and answers 404 `resource_missing`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBillingHarness, type BillingHarness } from './billing-harness';

let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness({ retention: { objects: 2 } });
});

afterAll(async () => {
  await h?.close();
});

it('forgets the oldest customers beyond the limit', async () => {
  const [first, second, third] = [await h.stripe.customers.create({}), await h.stripe.customers.create({}), await h.stripe.customers.create({})];
  await expect(h.stripe.customers.retrieve(first.id)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  expect((await h.stripe.customers.retrieve(second.id)).id).toBe(second.id);
  expect((await h.stripe.customers.list()).data.map((c) => c.id)).toEqual([third.id, second.id]);
});
