/**
 * Test clocks (https://docs.stripe.com/billing/testing/test-clocks): a Customer created with
 * `test_clock` lives on that clock's time, and so do its subscriptions and invoices. Advancing the
 * clock plays everything due up to the new time, in time order: `trial_will_end` three days before a
 * trial ends, period ends (trial end, renewal, cancel at period end), invoice finalization an hour
 * after a renewal invoice is created, payment retries on the schedule, and the expiry of
 * `incomplete` subscriptions.
 *
 * As on Stripe, `advance` answers at once with `status: advancing` and the work completes
 * asynchronously (here on the next turn of the event loop): poll the clock until it is `ready`, or
 * wait for `test_helpers.test_clock.ready`. A clock may not advance more than two intervals of its
 * shortest subscription at a time (Stripe's limit), nor backwards.
 *
 * @module
 */
import { int, missing, str, stripeId, type RequestInfo } from '../api';
import { attemptInvoicePayment, finalizeInvoice } from './invoices';
import { expireIncomplete, hasEnded, INCOMPLETE_EXPIRY_SECONDS, intervalOf, periodEnded, periodOf, trialWillEnd, trialWillEndAt } from './subscriptions';
import { addInterval, invalidRequest, type BillingState, type StripeObject } from './state';

type Params = Record<string, unknown>;

/** Stripe deletes a test clock this long after it was created. */
const CLOCK_LIFETIME_SECONDS = 30 * 86_400;

/** `POST /v1/test_helpers/test_clocks`. */
export function createTestClock(state: BillingState, params: Params, request: RequestInfo): StripeObject {
  const frozen = int(params, 'frozen_time', true)!;
  const created = Math.floor(Date.now() / 1000);
  const clock: StripeObject = {
    id: stripeId('clock'),
    object: 'test_helpers.test_clock',
    created,
    deletes_after: created + CLOCK_LIFETIME_SECONDS,
    frozen_time: frozen,
    livemode: false,
    name: str(params, 'name') || null,
    status: 'ready',
    status_details: {},
  };
  state.keep(state.testClocks, clock);
  state.emit('test_helpers.test_clock.created', clock, request);
  return clock;
}

/** `GET /v1/test_helpers/test_clocks/:id`. */
export function retrieveTestClock(state: BillingState, id: string): StripeObject {
  const clock = state.testClocks.get(id);
  if (!clock) throw missing('test_clock', id);
  return clock;
}

/** `GET /v1/test_helpers/test_clocks`. */
export function listTestClocks(state: BillingState): StripeObject[] {
  return [...state.testClocks.values()].reverse();
}

/** `DELETE /v1/test_helpers/test_clocks/:id`: the clock goes with its Customers and their objects. */
export function deleteTestClock(state: BillingState, id: string, request: RequestInfo): StripeObject {
  const clock = retrieveTestClock(state, id);
  const customers = new Set([...state.customers.values()].filter((c) => c.test_clock === id).map((c) => c.id));
  for (const [key, sub] of state.subscriptions) if (customers.has(sub.customer as string)) state.subscriptions.delete(key);
  for (const [key, invoice] of state.invoices) if (customers.has(invoice.customer as string)) state.invoices.delete(key);
  for (const customer of customers) state.customers.delete(customer);
  state.testClocks.delete(id);
  state.emit('test_helpers.test_clock.deleted', clock, request);
  return { id, object: 'test_helpers.test_clock', deleted: true };
}

/** `POST /v1/test_helpers/test_clocks/:id/advance`. */
export function advanceTestClock(state: BillingState, id: string, params: Params, request: RequestInfo): StripeObject {
  const clock = retrieveTestClock(state, id);
  const target = int(params, 'frozen_time', true)!;
  if (clock.status !== 'ready') throw invalidRequest(`The test clock ${id} is ${String(clock.status)}; wait until it is ready before advancing it again.`, undefined, 'test_clock_not_ready' as string);
  const from = clock.frozen_time as number;
  if (target <= from) throw invalidRequest('The frozen time must be after the test clock\'s current frozen time.', 'frozen_time');
  const limit = advanceLimit(state, id, from);
  if (target > limit) {
    throw invalidRequest(`Cannot advance the test clock more than two intervals beyond its shortest subscription's interval (at most to ${limit}).`, 'frozen_time');
  }
  clock.status = 'advancing';
  clock.status_details = { advancing: { target_frozen_time: target } };
  state.emit('test_helpers.test_clock.advancing', clock, request);
  const answer = structuredClone(clock);
  setImmediate(() => {
    try {
      run(state, id, target);
      clock.frozen_time = target;
      clock.status = 'ready';
      clock.status_details = {};
      state.emit('test_helpers.test_clock.ready', clock, null);
    } catch (error) {
      clock.status = 'internal_failure';
      clock.status_details = {};
      state.emit('test_helpers.test_clock.internal_failure', clock, null);
      // The clock shows the failure; the sandbox keeps serving.
      void error;
    } finally {
      state.clockTime.delete(id);
    }
  });
  return answer;
}

/** Two intervals of the clock's shortest live subscription ahead (without subscriptions: two years). */
function advanceLimit(state: BillingState, clock: string, from: number): number {
  let limit = addInterval(from, 'year', 2);
  for (const sub of state.subscriptions.values()) {
    if (sub.test_clock !== clock || hasEnded(sub)) continue;
    const { interval, count } = intervalOf(sub);
    limit = Math.min(limit, addInterval(from, interval, 2 * count));
  }
  return limit;
}

/** What is due on a clock: the earliest first. */
interface Due {
  at: number;
  run: () => void;
}

function dueOn(state: BillingState, clock: string): Due | null {
  let next: Due | null = null;
  const consider = (at: number | null, run: () => void) => {
    if (at !== null && (!next || at < next.at)) next = { at, run };
  };
  for (const sub of state.subscriptions.values()) {
    if (sub.test_clock !== clock || hasEnded(sub)) continue;
    consider(trialWillEndAt(state, sub), () => trialWillEnd(state, sub, null));
    if (sub.status === 'incomplete') consider((sub.created as number) + INCOMPLETE_EXPIRY_SECONDS, () => expireIncomplete(state, sub));
    else consider(periodOf(sub).end, () => periodEnded(state, sub));
  }
  for (const invoice of state.invoices.values()) {
    if (invoice.test_clock !== clock) continue;
    if (invoice.status === 'draft' && invoice.automatically_finalizes_at !== null) {
      consider(invoice.automatically_finalizes_at as number, () => {
        finalizeInvoice(state, invoice, null);
        if (invoice.status === 'open') attemptInvoicePayment(state, invoice, { offSession: true, request: null });
      });
    }
    if (invoice.status === 'open' && invoice.next_payment_attempt !== null && invoice.auto_advance) {
      consider(invoice.next_payment_attempt as number, () => void attemptInvoicePayment(state, invoice, { offSession: true, retry: true, request: null }));
    }
  }
  return next;
}

/** Plays everything due on the clock up to `target`, in time order. */
function run(state: BillingState, clock: string, target: number): void {
  for (let step = 0; step < 100_000; step++) {
    const due = dueOn(state, clock);
    if (!due || due.at > target) return;
    state.clockTime.set(clock, Math.max(due.at, state.clockNow(clock)));
    due.run();
  }
  throw new Error(`test clock ${clock}: too many steps`);
}
