/**
 * The OpenAPI path items of the risk review queue (`routes/admin-reviews.ts`). `openapi.ts` adds them
 * to the document and their error codes to the operations.
 *
 * @module
 */
import { ReviewBody } from './routes/admin-reviews';

type Json = Record<string, unknown>;

const payment = { $ref: '#/components/schemas/Payment' };
const page: Json = {
  type: 'object',
  required: ['object', 'data', 'has_more', 'next_cursor'],
  properties: { object: { const: 'list' }, data: { type: 'array', items: payment }, has_more: { type: 'boolean' }, next_cursor: { type: ['string', 'null'] } },
};
const query = (name: string, schema: Json, description: string): Json => ({ name, in: 'query', required: false, schema, description });
const SCOPE = 'A merchant admin token sees and decides its own merchant\'s payments; a platform admin (`platform:admin`) names another with `merchant_id` (its own without it).';

/** `/api/v1/admin/reviews` and `/api/v1/admin/payments/{id}/review`. */
export function riskPaths(): Record<string, Json> {
  // Naming the body schema keeps its registration (and module) in bundles.
  void ReviewBody;
  return {
    '/api/v1/admin/reviews': {
      get: {
        operationId: 'listRiskReviews',
        summary: 'The risk review queue: payments held REQUIRES_REVIEW (newest first)',
        description: `Payments the risk checks (FRAUD_RULES_CONFIG_PATH) scored in the review band: nothing was sent to a gateway. Each carries its \`risk\` decision (score, level, the rules that fired). ${SCOPE}`,
        security: [{ bearer: ['admin:read'] }],
        parameters: [
          query('limit', { type: 'integer', minimum: 1, maximum: 100 }, 'Page size (default 20)'),
          query('starting_after', { type: 'string' }, 'The last payment id of the previous page'),
          query('merchant_id', { type: 'string' }, 'A platform admin: the merchant whose queue to read'),
        ],
        responses: { '200': { description: 'A page of held payments', content: { 'application/json': { schema: page } } } },
      },
    },
    '/api/v1/admin/payments/{id}/review': {
      post: {
        operationId: 'reviewPayment',
        summary: 'Approve or decline a payment held for review',
        description: `\`approve\` sends the payment on to its gateway as its create would have (the answer is the gateway's outcome: CAPTURED, AUTHORIZED, REQUIRES_ACTION...; a payment created with \`confirm: false\` becomes PENDING, to be authorised); \`decline\` fails it (\`FAILED\`, \`risk_declined\`). The decision and \`reason\` go on the audit trail with the token's subject as actor. With an \`Idempotency-Key\` a repeat replays. ${SCOPE}`,
        security: [{ bearer: ['admin:write'] }],
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The payment id' },
          { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 }, description: 'Replays the first answer for a repeat' },
        ],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ReviewPayment' } } } },
        responses: { '200': { description: 'The payment after the decision', content: { 'application/json': { schema: payment } } } },
      },
    },
  };
}
