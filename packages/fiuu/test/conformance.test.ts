import { runGatewayConformance } from '@tender/core/testing';
import type { FiuuHostedPayment } from '@tender/fiuu';
import { completeHostedPayment } from '@tender/fiuu/sandbox';
import { sandboxAndGateway } from './helpers';

runGatewayConformance({
  name: 'fiuu',
  setup: async () => {
    const env = await sandboxAndGateway();
    return {
      gateway: env.gateway,
      currency: 'MYR',
      paymentMethod: 'FPX',
      async completeAction(payment, outcome) {
        await completeHostedPayment(payment.gatewayData.hostedPayment as FiuuHostedPayment, outcome);
      },
      teardown: () => env.close(),
    };
  },
});
