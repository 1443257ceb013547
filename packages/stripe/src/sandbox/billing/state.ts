/**
 * The billing half of the sandbox's Stripe account: Customers, saved PaymentMethods, SetupIntents,
 * Products, Prices, Subscriptions, Invoices and test clocks, held in memory next to the payment half
 * ({@link SandboxAccount}), whose PaymentIntents pay the invoices. Each resource's rules live in its own
 * module; this holds the maps, the time of each Customer (its test clock's, or the wall clock's) and
 * event publishing.
 *
 * @module
 */
import { setBounded } from '@tender/core';
import { missing, now, SandboxError, type RequestInfo, type SandboxAccount } from '../api';
import { TEST_CARDS, type TestCard } from '../test-cards';

/** A Stripe object as the sandbox stores it: Stripe's JSON shape, `id` always set. */
export type StripeObject = { id: string; object: string } & Record<string, unknown>;

/**
 * How the sandbox retries a failed subscription invoice. Stripe's Smart Retries choose the times
 * with a model; the sandbox uses a fixed schedule, like Stripe's "custom retry schedule" setting
 * (https://docs.stripe.com/billing/revenue-recovery/smart-retries).
 */
export interface SandboxBillingOptions {
  /** Days after the first failed attempt at which to retry (default `[3, 5, 7]`: three retries within a week). */
  retryScheduleDays?: readonly number[];
  /** What happens to the subscription once every retry failed (default `cancel`, Stripe's default setting). */
  whenRetriesExhausted?: 'cancel' | 'unpaid' | 'past_due';
}

/** What the sandbox knows about a saved PaymentMethod beyond its JSON. */
export interface SavedCard {
  /** The test card it was made from (`pm_card_visa`, ...). */
  testCard: string;
  /** Confirmed through a SetupIntent. */
  setUp: boolean;
  /** Detached: Stripe never lets it pay or attach again. */
  detached: boolean;
}

/** Subscription bookkeeping Stripe does not show. */
export interface SubscriptionState {
  trialWillEndSent: boolean;
  /** `customer.subscription.created` was sent: later changes are `customer.subscription.updated`. */
  announced: boolean;
}

/** Invoice bookkeeping Stripe does not show. */
export interface InvoiceState {
  /** Time of the first failed attempt, from which the retry schedule counts. */
  firstFailureAt: number | null;
  /** Retries made so far. */
  retries: number;
}

/** The in-memory billing objects of one sandbox account. */
export class BillingState {
  readonly customers = new Map<string, StripeObject>();
  readonly paymentMethods = new Map<string, StripeObject>();
  readonly savedCards = new Map<string, SavedCard>();
  readonly setupIntents = new Map<string, StripeObject>();
  readonly products = new Map<string, StripeObject>();
  readonly prices = new Map<string, StripeObject>();
  readonly subscriptions = new Map<string, StripeObject>();
  readonly subscriptionStates = new Map<string, SubscriptionState>();
  readonly invoices = new Map<string, StripeObject>();
  readonly invoiceStates = new Map<string, InvoiceState>();
  /** Invoice paid by each PaymentIntent made for one. */
  readonly invoiceOfPaymentIntent = new Map<string, string>();
  readonly testClocks = new Map<string, StripeObject>();
  /** A clock's time while it advances (its `frozen_time` shows the old time until it is `ready`). */
  readonly clockTime = new Map<string, number>();
  /** Invoice numbers handed out per Customer prefix. */
  readonly invoiceSequence = new Map<string, number>();
  readonly retryScheduleDays: readonly number[];
  readonly whenRetriesExhausted: 'cancel' | 'unpaid' | 'past_due';

  constructor(
    readonly account: SandboxAccount,
    /** Base URL of the sandbox, for hosted pages (invoices, 3-D Secure). */
    readonly baseUrl: () => string,
    options: SandboxBillingOptions = {},
    /** Objects of each kind kept before the oldest are forgotten (the sandbox's `retention.objects`). */
    private readonly limit = 100_000,
  ) {
    this.retryScheduleDays = options.retryScheduleDays ?? [3, 5, 7];
    this.whenRetriesExhausted = options.whenRetriesExhausted ?? 'cancel';
  }

  /** Stores a new object; past the retention limit the oldest of its kind is forgotten (with `onEvict`'s bookkeeping). */
  keep(map: Map<string, StripeObject>, object: StripeObject, onEvict?: (id: string) => void): void {
    setBounded(map, object.id, object, this.limit, onEvict ? (id) => onEvict(id) : undefined);
  }

  /** Remembers which invoice a PaymentIntent pays, as long as PaymentIntents are kept. */
  linkPayment(paymentIntent: string, invoice: string): void {
    setBounded(this.invoiceOfPaymentIntent, paymentIntent, invoice, this.limit);
  }

  /** Now, for objects of `customer`: its test clock's time, else the wall clock. */
  timeOf(customer: string | null | undefined): number {
    const clock = customer ? (this.customers.get(customer)?.test_clock as string | null | undefined) : null;
    return clock ? this.clockNow(clock) : now();
  }

  /** A test clock's current time (mid-advance, the time reached so far). */
  clockNow(clock: string): number {
    return this.clockTime.get(clock) ?? (this.testClocks.get(clock)?.frozen_time as number | undefined) ?? now();
  }

  /** Publishes an event with a deep copy of `object`, so later changes do not show in it. */
  emit(type: string, object: StripeObject, request: RequestInfo | null, previous?: Record<string, unknown>): void {
    this.account.emitEvent(type, structuredClone(object), request, previous);
  }

  customer(id: string, param = 'customer'): StripeObject {
    const customer = this.customers.get(id);
    if (!customer) throw missing('customer', id, param);
    return customer;
  }

  /** The test card behind a saved PaymentMethod or a test id. */
  cardOf(paymentMethod: string): TestCard | undefined {
    return TEST_CARDS[paymentMethod] ?? TEST_CARDS[this.savedCards.get(paymentMethod)?.testCard ?? ''];
  }
}

/** A 400 `invalid_request_error` in Stripe's words. */
export function invalidRequest(message: string, param?: string, code?: string): SandboxError {
  return new SandboxError(400, { type: 'invalid_request_error', message, ...(param ? { param } : {}), ...(code ? { code } : {}) });
}

/** `previous_attributes` of an update: the old values of the fields that changed. */
export function changed(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> | null {
  const previous: Record<string, unknown> = {};
  for (const key of Object.keys(after)) if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key] ?? null;
  return Object.keys(previous).length > 0 ? previous : null;
}

/** Unix time `count` calendar `interval`s after `from` (months keep the day, clamped to the month's end, as Stripe bills). */
export function addInterval(from: number, interval: string, count: number): number {
  const date = new Date(from * 1000);
  switch (interval) {
    case 'day':
      return from + count * 86_400;
    case 'week':
      return from + count * 7 * 86_400;
    case 'month':
    case 'year': {
      const months = interval === 'year' ? 12 * count : count;
      const day = date.getUTCDate();
      const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()));
      const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
      target.setUTCDate(Math.min(day, lastDay));
      return Math.floor(target.getTime() / 1000);
    }
    default:
      throw invalidRequest(`Invalid interval: ${interval}`, 'recurring[interval]');
  }
}
