export { createAcmeGateway, type AcmeGateway, type AcmeGatewayOptions } from './acme-gateway';
export { startFakeProvider, signAcmeWebhook, type FakeProvider, type AcmeCharge, type AcmeRefund } from './fake-provider';
