/**
 * The `tender.payments.v1.PaymentService` handlers: each RPC is the REST route of the same name in
 * another encoding. Requests are turned into the REST bodies and validated by the same zod schemas
 * and mapping functions the router uses; answers are the REST serialisers' output re-shaped into
 * the proto messages. No payment logic lives here.
 *
 * @module
 */
import { Metadata, status as Status, type sendUnaryData, type Server, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { TenderError, redactingLogger, silentLogger, type Logger, type Payment, type Refund, type RequestOptions, type Tender } from '@tender/core';
import type { Store as RateLimitStore } from 'express-rate-limit';
import { MemoryStore } from 'express-rate-limit';
import { createTokenVerifier, requireScope, type Principal, type Scope, type TokenAuthOptions } from '../auth';
import { asTenderError, badRequest } from '../errors';
import { timeOperation, type TenderMetrics } from '../metrics';
import { captureInputFromBody, createInputFromBody, refundInputFromBody, resourceId, type RateLimitRule } from '../router';
import { CaptureBody, CreatePaymentBody, RefundBody, validate } from '../schemas';
import { paymentJson, refundJson } from '../serialize';
import { PAYMENT_SERVICE_NAME, loadPaymentServiceDefinition } from './proto';
import { grpcStatusOf } from './status';

/** Options of {@link addPaymentService}. */
export interface PaymentServiceOptions {
  /**
   * How calls are authenticated: the REST API's JWT settings (a shared secret or a JWKS URL), or a
   * function given the `authorization` metadata value. `false` turns auth off: every call acts for
   * `merchantId` with every scope (only behind your own auth).
   */
  auth: TokenAuthOptions | ((authorization: string | undefined) => Promise<Principal>) | false;
  /** Merchant used when `auth` is false (default `default`). */
  merchantId?: string;
  /** Records `grpc_server_handled_total`, `grpc_server_handling_seconds` and `payment_duration_seconds`. */
  metrics?: TenderMetrics;
  logger?: Logger;
  /**
   * Limits per client IP (before auth) and per merchant (after auth), as the REST API's; `store`
   * gives a shared store (Redis) per key prefix. Default: none (the standalone server passes its
   * RATE_LIMIT_* settings).
   */
  rateLimit?: { perIp?: RateLimitRule | false; perMerchant?: RateLimitRule | false; store?: (prefix: string) => RateLimitStore };
}

/** The RPCs, for metric labels (a closed set: the label can never take a caller's value). */
export const PAYMENT_SERVICE_METHODS = ['CreatePayment', 'AuthorizePayment', 'CapturePayment', 'GetPayment', 'RefundPayment', 'GetPaymentStatus'] as const;
type Method = (typeof PAYMENT_SERVICE_METHODS)[number];

const ALL_SCOPES = new Set<string>(['payments:read', 'payments:write', 'refunds:write']);
const IDEMPOTENT_REPLAYED = 'idempotent-replayed';

// ---- Request messages (as proto-loader decodes them: unset fields are absent) ----

interface CustomerMessage {
  name?: string;
  email?: string;
  phone?: string;
}
interface CreatePaymentMessage {
  order_id?: string;
  amount?: string;
  amount_minor?: string;
  currency?: string;
  payment_method?: string;
  gateway?: string;
  capture_method?: string | number;
  customer?: CustomerMessage;
  description?: string;
  return_url?: string;
  notify_url?: string;
  metadata?: Record<string, string>;
  payment_details?: { vpa?: string };
}
interface AmountMessage {
  payment_id?: string;
  amount?: string;
  amount_minor?: string;
}
interface RefundPaymentMessage extends AmountMessage {
  reason?: string;
  metadata?: Record<string, string>;
}

/** A proto3 string: `""` is what an unset field decodes as from most clients, so it means unset. */
function given(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function compact(value: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}

// Where a REST name differs from the proto's, errors name the field as the caller sent it.
const PROTO_PARAMS: Record<string, string> = {
  bill_name: 'customer.name',
  bill_email: 'customer.email',
  bill_mobile: 'customer.phone',
  bill_description: 'description',
  amount_paisa: 'amount_minor',
  'Idempotency-Key': 'idempotency-key',
  id: 'payment_id',
};

/** The same error with its `param` (and a message that starts with it) in the proto's names. */
function inProtoNames(error: TenderError): TenderError {
  if (error.param === undefined) return error;
  const [head, ...rest] = error.param.split('.');
  const mapped = PROTO_PARAMS[error.param] ?? (head !== undefined && PROTO_PARAMS[head] ? [PROTO_PARAMS[head], ...rest].join('.') : undefined);
  if (mapped === undefined) return error;
  const message = error.message.startsWith(`${error.param}:`) ? `${mapped}${error.message.slice(error.param.length)}` : error.message;
  return new TenderError({
    type: error.type,
    code: error.code,
    message,
    param: mapped,
    status: error.status,
    retryable: error.retryable,
    ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
    ...(error.details ? { details: error.details } : {}),
    ...(error.cause !== undefined ? { cause: error.cause } : {}),
  });
}

const CAPTURE_METHODS: Record<string, 'automatic' | 'manual' | undefined> = {
  CAPTURE_METHOD_UNSPECIFIED: undefined,
  CAPTURE_METHOD_AUTOMATIC: 'automatic',
  CAPTURE_METHOD_MANUAL: 'manual',
};

function captureMethodOf(value: string | number | undefined): 'automatic' | 'manual' | undefined {
  if (value === undefined) return undefined;
  // proto3 enums are open: a number this server does not know arrives as the number itself.
  if (typeof value !== 'string' || !(value in CAPTURE_METHODS)) {
    throw badRequest('parameter_invalid', 'capture_method: must be CAPTURE_METHOD_AUTOMATIC or CAPTURE_METHOD_MANUAL', 'capture_method');
  }
  return CAPTURE_METHODS[value];
}

/** The REST body of a create, from the proto request (validated by the REST schema next). */
function createBody(m: CreatePaymentMessage, captureMethod: 'automatic' | 'manual' | undefined): Record<string, unknown> {
  const vpa = given(m.payment_details?.vpa);
  return compact({
    order_id: given(m.order_id),
    amount: given(m.amount),
    amount_minor: m.amount_minor,
    currency: given(m.currency),
    payment_method: given(m.payment_method),
    gateway: given(m.gateway),
    capture_method: captureMethod,
    bill_name: given(m.customer?.name),
    bill_email: given(m.customer?.email),
    bill_mobile: given(m.customer?.phone),
    bill_description: given(m.description),
    return_url: given(m.return_url),
    notify_url: given(m.notify_url),
    metadata: m.metadata && Object.keys(m.metadata).length > 0 ? m.metadata : undefined,
    payment_details: vpa !== undefined ? { vpa } : undefined,
  });
}

/** The REST body of a capture or refund amount (`amount_minor` is REST's `amount_paisa`). */
function amountBody(m: AmountMessage): Record<string, unknown> {
  const amount = given(m.amount);
  if (amount !== undefined && m.amount_minor !== undefined) {
    throw badRequest('ambiguous_amount', 'Give either amount or amount_minor, not both', 'amount');
  }
  return compact({ amount, amount_paisa: m.amount_minor });
}

function paymentIdOf(m: { payment_id?: string }): string {
  const id = given(m.payment_id);
  if (id === undefined) throw badRequest('parameter_missing', 'payment_id: Required', 'payment_id');
  return resourceId(id, 'payment');
}

// ---- Answers: the REST JSON re-shaped into the proto messages ----

type StructValue =
  | { nullValue: 'NULL_VALUE' }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: { fields: Record<string, StructValue> } }
  | { listValue: { values: StructValue[] } };

// google.protobuf.Struct as protobufjs names its fields (its bundled struct.proto is camelCase).
function toValue(value: unknown): StructValue {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'bigint') return { stringValue: value.toString() };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  if (typeof value === 'object') return { structValue: toStruct(value as Record<string, unknown>) };
  return { nullValue: 'NULL_VALUE' };
}

function toStruct(value: Record<string, unknown>): { fields: Record<string, StructValue> } {
  return { fields: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toValue(v)])) };
}

function nextActionMessage(action: unknown): Record<string, unknown> | undefined {
  if (action === null || typeof action !== 'object') return undefined;
  const { action: sdkAction, data, ...rest } = action as Record<string, unknown>;
  return {
    ...rest,
    ...(sdkAction && typeof sdkAction === 'object' ? { action: toStruct(sdkAction as Record<string, unknown>) } : {}),
    ...(data && typeof data === 'object' ? { data: toStruct(data as Record<string, unknown>) } : {}),
  };
}

/** A refund as the proto's `Refund` (from {@link refundJson}: the REST values, `null` left unset). */
export function refundMessage(refund: Refund): Record<string, unknown> {
  const json = refundJson(refund);
  return { ...json, status: `REFUND_STATUS_${String(json.status)}` };
}

/** A payment as the proto's `Payment` (from {@link paymentJson}: the REST values, `null` left unset). */
export function paymentMessage(payment: Payment, refunds: readonly Refund[]): Record<string, unknown> {
  const json = paymentJson(payment);
  const customer = compact({ name: json.bill_name ?? undefined, email: json.bill_email ?? undefined, phone: json.bill_mobile ?? undefined });
  return {
    id: json.id,
    status: `PAYMENT_STATUS_${String(json.status)}`,
    amount: json.amount,
    amount_minor: json.amount_minor,
    currency: json.currency,
    gateway: json.gateway,
    gateway_reference: json.gateway_reference,
    order_id: json.order_id,
    payment_method: json.payment_method,
    capture_method: `CAPTURE_METHOD_${String(json.capture_method).toUpperCase()}`,
    amount_captured: json.amount_captured,
    amount_refunded: json.amount_refunded,
    description: json.description,
    ...(Object.keys(customer).length > 0 ? { customer } : {}),
    return_url: json.return_url,
    notify_url: json.notify_url,
    next_action: nextActionMessage(json.next_action),
    failure: json.failure,
    cancellation_requested_at: json.cancellation_requested_at,
    metadata: json.metadata,
    created_at: json.created_at,
    updated_at: json.updated_at,
    refunds: refunds.map(refundMessage),
  };
}

// ---- Calls ----

interface CallContext {
  merchantId: string;
  /** Engine options: merchant, idempotency key, replay flag. */
  requestOptions: RequestOptions;
}

/** The values of a metadata key as strings (one key may be sent several times). */
function metadataText(metadata: Metadata, key: string): string | undefined {
  const values = metadata.get(key);
  if (values.length === 0) return undefined;
  return values.map((v) => (typeof v === 'string' ? v : v.toString('utf8'))).join(',');
}

/** The client's address as grpc-js reports the peer (`ipv4:1.2.3.4:5678`, `[::1]:5678`), without the port. */
function peerIp(peer: string): string {
  const address = peer.replace(/^(ipv4|ipv6|unix):/, '');
  const bracketed = /^\[([^\]]+)\]/.exec(address);
  if (bracketed) return bracketed[1]!;
  const colon = address.lastIndexOf(':');
  return colon > 0 && address.indexOf(':') === colon ? address.slice(0, colon) : address;
}

/** A fixed-window limiter over an express-rate-limit store, failing open as the REST limiter does. */
function limiter(rule: RateLimitRule, store: RateLimitStore, logger: Logger): { hit(key: string): Promise<void>; close(): void } {
  const windowMs = rule.windowMs ?? 60_000;
  // The store's init takes express-rate-limit's options; only windowMs is read by the stores we pass.
  // It runs now (a MemoryStore counts nothing right before it), and a failing one fails open.
  const failed = (error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'grpc rate limit store did not start');
  try {
    void Promise.resolve(store.init?.({ windowMs } as Parameters<NonNullable<RateLimitStore['init']>>[0])).catch(failed);
  } catch (error) {
    failed(error);
  }
  return {
    async hit(key) {
      let totalHits: number;
      let resetTime: Date | undefined;
      try {
        ({ totalHits, resetTime } = await store.increment(key));
      } catch (error) {
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'grpc rate limit store failed; request let through');
        return;
      }
      if (totalHits > rule.limit) {
        const retryAfterSeconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(windowMs / 1000);
        throw new TenderError({ type: 'rate_limit_error', code: 'rate_limited', message: 'Too many requests; slow down', retryAfterSeconds });
      }
    },
    close() {
      void Promise.resolve(store.shutdown?.()).catch(() => undefined);
    },
  };
}

/** What {@link addPaymentService} returns. */
export interface PaymentServiceHandle {
  /** Releases the rate-limit stores (call once the server is shut down). */
  close(): void;
}

/**
 * Adds `tender.payments.v1.PaymentService` to a grpc-js server, over the given engine (the same
 * instance the REST API uses, so both see the same payments, keys and events).
 */
export function addPaymentService(server: Pick<Server, 'addService'>, tender: Tender, options: PaymentServiceOptions): PaymentServiceHandle {
  const logger = redactingLogger(options.logger ?? silentLogger);
  const metrics = options.metrics;
  const fixedMerchant = options.merchantId ?? 'default';
  const authenticate: (authorization: string | undefined) => Promise<Principal> =
    options.auth === false ? async () => ({ merchantId: fixedMerchant, scopes: ALL_SCOPES }) : typeof options.auth === 'function' ? options.auth : createTokenVerifier(options.auth);
  const limits = options.rateLimit ?? {};
  const storeFor = (prefix: string): RateLimitStore => limits.store?.(prefix) ?? new MemoryStore();
  const perIp = limits.perIp ? limiter(limits.perIp, storeFor('tender-grpc-ip:'), logger) : null;
  const perMerchant = limits.perMerchant ? limiter(limits.perMerchant, storeFor('tender-grpc-merchant:'), logger) : null;

  const unary =
    <Req>(method: Method, scope: Scope, handle: (request: Req, ctx: CallContext) => Promise<Record<string, unknown>>) =>
    (call: ServerUnaryCall<Req, unknown>, callback: sendUnaryData<unknown>): void => {
      const started = process.hrtime.bigint();
      let replayed = false;
      const finish = (code: Status) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const labels = { grpc_service: PAYMENT_SERVICE_NAME, grpc_method: method, grpc_code: Status[code] ?? 'UNKNOWN' };
        metrics?.grpcRequests.inc(labels);
        metrics?.grpcDuration.observe(labels, seconds);
        const line = { grpc_method: method, grpc_code: labels.grpc_code, duration_ms: Math.round(seconds * 10_000) / 10 };
        if (code === Status.INTERNAL || code === Status.UNKNOWN) logger.error(line, 'grpc call');
        else logger.info(line, 'grpc call');
      };
      void (async () => {
        // Same order as the REST API: rate limit by IP, authenticate, rate limit by merchant, scope,
        // then validation and the engine. A call refused early changes nothing.
        await perIp?.hit(`ip:${peerIp(call.getPeer())}`);
        let principal: Principal;
        try {
          principal = await authenticate(metadataText(call.metadata, 'authorization'));
        } catch (error) {
          metrics?.recordAuthFailure('grpc', error);
          throw error;
        }
        await perMerchant?.hit(`m:${principal.merchantId}`);
        try {
          requireScope(principal, scope);
        } catch (error) {
          metrics?.recordAuthFailure('grpc', error);
          throw error;
        }
        const key = metadataText(call.metadata, 'idempotency-key');
        const ctx: CallContext = {
          merchantId: principal.merchantId,
          requestOptions: { merchantId: principal.merchantId, ...(key !== undefined ? { idempotencyKey: key } : {}), onReplay: () => (replayed = true) },
        };
        return handle(call.request, ctx);
      })().then(
        (response) => {
          const trailers = new Metadata();
          if (replayed) {
            // As REST's Idempotent-Replayed header: in the response headers, and in the trailers for
            // clients that read only those.
            const headers = new Metadata();
            headers.set(IDEMPOTENT_REPLAYED, 'true');
            call.sendMetadata(headers);
            trailers.set(IDEMPOTENT_REPLAYED, 'true');
          }
          callback(null, response, trailers);
          finish(Status.OK);
        },
        (error: unknown) => {
          const tenderError = inProtoNames(asTenderError(error));
          const status = grpcStatusOf(tenderError);
          if (status.code === Status.INTERNAL || status.code === Status.UNKNOWN) {
            const cause = tenderError.cause ?? error;
            logger.error({ err: cause instanceof Error ? { message: cause.message, stack: cause.stack } : String(cause), grpc_method: method, code: tenderError.code }, 'grpc call failed');
          }
          callback(status);
          finish(status.code);
        },
      );
    };

  const withRefunds = async (payment: Payment, merchantId: string) => paymentMessage(payment, await tender.refunds.list(payment.id, { merchantId }));
  const create = async (body: Record<string, unknown>, ctx: CallContext) => {
    const input = createInputFromBody(validate(CreatePaymentBody, body));
    let gateway = input.gateway ?? 'auto';
    const payment = await timeOperation(metrics, 'create', () => gateway, async () => {
      const p = await tender.payments.create(input, ctx.requestOptions);
      gateway = p.gateway;
      return p;
    });
    return { payment: await withRefunds(payment, ctx.merchantId) };
  };

  const implementation: UntypedServiceImplementation = {
    CreatePayment: unary<CreatePaymentMessage>('CreatePayment', 'payments:write', (m, ctx) => create(createBody(m, captureMethodOf(m.capture_method)), ctx)),
    // Authorise only: a create whose capture is left to CapturePayment.
    AuthorizePayment: unary<CreatePaymentMessage>('AuthorizePayment', 'payments:write', (m, ctx) => create(createBody(m, 'manual'), ctx)),
    CapturePayment: unary<AmountMessage>('CapturePayment', 'payments:write', async (m, ctx) => {
      const id = paymentIdOf(m);
      const input = await captureInputFromBody(tender, id, ctx.merchantId, validate(CaptureBody, amountBody(m)));
      const payment = await timeOperation(metrics, 'capture', () => 'n/a', () => tender.payments.capture(id, input, ctx.requestOptions));
      return { payment: await withRefunds(payment, ctx.merchantId) };
    }),
    GetPayment: unary<{ payment_id?: string }>('GetPayment', 'payments:read', async (m, ctx) => {
      const payment = await tender.payments.get(paymentIdOf(m), { merchantId: ctx.merchantId });
      return { payment: await withRefunds(payment, ctx.merchantId) };
    }),
    RefundPayment: unary<RefundPaymentMessage>('RefundPayment', 'refunds:write', async (m, ctx) => {
      const id = paymentIdOf(m);
      const body = compact({ ...amountBody(m), reason: given(m.reason), metadata: m.metadata && Object.keys(m.metadata).length > 0 ? m.metadata : undefined });
      const input = await refundInputFromBody(tender, id, ctx.merchantId, validate(RefundBody, body));
      const refund = await timeOperation(metrics, 'refund', () => 'n/a', () => tender.payments.refund(id, input, ctx.requestOptions));
      return { refund: refundMessage(refund) };
    }),
    GetPaymentStatus: unary<{ payment_id?: string }>('GetPaymentStatus', 'payments:read', async (m, ctx) => {
      const payment = await tender.payments.sync(paymentIdOf(m), { merchantId: ctx.merchantId });
      return { payment: await withRefunds(payment, ctx.merchantId) };
    }),
  };
  const definition = loadPaymentServiceDefinition()[PAYMENT_SERVICE_NAME];
  if (!definition || !('CreatePayment' in definition)) throw new Error(`${PAYMENT_SERVICE_NAME} is missing from the proto`);
  server.addService(definition as Parameters<Server['addService']>[0], implementation);

  return {
    close() {
      perIp?.close();
      perMerchant?.close();
    },
  };
}
