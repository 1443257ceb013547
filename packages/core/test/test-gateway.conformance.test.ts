import { createTestGateway, runGatewayConformance } from '@tender/core/testing';

for (const flow of ['direct', 'redirect'] as const) {
  runGatewayConformance({
    name: `test gateway (${flow})`,
    setup: async () => {
      const gateway = createTestGateway({ flow });
      return {
        gateway,
        currency: 'MYR',
        paymentMethod: flow === 'direct' ? 'card' : 'FPX',
        completeAction: async (payment, outcome) => gateway.complete(payment.id, outcome),
        teardown: async () => {},
      };
    },
    // The direct flow declines through a payment method name, so its decline test runs in engine.test.ts.
    skip: flow === 'direct' ? ['a declined payment ends FAILED with a reason'] : [],
  });
}
