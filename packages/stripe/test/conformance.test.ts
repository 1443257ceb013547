import { createHttpTransport } from '@tender/core';
import { runGatewayConformance } from '@tender/core/testing';
import { createStripeGateway } from '@tender/stripe';
import { completeCustomerAction, startStripeSandbox } from '@tender/stripe/sandbox';

// 3-D Secure card: every payment needs the customer's step, which completeAction plays over HTTP.
runGatewayConformance({
  name: 'stripe (3-D Secure card)',
  setup: async () => {
    const sandbox = await startStripeSandbox();
    const gateway = createStripeGateway({
      secretKey: sandbox.secretKey,
      webhookSecret: 'whsec_conformance',
      baseUrl: sandbox.url,
      transport: createHttpTransport({ gateway: 'stripe', retry: { baseDelayMs: 5 } }),
    });
    return {
      gateway,
      currency: 'USD',
      paymentMethod: 'pm_card_authenticationRequired',
      completeAction: (payment, outcome) => completeCustomerAction(sandbox, payment.gatewayReference!, outcome),
      teardown: async () => {
        await gateway.close();
        await sandbox.close();
      },
    };
  },
});

// No payment method: an unconfirmed PaymentIntent whose client secret Stripe.js would confirm.
runGatewayConformance({
  name: 'stripe (Stripe.js confirmation)',
  setup: async () => {
    const sandbox = await startStripeSandbox();
    const gateway = createStripeGateway({ secretKey: sandbox.secretKey, webhookSecret: 'whsec_conformance', baseUrl: sandbox.url });
    return {
      gateway,
      currency: 'JPY',
      amount: '100',
      paymentMethod: null,
      completeAction: (payment, outcome) => completeCustomerAction(sandbox, payment.gatewayReference!, outcome),
      teardown: async () => {
        await gateway.close();
        await sandbox.close();
      },
    };
  },
});
