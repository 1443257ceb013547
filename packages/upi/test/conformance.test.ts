import { createHttpTransport, type GatewayCreatePaymentInput } from '@tender/core';
import { runGatewayConformance } from '@tender/core/testing';
import { createUpiGateway } from '@tender/upi';
import { startRazorpaySandbox } from '@tender/upi/sandbox';

// Intent flow (the default): the payer approves or declines in the sandbox's UPI app.
runGatewayConformance({
  name: 'upi (Razorpay intent)',
  setup: async () => {
    const sandbox = await startRazorpaySandbox();
    const gateway = createUpiGateway({
      provider: 'razorpay',
      keyId: sandbox.keyId,
      keySecret: sandbox.keySecret,
      webhookSecret: sandbox.webhookSecret,
      baseUrl: sandbox.url,
      defaultIp: '127.0.0.1', defaultEmail: 'payer@example.com', defaultContact: '+919000000000',
      transport: createHttpTransport({ gateway: 'upi', retry: { baseDelayMs: 5 } }),
    });
    return {
      gateway,
      currency: 'INR',
      paymentMethod: 'upi',
      completeAction: async (payment, outcome) => {
        if (outcome === 'approve') sandbox.approve(payment.gatewayReference!);
        else sandbox.decline(payment.gatewayReference!);
      },
      teardown: async () => {
        await gateway.close();
        await sandbox.close();
      },
    };
  },
});

// Collect flow: a request to the payer's VPA, answered by the UPI app page over HTTP.
runGatewayConformance({
  name: 'upi (Razorpay collect)',
  setup: async () => {
    const sandbox = await startRazorpaySandbox({ delays: { collectAutoMs: null } });
    const base = createUpiGateway({ provider: 'razorpay', keyId: sandbox.keyId, keySecret: sandbox.keySecret, webhookSecret: sandbox.webhookSecret, baseUrl: sandbox.url, defaultIp: '127.0.0.1', defaultEmail: 'payer@example.com', defaultContact: '+919000000000', flow: 'collect' });
    // The conformance suite's customer has no VPA; the gateway sees one added here.
    const gateway = { ...base, validateCreate: (i: Parameters<typeof base.validateCreate>[0]) => base.validateCreate(withVpa(i)), createPayment: (i: Parameters<typeof base.createPayment>[0], ctx: Parameters<typeof base.createPayment>[1]) => base.createPayment(withVpa(i), ctx) };
    return {
      gateway,
      currency: 'INR',
      paymentMethod: 'upi_collect',
      completeAction: async (payment, outcome) => {
        const res = await fetch(sandbox.upiAppUrl(payment.gatewayReference!), { method: 'POST', body: new URLSearchParams({ action: outcome }) });
        if (res.status !== 200) throw new Error(`UPI app answered ${res.status}`);
      },
      teardown: async () => {
        await base.close();
        await sandbox.close();
      },
    };
  },
});

function withVpa(input: GatewayCreatePaymentInput): GatewayCreatePaymentInput {
  return { ...input, customer: { ...input.customer, vpa: 'payer.one@okhdfc' } };
}
