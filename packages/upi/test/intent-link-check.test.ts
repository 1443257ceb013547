/**
 * The intent link Razorpay answers with is handed to the payer unmodified, so it is checked first: it
 * must be a `upi://pay` link that asks for exactly this payment's amount in INR, with no way for the
 * payer's app to read another amount (a duplicate `am`, a missing `am`, a lower `mam`).
 */
import { describe, expect, it } from 'vitest';
import { Money, type GatewayCreatePaymentInput, type HttpRequest, type HttpResponse, type HttpTransport } from '@tender/core';
import { createUpiGateway, parseUpiLink } from '@tender/upi';

/** A transport answering Razorpay's create calls from a script (no sockets). */
function scripted(link: string): HttpTransport {
  const answer = (status: number, json: unknown): HttpResponse => {
    const body = new TextEncoder().encode(JSON.stringify(json));
    return { status, headers: { 'content-type': 'application/json' }, body, attempts: 1, text: () => JSON.stringify(json), json: <T>() => json as T };
  };
  return {
    gateway: 'upi',
    circuitState: 'closed',
    worstCaseMs: 1000,
    onEvent: () => () => undefined,
    close: async () => undefined,
    async request(request: HttpRequest) {
      if (request.method === 'GET' && request.url.includes('/v1/orders?')) return answer(200, { entity: 'collection', count: 0, items: [] });
      if (request.url.endsWith('/v1/orders')) return answer(200, { id: 'order_T1', entity: 'order', amount: 100000, currency: 'INR', status: 'created', receipt: 'pay_1', notes: {} });
      if (request.url.endsWith('/v1/payments/create/upi')) return answer(200, { razorpay_payment_id: 'pay_R1', link });
      return answer(404, { error: { code: 'BAD_REQUEST_ERROR', description: 'not scripted' } });
    },
  };
}

const input: GatewayCreatePaymentInput = {
  paymentId: 'pay_1', merchantId: 'm', orderId: null, amount: Money.of('1000.00', 'INR'), captureMethod: 'automatic', paymentMethod: 'upi_intent',
  description: null, customer: { email: 'a@example.com', phone: '+919000000001' }, returnUrl: null, notifyUrl: null, metadata: { customer_ip: '127.0.0.1' },
};
const create = (link: string) =>
  createUpiGateway({ provider: 'razorpay', keyId: 'rzp_test_x', keySecret: 'secret_x', baseUrl: 'http://127.0.0.1:9', transport: scripted(link), qrCode: false }).createPayment(input, { idempotencyKey: 'k', now: new Date() });

describe('the intent link from Razorpay is checked before the payer sees it', () => {
  it('a link for this amount is handed on unmodified', async () => {
    const link = 'upi://pay?pa=upi@razopay&pn=acme&tr=QTeEWVyigzIBlUD&tn=razorpay&am=1000.00&cu=INR&mc=5411';
    await expect(create(link)).resolves.toMatchObject({ nextAction: { type: 'upi_intent', url: link } });
    await expect(create('upi://pay?pa=upi@razopay&pn=acme&tr=QTeEWVyigzIBlUD&am=1000&cu=INR')).resolves.toMatchObject({ status: 'REQUIRES_ACTION' });
  });

  it.each([
    ['a duplicate am (an app reading the last one asks for 10 000)', 'upi://pay?pa=upi@razopay&pn=acme&am=1000.00&am=10000.00&cu=INR'],
    ['a duplicate am in another case', 'upi://pay?pa=upi@razopay&pn=acme&am=1000.00&AM=1.00&cu=INR'],
    ['a percent-encoded duplicate am', 'upi://pay?pa=upi@razopay&pn=acme&am=1000.00&%61m=1.00&cu=INR'],
    ['no am (the payer could type any amount)', 'upi://pay?pa=upi@razopay&pn=acme&cu=INR'],
    ['am=null', 'upi://pay?pa=upi@razopay&pn=acme&am=null&cu=INR'],
    ['a mam below am (the amount becomes editable)', 'upi://pay?pa=upi@razopay&pn=acme&am=1000.00&mam=1.00&cu=INR'],
    ['another amount', 'upi://pay?pa=upi@razopay&pn=acme&am=1.00&cu=INR'],
    ['another currency', 'upi://pay?pa=upi@razopay&pn=acme&am=1000.00&cu=USD'],
    ['not a upi link', 'javascript:alert(1)//upi://pay?pa=upi@razopay&am=1000.00'],
    ['a payee that is not a VPA', 'upi://pay?pa=nobody&pn=acme&am=1000.00&cu=INR'],
  ])('refuses %s as a gateway error, never a 400 blaming the caller', async (_what, link) => {
    await expect(create(link)).rejects.toMatchObject({ type: 'gateway_error', code: 'intent_link_mismatch' });
  });
});

describe('parseUpiLink refuses what two readers could read differently', () => {
  it('duplicate parameters (case-insensitive, keys percent-decoded) are refused', () => {
    for (const link of ['upi://pay?pa=a1@b&am=1&am=1000', 'upi://pay?pa=a1@b&pa=evil@b', 'upi://pay?pa=a1@b&am=1&Am=1000', 'upi://pay?pa=a1@b&am=1&%61m=1000']) {
      expect(() => parseUpiLink(link), link).toThrow(expect.objectContaining({ code: 'invalid_upi_link' }));
    }
  });
});

describe("Razorpay's refund answer is checked against the request", () => {
  const refundGateway = (answer: Record<string, unknown>) =>
    createUpiGateway({
      provider: 'razorpay', keyId: 'rzp_test_x', keySecret: 'secret_x', baseUrl: 'http://127.0.0.1:9', qrCode: false,
      transport: {
        gateway: 'upi', circuitState: 'closed', worstCaseMs: 1000, onEvent: () => () => undefined, close: async () => undefined,
        async request() {
          const json = { id: 'rfnd_1', entity: 'refund', amount: 5000, currency: 'INR', payment_id: 'pay_R1', status: 'pending', ...answer };
          return { status: 200, headers: {}, body: new Uint8Array(), attempts: 1, text: () => JSON.stringify(json), json: <T>() => json as T };
        },
      },
    });
  const refund = (g: ReturnType<typeof refundGateway>) =>
    g.refund({ refundId: 're_1', paymentId: 'pay_1', gatewayReference: 'pay_R1', amount: Money.of('50.00', 'INR'), capturedAmount: Money.of('100.00', 'INR'), reason: null, gatewayData: {} }, { idempotencyKey: 'k-refund', now: new Date() });

  it('the matching answer is the refund; one for another payment or amount is an unknown outcome, not a success', async () => {
    await expect(refund(refundGateway({}))).resolves.toMatchObject({ status: 'PENDING', gatewayReference: 'rfnd_1' });
    for (const wrong of [{ payment_id: 'pay_OTHER' }, { amount: 500 }, { currency: 'USD' }]) {
      await expect(refund(refundGateway(wrong)), JSON.stringify(wrong)).rejects.toMatchObject({ code: 'gateway_outcome_unknown' });
    }
  });
});
