import { describe, expect, it } from 'vitest';
import {
  OrderEventError,
  TenderError,
  createTender,
  handleOrderConfirmed,
  orderConfirmedIdempotencyKey,
  parseOrderConfirmed,
  type ReceivedMessage,
  type Store,
} from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';

const encoder = new TextEncoder();

function setup(options: { store?: Store } = {}) {
  const gateway = createTestGateway();
  const store = options.store ?? new MemoryStore();
  const tender = createTender({ gateways: [gateway], store });
  return { gateway, store, tender };
}

const event = (overrides: Record<string, unknown> = {}) => ({
  eventId: 'evt-0001',
  orderId: 'ORD-1001',
  userId: 'user-42',
  total: 199.9,
  currency: 'USD',
  timestamp: '2026-12-01T10:00:00.123456789Z',
  ...overrides,
});

const delivery = (body: unknown, deliveryCount = 1): ReceivedMessage => ({
  id: 'evt-0001',
  subject: 'order.events.order.confirmed',
  body: typeof body === 'string' ? encoder.encode(body) : encoder.encode(JSON.stringify(body)),
  headers: {},
  deliveryCount,
});

const options = { merchantId: 'shop' };

describe('order.confirmed: parsing', () => {
  it('reads the camelCase order.confirmed shape, keeping the total as the decimal the producer wrote', () => {
    expect(parseOrderConfirmed(encoder.encode(JSON.stringify(event())))).toEqual({
      eventId: 'evt-0001',
      orderId: 'ORD-1001',
      userId: 'user-42',
      total: '199.9',
      currency: 'USD',
      timestamp: '2026-12-01T10:00:00.123456789Z',
    });
    // A Go float64 marshalled as JSON: the shortest text, read back exactly.
    expect(parseOrderConfirmed(encoder.encode('{"eventId":"e","orderId":"o","userId":"u","total":0.1,"currency":"EUR","timestamp":"2026-12-01T10:00:00+08:00"}')).total).toBe('0.1');
    expect(parseOrderConfirmed(encoder.encode(JSON.stringify(event({ total: 1500, currency: 'JPY' })))).total).toBe('1500');
    expect(parseOrderConfirmed(encoder.encode(JSON.stringify(event({ total: 1.234, currency: 'KWD' })))).total).toBe('1.234');
    expect(parseOrderConfirmed(encoder.encode(JSON.stringify(event({ total: 9999999999999.99 })))).total).toBe('9999999999999.99');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', '{"eventId":', /not UTF-8 JSON/],
    ['an array', '[]', /not a JSON object/],
    ['missing eventId', JSON.stringify({ ...event(), eventId: undefined }), /eventId/],
    ['empty orderId', JSON.stringify(event({ orderId: '  ' })), /orderId/],
    ['orderId over 64', JSON.stringify(event({ orderId: 'x'.repeat(65) })), /orderId/],
    ['missing userId', JSON.stringify({ ...event(), userId: undefined }), /userId/],
    ['total as a string', JSON.stringify(event({ total: '10.00' })), /total/],
    ['negative total', JSON.stringify(event({ total: -5 })), /total/],
    ['zero total', JSON.stringify(event({ total: 0 })), /total/],
    ['too many decimals', JSON.stringify(event({ total: 10.005 })), /total: USD allows 2/],
    ['decimals on a zero-decimal currency', JSON.stringify(event({ total: 100.5, currency: 'JPY' })), /JPY allows 0/],
    ['a float artefact', JSON.stringify(event({ total: 0.1 + 0.2 })), /total/],
    ['beyond 15 significant digits', '{"eventId":"e","orderId":"o","userId":"u","total":1234567890123456.7,"currency":"USD","timestamp":"2026-12-01T10:00:00Z"}', /total/],
    ['an exponent', '{"eventId":"e","orderId":"o","userId":"u","total":1e21,"currency":"USD","timestamp":"2026-12-01T10:00:00Z"}', /total/],
    ['unknown currency', JSON.stringify(event({ currency: 'ABC' })), /currency/],
    ['lower-case currency', JSON.stringify(event({ currency: 'usd' })), /currency/],
    ['bad timestamp', JSON.stringify(event({ timestamp: 'yesterday' })), /timestamp/],
    ['control characters', JSON.stringify(event({ orderId: 'ORD\n1' })), /orderId/],
  ];
  for (const [name, body, reason] of bad) {
    it(`refuses ${name}, naming the field but never its value`, () => {
      let error: unknown;
      try {
        parseOrderConfirmed(encoder.encode(body));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OrderEventError);
      expect((error as OrderEventError).reason).toMatch(reason);
      for (const value of ['user-42', 'ORD-1001', 'evt-0001', '10.005', '-5']) expect((error as OrderEventError).reason).not.toContain(value);
    });
  }

  it('refuses a body that is not UTF-8, or too large, unread', () => {
    expect(() => parseOrderConfirmed(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(/not UTF-8 JSON/);
    expect(() => parseOrderConfirmed(new Uint8Array(64 * 1024 + 1))).toThrow(/larger than/);
  });

  it('derives an idempotency key from the event id, hashed when it would not fit the engine\'s keys', () => {
    expect(orderConfirmedIdempotencyKey('evt-1')).toBe('order.confirmed:evt-1');
    const long = orderConfirmedIdempotencyKey('e'.repeat(400));
    expect(long).toMatch(/^order\.confirmed:sha256:[0-9a-f]{64}$/);
    expect(orderConfirmedIdempotencyKey('e'.repeat(400))).toBe(long);
    expect(orderConfirmedIdempotencyKey('ünïcode id')).toMatch(/^order\.confirmed:sha256:/);
    expect(orderConfirmedIdempotencyKey('a b')).not.toBe(orderConfirmedIdempotencyKey('a  b'));
  });
});

describe('order.confirmed: handling', () => {
  it('creates one authorised payment (manual capture) for the order, with the event and customer references', async () => {
    const { tender } = setup();
    const outcome = await handleOrderConfirmed(tender, delivery(event()), options);
    expect(outcome).toMatchObject({ action: 'ack', replayed: false });
    const payment = outcome.payment!;
    expect(payment).toMatchObject({ merchantId: 'shop', orderId: 'ORD-1001', amount: '199.90', currency: 'USD', captureMethod: 'manual', status: 'AUTHORIZED' });
    expect(payment.metadata).toEqual({ order_event_id: 'evt-0001', customer_id: 'user-42' });
  });

  it('a redelivered event creates nothing new: the same payment is answered', async () => {
    const { tender, gateway } = setup();
    const first = await handleOrderConfirmed(tender, delivery(event()), options);
    const again = await handleOrderConfirmed(tender, delivery(event(), 2), options);
    expect(again).toMatchObject({ action: 'ack', replayed: true });
    expect(again.payment!.id).toBe(first.payment!.id);
    expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(1);
    expect(gateway.calls.createPayment).toBe(1);
  });

  it('the idempotency key alone replays a payment the order lookup does not find (another order id page)', async () => {
    const { tender } = setup();
    const first = await handleOrderConfirmed(tender, delivery(event()), options);
    // As if the lookup missed it: the create is keyed, so the engine replays.
    const replay = await tender.payments.create(
      { amount: '199.9', currency: 'USD', orderId: 'ORD-1001', captureMethod: 'manual', metadata: { order_event_id: 'evt-0001', customer_id: 'user-42' } },
      { merchantId: 'shop', idempotencyKey: orderConfirmedIdempotencyKey('evt-0001') },
    );
    expect(replay.id).toBe(first.payment!.id);
  });

  it('concurrent deliveries of one event make one payment; the losers ack the same payment or retry', async () => {
    const gateway = createTestGateway({ latencyMs: 30 });
    const tender = createTender({ gateways: [gateway], store: new MemoryStore() });
    const outcomes = await Promise.all([1, 2, 3, 4].map((n) => handleOrderConfirmed(tender, delivery(event(), n), options)));
    for (const o of outcomes) expect(['ack', 'retry']).toContain(o.action);
    const payments = (await tender.payments.list({ merchantId: 'shop' })).data;
    expect(payments).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.action === 'ack')) expect(o.payment!.id).toBe(payments[0]!.id);
    expect(gateway.calls.createPayment).toBe(1);
  });

  it('malformed events are dead-lettered and create nothing', async () => {
    const { tender } = setup();
    for (const body of ['{oops', JSON.stringify({ ...event(), orderId: undefined }), JSON.stringify(event({ currency: 'XXX1' })), JSON.stringify(event({ total: -1 })), JSON.stringify(event({ total: 1.001 }))]) {
      const outcome = await handleOrderConfirmed(tender, delivery(body), options);
      expect(outcome.action).toBe('dead_letter');
      expect((outcome as { reason: string }).reason).not.toContain('user-42');
    }
    expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(0);
  });

  it('requests the engine refuses for good are dead-lettered with the error code: too large, the same event id with another body', async () => {
    const { tender } = setup();
    const tooLarge = await handleOrderConfirmed(tender, delivery(event({ total: 999999999999999 })), options);
    expect(tooLarge).toMatchObject({ action: 'dead_letter' });
    expect((tooLarge as { reason: string }).reason).toMatch(/amount_too_large/);

    await handleOrderConfirmed(tender, delivery(event({ eventId: 'evt-x', orderId: 'ORD-A' })), options);
    const reused = await handleOrderConfirmed(tender, delivery(event({ eventId: 'evt-x', orderId: 'ORD-B' })), options);
    expect(reused).toMatchObject({ action: 'dead_letter' });
    expect((reused as { reason: string }).reason).toMatch(/idempotency_key_reused/);
  });

  it('a gateway that is unavailable (nothing sent) is a retry, and the redelivery creates the payment', async () => {
    const { tender, gateway } = setup();
    gateway.setCircuitOpen(true);
    const first = await handleOrderConfirmed(tender, delivery(event()), options);
    expect(first).toMatchObject({ action: 'retry' });
    expect((first as { delayMs?: number }).delayMs).toBeGreaterThan(0);
    expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(0);
    gateway.setCircuitOpen(false);
    const second = await handleOrderConfirmed(tender, delivery(event(), 2), options);
    expect(second).toMatchObject({ action: 'ack', replayed: false });
    expect((await tender.payments.list({ merchantId: 'shop' })).data).toHaveLength(1);
  });

  it('storage that is down is a retry, and nothing is half-made', async () => {
    const store = new MemoryStore();
    const { tender } = setup({ store });
    const failing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'listPayments') return () => Promise.reject(new TenderError({ type: 'storage_error', code: 'database_unavailable', message: 'down', retryable: true }));
        return Reflect.get(target, prop, receiver);
      },
    });
    const down = createTender({ gateways: [createTestGateway()], store: failing });
    expect(await handleOrderConfirmed(down, delivery(event()), options)).toMatchObject({ action: 'retry', reason: 'storage_error/database_unavailable' });
    expect(await handleOrderConfirmed(tender, delivery(event()), options)).toMatchObject({ action: 'ack' });
  });

  it('a declined payment is still the event\'s result: acked, and a redelivery does not try again', async () => {
    const { tender, gateway } = setup();
    gateway.inject('decline');
    const first = await handleOrderConfirmed(tender, delivery(event()), options);
    expect(first).toMatchObject({ action: 'ack' });
    expect(first.payment!.status).toBe('FAILED');
    const again = await handleOrderConfirmed(tender, delivery(event(), 2), options);
    expect(again.payment!.id).toBe(first.payment!.id);
    expect(gateway.calls.createPayment).toBe(1);
  });

  it('passes the configured method, gateway, capture method and metadata', async () => {
    const { tender } = setup();
    const outcome = await handleOrderConfirmed(tender, delivery(event()), { merchantId: 'shop', paymentMethod: 'card', gateway: 'test', captureMethod: 'automatic', metadata: { source: 'order-service' } });
    expect(outcome.payment).toMatchObject({ paymentMethod: 'card', gateway: 'test', status: 'CAPTURED', metadata: { source: 'order-service', order_event_id: 'evt-0001', customer_id: 'user-42' } });
  });
});
