/**
 * Gateway spec, version 1: the contract a gateway package implements. The engine is the only
 * caller; gateway methods translate between Tender's normalised shapes and one provider's wire
 * protocol and never touch storage. Prove an implementation with `runGatewayConformance` from
 * `@tender/core/testing`.
 *
 * Rules every implementation follows:
 * - Amounts arrive as {@link Money}; convert at the edge with the currency's exponent (never `* 100`).
 * - Throw {@link TenderError}s. Set `retryable` only when repeating is safe. When the request may have
 *   reached the provider and the outcome is unknown, throw with code `gateway_outcome_unknown`
 *   (see {@link GATEWAY_OUTCOME_UNKNOWN}); the engine then marks the payment `PROCESSING` for the
 *   reconciler instead of failing it. When the request certainly never left (circuit open, DNS,
 *   connection refused), throw `gateway_unavailable` with `details.requestSent === false`, which lets
 *   the engine fail over to another gateway.
 * - Pass {@link GatewayCallContext.idempotencyKey} to providers that accept one. The engine may repeat a
 *   call with the same key after a crash, so each method must be safe to repeat under one key.
 * - `retrieve` throws a `not_found_error` TenderError (code {@link GATEWAY_PAYMENT_NOT_FOUND}) when the
 *   provider has no record of the payment (it never reached the provider).
 *
 * @module
 */
import type { Money } from '../money';
import type { CaptureMethod, Customer, FailureReason, NextAction, Payment, PaymentStatus, RefundStatus } from '../payment';

/** Error code meaning "the provider may or may not have acted" (timeout after send, reset mid-response). */
export const GATEWAY_OUTCOME_UNKNOWN = 'gateway_outcome_unknown';

/** Error code of `retrieve` when the provider does not know the payment. */
export const GATEWAY_PAYMENT_NOT_FOUND = 'gateway_payment_not_found';

/** What a gateway can do. The engine checks these before calling, so callers get a clear 400. */
export interface GatewayCapabilities {
  /**
   * Payment method names this gateway accepts (`FPX`, `card`, `upi`, ...); `'*'` accepts any, and an entry
   * ending in `*` accepts every name with that prefix (`FIUU:*` for raw channel codes, `pm_*` for tokens).
   */
  paymentMethods: readonly string[] | '*';
  /** ISO 4217 codes accepted; `'*'` for any. */
  currencies: readonly string[] | '*';
  /** Authorise now, capture later. */
  manualCapture: boolean;
  /** Capture less than the authorised amount. */
  partialCapture: boolean;
  /** Refund less than the captured amount, possibly several times. */
  partialRefund: boolean;
  /** Cancel (void) an authorisation or an unpaid payment. */
  cancel: boolean;
  /** Whether `retrieve` can requery the provider (needed for reconciliation). */
  retrieve: boolean;
  /**
   * The largest amount the provider takes, in minor units: one number for every currency, or a map by
   * ISO 4217 code (`'*'` for the rest). Routing treats a larger payment as not supported, so it is
   * refused with a 400 before anything is stored. Absent: only Tender's own limit (2^53 - 1 minor units).
   */
  maxAmountMinor?: number | Readonly<Record<string, number>>;
}

/** Per-call context handed to every gateway method. */
export interface GatewayCallContext {
  /**
   * Idempotency key derived from the caller's key and the operation (stable across retries and
   * crash recovery). Forward it (Stripe `Idempotency-Key`, PayPal `PayPal-Request-Id`).
   */
  idempotencyKey: string;
  /** Aborted when the caller gives up. */
  signal?: AbortSignal;
  /** The current time, from the engine's clock. */
  now: Date;
}

/** Input of {@link GatewayV1.createPayment}. */
export interface GatewayCreatePaymentInput {
  /** Tender's payment id; use it as the provider's merchant reference when there is no order id. */
  paymentId: string;
  merchantId: string;
  /** The merchant's order reference, if any. */
  orderId: string | null;
  amount: Money;
  captureMethod: CaptureMethod;
  paymentMethod: string | null;
  description: string | null;
  customer: Customer;
  returnUrl: string | null;
  notifyUrl: string | null;
  metadata: Record<string, string>;
}

/** A provider's view of a payment, normalised. */
export interface GatewayPaymentResult {
  status: Exclude<PaymentStatus, 'PARTIALLY_REFUNDED' | 'REFUNDED'> | 'PARTIALLY_REFUNDED' | 'REFUNDED';
  /** The provider's id for the payment, once known. */
  gatewayReference?: string | null;
  /** Amount the provider reports as captured, when it says. */
  amountCaptured?: Money;
  /** Amount the provider reports as authorised/charged, used to check integrity. */
  amount?: Money;
  nextAction?: NextAction | null;
  failure?: FailureReason | null;
  /** Non-secret provider data worth keeping on the payment (merged into `gatewayData`). */
  gatewayData?: Record<string, unknown>;
  /** Refunds the provider knows of (so refunds made in its dashboard sync into Tender). */
  refunds?: readonly GatewayRefundResult[];
}

/** Input of {@link GatewayV1.capture}. */
export interface GatewayCaptureInput {
  paymentId: string;
  gatewayReference: string;
  /** Amount to capture (may be less than authorised when `partialCapture`). */
  amount: Money;
  /** The authorised amount. */
  authorizedAmount: Money;
  gatewayData: Record<string, unknown>;
}

/** Input of {@link GatewayV1.cancel}. */
export interface GatewayCancelInput {
  paymentId: string;
  gatewayReference: string | null;
  amount: Money;
  gatewayData: Record<string, unknown>;
}

/** Input of {@link GatewayV1.refund}. */
export interface GatewayRefundInput {
  refundId: string;
  paymentId: string;
  gatewayReference: string;
  amount: Money;
  /** Captured amount of the payment; a refund equal to it is a full refund. */
  capturedAmount: Money;
  reason: string | null;
  gatewayData: Record<string, unknown>;
}

/** A provider's view of a refund. */
export interface GatewayRefundResult {
  status: RefundStatus;
  gatewayReference: string | null;
  amount: Money;
  failure?: FailureReason | null;
  /** Tender's refund id when the provider echoes it back (metadata, reference number). */
  refundId?: string | null;
}

/** Input of {@link GatewayV1.retrieve}. */
export interface GatewayRetrieveInput {
  paymentId: string;
  orderId: string | null;
  gatewayReference: string | null;
  amount: Money;
  gatewayData: Record<string, unknown>;
}

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
       * Verified, about a payment, but not usable as it is (a field missing from the payload): the
       * engine requeries the payment with `retrieve` and applies the provider's current state.
       */
      kind: 'requery';
      eventId: string;
      reason: string;
    })
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

/** Browser-side configuration for in-page checkout (no secrets). */
export interface ClientConfig {
  gateway: string;
  params: Record<string, unknown>;
}

/**
 * A gateway implementation. Methods are named for what the engine asks; the optional ones must be
 * present when the matching capability is declared.
 */
export interface GatewayV1 {
  readonly specVersion: 'v1';
  /** Stable id used in routing, URLs and storage (`fiuu`, `stripe`, `paypal`, `upi`). */
  readonly id: string;
  readonly capabilities: GatewayCapabilities;
  /**
   * The longest one call of this gateway may take, retries and backoff included (the transport's
   * `worstCaseMs`). The engine leases idempotency keys for at least this long, so a retry cannot take a
   * key over while the first call is still in flight.
   */
  readonly worstCaseCallMs?: number;
  /**
   * False when a call would certainly not be sent now (the transport's circuit is open). The engine
   * then refuses capture, cancel and refund with a retryable 503 before storing anything.
   */
  canSend?(): boolean;

  /**
   * Checks a payment this gateway is about to be asked to create, without any I/O, and throws an
   * `invalid_request_error` TenderError naming the field for what it would refuse (a currency's
   * amount rule, a channel minimum, an order id format). The engine calls it before storing anything,
   * so bad input changes nothing; `createPayment` may still refuse (the provider has the last word).
   */
  validateCreate?(input: GatewayCreatePaymentInput): void;
  /** Starts a payment. Most hosted/redirect flows answer `REQUIRES_ACTION` with a `nextAction`. */
  createPayment(input: GatewayCreatePaymentInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult>;
  /** Captures an authorised payment (required when `manualCapture`). */
  capture?(input: GatewayCaptureInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult>;
  /** Voids an authorisation or abandons an unpaid payment (required when `cancel`). */
  cancel?(input: GatewayCancelInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult>;
  /** Refunds part or all of a captured payment. */
  refund(input: GatewayRefundInput, ctx: GatewayCallContext): Promise<GatewayRefundResult>;
  /** Requeries the provider for the payment's true state (reconciliation). */
  retrieve(input: GatewayRetrieveInput, ctx: GatewayCallContext): Promise<GatewayPaymentResult>;
  /** Requeries a refund's state, when the provider can. */
  retrieveRefund?(
    input: { refundId: string; paymentId: string; gatewayReference: string | null; paymentGatewayReference: string | null; amount: Money },
    ctx: GatewayCallContext,
  ): Promise<GatewayRefundResult>;
  /**
   * Verifies a webhook's signature on the raw bytes (constant-time).
   * @throws TenderError of type `webhook_signature_error` when it does not verify.
   */
  verifyWebhook(request: WebhookRequest, now: Date): Promise<void> | void;
  /** Turns a verified webhook into normalised events plus the acknowledgement to send. */
  parseWebhook(request: WebhookRequest): Promise<ParsedWebhook> | ParsedWebhook;
  /** Parameters a browser needs for in-page checkout (e.g. Fiuu seamless), computed server-side. */
  clientConfig?(input: { paymentMethod?: string; currency?: string }): Promise<ClientConfig> | ClientConfig;
}

/** Alias for the current gateway spec version. */
export type Gateway = GatewayV1;
