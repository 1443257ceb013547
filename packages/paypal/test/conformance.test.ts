import { runGatewayConformance } from '@tender/core/testing';
import { approveOrder } from '@tender/paypal/sandbox';
import { sandboxAndGateway } from './helpers';

// The buyer approves on the sandbox's approval page (over HTTP); "decline" approves with a funding
// instrument that PayPal declines at capture (INSTRUMENT_DECLINED). The reconciler's requery then
// captures the approved order.
runGatewayConformance({
  name: 'paypal (redirect approval)',
  setup: async () => {
    const env = await sandboxAndGateway();
    return {
      gateway: env.gateway,
      currency: 'USD',
      paymentMethod: 'paypal',
      completeAction: async (payment, outcome) => {
        const action = payment.nextAction as { type: string; url: string };
        await approveOrder(action.url, outcome);
      },
      teardown: () => env.close(),
    };
  },
});

// JPY: no decimals on PayPal; no payment method named (PayPal checkout is the default).
runGatewayConformance({
  name: 'paypal (JPY, no payment method)',
  setup: async () => {
    const env = await sandboxAndGateway();
    return {
      gateway: env.gateway,
      currency: 'JPY',
      amount: '100',
      paymentMethod: null,
      completeAction: async (payment, outcome) => {
        await approveOrder((payment.nextAction as { url: string }).url, outcome);
      },
      teardown: () => env.close(),
    };
  },
});
