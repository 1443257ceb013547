/**
 * Whatever a verified webhook body holds, parsing it gives Tender events or a 400
 * `invalid_webhook_payload`, never a TypeError; and nothing binds to a payment without signed ids.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TenderError } from '@tender/core';
import { PAYPAL_EVENT_TYPES } from '@tender/paypal';
import { sandboxAndGateway } from './helpers';

let env: Awaited<ReturnType<typeof sandboxAndGateway>>;
beforeAll(async () => {
  env = await sandboxAndGateway();
});
afterAll(() => env.close());

const types = [...Object.values(PAYPAL_EVENT_TYPES).flat(), 'CUSTOMER.DISPUTE.CREATED', 'SOMETHING.ELSE'];
const value = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.anything(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.anything(), { maxKeys: 3 }));
const resource = fc.record(
  {
    id: value,
    status: fc.oneof(value, fc.constantFrom('COMPLETED', 'PENDING', 'CREATED', 'VOIDED', 'APPROVED')),
    amount: fc.oneof(value, fc.record({ currency_code: fc.oneof(value, fc.constant('USD')), value: fc.oneof(value, fc.constantFrom('1.00', '1.005', '1e3', '99999999999999999999')) })),
    custom_id: fc.oneof(value, fc.constant('pay_x')),
    supplementary_data: fc.oneof(value, fc.record({ related_ids: fc.oneof(value, fc.record({ order_id: value })) })),
    links: fc.oneof(value, fc.array(fc.oneof(value, fc.record({ rel: fc.constantFrom('up', 'self'), href: value })), { maxLength: 3 })),
    purchase_units: fc.oneof(value, fc.array(fc.oneof(value, fc.record({ custom_id: value })), { maxLength: 2 })),
    disputed_transactions: fc.oneof(value, fc.array(fc.oneof(value, fc.record({ seller_transaction_id: value })), { maxLength: 2 })),
    dispute_amount: value,
  },
  { requiredKeys: [] },
);

it('random verified bodies: events or invalid_webhook_payload, never a crash', async () => {
  await fc.assert(
    fc.asyncProperty(fc.record({ id: fc.oneof(value, fc.constant('WH-1')), event_type: fc.oneof(value, fc.constantFrom(...types)), resource: fc.oneof(value, resource) }, { requiredKeys: [] }), async (body) => {
      try {
        const parsed = await env.gateway.parseWebhook({ headers: {}, rawBody: new TextEncoder().encode(JSON.stringify(body)) });
        expect(parsed.acknowledgement.status).toBe(200);
        for (const event of parsed.events) {
          if (event.kind === 'ignored') continue;
          // PayPal reports no billing objects: every other event is about a payment.
          expect(event.kind).not.toMatch(/^(subscription|invoice)$/);
          const target = event as { paymentId?: string | null; gatewayReference?: string | null };
          // Bound only through signed ids: a Tender payment id (pay_...) or an order id string.
          expect(target.paymentId === null || target.paymentId === undefined || /^pay_/.test(target.paymentId)).toBe(true);
          expect(Boolean(target.paymentId) || Boolean(target.gatewayReference)).toBe(true);
        }
      } catch (error) {
        expect(TenderError.isInstance(error) ? `${error.type}/${error.code}` : String(error)).toBe('invalid_request_error/invalid_webhook_payload');
      }
    }),
    { numRuns: 300, seed: 20261201 },
  );
});
