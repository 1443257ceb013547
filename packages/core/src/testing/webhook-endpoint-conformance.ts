/**
 * `runWebhookEndpointStoreConformance`: the vitest suite for a store that also implements the merchant
 * `WebhookEndpointStore` spec (endpoints per merchant, and which endpoints acknowledged each outbox
 * event). Run it beside `runStoreConformance` with the same factory.
 *
 * ```ts
 * import { runStoreConformance, runWebhookEndpointStoreConformance } from '@tender/core/testing';
 * runWebhookEndpointStoreConformance('my store', async () => ({ store: await openStore(), teardown: () => closeStore() }));
 * ```
 *
 * @module
 */
import { newId } from '../ids';
import type { Store } from '../spec/store/v1/index';
import type { WebhookEndpointStore } from '../spec/webhook-endpoints/v1/index';
import { at, event, expectTenderError } from './store-conformance';
import { vitestApi } from './vitest-api';

/** What the factory passed to {@link runWebhookEndpointStoreConformance} returns. */
export interface WebhookEndpointStoreUnderTest {
  /** Both specs: deliveries are recorded against the store's outbox rows. */
  store: Store & WebhookEndpointStore;
  teardown(): Promise<void>;
}

/** Registers the webhook endpoint store conformance suite under `describe(name)`. */
export function runWebhookEndpointStoreConformance(name: string, makeStore: () => Promise<WebhookEndpointStoreUnderTest>): void {
  const { afterEach, beforeEach, describe, expect, it } = vitestApi();
  describe(`WebhookEndpointStore conformance: ${name}`, () => {
    let subject: WebhookEndpointStoreUnderTest;
    let store: Store & WebhookEndpointStore;
    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.teardown();
    });

    it('remembers which endpoints acknowledged an event until it is requeued or purged', async () => {
      const endpoint = (id: string) => ({ id, merchantId: 'm_1', url: 'https://merchant.example/hooks', events: ['*'], secret: 'whsec_x', description: null, createdAt: at() });
      const [one, two] = [newId('we'), newId('we')];
      await store.createWebhookEndpoint(endpoint(one));
      await store.createWebhookEndpoint(endpoint(two));
      await store.transaction((tx) => tx.enqueueOutbox(event({ id: 'evt_acks' })));
      expect(await store.listEventDeliveries('evt_acks')).toEqual([]);
      await store.recordEventDelivery('evt_acks', one, at(1));
      await store.recordEventDelivery('evt_acks', one, at(2));
      expect(await store.listEventDeliveries('evt_acks')).toEqual([one]);
      // Unknown events (purged meanwhile) record nothing and do not fail.
      await store.recordEventDelivery('evt_unknown', one, at(1));
      expect(await store.listEventDeliveries('evt_unknown')).toEqual([]);
      await store.recordEventDelivery('evt_acks', two, at(3));
      expect((await store.listEventDeliveries('evt_acks')).sort()).toEqual([one, two].sort());
      expect(await store.requeueOutbox('evt_acks', at(4))).toBe(true);
      expect(await store.listEventDeliveries('evt_acks')).toEqual([]);
      expect(await store.requeueOutbox('evt_unknown', at(4))).toBe(false);
      await store.recordEventDelivery('evt_acks', one, at(5));
      await store.claimOutbox({ limit: 10, now: at(5), leaseUntil: at(6) });
      await store.completeOutbox('evt_acks', { status: 'delivered', at: at(5) });
      await store.purge({ now: at(0), deliveredBefore: at(100) });
      expect(await store.getOutboxEvent('evt_acks')).toBeNull();
      expect(await store.listEventDeliveries('evt_acks')).toEqual([]);
    });

    it('keeps merchant webhook endpoints per merchant', async () => {
      const endpoint = { id: newId('we'), merchantId: 'm_1', url: 'https://merchant.example/hooks', events: ['payment.*'], secret: 'whsec_x', description: null, createdAt: at() };
      await store.createWebhookEndpoint(endpoint);
      await store.createWebhookEndpoint({ ...endpoint, id: newId('we'), merchantId: 'm_2', createdAt: at(1) });
      await expectTenderError(store.createWebhookEndpoint(endpoint), 'state_error');
      expect(await store.listWebhookEndpoints('m_1')).toEqual([endpoint]);
      expect(await store.getWebhookEndpoint('m_1', endpoint.id)).toEqual(endpoint);
      expect(await store.getWebhookEndpoint('m_2', endpoint.id)).toBeNull();
      expect(await store.deleteWebhookEndpoint('m_2', endpoint.id)).toBe(false);
      expect(await store.deleteWebhookEndpoint('m_1', endpoint.id)).toBe(true);
      expect(await store.listWebhookEndpoints('m_1')).toEqual([]);
    });
  });
}
