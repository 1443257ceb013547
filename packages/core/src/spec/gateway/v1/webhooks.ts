/**
 * Gateway spec v1: inbound webhooks as received, and the normalised events a gateway turns them into.
 *
 * @module
 */
import type { DisputeStatus } from '../../../dispute';
import type { Money } from '../../../money';
import type { Payment } from '../../../payment';
import type { GatewayPaymentResult, GatewayRefundResult } from './operations';

/** An inbound webhook exactly as received. Signatures are verified on `rawBody`, never on parsed JSON. */
export interface WebhookRequest {
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  rawBody: Uint8Array;
  /** Path suffix or query the route was called with, when a gateway multiplexes (Fiuu callback vs notify). */
  query?: Record<string, string>;
}

/** The HTTP answer the provider expects. */
export interface WebhookAcknowledgement {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/**
 * How a webhook event leads back to its payment. Every field here must come from data the provider
 * signed: the engine binds the report to a payment through them only. `hint` is the exception: it may
 * carry unsigned data (Fiuu's `extraP` metadata), and the engine uses it only to choose among payments
 * that the signed fields already match, never to find or confirm one on its own.
 */
export interface WebhookEventTarget {
  /** Tender's payment id, when the provider signed it (Stripe metadata inside a signed Event). */
  paymentId?: string | null;
  /** The provider's id for the payment. */
  gatewayReference?: string | null;
  /**
   * The merchant reference the provider echoes (Fiuu's `orderid`): the payment's `orderId`, or its id
   * when it had none. Matched against payments of this gateway.
   */
  orderId?: string | null;
  /** Unsigned data that may narrow a signed match (several attempts for one order). */
  hint?: { paymentId?: string | null };
}

/**
 * A dispute as the gateway reported it in a signed webhook (or answered over its API), normalised.
 * The payment it binds to is named by the event's {@link WebhookEventTarget} fields.
 */
export interface GatewayDisputeReport {
  /** The gateway's dispute id (Stripe `dp_...`, PayPal `PP-D-...`, Razorpay `disp_...`). */
  gatewayReference: string;
  status: DisputeStatus;
  /** The gateway's own status (with stage or outcome when it has them), as spelled there. */
  gatewayStatus: string;
  /** The amount disputed (held, or taken when lost). */
  amount: Money;
  reason: string | null;
  evidenceDueBy: string | null;
  /** When the gateway opened the dispute, when it says. */
  openedAt: string | null;
  /** When the gateway made this report (the signed event's time): orders out-of-order deliveries. */
  reportedAt: string;
}

/** One normalised fact learned from a webhook. */
export type WebhookEvent =
  | (WebhookEventTarget & {
      kind: 'payment';
      /** Provider-unique event id (for inbox dedup). */
      eventId: string;
      result: GatewayPaymentResult;
      /**
       * When the report's meaning depends on the payment it is bound to (a Fiuu `00` is an
       * authorisation for a manual-capture payment and a sale otherwise), the result for that stored
       * payment; the engine calls it instead of reading `result`.
       */
      resultFor?: (payment: Readonly<Payment>) => GatewayPaymentResult;
      occurredAt?: string;
    })
  | (WebhookEventTarget & {
      kind: 'refund';
      eventId: string;
      refund: GatewayRefundResult;
      occurredAt?: string;
    })
  | (WebhookEventTarget & {
      /** Something worth recording on the payment's trail that changes no status (a dispute opened). */
      kind: 'note';
      eventId: string;
      type: string;
      data: Record<string, unknown>;
    })
  | (WebhookEventTarget & {
      /**
       * A dispute opened or changed at the gateway (Stripe `charge.dispute.*`, PayPal
       * `CUSTOMER.DISPUTE.*`, Razorpay `payment.dispute.*`): bound to the payment through the target
       * fields the gateway signed, recorded as a Tender dispute; the payment's status is not changed.
       */
      kind: 'dispute';
      eventId: string;
      /** The gateway's event type, for the audit trail (`charge.dispute.closed`). */
      type: string;
      dispute: GatewayDisputeReport;
    })
  | (WebhookEventTarget & {
      /**
       * Verified, about a payment, but not usable as it is (a field missing from the payload): the
       * engine requeries the payment with `retrieve` and applies the provider's current state.
       */
      kind: 'requery';
      eventId: string;
      reason: string;
    })
  | {
      /**
       * A subscription or invoice changed at the gateway (Stripe `customer.subscription.*`,
       * `invoice.*`). The engine requeries the object by `gatewayReference` over the gateway's API
       * and mirrors what it answers, so duplicated and shuffled deliveries end in the same state.
       */
      kind: 'subscription';
      eventId: string;
      gatewayReference: string;
      /** The gateway's event type, for the audit trail (`customer.subscription.updated`). */
      type: string;
    }
  | {
      /** An invoice changed at the gateway (Stripe `invoice.*`): requeried and mirrored like a subscription. */
      kind: 'invoice';
      eventId: string;
      gatewayReference: string;
      /** The gateway's event type (`invoice.paid`). */
      type: string;
    }
  | {
      /** Verified but not about a payment (Fiuu DuitNow account enquiry, unknown event type). */
      kind: 'ignored';
      eventId: string;
      reason: string;
    };

/** What {@link GatewayV1.parseWebhook} returns. */
export interface ParsedWebhook {
  events: WebhookEvent[];
  /** The body/status the provider expects once the events are safely stored. */
  acknowledgement: WebhookAcknowledgement;
  /**
   * Work to do after the events are stored (Fiuu's IPN echo with `treq=1`). Its failure is logged
   * and never fails or loses the webhook itself.
   */
  afterAcknowledge?: () => Promise<void>;
}
