/**
 * `@tender/fiuu/sandbox`: a fake Fiuu on loopback speaking the real wire protocol, for tests,
 * local development and the reference server's simulation mode.
 *
 * @packageDocumentation
 */
export { startFiuuSandbox } from './server';
export type {
  FiuuSandbox,
  FiuuSandboxOptions,
  SandboxMerchant,
  SandboxTransaction,
  SandboxRefund,
  SandboxDelivery,
  SandboxIpnEcho,
  SandboxApiCall,
  SandboxFaults,
  SandboxOperation,
  SandboxStatus,
} from './server';
export { completeHostedPayment } from './customer';
export type { HostedForm, CustomerOutcome } from './customer';
