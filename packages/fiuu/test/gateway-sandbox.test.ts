import { afterEach, describe, expect, it } from 'vitest';
import { Money, TenderError } from '@tender/core';
import type { GatewayCreatePaymentInput, HttpTransport } from '@tender/core';
import type { FiuuHostedPayment } from '@tender/fiuu';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { MERCHANT, sandboxAndGateway } from './helpers';

const ctx = (key = 'k') => ({ idempotencyKey: key, now: new Date() });
let seq = 0;
function input(extra: Partial<GatewayCreatePaymentInput> = {}): GatewayCreatePaymentInput {
  seq++;
  return {
    paymentId: `pay_TEST${String(seq).padStart(4, '0')}`,
    merchantId: 'default',
    orderId: `ORD-${Date.now()}-${seq}`,
    amount: Money.of('100.50', 'MYR'),
    captureMethod: 'automatic',
    paymentMethod: 'FPX',
    description: 'Test order',
    customer: { name: 'Siti Aminah', email: 'siti@example.com', phone: '+60123456789' },
    returnUrl: 'https://shop.example/return',
    notifyUrl: null,
    metadata: {},
    ...extra,
  };
}
const hostedOf = (r: { gatewayData?: Record<string, unknown> }) => r.gatewayData!.hostedPayment as FiuuHostedPayment;
const retrieveInput = (created: { gatewayData?: Record<string, unknown> }, amount = '100.50', gatewayReference: string | null = null) => ({
  paymentId: 'pay_x',
  orderId: null,
  gatewayReference,
  amount: Money.of(amount, 'MYR'),
  gatewayData: created.gatewayData!,
});

let env: Awaited<ReturnType<typeof sandboxAndGateway>> | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('create payment', () => {
  it('answers REQUIRES_ACTION with seamless params and a hosted form, and no verify key', async () => {
    env = await sandboxAndGateway();
    const created = await env.gateway.createPayment(input({ paymentMethod: 'FPX_MB2U' }), ctx());
    expect(created.status).toBe('REQUIRES_ACTION');
    expect(created.nextAction).toMatchObject({ type: 'seamless', gateway: 'fiuu' });
    const params = (created.nextAction as { params: Record<string, string> }).params;
    expect(params).toMatchObject({ mpsmerchantid: MERCHANT.merchantId, mpsamount: '100.50', mpschannel: 'fpx_mb2u', mpscurrency: 'MYR', mpscountry: 'MY', mpsbill_name: 'Siti Aminah' });
    expect(params.mpsvcode).toMatch(/^[0-9a-f]{32}$/);
    const hosted = hostedOf(created);
    expect(hosted.url).toBe(`${env.sandbox.paymentHost}/RMS/pay/${MERCHANT.merchantId}/`);
    expect(hosted.fields).toMatchObject({ amount: '100.50', channel: 'FPX_MB2U', currency: 'MYR', vcode: params.mpsvcode });
    expect(JSON.stringify(created)).not.toContain(MERCHANT.verifyKey);
    expect(JSON.stringify(created)).not.toContain(MERCHANT.secretKey);
  });

  it('picks the per-currency variant and rejects a currency the channel does not take', async () => {
    env = await sandboxAndGateway();
    const sg = await env.gateway.createPayment(input({ paymentMethod: 'GRABPAY', amount: Money.of('20.00', 'SGD') }), ctx());
    expect(hostedOf(sg).fields.channel).toBe('GrabPay_SG');
    await expect(env.gateway.createPayment(input({ paymentMethod: 'FPX', amount: Money.of('20.00', 'SGD') }), ctx())).rejects.toMatchObject({ code: 'currency_not_supported', param: 'currency' });
    await expect(env.gateway.createPayment(input({ paymentMethod: 'NOPE' }), ctx())).rejects.toMatchObject({ code: 'payment_method_not_supported' });
    await expect(env.gateway.createPayment(input({ paymentMethod: 'ATOME', amount: Money.of('5.00', 'MYR') }), ctx())).rejects.toMatchObject({ code: 'amount_too_small' });
    await expect(env.gateway.createPayment(input({ captureMethod: 'manual' }), ctx())).rejects.toMatchObject({ code: 'capture_method_not_supported' });
  });

  it('formats VND with two decimals and no minor-unit conversion', async () => {
    env = await sandboxAndGateway();
    const vn = await env.gateway.createPayment(input({ paymentMethod: 'VTCPAY', amount: Money.of('25000', 'VND') }), ctx());
    expect(hostedOf(vn).fields.amount).toBe('25000.00');
  });
});

describe('sandbox payment page rejects what Fiuu rejects', () => {
  it('a wrong vcode gives P03; each signed field changed gives P03', async () => {
    env = await sandboxAndGateway();
    const hosted = hostedOf(await env.gateway.createPayment(input(), ctx()));
    for (const [field, value] of [['amount', '100.51'], ['orderid', 'ORD-OTHER'], ['vcode', hosted.fields.vcode!.toUpperCase()]] as const) {
      await expect(completeHostedPayment({ ...hosted, fields: { ...hosted.fields, [field]: value } }, 'approve')).rejects.toThrow(/P03/);
    }
  });

  it('unknown merchant gives P404; the legacy /MOLPay/ prefix works too', async () => {
    env = await sandboxAndGateway();
    const hosted = hostedOf(await env.gateway.createPayment(input(), ctx()));
    await expect(completeHostedPayment({ ...hosted, url: hosted.url.replace(MERCHANT.merchantId, 'SB_nobody') }, 'approve')).rejects.toThrow(/P404/);
    const legacy = await completeHostedPayment({ ...hosted, url: hosted.url.replace('/RMS/', '/MOLPay/') }, 'approve');
    expect(legacy.tranID).toMatch(/^\d{10,20}$/);
  });

  it('extended vcode: must match the account setting', async () => {
    env = await sandboxAndGateway({ merchant: { extendedVcode: true } });
    const plain = hostedOf(await env.gateway.createPayment(input(), ctx()));
    await expect(completeHostedPayment(plain, 'approve')).rejects.toThrow(/P03/);
    await env.close();
    env = await sandboxAndGateway({ merchant: { extendedVcode: true }, gateway: { extendedVcode: true } });
    const extended = hostedOf(await env.gateway.createPayment(input(), ctx()));
    await expect(completeHostedPayment(extended, 'approve')).resolves.toMatchObject({ tranID: expect.any(String) });
  });
});

describe('requery (retrieve)', () => {
  it('approve: by order id then by tranID, both CAPTURED with the exact amount', async () => {
    env = await sandboxAndGateway();
    const created = await env.gateway.createPayment(input(), ctx());
    const { tranID } = await completeHostedPayment(hostedOf(created), 'approve');
    const byOid = await env.gateway.retrieve(retrieveInput(created), ctx());
    expect(byOid).toMatchObject({ status: 'CAPTURED', gatewayReference: tranID });
    expect(byOid.amountCaptured?.toString()).toBe('100.50');
    const byTid = await env.gateway.retrieve(retrieveInput(created, '100.50', tranID), ctx());
    expect(byTid).toMatchObject({ status: 'CAPTURED', gatewayReference: tranID, gatewayData: { channelMethod: 'FPX' } });
  });

  it('decline: FAILED with a reason; unknown: not_found_error', async () => {
    env = await sandboxAndGateway();
    const created = await env.gateway.createPayment(input(), ctx());
    await completeHostedPayment(hostedOf(created), 'decline');
    const failed = await env.gateway.retrieve(retrieveInput(created), ctx());
    expect(failed.status).toBe('FAILED');
    expect(failed.failure?.code).toBe('01');
    const never = env.gateway.retrieve({ ...retrieveInput(created), gatewayData: { orderid: 'ORD-NEVER' } }, ctx());
    await expect(never).rejects.toMatchObject({ type: 'not_found_error', code: 'gateway_payment_not_found' });
  });

  it('rejects an answer whose VrfKey does not verify (tampered amount or status)', async () => {
    env = await sandboxAndGateway();
    const created = await env.gateway.createPayment(input(), ctx());
    await completeHostedPayment(hostedOf(created), 'decline');
    const real = env.transport;
    for (const tamper of [(b: Record<string, unknown>) => (b.StatCode = '00'), (b: Record<string, unknown>) => (b.Amount = '1.00'), (b: Record<string, unknown>) => (b.VrfKey = String(b.VrfKey).toUpperCase())]) {
      const tampering: HttpTransport = {
        ...real,
        gateway: 'fiuu',
        circuitState: 'closed',
        onEvent: real.onEvent.bind(real),
        close: async () => {},
        async request(r) {
          const res = await real.request(r);
          const body = JSON.parse(res.text()) as Record<string, unknown>;
          tamper(body);
          const bytes = Buffer.from(JSON.stringify(body));
          return { ...res, body: bytes, text: () => bytes.toString(), json: <T>() => JSON.parse(bytes.toString()) as T };
        },
      };
      const { createFiuuGateway } = await import('@tender/fiuu');
      const g = createFiuuGateway({ ...MERCHANT, paymentHost: env.sandbox.paymentHost, apiHost: env.sandbox.apiHost, transport: tampering, requery: { minIntervalMs: 0 } });
      await expect(g.retrieve(retrieveInput(created), ctx())).rejects.toMatchObject({ code: 'invalid_response_signature' });
    }
  });

  it('a wrong verify key is refused by the sandbox (bad skey)', async () => {
    env = await sandboxAndGateway({ gateway: { verifyKey: 'vk_wrong' } });
    const created = await env.gateway.createPayment(input(), ctx());
    await expect(env.gateway.retrieve(retrieveInput(created), ctx())).rejects.toMatchObject({ code: 'requery_failed', details: { fiuuCode: 'Q00004' } });
  });

  it('respects the per-transaction query interval instead of getting blocked', async () => {
    env = await sandboxAndGateway({ sandbox: { requeryMinIntervalMs: 200 }, gateway: { requery: { minIntervalMs: 250 } } });
    const created = await env.gateway.createPayment(input(), ctx());
    await completeHostedPayment(hostedOf(created), 'approve');
    const started = Date.now();
    await env.gateway.retrieve(retrieveInput(created), ctx());
    await env.gateway.retrieve(retrieveInput(created), ctx());
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    await env.close();
    // Without pacing the sandbox blocks the second query, as Fiuu would (Q99).
    env = await sandboxAndGateway({ sandbox: { requeryMinIntervalMs: 10_000 } });
    const other = await env.gateway.createPayment(input(), ctx());
    await completeHostedPayment(hostedOf(other), 'approve');
    await env.gateway.retrieve(retrieveInput(other), ctx());
    await expect(env.gateway.retrieve(retrieveInput(other), ctx())).rejects.toMatchObject({ details: { fiuuCode: 'Q99' }, retryable: true });
  });

  it('a 5xx is retried by the transport; a stall times out', async () => {
    env = await sandboxAndGateway();
    const created = await env.gateway.createPayment(input(), ctx());
    await completeHostedPayment(hostedOf(created), 'approve');
    env.sandbox.faults.api('requery', '5xx');
    await expect(env.gateway.retrieve(retrieveInput(created), ctx())).resolves.toMatchObject({ status: 'CAPTURED' });
    env.sandbox.faults.api('requery', 'stall', 2);
    await expect(env.gateway.retrieve(retrieveInput(created), ctx())).rejects.toSatisfy((e: unknown) => TenderError.isInstance(e));
  });
});

describe('refunds', () => {
  it('partial then full, never beyond; status inquiry; a repeated RefID reports the first refund', async () => {
    env = await sandboxAndGateway();
    const created = await env.gateway.createPayment(input(), ctx());
    const { tranID } = await completeHostedPayment(hostedOf(created), 'approve');
    const base = { paymentId: 'pay_x', gatewayReference: tranID, capturedAmount: Money.of('100.50', 'MYR'), reason: null, gatewayData: {} };
    const first = await env.gateway.refund({ ...base, refundId: 're_1', amount: Money.of('30.00', 'MYR') }, ctx());
    expect(first).toMatchObject({ status: 'PENDING', refundId: 're_1', gatewayReference: expect.any(String) });
    await expect(env.gateway.refund({ ...base, refundId: 're_2', amount: Money.of('80.00', 'MYR') }, ctx())).rejects.toMatchObject({ code: 'refund_amount_exceeds' });
    const rest = await env.gateway.refund({ ...base, refundId: 're_3', amount: Money.of('70.50', 'MYR') }, ctx());
    expect(rest.status).toBe('PENDING');
    const again = await env.gateway.refund({ ...base, refundId: 're_3', amount: Money.of('70.50', 'MYR') }, ctx());
    expect(again).toMatchObject({ refundId: 're_3', gatewayReference: rest.gatewayReference });
    const status = await env.gateway.retrieveRefund!({ refundId: 're_1', paymentId: 'pay_x', gatewayReference: first.gatewayReference, paymentGatewayReference: tranID, amount: Money.of('30.00', 'MYR') }, ctx());
    expect(status.status).toBe('SUCCEEDED');
  });

  it('a refund with a 5xx on every attempt is an unknown outcome', async () => {
    env = await sandboxAndGateway();
    const created = await env.gateway.createPayment(input(), ctx());
    const { tranID } = await completeHostedPayment(hostedOf(created), 'approve');
    env.sandbox.faults.api('refund', '5xx', 2);
    const refund = env.gateway.refund({ refundId: 're_x', paymentId: 'pay_x', gatewayReference: tranID, amount: Money.of('1.00', 'MYR'), capturedAmount: Money.of('100.50', 'MYR'), reason: null, gatewayData: {} }, ctx());
    await expect(refund).rejects.toMatchObject({ code: 'gateway_outcome_unknown' });
  });
});

describe('pre-authorisation (tcctype=AUTH)', () => {
  it('authorise, capture (twice is still CAPTURED), and reverse another', async () => {
    env = await sandboxAndGateway();
    const created = await env.gateway.createPayment(input({ paymentMethod: 'CARD', captureMethod: 'manual' }), ctx());
    expect(hostedOf(created).fields.tcctype).toBe('AUTH');
    const { tranID } = await completeHostedPayment(hostedOf(created), 'approve');
    expect(await env.gateway.retrieve(retrieveInput(created, '100.50', tranID), ctx())).toMatchObject({ status: 'AUTHORIZED' });
    const capture = { paymentId: 'pay_x', gatewayReference: tranID, amount: Money.of('100.50', 'MYR'), authorizedAmount: Money.of('100.50', 'MYR'), gatewayData: {} };
    await expect(env.gateway.capture!(capture, ctx('cap-1'))).resolves.toMatchObject({ status: 'CAPTURED' });
    await expect(env.gateway.capture!(capture, ctx('cap-1'))).resolves.toMatchObject({ status: 'CAPTURED' });
    expect(await env.gateway.retrieve(retrieveInput(created, '100.50', tranID), ctx())).toMatchObject({ status: 'CAPTURED' });

    const second = await env.gateway.createPayment(input({ paymentMethod: 'CARD', captureMethod: 'manual' }), ctx());
    const auth2 = await completeHostedPayment(hostedOf(second), 'approve');
    const cancelled = await env.gateway.cancel!({ paymentId: 'pay_y', gatewayReference: auth2.tranID, amount: Money.of('100.50', 'MYR'), gatewayData: {} }, ctx());
    expect(cancelled.status).toBe('CANCELLED');
    expect(await env.gateway.retrieve(retrieveInput(second, '100.50', auth2.tranID), ctx())).toMatchObject({ status: 'CANCELLED' });
  });

  it('capture answers with a bad VrfKey are refused', async () => {
    env = await sandboxAndGateway({ gateway: { secretKey: 'sk_wrong' } });
    const created = await env.gateway.createPayment(input({ paymentMethod: 'CARD', captureMethod: 'manual' }), ctx());
    const { tranID } = await completeHostedPayment(hostedOf(created), 'approve');
    const capture = env.gateway.capture!({ paymentId: 'pay_x', gatewayReference: tranID, amount: Money.of('100.50', 'MYR'), authorizedAmount: Money.of('100.50', 'MYR'), gatewayData: {} }, ctx());
    await expect(capture).rejects.toMatchObject({ code: 'invalid_response_signature' });
  });
});

describe('sandbox retention', () => {
  it('forgets the oldest transactions past its limit: requery then finds nothing, newer ones still answer', async () => {
    env = await sandboxAndGateway({ sandbox: { retention: { transactions: 2, history: 2 } } });
    const payments = [];
    for (let i = 0; i < 3; i++) {
      const created = await env.gateway.createPayment(input(), ctx(`k${i}`));
      payments.push({ created, ...(await completeHostedPayment(hostedOf(created), 'approve')) });
    }
    expect(env.sandbox.transactions()).toHaveLength(2);
    const [oldest, ...kept] = payments;
    await expect(env.gateway.retrieve(retrieveInput(oldest!.created), ctx())).rejects.toMatchObject({ code: 'gateway_payment_not_found' });
    await expect(env.gateway.retrieve(retrieveInput(oldest!.created, '100.50', oldest!.tranID), ctx())).rejects.toMatchObject({ code: 'gateway_payment_not_found' });
    for (const p of kept) expect(await env.gateway.retrieve(retrieveInput(p.created), ctx())).toMatchObject({ status: 'CAPTURED', gatewayReference: p.tranID });
    expect(env.sandbox.findByOrder(MERCHANT.merchantId, hostedOf(oldest!.created).fields.orderid!)).toBeUndefined();
  });

  it('keeps refund RefIDs unique and their status answerable while their transaction is remembered', async () => {
    env = await sandboxAndGateway({ sandbox: { retention: { transactions: 1 } } });
    const created = await env.gateway.createPayment(input(), ctx());
    const { tranID } = await completeHostedPayment(hostedOf(created), 'approve');
    const base = { paymentId: 'pay_x', gatewayReference: tranID, capturedAmount: Money.of('100.50', 'MYR'), reason: null, gatewayData: {} };
    const first = await env.gateway.refund({ ...base, refundId: 're_keep', amount: Money.of('10.00', 'MYR') }, ctx());
    const lookup = { refundId: 're_keep', paymentId: 'pay_x', gatewayReference: first.gatewayReference, paymentGatewayReference: tranID, amount: Money.of('10.00', 'MYR') };
    expect((await env.gateway.retrieveRefund!(lookup, ctx())).status).toBe('SUCCEEDED');
    // A newer transaction pushes this one (and its refunds) out.
    await completeHostedPayment(hostedOf(await env.gateway.createPayment(input(), ctx('k2'))), 'approve');
    await expect(env.gateway.retrieveRefund!(lookup, ctx())).rejects.toBeInstanceOf(TenderError);
  });

  it('rejects a limit that is not a positive integer', async () => {
    await expect(sandboxAndGateway({ sandbox: { retention: { history: 0 } } })).rejects.toThrow(/retention\.history/);
  });
});
