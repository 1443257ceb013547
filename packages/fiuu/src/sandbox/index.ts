/**
 * `@tender/fiuu/sandbox`: a fake Fiuu on loopback speaking the real wire protocol, for tests,
 * local development and the reference server's simulation mode.
 *
 * @packageDocumentation
 */
export { startFiuuSandbox } from './server';
export type { FiuuSandbox, FiuuSandboxOptions, SandboxApiCall } from './server';
export type { SandboxMerchant, SandboxTransaction, SandboxRefund, SandboxStatus } from './state';
export type { SandboxDelivery } from './delivery';
export type { SandboxIpnEcho } from './api';
export type { SandboxFaults, SandboxOperation } from './faults';
export type { SandboxForeignLine, SandboxSettlementControls, SandboxSettlementOptions } from './settlement-report';
export { completeHostedPayment } from './customer';
export type { HostedForm, CustomerOutcome } from './customer';
