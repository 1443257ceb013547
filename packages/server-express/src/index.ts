/**
 * `@tender/server-express`: the Tender REST API as an Express 5 router (`createTenderRouter`), the
 * standalone server (`startTenderServer`) and the `tender-server` CLI.
 *
 * @packageDocumentation
 */
export { createTenderRouter, createInputFromBody, type TenderRouterOptions, type RateLimitRule } from './router';
export {
  createAuthenticator,
  createTokenVerifier,
  requireScope,
  adminMerchantScope,
  isPlatformAdmin,
  signToken,
  SCOPES,
  ADMIN_SCOPES,
  KNOWN_SCOPES,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  type AuthOptions,
  type TokenAuthOptions,
  type Principal,
  type Scope,
  type SignTokenOptions,
} from './auth';
export { buildOpenApiDocument, type OpenApiInfo } from './openapi';
export { createMetrics, httpMetrics, metricsHandler, type TenderMetrics, type MetricsOptions, type MetricsEndpointOptions, type AuthApi } from './metrics';
export { createReadiness, readinessHandler, engineGateways, type ReadinessOptions, type ReadinessReport, type CheckResult, type CheckStatus } from './readiness';
export { parseJsonText, jsonBody, AMOUNT_FIELDS, type JsonBodyOptions } from './json-body';
export { paymentJson, refundJson, transitionJson, nextActionJson } from './serialize';
export { presentEvent } from './present';
export {
  createWebhookDeliverer,
  newWebhookEndpoint,
  signPayload,
  subscribes,
  SIGNATURE_HEADER,
  type WebhookDelivererOptions,
} from './webhook-endpoints';
export * as schemas from './schemas';
export { createApp, type AppOptions } from './app';
export { startTenderServer, openStore, type StartServerOptions, type TenderServer } from './server';
export { startGrpcServer, byteSize, type GrpcServerOptions, type TenderGrpcServer } from './grpc/server';
export { addPaymentService, paymentMessage, refundMessage, PAYMENT_SERVICE_METHODS, type PaymentServiceOptions, type PaymentServiceHandle } from './grpc/service';
export { grpcCodeOf, grpcStatusOf, ERROR_DOMAIN } from './grpc/status';
export { PAYMENT_SERVICE_NAME, PAYMENT_SERVICE_PROTO, PROTO_LOADER_OPTIONS, grpcProtoDir, paymentServiceProtoPath, loadPaymentServiceDefinition } from './grpc/proto';
export { loadConfig, isSimulation, ConfigError, EnvSchema, type ServerConfig } from './config';
export { createLogger, requestLogging, type LoggerOptions } from './logging';
export { startWorkers, type Workers, type WorkerOptions } from './workers';
export { createDemoRouter, DEMO_MERCHANT } from './demo';
export { createDashboardRouter, dashboardDistPath, DASHBOARD_CSP, type DashboardOptions } from './dashboard';
export {
  createLiveStatus,
  createUpgradeHandler,
  BEARER_SUBPROTOCOL,
  LIVE_DEFAULTS,
  type LiveStatus,
  type LiveStatusOptions,
  type LiveLimits,
  type LiveEvent,
  type LiveTarget,
  type LiveTransport,
  type LiveEndReason,
} from './live';
export { createPublisherFromUrl, startOrderConsumer, brokerKind, redactBrokerUrl, orderConsumerNames, type BrokerKind, type OrderConsumerNames } from './brokers';
export { createServerRisk, readServerRiskRules, riskJson, riskSignalsOf, RISK_LEVELS, type ServerRisk, type RiskServerConfig } from './risk';
export { createRedisVelocityStore, type RedisVelocityStore, type RedisVelocityStoreOptions } from './risk-velocity-redis';
