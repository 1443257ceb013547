/**
 * Dispute request and response schemas of the REST API (responses for documentation;
 * `serialize-disputes.ts` produces these shapes).
 *
 * @module
 */
import { DISPUTE_STATUSES } from '@tender/core';
import { z } from 'zod';
import { PageQuery, apiSchemas } from './schemas';

const timestamp = z.string().describe('ISO-8601, UTC');
const nullableTimestamp = z.string().nullable().describe('ISO-8601, UTC');

/** `GET /api/v1/disputes` query: a page, optionally of one status or one payment. */
export const ListDisputesQuery = PageQuery.extend({
  status: z.enum(DISPUTE_STATUSES).optional(),
  payment_id: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be a payment id').optional(),
});

/** A dispute of one of the merchant's payments. */
export const DisputeSchema = z
  .object({
    id: z.string().describe("Tender's id (`dp_...`)"),
    object: z.literal('dispute'),
    payment_id: z.string().describe('The disputed payment'),
    gateway: z.string(),
    gateway_reference: z.string().describe("The gateway's dispute id (Stripe `dp_...`, PayPal `PP-D-...`, Razorpay `disp_...`)"),
    status: z
      .enum(DISPUTE_STATUSES)
      .describe('Normalised across gateways: `warning_*` an inquiry; `needs_response` / `under_review` open; `won`, `lost`, `accepted`, `closed` final (`lost` and `accepted`: the amount is gone)'),
    gateway_status: z.string().describe("The gateway's own status (with stage / outcome), as it spells it"),
    amount: z.string().describe('The amount disputed: held while open, gone when lost (major units)'),
    amount_minor: z.number().int(),
    currency: z.string(),
    reason: z.string().nullable().describe("The gateway's reason code"),
    evidence_due_by: nullableTimestamp,
    opened_at: timestamp,
    closed_at: nullableTimestamp,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .register(apiSchemas, { id: 'Dispute' });

/** An entry of a dispute's audit trail. */
export const DisputeTransitionSchema = z
  .object({
    id: z.string(),
    object: z.literal('dispute_transition'),
    dispute_id: z.string(),
    payment_id: z.string(),
    from: z.enum(DISPUTE_STATUSES).nullable(),
    to: z.enum(DISPUTE_STATUSES),
    reason: z.string(),
    actor: z.string(),
    at: timestamp,
  })
  .register(apiSchemas, { id: 'DisputeTransition' });

/** `GET /api/v1/payments/{id}/disputes`: the payment's disputes and what they hold or took. */
export const PaymentDisputesSchema = z.object({
  object: z.literal('list'),
  data: z.array(DisputeSchema),
  has_more: z.boolean(),
  next_cursor: z.string().nullable(),
  amount_disputed: z.string().describe("What the payment's disputes hold or took (open, lost and accepted ones), in the payment's currency"),
  amount_disputed_minor: z.number().int(),
  currency: z.string(),
});
