/**
 * `@tender/core/testing`: what plugin authors and users test with — a real in-memory store, the store
 * and gateway conformance suites, a fake clock, an in-process gateway with fault injection, and the
 * webhook delivery engine and HTTP fault queue the gateway sandboxes share.
 *
 * @packageDocumentation
 */
export { MemoryStore } from './memory-store';
export { SandboxFaultQueue, type SandboxFaultMatch } from './sandbox-faults';
export { FakeClock } from './fake-clock';
export { createTestGateway, type TestGateway, type TestGatewayOptions, type TestFault, type TestCharge } from './test-gateway';
export { runStoreConformance, samplePayment, type StoreUnderTest } from './store-conformance';
export { sampleCustomer, sampleSavedMethod, sampleSubscription, sampleInvoice } from './billing-store-conformance';
export { sampleDispute } from './dispute-store-conformance';
export { runWebhookEndpointStoreConformance, type WebhookEndpointStoreUnderTest } from './webhook-endpoint-conformance';
export { runSettlementStoreConformance, sampleSettlementRun, type SettlementStoreUnderTest } from './settlement-conformance';
export { runAnalyticsStoreConformance, writeAnalyticsData, expectedAggregates, normaliseAggregates, ANALYTICS_DAY0, type AnalyticsStoreUnderTest, type PlannedPayment } from './analytics-conformance';
export { runGatewayConformance, type GatewayUnderTest, type GatewayConformanceOptions } from './gateway-conformance';
export { SandboxWebhookSender, type SandboxWebhookEndpoint, type SandboxWebhookFaults, type SandboxDeliveryRecord, type SandboxWebhookRequest, type SandboxWebhookOptions } from './sandbox-webhooks';
export { waitFor } from './wait-for';
export { runVelocityStoreConformance, type VelocityStoreUnderTest } from './velocity-conformance';
export { tcpPortOpen, sampleBrokerMessage } from './brokers';
