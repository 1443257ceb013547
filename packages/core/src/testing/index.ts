/**
 * `@tender/core/testing`: what plugin authors and users test with — a real in-memory store, the store
 * and gateway conformance suites, a fake clock and an in-process gateway with fault injection.
 *
 * @packageDocumentation
 */
export { MemoryStore } from './memory-store';
export { FakeClock } from './fake-clock';
export { createTestGateway, type TestGateway, type TestGatewayOptions, type TestFault, type TestCharge } from './test-gateway';
export { runStoreConformance, samplePayment, type StoreUnderTest } from './store-conformance';
export { runGatewayConformance, type GatewayUnderTest, type GatewayConformanceOptions } from './gateway-conformance';
