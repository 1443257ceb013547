import { describe, expect, it } from 'vitest';
import { createTender, type GatewayCreatePaymentInput } from '@tender/core';
import { FakeClock, MemoryStore, createTestGateway, sampleCustomer, sampleSavedMethod } from '@tender/core/testing';

/** A test gateway that declares saved methods, and what it was asked to create. */
function setup() {
  const clock = new FakeClock();
  const gateway = createTestGateway({ id: 'test', capabilities: { customers: true, savedMethods: true } });
  const plain = createTestGateway({ id: 'plain' });
  const sent: GatewayCreatePaymentInput[] = [];
  const createPayment = gateway.createPayment.bind(gateway);
  gateway.createPayment = (input, ctx) => {
    sent.push(input);
    return createPayment(input, ctx);
  };
  const store = new MemoryStore();
  const tender = createTender({ gateways: [gateway, plain], store, clock, defaultMerchantId: 'm_1' });
  return { clock, gateway, plain, store, tender, sent };
}

/** Saves a method for `user_1` of `m_1` on the `test` gateway, as `tender.paymentMethods.save` stores it. */
async function saveMethod(store: MemoryStore, overrides: Parameters<typeof sampleSavedMethod>[0] = {}) {
  const method = sampleSavedMethod(overrides);
  const customer = sampleCustomer({ merchantId: method.merchantId, userId: method.userId, gateway: method.gateway });
  await store.transaction(async (tx) => {
    await tx.insertGatewayCustomer(customer);
    await tx.insertSavedPaymentMethod(method);
  });
  return { method, customer: (await store.getGatewayCustomer(method.merchantId, method.userId, method.gateway))! };
}

const body = { amount: '12.00', currency: 'USD', orderId: 'ORD-U1' };

describe('engine: payments of a user', () => {
  it('stores userId and lists a user’s payments', async () => {
    const { tender } = setup();
    const a = await tender.payments.create({ ...body, paymentMethod: 'card', userId: 'user_1' });
    await tender.payments.create({ ...body, orderId: 'ORD-U2', paymentMethod: 'card', userId: 'user_2' });
    await tender.payments.create({ ...body, orderId: 'ORD-U3', paymentMethod: 'card' });
    expect(a).toMatchObject({ userId: 'user_1', status: 'CAPTURED' });
    expect((await tender.payments.get(a.id)).userId).toBe('user_1');
    const page = await tender.payments.list({ userId: 'user_1' });
    expect(page.data.map((p) => p.id)).toEqual([a.id]);
    expect((await tender.payments.list({ userId: 'user_1', merchantId: 'm_other' })).data).toEqual([]);
    expect((await tender.payments.list()).data).toHaveLength(3);
  });

  it('refuses a malformed userId with a 400 and stores nothing', async () => {
    const { tender, store } = setup();
    for (const userId of ['', '   ', 'x'.repeat(256), 'a\u0000b', 'line\nbreak', 42]) {
      await expect(tender.payments.create({ ...body, paymentMethod: 'card', userId: userId as never })).rejects.toMatchObject({ status: 400, code: 'invalid_user_id', param: 'user_id' });
    }
    expect(await tender.payments.create({ ...body, paymentMethod: 'card', userId: 'u'.repeat(255) })).toMatchObject({ userId: 'u'.repeat(255) });
    await expect(tender.payments.list({ userId: '' })).rejects.toMatchObject({ status: 400, code: 'invalid_user_id' });
    expect((await store.listPayments({ merchantId: 'm_1', limit: 10 })).length).toBe(1);
  });

  it('a retry with the same key but another userId is a 422', async () => {
    const { tender } = setup();
    await tender.payments.create({ ...body, paymentMethod: 'card', userId: 'user_1' }, { idempotencyKey: 'uk-1' });
    await expect(tender.payments.create({ ...body, paymentMethod: 'card', userId: 'user_2' }, { idempotencyKey: 'uk-1' })).rejects.toMatchObject({ status: 422, code: 'idempotency_key_reused' });
  });
});

describe('engine: charging a saved payment method', () => {
  it('charges a saved method by its id: its token, gateway and customer, off session by default', async () => {
    const { tender, store, sent } = setup();
    const { method, customer } = await saveMethod(store);
    const p = await tender.payments.create({ ...body, paymentMethod: method.id });
    expect(p).toMatchObject({ status: 'CAPTURED', userId: 'user_1', savedPaymentMethodId: method.id, gateway: 'test', paymentMethod: method.token });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ paymentMethod: method.token, savedMethod: { gatewayCustomerId: customer.gatewayCustomerId, offSession: true } });
    const onSession = await tender.payments.create({ ...body, orderId: 'ORD-U2', paymentMethod: method.id, userId: 'user_1', offSession: false });
    expect(onSession.savedPaymentMethodId).toBe(method.id);
    expect(sent[1]!.savedMethod).toEqual({ gatewayCustomerId: customer.gatewayCustomerId, offSession: false });
    expect((await tender.payments.list({ userId: 'user_1' })).data).toHaveLength(2);
  });

  it('charges a saved method named by its token together with its user', async () => {
    const { tender, store, sent } = setup();
    const { method, customer } = await saveMethod(store);
    const p = await tender.payments.create({ ...body, paymentMethod: method.token, userId: 'user_1' });
    expect(p).toMatchObject({ savedPaymentMethodId: method.id, userId: 'user_1', gateway: 'test' });
    expect(sent[0]!.savedMethod).toEqual({ gatewayCustomerId: customer.gatewayCustomerId, offSession: true });
    // Without the user, the token is a plain one.
    const plain = await tender.payments.create({ ...body, orderId: 'ORD-U2', paymentMethod: method.token, gateway: 'test' });
    expect(plain.savedPaymentMethodId).toBeNull();
    expect(sent[1]!.savedMethod).toBeUndefined();
  });

  it('removed, unknown and another merchant’s methods are a 404 naming payment_method; nothing is stored', async () => {
    const { tender, store, sent } = setup();
    const { method: removed } = await saveMethod(store);
    await store.transaction((tx) => tx.removeSavedPaymentMethod('m_1', removed.id, new Date().toISOString()));
    const { method: theirs } = await saveMethod(store, { merchantId: 'm_2' });
    for (const id of [removed.id, theirs.id, 'spm_unknown']) {
      await expect(tender.payments.create({ ...body, paymentMethod: id })).rejects.toMatchObject({ status: 404, type: 'not_found_error', param: 'payment_method' });
    }
    expect(sent).toHaveLength(0);
    expect((await store.listPayments({ merchantId: 'm_1', limit: 10 })).length).toBe(0);
  });

  it('refuses another user’s method, another gateway, and a gateway without saved methods (400s), storing nothing', async () => {
    const { tender, store, sent } = setup();
    const { method } = await saveMethod(store);
    await expect(tender.payments.create({ ...body, paymentMethod: method.id, userId: 'user_2' })).rejects.toMatchObject({ status: 400, code: 'saved_method_user_mismatch' });
    await expect(tender.payments.create({ ...body, paymentMethod: method.token, userId: 'user_2' })).rejects.toMatchObject({ status: 400, code: 'saved_method_user_mismatch' });
    await expect(tender.payments.create({ ...body, paymentMethod: method.id, gateway: 'plain' })).rejects.toMatchObject({ status: 400, code: 'saved_method_gateway_mismatch', param: 'gateway' });
    const { method: onPlain } = await saveMethod(store, { gateway: 'plain' });
    await expect(tender.payments.create({ ...body, paymentMethod: onPlain.id })).rejects.toMatchObject({ status: 400, code: 'saved_methods_not_supported' });
    expect(sent).toHaveLength(0);
    expect((await store.listPayments({ merchantId: 'm_1', limit: 10 })).length).toBe(0);
  });

  it('an unconfirmed payment charges the saved method at authorize, with the offSession given at create', async () => {
    const { tender, store, sent } = setup();
    const { method, customer } = await saveMethod(store);
    const p = await tender.payments.create({ ...body, paymentMethod: method.id, confirm: false, offSession: false });
    expect(p).toMatchObject({ status: 'PENDING', savedPaymentMethodId: method.id, userId: 'user_1' });
    expect(sent).toHaveLength(0);
    expect(await tender.payments.authorize(p.id)).toMatchObject({ status: 'AUTHORIZED' });
    expect(sent[0]).toMatchObject({ paymentId: p.id, paymentMethod: method.token, captureMethod: 'manual', savedMethod: { gatewayCustomerId: customer.gatewayCustomerId, offSession: false } });
  });

  it('a method removed between create and authorize is a 404 at authorize; the payment stays unconfirmed', async () => {
    const { tender, store, sent } = setup();
    const { method } = await saveMethod(store);
    const p = await tender.payments.create({ ...body, paymentMethod: method.id, confirm: false });
    await store.transaction((tx) => tx.removeSavedPaymentMethod('m_1', method.id, new Date().toISOString()));
    await expect(tender.payments.authorize(p.id)).rejects.toMatchObject({ status: 404, param: 'payment_method' });
    expect(sent).toHaveLength(0);
    expect((await tender.payments.get(p.id)).version).toBe(p.version);
    expect((await tender.payments.cancel(p.id)).status).toBe('CANCELLED');
  });
});
