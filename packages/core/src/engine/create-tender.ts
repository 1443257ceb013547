/**
 * `createTender`: assembles the engine from gateways and a store. The engine is the only place that
 * orchestrates: validate -> idempotency -> state transition -> gateway call -> persist -> outbox.
 *
 * @module
 */
import { systemClock, type Clock } from '../clock';
import { invalidRequest, notFound } from '../errors';
import { silentLogger, type Logger } from '../logger';
import type { Refund, Transition } from '../payment';
import type { ClientConfig, GatewayV1, WebhookRequest } from '../spec/gateway/v1/index';
import type { OutboxEvent, Store } from '../spec/store/v1/index';
import { createBillingOperations } from './billing/index';
import { createDisputeOperations, type DisputeOperations } from './disputes/index';
import { createAnalyticsOperations } from './analytics/index';
import type { AnalyticsOperations } from './analytics/types';
import { createSettlementOperations } from './settlements/index';
import type { SettlementOperations } from './settlements/types';
import type { CustomerOperations, InvoiceOperations, PaymentMethodOperations, SubscriptionOperations } from './billing/types';
import { gatewayOf, type EngineContext } from './context';
import { DEFAULT_LEASE_MS, DEFAULT_RETENTION_MS, type IdempotencyOptions } from './idempotency';
import { PaymentOperations } from './payments/index';
import { ReconcileBackoff, reconcile, type ReconcileOptions, type ReconcileReport } from './reconciler';
import type { RoutingRule } from './routing';
import { handleWebhook, type WebhookHandled } from './webhooks';
import { defaultEventPayload, type EventPayloadEncoder } from '../events/envelope';
import { RecentPayments } from './recent-payments';
import type { RiskEngine } from '../risk/types';

/** Time a lease keeps beyond the slowest gateway call: the engine's own work around the call. */
const LEASE_MARGIN_MS = 10_000;

/**
 * Options of {@link createTender}. `S` is the store's own type, kept on {@link Tender.store} so what
 * the store implements beside `Store` (e.g. `WebhookEndpointStore`) stays visible to the caller.
 */
export interface TenderOptions<S extends Store = Store> {
  /** Gateways in default order of preference. */
  gateways: readonly GatewayV1[];
  store: S;
  clock?: Clock;
  logger?: Logger;
  /** Routing rules by currency / payment method; first match wins. */
  routing?: readonly RoutingRule[];
  idempotency?: IdempotencyOptions;
  /** Defaults for `reconcile()`. */
  reconciliation?: ReconcileOptions;
  /** Merchant used when a call names none (single-merchant embedding). Default `default`. */
  defaultMerchantId?: string;
  /**
   * Makes the published payload of each outbox event (stored with it: what the broker relay and a
   * Debezium pipeline carry). Default {@link defaultEventPayload}: the version 1 envelope around the
   * engine's snapshot. Must be pure and fast: it runs inside the state change's transaction.
   */
  eventPayload?: EventPayloadEncoder;
  /**
   * Risk checks before money moves (`createRiskEngine`): every create (a `confirm: false` one too)
   * is evaluated after validation and before any gateway call. `block` stores it `FAILED`
   * (`risk_blocked`) and calls no gateway; `review` holds it `REQUIRES_REVIEW` for
   * `tender.payments.review`; `step_up` asks the gateway for 3-D Secure. The decision is kept on the
   * payment (`gatewayData.risk`, see `riskOf`) and on its audit trail.
   */
  risk?: RiskEngine;
}

/** Listener for committed state-change events. */
export type TenderEventListener = (event: OutboxEvent) => void;

/** The engine returned by {@link createTender}. */
export interface Tender<S extends Store = Store> {
  /** Payment operations. */
  readonly payments: PaymentOperations;
  readonly refunds: {
    /** A refund by id (404 for another merchant's refund). */
    get(id: string, options?: { merchantId?: string }): Promise<Refund>;
    /** Refunds of a payment, oldest first. */
    list(paymentId: string, options?: { merchantId?: string }): Promise<Refund[]>;
  };
  /** The merchant's users as gateway customers (created on first use). */
  readonly customers: CustomerOperations;
  /** Payment methods saved on the users' gateway customers, one default per user. */
  readonly paymentMethods: PaymentMethodOperations;
  /** Subscriptions run by a gateway's billing engine, mirrored here. */
  readonly subscriptions: SubscriptionOperations;
  /** The subscriptions' invoices, mirrored here. */
  readonly invoices: InvoiceOperations;
  /** Disputes (chargebacks, inquiries) of the merchant's payments, recorded from the gateways' webhooks. */
  readonly disputes: DisputeOperations;
  /** Payment analytics of a window: counts, rates, revenue per currency (needs an `AnalyticsStore`). */
  readonly analytics: AnalyticsOperations;
  /** Settlement reconciliation: a gateway's report of a day against Tender's records (needs a `SettlementStore`). */
  readonly settlements: SettlementOperations;
  readonly webhooks: {
    /** Verifies and applies an inbound webhook; returns the acknowledgement the gateway expects. */
    handle(gateway: string, request: WebhookRequest): Promise<WebhookHandled>;
  };
  /** The audit trail of a payment and its refunds. */
  transitions(paymentId: string, options?: { merchantId?: string }): Promise<Transition[]>;
  /** Requeries payments whose outcome is unknown here; see {@link ReconcileOptions}. */
  reconcile(options?: ReconcileOptions): Promise<ReconcileReport>;
  /** Browser configuration for in-page checkout (e.g. Fiuu seamless). */
  clientConfig(gateway: string, input?: { paymentMethod?: string; currency?: string }): Promise<ClientConfig>;
  /** Subscribes to committed state changes (also written to the outbox); returns an unsubscribe function. */
  readonly events: { on(listener: TenderEventListener): () => void };
  readonly gateways: ReadonlyMap<string, GatewayV1>;
  /** The store given to {@link createTender}, with its own type. */
  readonly store: S;
}

/** Creates the engine. */
export function createTender<S extends Store = Store>(options: TenderOptions<S>): Tender<S> {
  if (!options || !Array.isArray(options.gateways) || options.gateways.length === 0) {
    throw invalidRequest('invalid_config', 'createTender needs at least one gateway', 'gateways');
  }
  if (!options.store) throw invalidRequest('invalid_config', 'createTender needs a store', 'store');
  const gateways = new Map<string, GatewayV1>();
  for (const gateway of options.gateways) {
    if (gateway.specVersion !== 'v1') {
      throw invalidRequest('unsupported_gateway_spec', `Gateway '${gateway.id}' implements spec ${String(gateway.specVersion)}; this engine speaks v1`, 'gateways');
    }
    if (gateways.has(gateway.id)) throw invalidRequest('duplicate_gateway', `Gateway '${gateway.id}' is configured twice`, 'gateways');
    gateways.set(gateway.id, gateway);
  }
  for (const rule of options.routing ?? []) {
    for (const id of rule.gateways) if (!gateways.has(id)) throw invalidRequest('invalid_config', `Routing names unknown gateway '${id}'`, 'routing');
  }
  const listeners = new Set<TenderEventListener>();
  const logger = options.logger ?? silentLogger;
  // A key's lease must outlast the slowest call it covers, or a retry could take the key over while
  // the first request is still waiting on the gateway (and both would act).
  const slowestCallMs = Math.max(0, ...options.gateways.map((g) => g.worstCaseCallMs ?? 0));
  const leaseMs = Math.max(options.idempotency?.leaseMs ?? DEFAULT_LEASE_MS, slowestCallMs + LEASE_MARGIN_MS);
  const ctx: EngineContext = {
    store: options.store,
    clock: options.clock ?? systemClock,
    logger,
    gateways,
    retentionMs: options.idempotency?.retentionMs ?? DEFAULT_RETENTION_MS,
    leaseMs,
    defaultMerchantId: options.defaultMerchantId ?? 'default',
    eventPayload: options.eventPayload ?? defaultEventPayload,
    recent: new RecentPayments(),
    risk: options.risk,
    settleRequestedCancel: (payment) => payments.settleRequestedCancel(payment),
    publish(events) {
      for (const event of events) {
        for (const listener of listeners) {
          try {
            listener(event);
          } catch (error) {
            logger.warn({ error: String(error) }, 'event listener threw');
          }
        }
      }
    },
  };
  const merchant = (o?: { merchantId?: string }) => o?.merchantId ?? ctx.defaultMerchantId;
  const payments = new PaymentOperations(ctx, options.routing ?? []);
  const backoff = new ReconcileBackoff();
  const billing = createBillingOperations(ctx);

  return {
    payments,
    ...billing,
    disputes: createDisputeOperations(ctx),
    analytics: createAnalyticsOperations(ctx),
    settlements: createSettlementOperations(ctx),
    refunds: {
      async get(id, o) {
        const refund = await ctx.store.getRefund(id, merchant(o));
        if (!refund) throw notFound('refund', id);
        return refund;
      },
      async list(paymentId, o) {
        await payments.get(paymentId, { merchantId: merchant(o) });
        return ctx.store.listRefunds(paymentId);
      },
    },
    webhooks: { handle: (gateway, request) => handleWebhook(ctx, gateway, request) },
    async transitions(paymentId, o) {
      await payments.get(paymentId, { merchantId: merchant(o) });
      return ctx.store.listTransitions(paymentId);
    },
    reconcile: (o) => reconcile(ctx, backoff, { ...options.reconciliation, ...o }),
    async clientConfig(id, input = {}) {
      const gateway = gatewayOf(ctx, id);
      if (!gateway.clientConfig) throw invalidRequest('client_config_not_supported', `Gateway '${id}' has no browser configuration`, 'gateway');
      return gateway.clientConfig(input);
    },
    events: {
      on(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    gateways,
    store: options.store,
  };
}
