/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the router validates with.
 *
 * @module
 */
import { z } from 'zod';
import {
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
// Registers the Event schema with the API's registry.
import './event-schemas';

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

type Examples = Record<string, { summary: string; value: Json }>;
// Request examples for the main bodies (the zod schemas carry none).
const CREATE_PAYMENT_EXAMPLES: Examples = {
  fpx: {
    summary: 'An FPX payment through Fiuu',
    value: { order_id: 'ORD-1001', amount: '25.00', currency: 'MYR', payment_method: 'FPX', bill_name: 'Aisyah Rahman', bill_email: 'aisyah@example.com', bill_description: 'Order ORD-1001', return_url: 'https://shop.example.com/orders/ORD-1001' },
  },
  manualCapture: { summary: 'A card payment to capture later', value: { order_id: 'ORD-1002', amount: '120.00', currency: 'MYR', gateway: 'stripe', payment_method: 'card', capture_method: 'manual' } },
  upiCollect: { summary: 'A UPI collect request in paise', value: { order_id: 'ORD-1003', amount_paisa: 49900, currency: 'INR', gateway: 'upi', payment_details: { vpa: 'payer@bank' } } },
};
const REFUND_EXAMPLES: Examples = {
  full: { summary: 'Refund everything not yet refunded', value: {} },
  partial: { summary: 'A partial refund with a reason', value: { amount: '5.00', reason: 'One item returned', metadata: { rma: 'RMA-77' } } },
};
const CAPTURE_EXAMPLES: Examples = { full: { summary: 'Capture the whole authorised amount', value: {} }, partial: { summary: 'Capture part of it', value: { amount: '80.00' } } };
const WEBHOOK_ENDPOINT_EXAMPLES: Examples = { payments: { summary: 'Payment and refund events', value: { url: 'https://shop.example.com/hooks/tender', events: ['payment.*', 'refund.succeeded'], description: 'Order service' } } };

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
const idempotencyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Makes the request idempotent (Stripe semantics); a replay carries Idempotent-Replayed: true',
  schema: { type: 'string', maxLength: 255 },
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

function op(operationId: string, summary: string, scope: string | null, extra: Json): Json {
  return { operationId, summary, ...(scope ? { security: [{ bearer: [scope] }] } : { security: [] }), ...extra };
}

/** Builds the document (every route of the router). */
export function buildOpenApiDocument(info: OpenApiInfo = {}): Json {
  const registry = z.toJSONSchema(apiSchemas, { io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Json> };
  const schemas: Record<string, Json> = {};
  for (const [id, s] of Object.entries(registry.schemas)) {
    const { $schema: _drop, $id: _id, ...rest } = s;
    schemas[id] = rest;
  }
  schemas.LiveEvent = LIVE_EVENT_SCHEMA;
  const paymentOut = { content: json(ref('Payment')) };
  const refundOut = { content: json(ref('Refund')) };
  const body = (id: string, required = true, examples?: Examples) => ({ required, content: { 'application/json': { schema: ref(id), ...(examples ? { examples } : {}) } } });
  const paymentAction = (operationId: string, summary: string, bodyId: string, examples?: Examples) =>
    op(operationId, summary, 'payments:write', {
      parameters: [idParam(), idempotencyHeader],
      requestBody: body(bodyId, false, examples),
      responses: { '200': { description: 'The payment', ...paymentOut }, ...ERRORS, '404': errorResponse('No such payment'), '409': errorResponse('Illegal state or key in flight'), '422': errorResponse('Idempotency key reused with another request') },
    });

  const paths: Record<string, Json> = {
    '/api/v1/payments': {
      post: op('createPayment', 'Create a payment', 'payments:write', {
        parameters: [idempotencyHeader],
        requestBody: body('CreatePayment', true, CREATE_PAYMENT_EXAMPLES),
        responses: { '201': { description: 'The payment (REQUIRES_ACTION carries next_action)', ...paymentOut }, ...ERRORS, '409': errorResponse('Key in flight'), '422': errorResponse('Idempotency key reused with another request'), '502': errorResponse('Gateway error') },
      }),
      get: op('listPayments', 'List payments (newest first, cursor pagination, order_id lookup)', 'payments:read', {
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
          '200': { description: 'Static configuration, or the open payment of the order again' },
          '201': { description: 'Seamless parameters of the payment it started' },
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
    '/api/v1/payments/{id}/capture': { post: paymentAction('capturePayment', 'Capture an authorised payment', 'CapturePayment', CAPTURE_EXAMPLES) },
    '/api/v1/payments/{id}/cancel': { post: paymentAction('cancelPayment', 'Cancel (void) a payment', 'CancelPayment') },
    '/api/v1/payments/{id}/refund': {
      post: op('refundPayment', 'Refund a captured payment', 'refunds:write', {
        parameters: [idParam(), idempotencyHeader],
        requestBody: body('RefundPayment', false, REFUND_EXAMPLES),
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
        responses: { '201': { description: '`payment_url` (upi://pay), `qr_code` (PNG data URL), `qr_svg`, `verifiable: false`' }, ...ERRORS, '404': errorResponse('Static links are not configured') },
      }),
    },
    '/api/v1/webhook-endpoints': {
      post: op('createWebhookEndpoint', 'Register a merchant webhook endpoint', 'payments:write', { requestBody: body('CreateWebhookEndpoint', true, WEBHOOK_ENDPOINT_EXAMPLES), responses: { '201': { description: 'The endpoint, with its secret', content: json(ref('WebhookEndpoint')) }, ...ERRORS } }),
      get: op('listWebhookEndpoints', 'List webhook endpoints', 'payments:read', { parameters: queryParameters(PageQuery), responses: { '200': { description: 'A page', content: json(inline(listOf(WebhookEndpointSchema))) }, ...ERRORS } }),
    },
    '/api/v1/webhook-endpoints/{id}': {
      get: op('getWebhookEndpoint', 'Retrieve a webhook endpoint', 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'The endpoint', content: json(ref('WebhookEndpoint')) }, ...ERRORS, '404': errorResponse('No such endpoint') } }),
      delete: op('deleteWebhookEndpoint', 'Delete a webhook endpoint', 'payments:write', { parameters: [idParam()], responses: { '200': { description: 'Deleted' }, ...ERRORS, '404': errorResponse('No such endpoint') } }),
    },
    '/api/v1/events/{id}': {
      get: op('getEvent', 'An event and its delivery state', 'payments:read', { parameters: [idParam()], responses: { '200': { description: 'The event (the document webhooks and brokers carry) with its delivery state', content: json(ref('Event')) }, ...ERRORS, '404': errorResponse('No such event') } }),
    },
    '/api/v1/events/{id}/redeliver': {
      post: op('redeliverEvent', 'Deliver an event again (after success or dead-lettering)', 'payments:write', { parameters: [idParam()], responses: { '202': { description: 'Queued' }, ...ERRORS, '404': errorResponse('No such event') } }),
    },
    '/health': { get: op('getHealth', 'Liveness', null, { responses: { '200': { description: 'The process is up' }, ...TRANSPORT_ERRORS } }) },
    '/ready': {
      get: op('getReadiness', 'Readiness: each dependency (database, Redis, event broker, gateway circuits) as JSON', null, {
        responses: {
          '200': { description: 'Ready (`status: ready`), or serving with an impaired dependency (`status: degraded`)' },
          '503': { description: 'Not ready: the database is unreachable or not migrated, or the server is shutting down' },
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

  return {
    openapi: '3.1.0',
    info: { title: info.title ?? 'Tender API', version: info.version ?? '1.0.0', description: 'Payments REST API of the Tender reference server.', license: { name: 'MIT', identifier: 'MIT' } },
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
