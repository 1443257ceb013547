/**
 * Gateway spec v1: the `GatewayV1` interface a gateway package implements.
 *
 * @module
 */
import type { Money } from '../../../money';
import type { GatewayCustomersV1, GatewaySavedMethodsV1, GatewaySubscriptionsV1 } from './billing';
import type { GatewayCapabilities } from './capabilities';
import type { GatewaySettlementsV1 } from './settlements';
import type {
  GatewayCallContext,
  GatewayCancelInput,
  GatewayCaptureInput,
  GatewayCreatePaymentInput,
  GatewayPaymentResult,
  GatewayRefundInput,
  GatewayRefundResult,
  GatewayRetrieveInput,
} from './operations';
import type { ParsedWebhook, WebhookRequest } from './webhooks';

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
  /** The gateway's customer objects; present when `capabilities.customers`. */
  readonly customers?: GatewayCustomersV1;
  /** Saved payment methods; present when `capabilities.savedMethods`. */
  readonly savedMethods?: GatewaySavedMethodsV1;
  /** Subscriptions and invoices; present when `capabilities.subscriptions`. */
  readonly subscriptions?: GatewaySubscriptionsV1;
  /** The settlement report; present when `capabilities.settlements`. */
  readonly settlements?: GatewaySettlementsV1;
}

/** Alias for the current gateway spec version. */
export type Gateway = GatewayV1;
