/**
 * An in-process gateway with fault injection, for core's own tests, examples and benchmarks. It keeps
 * its own ledger (what the "provider" did), honours idempotency keys like a real provider, and signs
 * its webhooks with HMAC-SHA256 so the webhook path is exercised for real.
 *
 * @module
 */
import { hmacSha256, timingSafeEqualString } from '../crypto';
import { TenderError } from '../errors';
import { retentionLimit, setBounded } from '../bounded';
import { Money } from '../money';
import type { PaymentStatus, RefundStatus } from '../payment';
import {
  GATEWAY_OUTCOME_UNKNOWN,
  GATEWAY_PAYMENT_NOT_FOUND,
  type GatewayCapabilities,
  type GatewayPaymentResult,
  type GatewayRefundResult,
  type GatewayV1,
  type ParsedWebhook,
  type WebhookRequest,
} from '../spec/gateway/v1/index';
import type { SettlementLine } from '../spec/gateway/v1/settlements';

/** A fault to inject into the next call(s). */
export type TestFault =
  /** The provider declines (card declined). */
  | 'decline'
  /** The request never left (circuit open / connection refused): safe to fail over. */
  | 'unavailable'
  /** The provider answers 5xx without acting. */
  | 'server_error'
  /** The call times out before reaching the provider's ledger. */
  | 'timeout'
  /** The provider acts (charges), then the answer is lost. */
  | 'lost_response';

/** One provider-side payment in the test gateway's ledger. */
export interface TestCharge {
  reference: string;
  paymentId: string;
  amount: Money;
  status: PaymentStatus;
  captured: Money;
  /** False until a `hosted` payment is paid: the reference is not reported before. */
  referenceIssued: boolean;
  refunds: Array<{ reference: string; refundId: string; amount: Money; status: RefundStatus }>;
  /**
   * How many charges the provider made for this Tender payment, this one included (must stay 1: a
   * second create under another idempotency key makes a second charge, as a real provider would).
   */
  createCount: number;
}

/** Options of {@link createTestGateway}. */
export interface TestGatewayOptions {
  id?: string;
  /**
   * `direct` charges at once; `redirect` answers REQUIRES_ACTION until {@link TestGateway.complete};
   * `hosted` too, but like a hosted payment page (Fiuu) the provider's reference exists only once the
   * customer has paid, so results bind by order id until then.
   */
  flow?: 'direct' | 'redirect' | 'hosted';
  capabilities?: Partial<GatewayCapabilities>;
  /** Added latency per call, in ms (slow gateway). */
  latencyMs?: number;
  /** Webhook signing secret. */
  webhookSecret?: string;
  /**
   * How many charges and idempotency keys the provider remembers (default 100,000); the oldest are
   * forgotten first, so a long benchmark or demo does not grow the heap by every payment it made.
   */
  retention?: number;
  /** What the gateway declares as {@link GatewayV1.worstCaseCallMs}. */
  worstCaseCallMs?: number;
}

/** The test gateway plus its controls. */
export interface TestGateway extends GatewayV1 {
  /** Queues faults; each call consumes one. */
  inject(...faults: TestFault[]): void;
  /** Drops queued faults no call consumed. */
  clearFaults(): void;
  /** The provider-side ledger, by reference. */
  readonly ledger: ReadonlyMap<string, TestCharge>;
  /** The ledger entry of a Tender payment. */
  chargeOf(paymentId: string): TestCharge | undefined;
  /** Completes a redirect-flow payment as the customer would. */
  complete(paymentId: string, outcome: 'approve' | 'decline'): void;
  /** Builds a signed webhook about a payment's current provider state. */
  webhookFor(paymentId: string, options?: { eventId?: string; status?: PaymentStatus }): WebhookRequest;
  /** Builds a signed webhook about a refund made at the provider (e.g. in its dashboard). */
  refundWebhook(paymentId: string, amount: string, options?: { eventId?: string }): WebhookRequest;
  /** Number of calls made, by method. */
  readonly calls: Record<string, number>;
  /** Opens or closes the simulated circuit: while open, {@link GatewayV1.canSend} is false and calls fail unsent. */
  setCircuitOpen(open: boolean): void;
  /** Captures an authorised payment at the provider, as its dashboard would (no call from Tender). */
  captureAtProvider(paymentId: string, amount?: string): void;
  /**
   * Builds a signed webhook from explicit fields: `order_id` and `reference` bind it, `hint_payment_id`
   * is unsigned narrowing data, `type: 'requery'` asks the engine to requery, `refund_*` describe a refund.
   */
  customWebhook(fields: Record<string, string>): WebhookRequest;
  /**
   * The provider's settlement report per day (`YYYY-MM-DD`), served by `settlements.fetchReport` when
   * the gateway is created with `capabilities.settlements`; tests put (and plant wrong) lines here.
   */
  readonly settlementReports: Map<string, SettlementLine[]>;
  /**
   * The report line the provider would write for a charge (its captured amount) or, with
   * `refundIndex`, for one of its refunds, dated `occurredAt`; a starting point for planting lines.
   */
  settlementLine(paymentId: string, options?: { refundIndex?: number; occurredAt?: string }): SettlementLine;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates a {@link TestGateway}. */
export function createTestGateway(options: TestGatewayOptions = {}): TestGateway {
  const id = options.id ?? 'test';
  const secret = options.webhookSecret ?? 'whsec_test';
  const flow = options.flow ?? 'direct';
  const faults: TestFault[] = [];
  const ledger = new Map<string, TestCharge>();
  const byPayment = new Map<string, TestCharge>();
  const byKey = new Map<string, unknown>();
  const keep = retentionLimit(options.retention, 100_000, 'retention');
  const calls: Record<string, number> = {};
  let seq = 0;
  let circuitOpen = false;
  const createsByPayment = new Map<string, number>();

  async function enter(method: string): Promise<TestFault | undefined> {
    calls[method] = (calls[method] ?? 0) + 1;
    if (options.latencyMs) await sleep(options.latencyMs);
    const fault = faults.shift();
    if (fault === 'unavailable' || circuitOpen) {
      throw new TenderError({ type: 'gateway_unavailable', code: 'circuit_open', message: `${id} is unavailable`, retryable: true, details: { requestSent: false } });
    }
    if (fault === 'server_error') throw new TenderError({ type: 'gateway_error', code: 'gateway_server_error', message: `${id} answered 500`, details: { requestSent: true } });
    if (fault === 'timeout') throw new TenderError({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN, message: `${id} timed out`, details: { requestSent: true } });
    return fault;
  }

  function lost(): never {
    throw new TenderError({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN, message: 'connection reset before the response', details: { requestSent: true } });
  }

  function view(charge: TestCharge): GatewayPaymentResult {
    const result: GatewayPaymentResult = {
      status: charge.status,
      gatewayReference: charge.referenceIssued ? charge.reference : null,
      amount: charge.amount,
      refunds: charge.refunds.map((r) => ({ status: r.status, gatewayReference: r.reference, amount: r.amount, refundId: r.refundId })),
    };
    if (charge.status === 'CAPTURED') result.amountCaptured = charge.captured;
    if (charge.status === 'REQUIRES_ACTION') result.nextAction = { type: 'redirect', url: `https://test.invalid/pay/${charge.reference}` };
    if (charge.status === 'FAILED') result.failure = { code: 'card_declined', message: 'Your card was declined', declineCode: 'generic_decline' };
    return result;
  }


  function find(paymentId: string, reference: string | null): TestCharge {
    const charge = (reference ? ledger.get(reference) : undefined) ?? byPayment.get(paymentId);
    if (!charge) throw new TenderError({ type: 'not_found_error', code: GATEWAY_PAYMENT_NOT_FOUND, message: `${id} has no payment ${paymentId}` });
    return charge;
  }

  function sign(body: string): WebhookRequest {
    const signature = hmacSha256(secret, body);
    return { headers: { 'x-test-signature': signature, 'content-type': 'application/json' }, rawBody: new TextEncoder().encode(body) };
  }

  const settlementReports = new Map<string, SettlementLine[]>();

  const gateway: TestGateway = {
    ...(options.capabilities?.settlements
      ? {
          settlements: {
            async fetchReport(input: { date: string }) {
              await enter('fetchReport');
              return (settlementReports.get(input.date) ?? []).map((line) => ({ ...line }));
            },
          },
        }
      : {}),
    settlementReports,
    settlementLine(paymentId, o = {}) {
      const charge = byPayment.get(paymentId);
      if (!charge) throw new Error(`no charge for ${paymentId}`);
      const occurredAt = o.occurredAt ?? new Date(0).toISOString();
      if (o.refundIndex === undefined) {
        return { lineId: `bt_${charge.reference}`, type: 'payment', gatewayReference: charge.reference, orderId: null, amount: charge.captured, direction: 'in', fee: null, net: charge.captured, occurredAt };
      }
      const refund = charge.refunds[o.refundIndex];
      if (!refund) throw new Error(`payment ${paymentId} has no refund ${o.refundIndex}`);
      return { lineId: `bt_${refund.reference}`, type: 'refund', gatewayReference: charge.reference, refundReference: refund.reference, orderId: null, amount: refund.amount, direction: 'out', fee: null, net: refund.amount, occurredAt };
    },
    specVersion: 'v1',
    id,
    capabilities: {
      paymentMethods: '*',
      currencies: '*',
      manualCapture: true,
      partialCapture: true,
      partialRefund: true,
      cancel: true,
      retrieve: true,
      ...options.capabilities,
    },
    ...(options.worstCaseCallMs !== undefined ? { worstCaseCallMs: options.worstCaseCallMs } : {}),
    canSend: () => !circuitOpen,
    setCircuitOpen(open) {
      circuitOpen = open;
    },
    captureAtProvider(paymentId, amount) {
      const charge = byPayment.get(paymentId);
      if (!charge || charge.status !== 'AUTHORIZED') throw new Error(`payment ${paymentId} is not authorised at the provider`);
      charge.status = 'CAPTURED';
      charge.captured = amount === undefined ? charge.amount : Money.of(amount, charge.amount.currency);
    },
    customWebhook(fields) {
      return sign(JSON.stringify({ id: `evt_${++seq}`, ...fields }));
    },
    calls,
    ledger,
    inject: (...f) => void faults.push(...f),
    clearFaults: () => void faults.splice(0),
    chargeOf: (paymentId) => byPayment.get(paymentId),

    async createPayment(input, ctx) {
      const fault = await enter('createPayment');
      const previous = byKey.get(ctx.idempotencyKey) as TestCharge | undefined;
      if (previous) return view(previous);
      const declined = fault === 'decline' || input.paymentMethod === 'decline';
      const charge: TestCharge = {
        reference: `tst_${++seq}`,
        paymentId: input.paymentId,
        amount: input.amount,
        referenceIssued: flow !== 'hosted',
        status: declined ? 'FAILED' : flow !== 'direct' ? 'REQUIRES_ACTION' : input.captureMethod === 'manual' ? 'AUTHORIZED' : 'CAPTURED',
        captured: declined || flow !== 'direct' || input.captureMethod === 'manual' ? Money.zero(input.amount.currency) : input.amount,
        refunds: [],
        createCount: 0,
      };
      const creates = (createsByPayment.get(input.paymentId) ?? 0) + 1;
      setBounded(createsByPayment, input.paymentId, creates, keep);
      charge.createCount = creates;
      const earlier = byPayment.get(input.paymentId);
      if (earlier) earlier.createCount = creates;
      setBounded(ledger, charge.reference, charge, keep);
      setBounded(byPayment, input.paymentId, charge, keep);
      setBounded(byKey, ctx.idempotencyKey, charge, keep);
      if (fault === 'lost_response') lost();
      return view(charge);
    },

    async capture(input, ctx) {
      const fault = await enter('capture');
      const charge = find(input.paymentId, input.gatewayReference);
      if (!byKey.has(ctx.idempotencyKey)) {
        if (charge.status !== 'AUTHORIZED') throw new TenderError({ type: 'gateway_error', code: 'payment_not_capturable', message: `status is ${charge.status}` });
        charge.status = 'CAPTURED';
        charge.captured = input.amount;
        setBounded(byKey, ctx.idempotencyKey, charge, keep);
      }
      if (fault === 'lost_response') lost();
      return view(charge);
    },

    async cancel(input, ctx) {
      const fault = await enter('cancel');
      const charge = find(input.paymentId, input.gatewayReference);
      if (!byKey.has(ctx.idempotencyKey)) {
        if (charge.status === 'CAPTURED') throw new TenderError({ type: 'gateway_error', code: 'payment_captured', message: 'already captured' });
        charge.status = 'CANCELLED';
        setBounded(byKey, ctx.idempotencyKey, charge, keep);
      }
      if (fault === 'lost_response') lost();
      return view(charge);
    },

    async refund(input, ctx): Promise<GatewayRefundResult> {
      const fault = await enter('refund');
      const charge = find(input.paymentId, input.gatewayReference);
      let refund = charge.refunds.find((r) => r.refundId === input.refundId);
      if (!refund) {
        const refunded = charge.refunds.filter((r) => r.status !== 'FAILED').reduce((sum, r) => sum.add(r.amount), Money.zero(charge.amount.currency));
        if (refunded.add(input.amount).greaterThan(charge.captured)) {
          throw new TenderError({ type: 'gateway_error', code: 'amount_too_large', message: 'refund exceeds the captured amount' });
        }
        refund = { reference: `tre_${++seq}`, refundId: input.refundId, amount: input.amount, status: fault === 'decline' ? 'FAILED' : 'SUCCEEDED' };
        charge.refunds.push(refund);
        setBounded(byKey, ctx.idempotencyKey, refund, keep);
      }
      if (fault === 'lost_response') lost();
      return { status: refund.status, gatewayReference: refund.reference, amount: refund.amount, refundId: refund.refundId };
    },

    async retrieve(input) {
      await enter('retrieve');
      return view(find(input.paymentId, input.gatewayReference));
    },

    verifyWebhook(request) {
      const header = request.headers['x-test-signature'];
      const given = typeof header === 'string' ? header : '';
      if (!timingSafeEqualString(hmacSha256(secret, request.rawBody), given)) {
        throw new TenderError({ type: 'webhook_signature_error', code: 'signature_mismatch', message: 'Webhook signature does not match' });
      }
    },

    parseWebhook(request): ParsedWebhook {
      let body: Record<string, string>;
      try {
        body = JSON.parse(new TextDecoder().decode(request.rawBody)) as Record<string, string>;
      } catch {
        throw new TenderError({ type: 'invalid_request_error', code: 'invalid_webhook_body', message: 'Webhook body is not JSON' });
      }
      const acknowledgement = { status: 200, headers: { 'content-type': 'text/plain' }, body: 'OK' };
      const target = {
        paymentId: body.payment_id ?? null,
        gatewayReference: body.reference ?? null,
        orderId: body.order_id ?? null,
        ...(body.hint_payment_id ? { hint: { paymentId: body.hint_payment_id } } : {}),
      };
      if (body.type === 'requery') {
        return { acknowledgement, events: [{ kind: 'requery', eventId: body.id!, ...target, reason: body.reason ?? 'incomplete payload' }] };
      }
      if (typeof body.amount !== 'string' || typeof body.currency !== 'string') {
        throw new TenderError({ type: 'invalid_request_error', code: 'invalid_webhook_body', message: 'Webhook body lacks amount or currency' });
      }
      const amount = Money.of(body.amount, body.currency);
      if (body.type === 'refund') {
        return {
          acknowledgement,
          events: [
            {
              kind: 'refund',
              eventId: body.id!,
              ...target,
              refund: { status: body.status as RefundStatus, gatewayReference: body.refund_reference ?? null, amount, refundId: body.refund_id ?? null },
            },
          ],
        };
      }
      return {
        acknowledgement,
        events: [
          {
            kind: 'payment',
            eventId: body.id!,
            ...target,
            result: { status: body.status as PaymentStatus, gatewayReference: body.reference ?? null, amount, ...(body.status === 'CAPTURED' ? { amountCaptured: amount } : {}) },
          },
        ],
      };
    },

    complete(paymentId, outcome) {
      const charge = byPayment.get(paymentId);
      if (!charge || charge.status !== 'REQUIRES_ACTION') throw new Error(`payment ${paymentId} is not awaiting the customer`);
      charge.status = outcome === 'approve' ? 'CAPTURED' : 'FAILED';
      charge.referenceIssued = true;
      if (outcome === 'approve') charge.captured = charge.amount;
    },

    webhookFor(paymentId, o = {}) {
      const charge = byPayment.get(paymentId);
      if (!charge) throw new Error(`no charge for ${paymentId}`);
      return sign(
        JSON.stringify({
          id: o.eventId ?? `evt_${++seq}`,
          type: 'payment',
          payment_id: paymentId,
          reference: charge.reference,
          status: o.status ?? charge.status,
          amount: charge.amount.toString(),
          currency: charge.amount.currency,
        }),
      );
    },

    refundWebhook(paymentId, amount, o = {}) {
      const charge = byPayment.get(paymentId);
      if (!charge) throw new Error(`no charge for ${paymentId}`);
      const refund = { reference: `tre_${++seq}`, refundId: '', amount: Money.of(amount, charge.amount.currency), status: 'SUCCEEDED' as const };
      charge.refunds.push(refund);
      return sign(
        JSON.stringify({
          id: o.eventId ?? `evt_${++seq}`,
          type: 'refund',
          payment_id: paymentId,
          reference: charge.reference,
          refund_reference: refund.reference,
          status: 'SUCCEEDED',
          amount,
          currency: charge.amount.currency,
        }),
      );
    },
  };
  return gateway;
}
