/**
 * Configuration of the standalone server, read from the environment and validated by zod. A bad
 * variable is reported by name with what is wrong; values of secret variables are never echoed.
 *
 * @module
 */
import { EncryptionKeyError, UPI_VPA, parseDurationMs, parseEncryptionKey, parseEncryptionKeys, type EncryptionKey } from '@tender/core';
import { z } from 'zod';

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''].includes(v), 'must be true or false')
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
const duration = z
  .string()
  .trim()
  .refine((v) => {
    try {
      parseDurationMs(v);
      return true;
    } catch {
      return false;
    }
  }, "must be a duration such as '30s' or '500ms'")
  .transform((v) => parseDurationMs(v));
const url = z.string().trim().url('must be a URL');
const httpUrl = url.refine((v) => /^https?:/i.test(v), 'must be an http(s) URL');
const optionalText = z.string().trim().min(1).optional();
const positiveInt = (name: string) => z.coerce.number({ error: `${name} must be a number` }).int('must be a whole number').positive('must be positive');

const GATEWAY_IDS = ['fiuu', 'stripe', 'paypal', 'upi'] as const;
const RoutingRulesSchema = z
  .array(
    z
      .object({
        currencies: z.array(z.string().regex(/^[A-Z]{3}$/, 'currencies are ISO 4217 codes such as USD')).min(1).optional(),
        paymentMethods: z.array(z.string().min(1).max(64)).min(1).optional(),
        gateways: z.array(z.enum(GATEWAY_IDS, { error: `gateways are among ${GATEWAY_IDS.join(', ')}` })).min(1, 'a rule names at least one gateway'),
      })
      .strict(),
  )
  .max(100);

/** The environment variables the server reads (documented in the package README's table). */
export const EnvSchema = z.object({
  PORT: z.coerce.number().int('must be a whole number').min(0).max(65535, 'must be a port number (0-65535)').default(8080),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** Public base URL gateways and browsers reach this server at (default http://HOST:PORT). */
  PUBLIC_URL: httpUrl.optional(),
  DATABASE_URL: z.string().trim().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  /**
   * Postgres connections the server keeps. More than the database has cores to run them makes each
   * statement dearer (measured on 2 cores: 10 connections served 15% more payments than 32).
   */
  DATABASE_POOL_MAX: positiveInt('DATABASE_POOL_MAX').default(10),
  DATABASE_SCHEMA: z.string().trim().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier').optional(),
  /** Directory of the embedded PGlite database, used when DATABASE_URL is unset. */
  TENDER_DATA_DIR: z.string().trim().min(1).default('./.tender-data'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters (HS256)').optional(),
  JWT_JWKS_URL: httpUrl.optional(),
  /** Required `iss` claim of bearer tokens, when set. */
  JWT_ISSUER: optionalText,
  /** Required `aud` claim of bearer tokens, when set. */
  JWT_AUDIENCE: optionalText,
  /** Longest accepted token lifetime in seconds (exp - iat); tokens without exp are always refused. */
  JWT_MAX_LIFETIME_SECONDS: positiveInt('JWT_MAX_LIFETIME_SECONDS').default(24 * 3600),
  FIUU_MERCHANT_ID: optionalText,
  FIUU_VERIFY_KEY: optionalText,
  FIUU_SECRET_KEY: optionalText,
  FIUU_SANDBOX: bool.optional(),
  FIUU_BASE_URL: httpUrl.optional(),
  FIUU_API_URL: httpUrl.optional(),
  FIUU_TIMEOUT: duration.optional(),
  FIUU_RETRY_ATTEMPTS: positiveInt('FIUU_RETRY_ATTEMPTS').optional(),
  FIUU_RETRY_DELAY: duration.optional(),
  STRIPE_SECRET_KEY: optionalText,
  STRIPE_WEBHOOK_SECRET: optionalText,
  STRIPE_BASE_URL: httpUrl.optional(),
  PAYPAL_CLIENT_ID: optionalText,
  PAYPAL_CLIENT_SECRET: optionalText,
  PAYPAL_WEBHOOK_ID: optionalText,
  /** PayPal environment (default `sandbox`, as PayPal's own SDKs default): `live` moves real money. */
  PAYPAL_MODE: z.enum(['sandbox', 'live']).default('sandbox'),
  PAYPAL_BASE_URL: httpUrl.optional(),
  /** How PayPal webhooks are verified: `offline` (the certificate, no call) or `online` (PayPal's verify API). */
  PAYPAL_WEBHOOK_VERIFICATION: z.enum(['offline', 'online']).default('offline'),
  /** The UPI provider (the PSP that takes UPI payments): only `razorpay` today. */
  UPI_PROVIDER: z.enum(['razorpay']).default('razorpay'),
  RAZORPAY_KEY_ID: optionalText,
  RAZORPAY_KEY_SECRET: optionalText,
  RAZORPAY_WEBHOOK_SECRET: optionalText,
  /** The webhook secret being replaced, accepted too while a rotation is under way. */
  RAZORPAY_PREVIOUS_WEBHOOK_SECRET: optionalText,
  UPI_BASE_URL: httpUrl.optional(),
  /**
   * Razorpay requires the payer's e-mail, phone and IP on every S2S UPI payment. These are sent when
   * the request has none (`bill_email`, `bill_mobile`, `metadata.customer_ip`); unset, such a request
   * is a 400 naming the missing field.
   */
  UPI_DEFAULT_EMAIL: z.string().trim().email('must be an e-mail address').optional(),
  UPI_DEFAULT_CONTACT: z.string().trim().regex(/^\+?[0-9 ()-]{5,32}$/, 'must be a phone number').optional(),
  UPI_DEFAULT_IP: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IP address' }).optional(),
  /**
   * The merchant's own VPA and name for static UPI links (`POST /api/v1/upi/static-links`): links and
   * QR codes that pay this VPA directly, with no PSP, so nothing can confirm them. Set both or neither.
   */
  UPI_MERCHANT_VPA: z.string().trim().regex(UPI_VPA, 'must be a UPI address such as shop@okbank').optional(),
  UPI_MERCHANT_NAME: z.string().trim().min(1).max(99).optional(),
  /** How long a UPI intent or collect request stays payable: whole minutes from 1 to 60 (default 15m). */
  UPI_EXPIRY: duration
    .refine((ms) => ms % 60_000 === 0 && ms >= 60_000 && ms <= 3_600_000, 'must be whole minutes from 1m to 60m')
    .default(15 * 60_000),
  /**
   * Routing rules as JSON: `[{"currencies":["USD"],"paymentMethods":["card"],"gateways":["stripe","paypal"]}]`.
   * The first matching rule orders the gateways; the engine fails over along them while a request
   * certainly never left (circuit open). Default: every configured gateway, filtered by what it accepts.
   */
  GATEWAY_ROUTING: z
    .string()
    .trim()
    .transform((v, ctx) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array of rules' });
        return z.NEVER;
      }
      const rules = RoutingRulesSchema.safeParse(parsed);
      if (!rules.success) {
        ctx.addIssue({ code: 'custom', message: `must be a JSON array of {currencies?, paymentMethods?, gateways} rules (${rules.error.issues[0]?.message ?? 'invalid'})` });
        return z.NEVER;
      }
      return rules.data;
    })
    .optional(),
  REDIS_URL: z.string().trim().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  /**
   * The risk rules file (JSON, or YAML for any other extension; see docs/risk.md), checked at start:
   * a missing or invalid file stops the server naming the bad field. SIGHUP reads it again (an
   * invalid file is logged and the rules in force are kept). Unset, with FRAUD_ML_API_URL unset too:
   * no risk checks. Velocity is counted in Redis when REDIS_URL is set, else in the database.
   */
  FRAUD_RULES_CONFIG_PATH: z.string().trim().min(1).optional(),
  /** An external fraud scorer: each create's features are POSTed as JSON and `{ "score": n }` is read (docs/risk.md). */
  FRAUD_ML_API_URL: httpUrl.optional(),
  /** Time the scorer may take per payment, in milliseconds (never retried). */
  FRAUD_ML_TIMEOUT_MS: positiveInt('FRAUD_ML_TIMEOUT_MS').max(60_000, 'must be at most 60000').default(500),
  /** When the scorer does not answer: `open` (score 0, go on), `closed` (hold for review) or `block`. */
  FRAUD_ML_FAIL_MODE: z.enum(['open', 'closed', 'block'], { error: 'must be open, closed or block' }).default('open'),
  /** The cap of a payment's risk score (the rules file's `max_score` wins when it sets one). */
  MAX_FRAUD_SCORE: positiveInt('MAX_FRAUD_SCORE').max(1_000_000, 'must be at most 1000000').default(100),
  /** Score from which a payment is blocked (402 `risk_blocked`; the rules file's `block_threshold` wins). */
  BLOCK_THRESHOLD: z.coerce.number({ error: 'BLOCK_THRESHOLD must be a number' }).int('must be a whole number').min(0, 'must be >= 0').default(80),
  /**
   * Broker the outbox relay publishes payment events to: `nats://host:4222` (JetStream) or
   * `amqp://user:pass@host:5672` (RabbitMQ). Unset: no relay (merchant webhooks still run).
   */
  EVENT_BROKER_URL: z.string().trim().regex(/^(nats|amqps?):\/\/\S+$/i, 'must be a nats:// or amqp:// URL').optional(),
  /** NATS subject prefix / RabbitMQ topic exchange of published events (the Kafka topic name a Debezium pipeline would use, too). */
  EVENT_TOPIC: z.string().trim().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated words such as payments.events').default('payments.events'),
  /** `tender` (every event, version 1 envelope) or `seed` (payment.successful / payment.failed / payment.refunded). */
  EVENT_FORMAT: z.enum(['tender', 'seed'], { error: 'must be tender or seed' }).default('tender'),
  /**
   * Broker the `order.confirmed` consumer reads (default EVENT_BROKER_URL); it runs only when
   * ORDER_EVENTS_MERCHANT_ID is set.
   */
  ORDER_EVENTS_URL: z.string().trim().regex(/^(nats|amqps?):\/\/\S+$/i, 'must be a nats:// or amqp:// URL').optional(),
  /** Where order events are read: NATS subjects `order.events.<type>`, or the RabbitMQ topic exchange. */
  ORDER_EVENTS_TOPIC: z.string().trim().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated words such as order.events').default('order.events'),
  /** The merchant whose payments `order.confirmed` events create; setting it starts the consumer. */
  ORDER_EVENTS_MERCHANT_ID: z.string().trim().min(1).max(64).optional(),
  ORDER_EVENTS_PAYMENT_METHOD: z.string().trim().min(1).max(64).optional(),
  ORDER_EVENTS_GATEWAY: z.enum(GATEWAY_IDS, { error: `must be one of ${GATEWAY_IDS.join(', ')}` }).optional(),
  /** `manual` (default: authorise on order.confirmed, capture later) or `automatic`. */
  ORDER_EVENTS_CAPTURE: z.enum(['manual', 'automatic'], { error: 'must be manual or automatic' }).default('manual'),
  /** The consumer group: the NATS durable consumer / RabbitMQ queue all instances share. */
  ORDER_EVENTS_GROUP: z.string().trim().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, _ and - (a NATS durable name)').default('payment-service'),
  /** NATS dead-letter subject / RabbitMQ dead-letter exchange and queue (default `<ORDER_EVENTS_GROUP>.dead-letter`). */
  ORDER_EVENTS_DEAD_LETTER: z.string().trim().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated words').optional(),
  /** Deliveries before an order event that keeps failing is dead-lettered (default 5). */
  ORDER_EVENTS_MAX_DELIVERIES: positiveInt('ORDER_EVENTS_MAX_DELIVERIES').default(5),
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.every((o) => /^https?:\/\/[^/]+$/.test(o)), 'must be a comma-separated list of origins such as https://shop.example'),
  /** Express `trust proxy` setting (e.g. `1`, `loopback`, a subnet): which proxies' X-Forwarded-For is believed for client IPs. Unset: none. */
  TRUST_PROXY: z.string().trim().optional(),
  /** pino log level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMIT_PER_IP: positiveInt('RATE_LIMIT_PER_IP').default(600),
  RATE_LIMIT_PER_MERCHANT: positiveInt('RATE_LIMIT_PER_MERCHANT').default(1200),
  RATE_LIMIT_WINDOW: duration.default(60_000),
  /** Largest request body accepted (REST and gRPC messages), e.g. `100kb`. */
  BODY_LIMIT: z.string().trim().regex(/^\d+(b|kb|mb)?$/i, "must be a size such as '100kb'").default('100kb'),
  RECONCILE_INTERVAL: duration.default(30_000),
  RECONCILE_PROCESSING_AFTER: duration.default(30_000),
  RECONCILE_REQUIRES_ACTION_TTL: duration.default(30 * 60_000),
  OUTBOX_INTERVAL: duration.default(1000),
  OUTBOX_BASE_DELAY: duration.default(30_000),
  OUTBOX_MAX_ATTEMPTS: positiveInt('OUTBOX_MAX_ATTEMPTS').default(12),
  /**
   * Bearer token a `/metrics` scrape must send (`Authorization: Bearer <METRICS_TOKEN>`). Unset: the
   * metrics are served without auth (on the API port unless METRICS_PORT is set).
   */
  METRICS_TOKEN: z.string().trim().min(16, 'must be at least 16 characters').optional(),
  /** Serve `/metrics` on this port instead of the API's (a separate listener, on METRICS_HOST); `0` picks one. */
  METRICS_PORT: z.coerce.number().int('must be a whole number').min(0).max(65535, 'must be a port number (0-65535)').optional(),
  /** Address of the METRICS_PORT listener (default 127.0.0.1: reachable from this machine only). */
  METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  /**
   * Also serve `GET /health` and `GET /ready` on this port (a listener of its own, on
   * HEALTH_CHECK_HOST), for probes that should not go through the API port; `0` picks one. The API
   * port keeps serving them.
   */
  HEALTH_CHECK_PORT: z.coerce.number().int('must be a whole number').min(0).max(65535, 'must be a port number (0-65535)').optional(),
  /** Address of the HEALTH_CHECK_PORT listener (default 127.0.0.1; a kubelet probing the pod IP needs 0.0.0.0). */
  HEALTH_CHECK_HOST: z.string().trim().min(1).default('127.0.0.1'),
  /**
   * Serve the gRPC API (`tender.payments.v1.PaymentService`, health, reflection) on this port, on
   * HOST like the HTTP API; `0` picks a free one. Unset: no gRPC listener.
   */
  GRPC_PORT: z.coerce.number().int('must be a whole number').min(0).max(65535, 'must be a port number (0-65535)').optional(),
  /** Let merchant webhooks reach loopback/private/link-local addresses (default: only in simulation mode). */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.optional(),
  SHUTDOWN_TIMEOUT: duration.default(25_000),
  /** Live payment status (SSE / WebSocket): open connections per merchant; more are a 429. */
  LIVE_MAX_CONNECTIONS_PER_MERCHANT: positiveInt('LIVE_MAX_CONNECTIONS_PER_MERCHANT').default(100),
  /** How often a watched payment's trail is read for changes made by other server instances. */
  LIVE_POLL_INTERVAL: duration.refine((ms) => ms >= 50, 'must be at least 50ms').default(2000),
  /** SSE `: ping` comment and WebSocket ping interval (a peer that misses a pong is dropped). */
  LIVE_HEARTBEAT_INTERVAL: duration.refine((ms) => ms >= 50, 'must be at least 50ms').default(15_000),
  /** Longest life of one live connection; it then ends with an `end` event and the client resumes. */
  LIVE_MAX_DURATION: duration.refine((ms) => ms >= 1000, 'must be at least 1s').default(60 * 60_000),
  /** Bytes queued for one live client beyond which it is dropped as too slow to read. */
  LIVE_MAX_BUFFER_BYTES: positiveInt('LIVE_MAX_BUFFER_BYTES').default(1024 * 1024),
  /** Force simulation mode on (1) or off (0); default: on when no gateway credentials are set. */
  TENDER_SIMULATION: bool.optional(),
  /**
   * Encrypts personal data at rest (AES-256-GCM per field; see docs/encryption.md): 32 random bytes as
   * base64 or 64 hex digits, optionally after `<key id>:`. Unset: stored in the clear (a warning at
   * start outside simulation mode).
   */
  ENCRYPTION_KEY: z
    .string()
    .transform((v, ctx) => encryptionKeys(v, 'ENCRYPTION_KEY', ctx)?.[0] ?? z.NEVER)
    .optional(),
  /** Previous keys, still used to decrypt during a rotation: `old1:<base64>,old2:<hex>` (ids as in ENCRYPTION_KEY). */
  ENCRYPTION_KEYS: z
    .string()
    .transform((v, ctx) => encryptionKeys(v, 'ENCRYPTION_KEYS', ctx) ?? z.NEVER)
    .optional(),
  /**
   * Anonymise the personal data of payments this many days after they were created (amounts,
   * statuses and the audit trail stay); delivered outbox rows are then kept at most as long. Unset:
   * personal data is kept.
   */
  DATA_RETENTION_DAYS: positiveInt('DATA_RETENTION_DAYS').max(36_500, 'must be at most 36500').optional(),
});

/** Parses key variables for the schema: the reason of a bad key (never the key) becomes the issue. */
function encryptionKeys(value: string, name: string, ctx: z.RefinementCtx): EncryptionKey[] | null {
  try {
    return name === 'ENCRYPTION_KEY' ? [parseEncryptionKey(value, name)] : parseEncryptionKeys(value, name);
  } catch (error) {
    if (!(error instanceof EncryptionKeyError)) throw error;
    const entry = error.variable === name ? '' : `${error.variable.slice(name.length).trim().replace(/^\((.*)\)$/, '$1')}: `;
    ctx.addIssue({ code: 'custom', message: `${entry}${error.reason}` });
    return null;
  }
}

/** Validated configuration. */
export type ServerConfig = z.output<typeof EnvSchema>;

/** Raised for an invalid environment; `issues` names each bad variable. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function requireTogether(input: Record<string, string>, names: readonly string[], group: string, issues: string[]): void {
  if (!names.some((name) => name in input)) return;
  for (const name of names) if (!(name in input)) issues.push(`${name}: is required when any ${group} credential is set`);
}

/** Reads and validates the environment. Empty strings count as unset. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): ServerConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const result = EnvSchema.safeParse(input);
  // zod messages say what is wrong; the value itself is never part of them, so secrets stay out.
  const issues = result.success ? [] : result.error.issues.map((i) => `${String(i.path[0] ?? '?')}: ${i.message}`);
  // Rules across variables depend only on which are set, so they are reported with the rest at once.
  const fiuu = ['FIUU_MERCHANT_ID', 'FIUU_VERIFY_KEY', 'FIUU_SECRET_KEY'] as const;
  if (fiuu.some((name) => name in input)) {
    for (const name of fiuu) if (!(name in input)) issues.push(`${name}: is required when any FIUU_* credential is set`);
  }
  if ('STRIPE_WEBHOOK_SECRET' in input && !('STRIPE_SECRET_KEY' in input)) issues.push('STRIPE_SECRET_KEY: is required when STRIPE_WEBHOOK_SECRET is set');
  requireTogether(input, ['PAYPAL_CLIENT_ID', 'PAYPAL_CLIENT_SECRET', 'PAYPAL_WEBHOOK_ID'], 'PAYPAL_*', issues);
  for (const name of ['PAYPAL_BASE_URL', 'PAYPAL_MODE', 'PAYPAL_WEBHOOK_VERIFICATION'] as const) {
    if (name in input && !('PAYPAL_CLIENT_ID' in input)) issues.push(`PAYPAL_CLIENT_ID: is required when ${name} is set`);
  }
  requireTogether(input, ['UPI_MERCHANT_VPA', 'UPI_MERCHANT_NAME'], 'UPI_MERCHANT_*', issues);
  requireTogether(input, ['RAZORPAY_KEY_ID', 'RAZORPAY_KEY_SECRET', 'RAZORPAY_WEBHOOK_SECRET'], 'RAZORPAY_*', issues);
  for (const name of ['UPI_BASE_URL', 'UPI_PROVIDER', 'RAZORPAY_PREVIOUS_WEBHOOK_SECRET'] as const) {
    if (name in input && !('RAZORPAY_KEY_ID' in input)) issues.push(`RAZORPAY_KEY_ID: is required when ${name} is set (UPI_PROVIDER=razorpay)`);
  }
  if ('METRICS_PORT' in input && input.METRICS_PORT!.trim() !== '0' && input.METRICS_PORT!.trim() === (input.PORT ?? '8080').trim()) {
    issues.push('METRICS_PORT: must differ from PORT (the API port); leave it unset to serve /metrics there');
  }
  if ('GRPC_PORT' in input && input.GRPC_PORT!.trim() !== '0') {
    const grpc = input.GRPC_PORT!.trim();
    if (grpc === (input.PORT ?? '8080').trim()) issues.push('GRPC_PORT: must differ from PORT (the HTTP API port)');
    else if (grpc === input.METRICS_PORT?.trim()) issues.push('GRPC_PORT: must differ from METRICS_PORT');
  }
  if ('HEALTH_CHECK_PORT' in input && input.HEALTH_CHECK_PORT!.trim() !== '0') {
    const health = input.HEALTH_CHECK_PORT!.trim();
    if (health === (input.PORT ?? '8080').trim()) issues.push('HEALTH_CHECK_PORT: must differ from PORT (the API port, which serves /health and /ready anyway)');
    else if (health === input.METRICS_PORT?.trim()) issues.push('HEALTH_CHECK_PORT: must differ from METRICS_PORT');
    else if (health === input.GRPC_PORT?.trim()) issues.push('HEALTH_CHECK_PORT: must differ from GRPC_PORT');
  }
  if ('ORDER_EVENTS_MERCHANT_ID' in input && !('ORDER_EVENTS_URL' in input) && !('EVENT_BROKER_URL' in input)) {
    issues.push('ORDER_EVENTS_URL: is required (or EVENT_BROKER_URL) when ORDER_EVENTS_MERCHANT_ID is set');
  }
  if ('ORDER_EVENTS_URL' in input && !('ORDER_EVENTS_MERCHANT_ID' in input)) issues.push('ORDER_EVENTS_MERCHANT_ID: is required when ORDER_EVENTS_URL is set (the merchant the order payments are for)');
  if (result.success && result.data.BLOCK_THRESHOLD > result.data.MAX_FRAUD_SCORE) issues.push('BLOCK_THRESHOLD: must not exceed MAX_FRAUD_SCORE');
  if ('JWT_SECRET' in input && 'JWT_JWKS_URL' in input) issues.push('JWT_SECRET: set either JWT_SECRET or JWT_JWKS_URL, not both');
  if ('ENCRYPTION_KEYS' in input && !('ENCRYPTION_KEY' in input)) issues.push('ENCRYPTION_KEY: is required when ENCRYPTION_KEYS is set (the key new data is encrypted with)');
  if (result.success && result.data.ENCRYPTION_KEY && result.data.ENCRYPTION_KEYS) {
    const ids = new Map<string, EncryptionKey>();
    for (const k of [result.data.ENCRYPTION_KEY, ...result.data.ENCRYPTION_KEYS]) {
      const seen = ids.get(k.id);
      if (seen && !seen.key.equals(k.key)) issues.push(`ENCRYPTION_KEYS: two different keys have the id '${k.id}'`);
      ids.set(k.id, k);
    }
  }
  if (result.success && issues.length === 0) return result.data;
  throw new ConfigError(issues);
}

/** True when no gateway has credentials (or TENDER_SIMULATION forces it). */
export function isSimulation(config: ServerConfig): boolean {
  if (config.TENDER_SIMULATION !== undefined) return config.TENDER_SIMULATION;
  return !config.FIUU_MERCHANT_ID && !config.STRIPE_SECRET_KEY && !config.PAYPAL_CLIENT_ID && !config.RAZORPAY_KEY_ID;
}
