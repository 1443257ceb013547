/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the router validates with.
 *
 * @module
 */
import { z } from 'zod';
import {
  ListEventsQuery,
  ListPaymentsQuery,
  PageQuery,
  SeamlessConfigQuery,
  apiSchemas,
  listOf,
  PaymentSchema,
  RefundSchema,
  TransitionSchema,
  WebhookEndpointSchema,
} from './schemas';
import { BillingTransitionSchema, CancelSubscriptionQuery, InvoiceSchema, ListPaymentMethodsQuery, ListSubscriptionsQuery, PaymentMethodSchema, SubscriptionSchema, USER_ID_PATTERN } from './billing-schemas';
import { ERROR_CODES, errorExample, type ErrorCode } from './error-codes';
import { EventResourceSchema } from './event-schemas';
import { DisputeSchema, DisputeTransitionSchema, ListDisputesQuery, PaymentDisputesSchema } from './dispute-schemas';
import { settlementPaths } from './openapi-settlements';
import { analyticsPaths } from './openapi-analytics';
import { riskPaths } from './openapi-risk';
import { REQUEST_EXAMPLES, RESPONSE_EXAMPLES, type Examples } from './openapi-examples';

/** Title, version and servers of the document. */
export interface OpenApiInfo {
  title?: string;
  version?: string;
  servers?: Array<{ url: string; description?: string }>;
}

type Json = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const ERRORS = {
  '400': errorResponse('Invalid request'),
  '401': errorResponse('Missing or invalid token'),
  '403': errorResponse('Token lacks the scope'),
  '429': errorResponse('Rate limited'),
};
// The routes outside the authenticated API have no error of their own; Node's HTTP parser still refuses oversized headers before routing.
const TRANSPORT_ERRORS = { '431': { description: 'Request header fields too large (answered by the HTTP server before routing, without a JSON body)' } };

function inline(schema: z.ZodType): Json {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', metadata: apiSchemas } as Parameters<typeof z.toJSONSchema>[1]) as Json;
  delete out.$schema;
  // Named schemas are emitted once under components; point local $defs references there.
  delete out.$defs;
  return JSON.parse(JSON.stringify(out).replace(/"#\/\$defs\/([A-Za-z0-9_]+)"/g, '"#/components/schemas/$1"')) as Json;
}

function queryParameters(schema: z.ZodObject): Json[] {
  const shape = inline(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(shape.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: (shape.required ?? []).includes(name), schema: s }));
}

const idParam = (name = 'id') => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } });
const userIdParam = {
  name: 'user_id',
  in: 'path',
  required: true,
  description: "Your id for the user (the `user_id` given at creation); a user without records has empty lists",
  schema: { type: 'string', pattern: USER_ID_PATTERN.source },
};
const idempotencyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Makes the request idempotent (Stripe semantics); a replay carries Idempotent-Replayed: true',
  schema: { type: 'string', maxLength: 255 },
};

// The billing creates forward the key to the gateway (derived per operation) instead of storing an
// answer, so a retry acts once there and answers the record made; no Idempotent-Replayed header.
const billingIdempotencyHeader = {
  ...idempotencyHeader,
  description: 'Makes the request safe to retry: the gateway acts once for the key (forwarded, derived per operation) and the record it made is answered again',
};

// Live status (docs/live-status.md): the events of `GET /api/v1/payments/{id}/events` and `/ws`.
const LIVE_EVENT_SCHEMA: Json = {
  description:
    'One live status event. Over SSE: `id:` (omitted when null), `event:` (the type) and `data:` (the data as JSON). Over WebSocket: a text message `{ "type", "id", "data" }`.',
  type: 'object',
  required: ['type', 'id', 'data'],
  properties: {
    type: { type: 'string', enum: ['snapshot', 'payment.status', 'refund.status', 'end'] },
    id: { type: ['string', 'null'], description: 'The transition id, the resume point (Last-Event-ID / last_event_id). The snapshot carries the last transition id when it stands for the whole trail.' },
    data: {
      description: 'Its shape follows `type`.',
      anyOf: [
        { title: 'snapshot', type: 'object', required: ['payment'], properties: { payment: ref('Payment') } },
        {
          title: 'payment.status / refund.status',
          type: 'object',
          required: ['transition', 'payment'],
          properties: { transition: ref('Transition'), payment: ref('Payment'), refund: ref('Refund') },
        },
        { title: 'end', type: 'object', required: ['reason'], properties: { reason: { type: 'string', enum: ['max_duration', 'shutdown'] } } },
      ],
    },
  },
};
const liveParameters = [
  { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
  { name: 'Last-Event-ID', in: 'header', required: false, description: 'Resume after this event: every later transition is sent, then live ones (no snapshot). An id the trail does not hold gets the snapshot and the whole trail.', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
  { name: 'last_event_id', in: 'query', required: false, description: 'The same as Last-Event-ID, for clients that cannot send the header (WebSocket in browsers); the header wins when both are sent.', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
];
const LIVE_ERRORS = {
  '400': errorResponse('Malformed Last-Event-ID'),
  '401': errorResponse('Missing or invalid token'),
  '403': errorResponse('Token lacks payments:read'),
  '404': errorResponse('No such payment (another merchant\'s payment included)'),
  '429': errorResponse('Rate limited, or LIVE_MAX_CONNECTIONS_PER_MERCHANT connections already open (too_many_live_connections)'),
  '503': errorResponse('The server is shutting down; reconnect'),
};

// Shapes of the answers that have no zod schema of their own (so that their examples are checked too).
const CHECK_SCHEMA: Json = { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['healthy', 'degraded', 'unhealthy'] }, latency_ms: { type: 'number' }, error: { type: 'string' } } };
const READINESS_SCHEMA: Json = {
  type: 'object',
  required: ['status', 'timestamp', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'degraded', 'not_ready'] },
    shutting_down: { const: true },
    timestamp: { type: 'string' },
    checks: {
      type: 'object',
      required: ['database', 'gateways'],
      properties: {
        database: CHECK_SCHEMA,
        redis: CHECK_SCHEMA,
        event_broker: CHECK_SCHEMA,
        gateways: { type: 'object', additionalProperties: { ...CHECK_SCHEMA, required: ['status', 'circuit'], properties: { ...(CHECK_SCHEMA.properties as Json), circuit: { type: 'string', enum: ['closed', 'open', 'half_open'] } } } },
      },
    },
  },
};
const HEALTH_SCHEMA: Json = { type: 'object', required: ['status', 'uptime_seconds'], properties: { status: { const: 'ok' }, uptime_seconds: { type: 'integer' } } };
const DELETED_SCHEMA: Json = { type: 'object', required: ['id', 'object', 'deleted'], properties: { id: { type: 'string' }, object: { const: 'webhook_endpoint' }, deleted: { const: true } } };
const REDELIVERY_SCHEMA: Json = { type: 'object', required: ['id', 'object', 'delivery'], properties: { id: { type: 'string' }, object: { const: 'event' }, delivery: { type: 'object', required: ['status'], properties: { status: { const: 'pending' } } } } };
const STATIC_UPI_LINK_SCHEMA: Json = {
  type: 'object',
  required: ['object', 'payment_url', 'qr_code', 'qr_svg', 'verifiable', 'warning'],
  properties: { object: { const: 'upi_static_link' }, payment_url: { type: 'string' }, qr_code: { type: 'string' }, qr_svg: { type: 'string' }, verifiable: { const: false }, warning: { type: 'string' } },
};
const SEAMLESS_CONFIG_SCHEMA: Json = {
  description: "What Fiuu's seamless plugin reads: `status`, the `mps...` parameters, and (for a payment) `tender` with the hosted-payment form",
  type: 'object',
  required: ['status'],
  properties: {
    status: { const: true },
    gateway: { type: 'string' },
    tender: { type: 'object', required: ['paymentId', 'paymentUrl', 'fields'], properties: { paymentId: { type: 'string' }, paymentUrl: { type: 'string' }, fields: { type: 'object', additionalProperties: { type: 'string' } } } },
  },
  additionalProperties: true,
};

// The error codes each operation can answer (from its route module, the middleware of router.ts and
// the engine operation it calls); the table in error-codes.ts gives each its status and meaning.
const AUTH: ErrorCode[] = ['invalid_json', 'missing_token', 'invalid_token', 'token_expired', 'token_without_expiry', 'insufficient_scope', 'rate_limited', 'auth_unavailable'];
const BODY: ErrorCode[] = ['unknown_parameter', 'parameter_invalid', 'parameter_missing', 'body_too_large', 'unsupported_media_type'];
const PAGE: ErrorCode[] = ['parameter_invalid', 'invalid_limit', 'invalid_cursor'];
const IDEMPOTENCY: ErrorCode[] = ['idempotency_key_in_use', 'idempotency_key_reused'];
const GATEWAY: ErrorCode[] = ['gateway_server_error', 'gateway_invalid_response', 'circuit_open'];
const AMOUNT: ErrorCode[] = ['invalid_amount', 'amount_too_precise', 'amount_negative', 'amount_too_small', 'amount_too_large', 'ambiguous_amount'];
const CREATE: ErrorCode[] = [...AMOUNT, 'ambiguous_parameter', 'invalid_currency', 'invalid_email', 'invalid_vpa', 'invalid_metadata', 'invalid_capture_method', 'unknown_gateway', 'gateway_not_supported', 'parameter_unsupported', 'raw_card_data_not_allowed'];
// A payment for a user, charging a saved method (`user_id`, `payment_method: "spm_..."`, `off_session`, `confirm`).
const CREATE_FOR_USER: ErrorCode[] = ['invalid_user_id', 'invalid_boolean', 'resource_missing', 'saved_method_user_mismatch', 'saved_method_gateway_mismatch', 'saved_methods_not_supported'];
const LIVE: ErrorCode[] = [...AUTH, 'invalid_last_event_id', 'resource_missing', 'too_many_live_connections', 'shutting_down'];
/** A page of events: the list envelope every list answers, each item an `Event`. */
const EVENT_LIST_SCHEMA: Json = {
  type: 'object',
  required: ['object', 'data', 'has_more', 'next_cursor'],
  additionalProperties: false,
  properties: {
    object: { type: 'string', enum: ['list'] },
    data: { type: 'array', items: { $ref: '#/components/schemas/Event' } },
    has_more: { type: 'boolean' },
    next_cursor: { type: ['string', 'null'] },
  },
};
const READ: ErrorCode[] = [...AUTH, 'resource_missing'];
const USER_LIST: ErrorCode[] = [...AUTH, ...PAGE, 'invalid_user_id'];
// An unknown `gateway` is a 404 (resource_missing); a card the gateway refuses to save is a 402 with the gateway's code.
const CARD: ErrorCode[] = ['card_declined', 'authentication_required'];
// The risk checks of a create (FRAUD_RULES_CONFIG_PATH): a block, a bad signal, a velocity store that did not answer.
const RISK: ErrorCode[] = ['risk_blocked', 'invalid_risk_signal', 'risk_unavailable'];
const SAVE_METHOD: ErrorCode[] = [...AUTH, ...BODY, 'raw_card_data_not_allowed', 'resource_missing', 'customers_not_supported', 'saved_methods_not_supported', 'payment_method_in_use', 'payment_method_removed', 'idempotency_key_reused', ...CARD, ...GATEWAY];

/** Error codes by operationId. */
export const OPERATION_ERROR_CODES: Record<string, readonly ErrorCode[]> = {
  createPayment: [...AUTH, ...BODY, ...CREATE, ...CREATE_FOR_USER, 'merchant_mismatch', ...IDEMPOTENCY, ...GATEWAY, ...RISK],
  listPayments: [...AUTH, ...PAGE],
  getSeamlessConfig: [...AUTH, 'parameter_missing', ...CREATE, 'order_already_paid', 'payment_in_progress', ...IDEMPOTENCY, ...GATEWAY],
  getPayment: READ,
  getPaymentStatus: READ,
  capturePayment: [...READ, ...BODY, ...AMOUNT, 'capture_not_supported', 'partial_capture_not_supported', 'payment_not_capturable', 'illegal_transition', ...IDEMPOTENCY, ...GATEWAY],
  cancelPayment: [...READ, ...BODY, 'cancel_not_supported', 'payment_not_cancellable', 'illegal_transition', ...IDEMPOTENCY, ...GATEWAY],
  refundPayment: [...READ, ...BODY, ...AMOUNT, 'invalid_metadata', 'partial_refund_not_supported', 'payment_not_refundable', 'charge_already_refunded', 'illegal_transition', ...IDEMPOTENCY, ...GATEWAY],
  listPaymentRefunds: [...READ, ...PAGE],
  listPaymentTransitions: READ,
  streamPaymentEvents: LIVE,
  streamPaymentEventsWebSocket: [...LIVE, 'upgrade_required'],
  getRefund: READ,
  createRefund: [...AUTH, ...BODY, 'resource_missing', 'ambiguous_parameter', ...AMOUNT, 'invalid_metadata', 'partial_refund_not_supported', 'payment_not_refundable', 'charge_already_refunded', 'illegal_transition', ...IDEMPOTENCY, ...GATEWAY],
  listUserPayments: USER_LIST,
  authorizePayment: [...READ, ...BODY, 'payment_already_confirmed', 'saved_methods_not_supported', 'illegal_transition', ...IDEMPOTENCY, ...GATEWAY],
  savePaymentMethod: SAVE_METHOD,
  tokenizePaymentMethod: SAVE_METHOD,
  listPaymentMethods: USER_LIST,
  listUserPaymentMethods: USER_LIST,
  getPaymentMethod: READ,
  setDefaultPaymentMethod: [...READ, ...BODY, 'saved_methods_not_supported', 'customer_missing', ...GATEWAY],
  deletePaymentMethod: [...READ, 'saved_methods_not_supported', 'customer_missing', ...GATEWAY],
  createSubscription: [
    ...AUTH, ...BODY, 'raw_card_data_not_allowed', 'resource_missing', 'invalid_metadata', 'customers_not_supported', 'saved_methods_not_supported', 'subscriptions_not_supported',
    'payment_method_in_use', 'payment_method_removed', 'subscription_binding_conflict', 'idempotency_key_reused', ...CARD, ...GATEWAY,
  ],
  getSubscription: READ,
  listUserSubscriptions: USER_LIST,
  cancelSubscription: [...READ, ...BODY, 'ambiguous_parameter', 'subscriptions_not_supported', 'idempotency_key_reused', ...GATEWAY],
  listSubscriptionTransitions: READ,
  listSubscriptionInvoices: [...READ, ...PAGE],
  getInvoice: READ,
  listUserInvoices: USER_LIST,
  listInvoiceTransitions: READ,
  listDisputes: [...AUTH, ...PAGE],
  getDispute: READ,
  listDisputeTransitions: READ,
  listPaymentDisputes: READ,
  receiveGatewayWebhook: [
    'signature_mismatch', 'missing_signature_header', 'malformed_signature_header', 'timestamp_outside_tolerance', 'missing_header', 'stale_timestamp', 'cert_untrusted',
    'invalid_signature', 'missing_field', 'unknown_merchant', 'invalid_webhook_payload', 'invalid_webhook_body', 'resource_missing', 'unknown_payment', 'body_too_large', 'webhook_deferred',
  ],
  handleFiuuReturn: ['resource_missing', 'body_too_large'],
  createStaticUpiLink: [...AUTH, ...BODY, 'static_links_not_configured'],
  createWebhookEndpoint: [...AUTH, ...BODY, 'invalid_url', 'private_webhook_url'],
  createWebhook: [...AUTH, ...BODY, 'invalid_url', 'private_webhook_url'],
  listWebhookEndpoints: [...AUTH, ...PAGE],
  getWebhookEndpoint: READ,
  deleteWebhookEndpoint: READ,
  listEvents: [...AUTH, ...PAGE],
  getEvent: READ,
  redeliverEvent: READ,
  getMetrics: ['missing_token', 'invalid_metrics_token'],
  getPaymentAnalytics: [...AUTH, 'unknown_parameter', 'parameter_invalid', 'parameter_missing', 'merchant_mismatch', 'analytics_not_supported'],
  getSettlementReport: [...AUTH, 'unknown_parameter', 'parameter_invalid', 'parameter_missing', 'invalid_date', 'unknown_provider', 'settlements_not_supported', 'merchant_mismatch', ...GATEWAY],
  listRiskReviews: [...AUTH, ...PAGE, 'unknown_parameter', 'merchant_mismatch'],
  reviewPayment: [...READ, ...BODY, 'merchant_mismatch', 'payment_not_in_review', 'saved_methods_not_supported', ...IDEMPOTENCY, ...GATEWAY],
  reconcileSettlements: [...AUTH, ...BODY, 'invalid_date', 'unknown_provider', 'settlements_not_supported', 'merchant_mismatch', ...GATEWAY],
};

const STATUS_TITLES: Record<string, string> = {
  '400': 'Invalid request',
  '401': 'Missing or invalid token',
  '402': 'The gateway refused the card',
  '403': 'Not allowed',
  '404': 'Not found',
  '409': 'Conflict',
  '413': 'Body too large',
  '415': 'Unsupported media type',
  '422': 'Idempotency key reused with another request',
  '426': 'Upgrade required',
  '429': 'Rate limited',
  '502': 'Gateway error',
  '503': 'Unavailable; retry after Retry-After',
};

/**
 * Sets the error responses of an operation from its codes: per status, the codes and their meaning
 * in the description (after the one the route gave, if any) and one example body per code.
 */
function withErrorCodes(operation: Json, codes: readonly ErrorCode[]): void {
  const responses = operation.responses as Record<string, Json>;
  const byStatus = new Map<string, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = String(ERROR_CODES[code].status);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, list] of byStatus) {
    const title = (responses[status]?.description as string | undefined) ?? STATUS_TITLES[status] ?? 'Error';
    const examples: Examples = Object.fromEntries(list.map((code) => [code, { summary: ERROR_CODES[code].meaning, value: errorExample(code) }]));
    responses[status] = {
      description: `${title}. Codes:\n\n${list.map((code) => `- \`${code}\`: ${ERROR_CODES[code].meaning}`).join('\n')}`,
      content: { 'application/json': { schema: ref('Error'), examples } },
    };
  }
  // Statuses listed in numeric order.
  operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
}

/** Adds the examples of openapi-examples.ts to the operation's request body and success responses. */
function withExamples(operation: Json, operationId: string): void {
  const request = REQUEST_EXAMPLES[operationId];
  const media = (operation.requestBody as { content?: Record<string, Json> } | undefined)?.content?.['application/json'];
  if (request && media) media.examples = request;
  for (const [status, examples] of Object.entries(RESPONSE_EXAMPLES[operationId] ?? {})) {
    const response = (operation.responses as Record<string, { content?: Record<string, Json> }>)[status];
    const out = response?.content?.['application/json'];
    if (out) out.examples = examples;
  }
}

// Fiuu's return fields (Fiuu Online Payment API, "Payment Response" / return URL parameters).
const FIUU_RETURN_SCHEMA: Json = {
  type: 'object',
  properties: Object.fromEntries(['tranID', 'orderid', 'status', 'domain', 'amount', 'currency', 'appcode', 'paydate', 'channel', 'error_code', 'error_desc', 'skey'].map((k) => [k, { type: 'string' }])),
  additionalProperties: { type: 'string' },
};
const FIUU_RETURN_EXAMPLES: Examples = {
  paid: {
    summary: 'A successful FPX payment (status 00)',
    value: { tranID: '30918472', orderid: 'pay_7QmZ2xV9kR4tN1sA', status: '00', domain: 'tender_demo', amount: '25.00', currency: 'MYR', appcode: '', paydate: '2026-03-14 17:27:40', channel: 'fpx', skey: '9b1f2c7a4e6d8b0c3a5f7e9d1c2b4a68' },
  },
};

/** The first page of the REST reference (Redoc shows `info.description` first). */
export const API_DESCRIPTION = [
  'Payments REST API of the Tender reference server: payments, refunds, saved payment methods, subscriptions and invoices of your users, merchant webhooks.',
  '',
  '## Amounts: major units',
  '',
  'Every `amount` is in **major units** of its currency: `"amount": "100.50"` (or the JSON number `100.50`, read from its text, never through floating point) is 100.50.',
  'So `"amount": 1000` with `"currency": "USD"` is **1000.00 dollars** here, not the $10.00 it is in Stripe\'s own API, which counts cents.',
  'To give minor units, send `"amount_minor": 1000` instead (that is $10.00); `amount_paisa` is the same field under the UPI seed\'s name (paise for INR).',
  'Every money field takes either form: creating a payment, capturing it, refunding it (`POST /api/v1/payments/{id}/refund` and `POST /api/v1/refunds`). Two of them together are refused with 400 `ambiguous_amount`.',
  'Answers carry both: `amount` as a decimal string and `amount_minor` as an integer.',
  '',
  '## Authentication',
  '',
  '`Authorization: Bearer <JWT>`: `sub` is your merchant id, `scope` among `payments:read`, `payments:write` and `refunds:write`. A record of another merchant is answered 404, as an unknown one is. The admin routes (`/api/v1/admin/...`) take `admin:read` / `admin:write` for the token\'s own merchant; with `platform:admin` as well, a token may name any `merchant_id`, or none for every merchant.',
  '',
  '## Errors and retries',
  '',
  'Every failure is `{ "error": { "type", "code", "message", "param"? } }`; each operation lists its codes. `Idempotency-Key` on the POSTs that create or move money makes a retry safe.',
  '',
  '## Cards',
  '',
  'Card numbers never reach this server: collect them with the gateway\'s hosted fields (Stripe Elements, Fiuu seamless) and send the token they give (`payment_method: "pm_..."`). A body carrying card data is refused with 400 `raw_card_data_not_allowed`.',
].join('\n');

function op(operationId: string, summary: string, scope: string | null, extra: Json): Json {
  return { operationId, summary, ...(scope ? { security: [{ bearer: [scope] }] } : { security: [] }), ...extra };
}

/** Builds the document (every route of the router). */
export function buildOpenApiDocument(info: OpenApiInfo = {}): Json {
  // The Event schema registers itself when its module loads; naming it here keeps that module in
  // bundles, which drop a bare `import './event-schemas'` because the package is side-effect free.
  if (!apiSchemas.has(EventResourceSchema)) apiSchemas.add(EventResourceSchema, { id: 'Event' });
  const registry = z.toJSONSchema(apiSchemas, { io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Json> };
  const schemas: Record<string, Json> = {};
  for (const [id, s] of Object.entries(registry.schemas)) {
    const { $schema: _drop, $id: _id, ...rest } = s;
    schemas[id] = rest;
  }
  schemas.LiveEvent = LIVE_EVENT_SCHEMA;
  const paymentOut = { content: json(ref('Payment')) };
  const refundOut = { content: json(ref('Refund')) };
  const body = (id: string, required = true) => ({ required, content: { 'application/json': { schema: ref(id) } } });
  const paymentAction = (operationId: string, summary: string, bodyId: string) =>
    op(operationId, summary, 'payments:write', {
      parameters: [idParam(), idempotencyHeader],
      requestBody: body(bodyId, false),
      responses: { '200': { description: 'The payment', ...paymentOut }, ...ERRORS, '404': errorResponse('No such payment'), '409': errorResponse('Illegal state or key in flight'), '422': errorResponse('Idempotency key reused with another request') },
    });

  const paths: Record<string, Json> = {
    '/api/v1/payments': {
      post: op('createPayment', 'Create a payment', 'payments:write', {
        parameters: [idempotencyHeader],
        requestBody: body('CreatePayment', true),
        responses: { '201': { description: 'The payment (REQUIRES_ACTION carries next_action)', ...paymentOut }, ...ERRORS, '409': errorResponse('Key in flight'), '422': errorResponse('Idempotency key reused with another request'), '502': errorResponse('Gateway error') },
      }),
      get: op('listPayments', 'List payments (newest first, cursor pagination, order_id lookup, gateway and created_from/created_before filters)', 'payments:read', {
        parameters: queryParameters(ListPaymentsQuery),
        responses: { '200': { description: 'A page', content: json(inline(listOf(PaymentSchema))) }, ...ERRORS },
      }),
    },
    '/api/v1/payments/seamless/config': {
      get: op('getSeamlessConfig', 'Fiuu seamless configuration; with an amount, starts the Fiuu payment for the order', 'payments:read', {
        description:
          'Without `amount`: static browser configuration (scope payments:read). With `amount` (scope payments:write): the Fiuu payment of the order, answered as `{ status: true, mps...: ..., tender: { paymentId, paymentUrl, fields } }`. ' +
          'A browser reloads this GET, so it does not start a payment per call: the open payment of the order (status REQUIRES_ACTION, gateway fiuu, the same amount, currency and payment_method, whether this GET or `POST /api/v1/payments` made it) is answered again (200, its first customer details kept). ' +
          'Otherwise a payment is started (201) under an idempotency key derived from the merchant, order_id, amount, currency and payment_method plus the number of such payments that ended unpaid, so concurrent reloads make one payment between them and a new attempt follows a failed, cancelled, expired or refunded one. ' +
          'A payment of the order that is paid (AUTHORIZED, CAPTURED, PARTIALLY_REFUNDED) is a 409 `order_already_paid`, one under way (PROCESSING) a 409 `payment_in_progress`; neither starts another checkout. ' +
          '`order_id` is required with `amount`, unless an `Idempotency-Key` is sent (then that key alone decides).',
        parameters: [...queryParameters(SeamlessConfigQuery), idempotencyHeader],
        responses: {
          '200': { description: 'Static configuration, or the open payment of the order again', content: json(SEAMLESS_CONFIG_SCHEMA) },
          '201': { description: 'Seamless parameters of the payment it started', content: json(SEAMLESS_CONFIG_SCHEMA) },
          ...ERRORS,
          '409': errorResponse('The order is paid or its payment is under way (order_already_paid, payment_in_progress)'),
        },
      }),
    },
    '/api/v1/payments/{id}': {
      get: op('getPayment', 'Retrieve a payment', 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'The payment', ...paymentOut }, ...ERRORS, '404': errorResponse('No such payment') } }),
    },
    '/api/v1/payments/{id}/status': {
      get: op('getPaymentStatus', 'Retrieve a payment, first asking the gateway when it is open (PENDING, PROCESSING, REQUIRES_ACTION; at most every 2 s per payment)', 'payments:read', {
        parameters: [idParam()],
        responses: { '200': { description: 'The payment', ...paymentOut }, ...ERRORS, '404': errorResponse('No such payment') },
      }),
    },
    '/api/v1/payments/{id}/capture': { post: paymentAction('capturePayment', 'Capture an authorised payment', 'CapturePayment') },
    '/api/v1/payments/{id}/cancel': { post: paymentAction('cancelPayment', 'Cancel (void) a payment', 'CancelPayment') },
    '/api/v1/payments/{id}/refund': {
      post: op('refundPayment', 'Refund a captured payment', 'refunds:write', {
        parameters: [idParam(), idempotencyHeader],
        requestBody: body('RefundPayment', false),
        responses: { '201': { description: 'The refund', ...refundOut }, ...ERRORS, '404': errorResponse('No such payment'), '409': errorResponse('Not refundable'), '422': errorResponse('Idempotency key reused with another request') },
      }),
    },
    '/api/v1/payments/{id}/refunds': {
      get: op('listPaymentRefunds', "A payment's refunds", 'payments:read', { parameters: [idParam(), ...queryParameters(PageQuery)], responses: { '200': { description: 'A page', content: json(inline(listOf(RefundSchema))) }, ...ERRORS, '404': errorResponse('No such payment') } }),
    },
    '/api/v1/payments/{id}/transitions': {
      get: op('listPaymentTransitions', "A payment's audit trail", 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'Transitions, oldest first', content: json(inline(listOf(TransitionSchema))) }, ...ERRORS, '404': errorResponse('No such payment') } }),
    },
    '/api/v1/payments/{id}/events': {
      get: op('streamPaymentEvents', "A payment's live status as Server-Sent Events", 'payments:read', {
        description:
          'A `snapshot` event (the payment now), then one `payment.status` or `refund.status` event per transition of its audit trail as it is recorded, in trail order; `id:` is the transition id. ' +
          'Resume with `Last-Event-ID` (EventSource sends it when it reconnects) or `last_event_id`. A `: ping` comment every LIVE_HEARTBEAT_INTERVAL. The stream stays open while the client reads: no status is final (a late gateway report can still move it). ' +
          'It ends with an `end` event after LIVE_MAX_DURATION (`max_duration`) or on shutdown (`shutdown`); resume from the last id. Authenticate with the Authorization header (in a browser: fetch, not EventSource). See docs/live-status.md.',
        parameters: liveParameters,
        responses: {
          '200': { description: 'The event stream (see the LiveEvent schema for each event)', content: { 'text/event-stream': { schema: { type: 'string' }, 'x-event-schema': ref('LiveEvent') } } },
          ...LIVE_ERRORS,
        },
      }),
    },
    '/api/v1/payments/{id}/ws': {
      get: op('streamPaymentEventsWebSocket', "A payment's live status over WebSocket (RFC 6455)", 'payments:read', {
        description:
          'The same events as `/events`, each a JSON text message `{ "type", "id", "data" }` (the LiveEvent schema). Resume with `last_event_id`. The server pings every LIVE_HEARTBEAT_INTERVAL and drops a peer that has not answered by the next ping. ' +
          'A browser authenticates by offering the subprotocols `bearer` and the token (`new WebSocket(url, ["bearer", token])`); the server selects `bearer`. Closes with 1000 (`max_duration`) or 1001 (`shutdown`). Refusals are HTTP answers to the handshake.',
        parameters: [...liveParameters, { name: 'Sec-WebSocket-Protocol', in: 'header', required: false, description: '`bearer, <token>` where the Authorization header cannot be sent', schema: { type: 'string' } }],
        responses: {
          '101': { description: 'Switching Protocols: the WebSocket is open' },
          ...LIVE_ERRORS,
          '426': errorResponse('Not a WebSocket handshake (upgrade_required)'),
        },
      }),
    },
    '/api/v1/users/{user_id}/payments': {
      get: op('listUserPayments', "A user's payments (the query and pages of GET /api/v1/payments, of the payments made with this user_id)", 'payments:read', {
        parameters: [userIdParam, ...queryParameters(ListPaymentsQuery)],
        responses: { '200': { description: 'A page', content: json(inline(listOf(PaymentSchema))) }, ...ERRORS },
      }),
    },
    '/api/v1/payments/{id}/authorize': {
      post: op('authorizePayment', 'Send a payment created with `confirm: false` to its gateway (two-step authorize)', 'payments:write', {
        description:
          'A payment created with `"confirm": false` is stored PENDING without reaching the gateway. This sends it, as the create would have: the answer is the payment after the gateway\'s answer (AUTHORIZED for `capture_method: manual`, CAPTURED, REQUIRES_ACTION with `next_action`, or FAILED). With an `Idempotency-Key`, a retry sends it once.',
        parameters: [idParam(), idempotencyHeader],
        requestBody: body('AuthorizePayment', false),
        responses: { '200': { description: 'The payment', ...paymentOut }, ...ERRORS, '404': errorResponse('No such payment'), '409': errorResponse('Not PENDING, or key in flight'), '422': errorResponse('Idempotency key reused with another request') },
      }),
    },
    '/api/v1/refunds': {
      post: op('createRefund', 'Refund a captured payment named in the body (`transaction_id`)', 'refunds:write', {
        description: 'The same refund as `POST /api/v1/payments/{id}/refund`, with the payment named by `transaction_id` (or `payment_id`): the same body otherwise, the same answer and status.',
        parameters: [idempotencyHeader],
        requestBody: body('CreateRefund', true),
        responses: { '201': { description: 'The refund', ...refundOut }, ...ERRORS, '404': errorResponse('No such payment'), '409': errorResponse('Not refundable'), '422': errorResponse('Idempotency key reused with another request') },
      }),
    },
    '/api/v1/payment-methods': {
      post: op('savePaymentMethod', "Save a gateway token (Stripe `pm_...`) for a user's later payments and subscriptions", 'payments:write', {
        description:
          "Attaches the token the browser got from the gateway's hosted fields to the user's customer at the gateway (created on first use) for later, merchant-initiated charges. Saving a token already saved answers the saved method. The user's first method is their default. Card data in the body is refused (400 `raw_card_data_not_allowed`).",
        parameters: [billingIdempotencyHeader],
        requestBody: body('SavePaymentMethod', true),
        responses: { '201': { description: 'The saved method', content: json(ref('PaymentMethod')) }, ...ERRORS, '502': errorResponse('Gateway error') },
      }),
      get: op('listPaymentMethods', "Your users' saved payment methods (newest first; `user_id` narrows to one user)", 'payments:read', {
        parameters: queryParameters(ListPaymentMethodsQuery),
        responses: { '200': { description: 'A page', content: json(inline(listOf(PaymentMethodSchema))) }, ...ERRORS },
      }),
    },
    '/api/v1/payment-methods/tokenize': {
      post: op('tokenizePaymentMethod', 'Seed 001\'s name for saving a payment method: takes a gateway token, never card data', 'payments:write', {
        description:
          "Card numbers are never accepted: a body carrying card data (`details.card_number`, `cvv`, `expiry_month`... anywhere in it, or a value shaped like a card number) is refused with 400 `raw_card_data_not_allowed`, without echoing any of it, and nothing is logged or stored. Collect the card with the gateway's hosted fields (Stripe Elements, Fiuu seamless) and send the token they give: the body and answer are then those of `POST /api/v1/payment-methods`.",
        parameters: [billingIdempotencyHeader],
        requestBody: body('SavePaymentMethod', true),
        responses: { '201': { description: 'The saved method', content: json(ref('PaymentMethod')) }, ...ERRORS, '502': errorResponse('Gateway error') },
      }),
    },
    '/api/v1/payment-methods/{id}': {
      get: op('getPaymentMethod', 'Retrieve a saved payment method', 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'The method', content: json(ref('PaymentMethod')) }, ...ERRORS, '404': errorResponse('No such payment method (removed ones included)') } }),
      delete: op('deletePaymentMethod', 'Remove a saved payment method (detached at the gateway; it can no longer be charged)', 'payments:write', {
        parameters: [idParam()],
        responses: { '200': { description: 'The removed method (`deleted: true`)', content: json(ref('PaymentMethod')) }, ...ERRORS, '404': errorResponse('No such payment method') },
      }),
    },
    '/api/v1/payment-methods/{id}/default': {
      post: op('setDefaultPaymentMethod', "Make a saved method its user's default (here and at the gateway)", 'payments:write', {
        parameters: [idParam()],
        requestBody: body('NoFields', false),
        responses: { '200': { description: 'The method, now the default', content: json(ref('PaymentMethod')) }, ...ERRORS, '404': errorResponse('No such payment method') },
      }),
    },
    '/api/v1/users/{user_id}/payment-methods': {
      get: op('listUserPaymentMethods', "A user's saved payment methods (newest first)", 'payments:read', {
        parameters: [userIdParam, ...queryParameters(PageQuery)],
        responses: { '200': { description: 'A page', content: json(inline(listOf(PaymentMethodSchema))) }, ...ERRORS },
      }),
    },
    '/api/v1/subscriptions': {
      post: op('createSubscription', "Start a subscription to a gateway price for a user (Stripe Billing runs it)", 'payments:write', {
        description:
          "The gateway's billing engine bills it: the price's amount, currency and interval, `trial_days` free days first. `payment_method` is a saved method (`spm_...`) or a gateway token (saved first); absent, the user's default saved method. Tender mirrors the subscription and its invoices from the gateway's webhooks (`subscription.*`, `invoice.*` events).",
        parameters: [billingIdempotencyHeader],
        requestBody: body('CreateSubscription', true),
        responses: { '201': { description: 'The subscription (trialing, active, or incomplete when the first payment needs the customer)', content: json(ref('Subscription')) }, ...ERRORS, '404': errorResponse('No such saved payment method or gateway'), '409': errorResponse('The method is another user\'s or was removed'), '502': errorResponse('Gateway error') },
      }),
    },
    '/api/v1/subscriptions/{id}': {
      get: op('getSubscription', 'Retrieve a subscription', 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'The subscription', content: json(ref('Subscription')) }, ...ERRORS, '404': errorResponse('No such subscription') } }),
      delete: op('cancelSubscription', 'Cancel a subscription now, or at the end of its current period (`at_period_end=true`)', 'payments:write', {
        parameters: [idParam(), ...queryParameters(CancelSubscriptionQuery)],
        requestBody: body('CancelSubscription', false),
        responses: { '200': { description: 'The subscription after the cancel (canceled, or cancel_at_period_end: true)', content: json(ref('Subscription')) }, ...ERRORS, '404': errorResponse('No such subscription') },
      }),
    },
    '/api/v1/subscriptions/{id}/transitions': {
      get: op('listSubscriptionTransitions', "A subscription's audit trail (its statuses as the gateway reported them)", 'payments:read', {
        parameters: [idParam()],
        responses: { '200': { description: 'Transitions, oldest first', content: json(inline(listOf(BillingTransitionSchema))) }, ...ERRORS, '404': errorResponse('No such subscription') },
      }),
    },
    '/api/v1/subscriptions/{id}/invoices': {
      get: op('listSubscriptionInvoices', "A subscription's invoices (newest first)", 'payments:read', {
        parameters: [idParam(), ...queryParameters(PageQuery)],
        responses: { '200': { description: 'A page', content: json(inline(listOf(InvoiceSchema))) }, ...ERRORS, '404': errorResponse('No such subscription') },
      }),
    },
    '/api/v1/users/{user_id}/subscriptions': {
      get: op('listUserSubscriptions', "A user's subscriptions (newest first; `status` narrows)", 'payments:read', {
        parameters: [userIdParam, ...queryParameters(ListSubscriptionsQuery)],
        responses: { '200': { description: 'A page', content: json(inline(listOf(SubscriptionSchema))) }, ...ERRORS },
      }),
    },
    '/api/v1/invoices/{id}': {
      get: op('getInvoice', 'Retrieve an invoice', 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'The invoice', content: json(ref('Invoice')) }, ...ERRORS, '404': errorResponse('No such invoice') } }),
    },
    '/api/v1/invoices/{id}/transitions': {
      get: op('listInvoiceTransitions', "An invoice's audit trail", 'payments:read', {
        parameters: [idParam()],
        responses: { '200': { description: 'Transitions, oldest first', content: json(inline(listOf(BillingTransitionSchema))) }, ...ERRORS, '404': errorResponse('No such invoice') },
      }),
    },
    '/api/v1/users/{user_id}/invoices': {
      get: op('listUserInvoices', "A user's invoices (newest first)", 'payments:read', {
        parameters: [userIdParam, ...queryParameters(PageQuery)],
        responses: { '200': { description: 'A page', content: json(inline(listOf(InvoiceSchema))) }, ...ERRORS },
      }),
    },
    '/api/v1/disputes': {
      get: op('listDisputes', 'Disputes of your payments (newest opened first; `status` and `payment_id` narrow)', 'payments:read', {
        description:
          "Chargebacks and inquiries recorded from the gateways' signed webhooks (Stripe `charge.dispute.*`, PayPal `CUSTOMER.DISPUTE.*`, Razorpay `payment.dispute.*`). A dispute never changes its payment's status: the payment stays `CAPTURED`, and a `lost` or `accepted` dispute says its `amount` is gone. Published as `dispute.created`, `dispute.updated` and `dispute.closed` events.",
        parameters: queryParameters(ListDisputesQuery),
        responses: { '200': { description: 'A page', content: json(inline(listOf(DisputeSchema))) }, ...ERRORS },
      }),
    },
    '/api/v1/disputes/{id}': {
      get: op('getDispute', 'Retrieve a dispute', 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'The dispute', content: json(ref('Dispute')) }, ...ERRORS, '404': errorResponse('No such dispute') } }),
    },
    '/api/v1/disputes/{id}/transitions': {
      get: op('listDisputeTransitions', "A dispute's audit trail (its statuses as the gateway reported them)", 'payments:read', {
        parameters: [idParam()],
        responses: { '200': { description: 'Transitions, oldest first', content: json(inline(listOf(DisputeTransitionSchema))) }, ...ERRORS, '404': errorResponse('No such dispute') },
      }),
    },
    '/api/v1/payments/{id}/disputes': {
      get: op('listPaymentDisputes', "A payment's disputes, and the amount they hold or took", 'payments:read', {
        parameters: [idParam()],
        responses: { '200': { description: 'The disputes, newest opened first', content: json(inline(PaymentDisputesSchema)) }, ...ERRORS, '404': errorResponse('No such payment') },
      }),
    },
    '/api/v1/refunds/{id}': {
      get: op('getRefund', 'Retrieve a refund', 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'The refund', ...refundOut }, ...ERRORS, '404': errorResponse('No such refund') } }),
    },
    '/api/v1/webhooks/{gateway}': {
      post: op('receiveGatewayWebhook', 'Inbound gateway webhook (fiuu, stripe, paypal, upi); authenticated by its signature', null, {
        parameters: [{ name: 'gateway', in: 'path', required: true, schema: { type: 'string', enum: ['fiuu', 'stripe', 'paypal', 'upi'] } }],
        requestBody: { required: true, description: 'The raw body exactly as the gateway sent it', content: { '*/*': { schema: { type: 'string' } } } },
        responses: { '200': { description: 'The acknowledgement the gateway expects (duplicates included)' }, '400': errorResponse('Bad signature or body'), '404': errorResponse('Unknown gateway') },
      }),
    },
    '/api/v1/payments/fiuu/return': {
      post: op('handleFiuuReturn', "Fiuu's return URL: renders the page that reports the result to the checkout page", null, {
        requestBody: {
          required: false,
          description: "The fields Fiuu posts with the customer's browser (also taken as the query string of a GET); `skey` authenticates them",
          content: { 'application/x-www-form-urlencoded': { schema: FIUU_RETURN_SCHEMA, examples: FIUU_RETURN_EXAMPLES } },
        },
        responses: {
          '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
          '404': errorResponse('Fiuu is not configured'),
          '413': errorResponse('Body over 1 MB'),
        },
      }),
    },
    '/api/v1/upi/static-links': {
      post: op('createStaticUpiLink', 'A static UPI link and QR code paying the merchant\'s own VPA (UPI_MERCHANT_VPA) with no PSP: unverifiable, no payment is recorded', 'payments:write', {
        requestBody: body('CreateStaticUpiLink', false),
        responses: { '201': { description: '`payment_url` (upi://pay), `qr_code` (PNG data URL), `qr_svg`, `verifiable: false`', content: json(STATIC_UPI_LINK_SCHEMA) }, ...ERRORS, '404': errorResponse('Static links are not configured') },
      }),
    },
    '/api/v1/webhook-endpoints': {
      post: op('createWebhookEndpoint', 'Register a merchant webhook endpoint', 'payments:write', { requestBody: body('CreateWebhookEndpoint', true), responses: { '201': { description: 'The endpoint, with its secret', content: json(ref('WebhookEndpoint')) }, ...ERRORS } }),
      get: op('listWebhookEndpoints', 'List webhook endpoints', 'payments:read', { parameters: queryParameters(PageQuery), responses: { '200': { description: 'A page', content: json(inline(listOf(WebhookEndpointSchema))) }, ...ERRORS } }),
    },
    '/api/v1/webhooks': {
      post: op('createWebhook', 'Register a merchant webhook endpoint (seed 001\'s name for `POST /api/v1/webhook-endpoints`)', 'payments:write', {
        requestBody: body('CreateWebhookEndpoint', true),
        responses: { '201': { description: 'The endpoint, with its secret', content: json(ref('WebhookEndpoint')) }, ...ERRORS },
      }),
    },
    '/api/v1/webhook-endpoints/{id}': {
      get: op('getWebhookEndpoint', 'Retrieve a webhook endpoint', 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'The endpoint', content: json(ref('WebhookEndpoint')) }, ...ERRORS, '404': errorResponse('No such endpoint') } }),
      delete: op('deleteWebhookEndpoint', 'Delete a webhook endpoint', 'payments:write', { parameters: [idParam()], responses: { '200': { description: 'Deleted', content: json(DELETED_SCHEMA) }, ...ERRORS, '404': errorResponse('No such endpoint') } }),
    },
    '/api/v1/events': {
      get: op('listEvents', "List the merchant's events with their delivery state (newest first, cursor pagination)", 'payments:read', {
        parameters: queryParameters(ListEventsQuery),
        responses: { '200': { description: 'A page of events, each as GET /events/{id} answers it', content: json(EVENT_LIST_SCHEMA) }, ...ERRORS },
      }),
    },
    '/api/v1/events/{id}': {
      get: op('getEvent', 'An event and its delivery state', 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'The event (the document webhooks and brokers carry) with its delivery state', content: json(ref('Event')) }, ...ERRORS, '404': errorResponse('No such event') } }),
    },
    '/api/v1/events/{id}/redeliver': {
      post: op('redeliverEvent', 'Deliver an event again (after success or dead-lettering)', 'payments:write', { parameters: [idParam()], responses: { '202': { description: 'Queued', content: json(REDELIVERY_SCHEMA) }, ...ERRORS, '404': errorResponse('No such event') } }),
    },
    ...settlementPaths(),
    ...analyticsPaths(),
    ...riskPaths(),
    '/health': { get: op('getHealth', 'Liveness', null, { responses: { '200': { description: 'The process is up', content: json(HEALTH_SCHEMA) }, ...TRANSPORT_ERRORS } }) },
    '/ready': {
      get: op('getReadiness', 'Readiness: each dependency (database, Redis, event broker, gateway circuits) as JSON', null, {
        responses: {
          '200': { description: 'Ready (`status: ready`), or serving with an impaired dependency (`status: degraded`)', content: json(READINESS_SCHEMA) },
          '503': { description: 'Not ready: the database is unreachable or not migrated, or the server is shutting down', content: json(READINESS_SCHEMA) },
          ...TRANSPORT_ERRORS,
        },
      }),
    },
    '/metrics': {
      get: op('getMetrics', 'Prometheus metrics', null, {
        description:
          'Business volumes (payments by method, status and currency) and operational metrics, tender_reconcile_errors_total included. With METRICS_TOKEN set, a scrape sends `Authorization: Bearer <METRICS_TOKEN>` (else 401); with METRICS_PORT set, it is served on that separate listener and not on this port.',
        responses: { '200': { description: 'Text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': errorResponse('METRICS_TOKEN is set and the scrape did not send it') },
      }),
    },
    '/openapi.json': { get: op('getOpenApiDocument', 'This document', null, { responses: { '200': { description: 'OpenAPI 3.1' }, ...TRANSPORT_ERRORS } }) },
  };

  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item) as Json[]) {
      const operationId = operation.operationId as string;
      withErrorCodes(operation, OPERATION_ERROR_CODES[operationId] ?? []);
      withExamples(operation, operationId);
    }
  }

  return {
    openapi: '3.1.0',
    info: { title: info.title ?? 'Tender API', version: info.version ?? '1.0.0', description: API_DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
    // Relative to where the document is served when the public URL is not known.
    servers: info.servers ?? [{ url: '/', description: 'The server serving this document' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'sub = merchant id; scope among payments:read payments:write refunds:write' } },
    },
  };
}
