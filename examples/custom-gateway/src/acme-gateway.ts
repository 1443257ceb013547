/**
 * A gateway plugin for "Acme Pay" (see `fake-provider.ts`): everything a `GatewayV1` needs, in one
 * readable file. It imports the gateway spec from its versioned entry (`@tender/core/spec/gateway/v1`),
 * and `Money`, `TenderError`, the transport and the crypto helpers from `@tender/core`, never the
 * engine.
 */
import { Money, TenderError, checkTimestamp, createHttpTransport, verifyHmacSha256, type HttpResponse, type HttpTransport } from '@tender/core';
import {
  GATEWAY_OUTCOME_UNKNOWN,
  GATEWAY_PAYMENT_NOT_FOUND,
  type GatewayCallContext,
  type GatewayPaymentResult,
  type GatewayRefundResult,
  type GatewayV1,
  type WebhookRequest,
} from '@tender/core/spec/gateway/v1';
import type { AcmeCharge, AcmeRefund } from './fake-provider';

export interface AcmeGatewayOptions {
  apiKey: string;
  webhookSecret: string;
  /** The provider's API root, e.g. `https://api.acme.example` (the fake provider's `url` in tests). */
  baseUrl: string;
  /** Defaults to `createHttpTransport({ gateway: 'acme' })`: timeouts, safe retries, circuit breaker. */
  transport?: HttpTransport;
  /** How old a signed webhook may be, in seconds (replay protection). Default 300. */
  webhookToleranceSeconds?: number;
}

export interface AcmeGateway extends GatewayV1 {
  /** Closes the transport's pooled connections (only when this gateway created the transport). */
  close(): Promise<void>;
}

export function createAcmeGateway(options: AcmeGatewayOptions): AcmeGateway {
  const ownTransport = !options.transport;
  const transport = options.transport ?? createHttpTransport({ gateway: 'acme' });
  const tolerance = options.webhookToleranceSeconds ?? 300;

  /** One API call. Every POST carries the engine's idempotency key, so the transport may retry it. */
  async function call<T>(operation: string, method: 'GET' | 'POST', path: string, ctx: GatewayCallContext, json?: unknown): Promise<T> {
    const response = await transport.request({
      method,
      url: `${options.baseUrl}${path}`,
      headers: { authorization: `Bearer ${options.apiKey}`, ...(method === 'POST' ? { 'idempotency-key': ctx.idempotencyKey } : {}) },
      ...(json === undefined ? {} : { json }),
      operation,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    if (response.status >= 200 && response.status < 300) return response.json<T>();
    throw toError(operation, method, response);
  }

  function toError(operation: string, method: string, response: HttpResponse): TenderError {
    const body = safeJson(response);
    const code = typeof body.error === 'string' ? body.error : `http_${response.status}`;
    const message = `acme ${operation}: ${typeof body.message === 'string' ? body.message : code}`;
    if (response.status === 404) return new TenderError({ type: 'not_found_error', code: GATEWAY_PAYMENT_NOT_FOUND, message });
    if (response.status === 401) return new TenderError({ type: 'gateway_error', code: 'gateway_authentication_failed', message });
    // A 5xx to a POST (after the transport's retries) may have acted: let the reconciler find out.
    if (response.status >= 500 && method === 'POST') return new TenderError({ type: 'gateway_error', code: GATEWAY_OUTCOME_UNKNOWN, message, details: { requestSent: true } });
    if (response.status >= 500) return new TenderError({ type: 'gateway_error', code: 'gateway_server_error', message, retryable: true });
    return new TenderError({ type: 'gateway_error', code, message, status: 502 });
  }

  /** The provider's view of a charge, in Tender's terms. Amounts leave minor units through `Money`. */
  function toResult(charge: AcmeCharge): GatewayPaymentResult {
    const result: GatewayPaymentResult = {
      status: STATUS[charge.status],
      gatewayReference: charge.id,
      amount: Money.fromMinor(charge.amount, charge.currency),
      refunds: charge.refunds.map((r) => toRefund(r, charge.currency)),
    };
    if (charge.status === 'succeeded') result.amountCaptured = Money.fromMinor(charge.amount_captured, charge.currency);
    if (charge.status === 'pending') result.nextAction = { type: 'redirect', url: charge.pay_url };
    if (charge.status === 'declined') result.failure = { code: 'card_declined', message: 'The payment was declined', declineCode: charge.decline_code ?? 'generic_decline' };
    return result;
  }

  const toRefund = (refund: AcmeRefund, currency: string): GatewayRefundResult => ({
    status: 'SUCCEEDED',
    gatewayReference: refund.id,
    amount: Money.fromMinor(refund.amount, currency),
    refundId: refund.reference || null,
  });

  function signatureError(code: string, message: string): TenderError {
    return new TenderError({ type: 'webhook_signature_error', code, message });
  }

  return {
    specVersion: 'v1',
    id: 'acme',
    capabilities: {
      paymentMethods: ['card'],
      currencies: ['USD', 'EUR', 'MYR', 'JPY'],
      manualCapture: true,
      partialCapture: true,
      partialRefund: true,
      cancel: true,
      retrieve: true,
    },
    worstCaseCallMs: transport.worstCaseMs,
    canSend: () => transport.circuitState !== 'open',

    async createPayment(input, ctx) {
      const charge = await call<AcmeCharge>('create_payment', 'POST', '/v1/charges', ctx, {
        amount: input.amount.toMinor(),
        currency: input.amount.currency,
        // Tender's payment id goes out as the reference: the provider signs it back in webhooks.
        reference: input.paymentId,
        capture: input.captureMethod !== 'manual',
        description: input.description,
      });
      return toResult(charge);
    },

    async capture(input, ctx) {
      return toResult(await call<AcmeCharge>('capture', 'POST', `/v1/charges/${encodeURIComponent(input.gatewayReference)}/capture`, ctx, { amount: input.amount.toMinor() }));
    },

    async cancel(input, ctx) {
      const reference = input.gatewayReference ?? (await findByReference(input.paymentId, ctx)).id;
      return toResult(await call<AcmeCharge>('cancel', 'POST', `/v1/charges/${encodeURIComponent(reference)}/cancel`, ctx, {}));
    },

    async refund(input, ctx) {
      const refund = await call<AcmeRefund>('refund', 'POST', `/v1/charges/${encodeURIComponent(input.gatewayReference)}/refunds`, ctx, {
        amount: input.amount.toMinor(),
        reference: input.refundId,
      });
      return toRefund(refund, input.amount.currency);
    },

    async retrieve(input, ctx) {
      if (input.gatewayReference) return toResult(await call<AcmeCharge>('retrieve', 'GET', `/v1/charges/${encodeURIComponent(input.gatewayReference)}`, ctx));
      // The create may have reached the provider without us learning its id: look it up by our reference.
      return toResult(await findByReference(input.paymentId, ctx));
    },

    verifyWebhook(request: WebhookRequest, now: Date) {
      const header = request.headers['acme-signature'];
      if (typeof header !== 'string') throw signatureError('signature_missing', 'Acme-Signature header is missing');
      const fields = Object.fromEntries(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
      const t = fields.t;
      const v1 = fields.v1;
      if (!t || !v1) throw signatureError('signature_malformed', 'Acme-Signature header is malformed');
      // Verified on the raw bytes with a constant-time compare, never on re-serialised JSON.
      if (!verifyHmacSha256({ secret: options.webhookSecret, payload: [`${t}.`, request.rawBody], signature: v1 })) {
        throw signatureError('signature_mismatch', 'Acme-Signature does not match the body');
      }
      const age = checkTimestamp(t, { toleranceSeconds: tolerance, clock: { now: () => now } });
      if (!age.ok) throw signatureError('timestamp_outside_tolerance', `Acme-Signature timestamp is ${age.reason}`);
    },

    parseWebhook(request) {
      const event = JSON.parse(Buffer.from(request.rawBody).toString('utf8')) as { id: string; type: string; created: number; data: AcmeCharge };
      const ack = { status: 200, body: 'ok' };
      if (event.type !== 'charge.updated') return { events: [{ kind: 'ignored', eventId: event.id, reason: `event type ${event.type}` }], acknowledgement: ack };
      // Every binding field comes from the signed body: our payment id (sent as `reference`) and the charge id.
      return {
        events: [
          {
            kind: 'payment',
            eventId: event.id,
            paymentId: event.data.reference,
            gatewayReference: event.data.id,
            result: toResult(event.data),
            occurredAt: new Date(event.created * 1000).toISOString(),
          },
        ],
        acknowledgement: ack,
      };
    },

    close: () => (ownTransport ? transport.close() : Promise.resolve()),
  };

  async function findByReference(paymentId: string, ctx: GatewayCallContext): Promise<AcmeCharge> {
    const { data } = await call<{ data: AcmeCharge[] }>('retrieve', 'GET', `/v1/charges?reference=${encodeURIComponent(paymentId)}`, ctx);
    const charge = data[0];
    if (!charge) throw new TenderError({ type: 'not_found_error', code: GATEWAY_PAYMENT_NOT_FOUND, message: `acme has no charge for ${paymentId}` });
    return charge;
  }
}

const STATUS: Record<AcmeCharge['status'], GatewayPaymentResult['status']> = {
  pending: 'REQUIRES_ACTION',
  authorized: 'AUTHORIZED',
  succeeded: 'CAPTURED',
  declined: 'FAILED',
  canceled: 'CANCELLED',
};

function safeJson(response: HttpResponse): Record<string, unknown> {
  try {
    const body = response.json<unknown>();
    return body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
