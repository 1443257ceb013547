/**
 * The sandbox's balance: a balance transaction for every captured charge, refund and failed refund
 * (https://docs.stripe.com/api/balance_transactions/object), linked from the charge's and refund's
 * `balance_transaction`, listed by `GET /v1/balance_transactions` (newest first, `created` range,
 * `type`, `source`, `currency`, cursor pagination) and retrieved by `GET /v1/balance_transactions/:id`.
 *
 * Fees follow Stripe's US card pricing, 2.9 % + 30 in the charge's minor units
 * (https://stripe.com/pricing), as one `stripe_fee` fee detail; funds become available two days after
 * the charge. A chargeback's withdrawal (`charge.dispute.funds_withdrawn`) takes the disputed amount and
 * a 15.00 dispute fee as an `adjustment` of reporting category `dispute`, a won chargeback's
 * reinstatement (`charge.dispute.funds_reinstated`) gives the amount back as `dispute_reversal`
 * (https://docs.stripe.com/disputes/how-disputes-work); an inquiry moves no funds. Tests plant reconciliation mismatches with {@link SandboxBalanceControls}.
 *
 * @module
 */
import { setBounded } from '@tender/core';
import type { StripeEvent } from '../stripe-types';
import { int, missing, stripeId, str, type SandboxAccount } from './api';
import { list } from './list';

/** A balance transaction as Stripe shapes it (`stripe` package: `BalanceTransaction`). */
export interface StripeBalanceTransaction {
  id: string;
  object: 'balance_transaction';
  amount: number;
  available_on: number;
  balance_type: 'payments';
  created: number;
  currency: string;
  description: string | null;
  exchange_rate: number | null;
  fee: number;
  fee_details: Array<{ amount: number; application: string | null; currency: string; description: string | null; type: string }>;
  net: number;
  reporting_category: string;
  source: string | null;
  status: 'available' | 'pending';
  type: string;
}

/** What tests change in the balance, to plant mismatches. Ids may be a `txn_`, the source's `ch_` / `re_`, or a charge's `pi_`. */
export interface SandboxBalanceControls {
  /** The balance transaction for an id. */
  of(id: string): StripeBalanceTransaction;
  /** Reports another gross amount (Stripe's signed minor units); fee kept, net recomputed. */
  alterAmount(id: string, amount: number): void;
  /** Moves the transaction to another `created` time (unix seconds), e.g. onto a fixed report day. */
  moveTo(id: string, created: number): void;
  /** Leaves the transaction out of every list. */
  omit(id: string): void;
  /** A card payment made outside Tender (no Tender metadata): its PaymentIntent id. */
  addForeign(amount: number, currency: string): string;
}

const DAY_SECONDS = 86_400;
/** Stripe's dispute fee, 15.00 in the dispute's currency's minor units (https://stripe.com/pricing#disputes). */
const DISPUTE_FEE = 1500;
/** Whether an `expand` parameter names `path`. */
const expands = (expand: unknown, path: string) => (Array.isArray(expand) ? expand.includes(path) : expand === path);
const now = () => Math.floor(Date.now() / 1000);

/** Stripe's fee on a card charge: 2.9 % + 30 minor units, rounded half up. */
export function sandboxStripeFee(amount: number): number {
  return Math.floor((amount * 29 + 500) / 1000) + 30;
}

/** Balance transactions over one account, made from its events. */
export class SandboxBalance {
  private readonly txns = new Map<string, StripeBalanceTransaction>();
  private readonly bySource = new Map<string, string>();
  private readonly omitted = new Set<string>();
  /** Dispute fund movements already booked (`dp_...:withdrawn`, `dp_...:reinstated`). */
  private readonly disputeMoves = new Set<string>();
  readonly controls: SandboxBalanceControls;

  constructor(
    private readonly account: SandboxAccount,
    private readonly keep = 100_000,
  ) {
    account.onEvent((event) => this.onEvent(event));
    this.controls = {
      of: (id) => this.resolve(id),
      alterAmount: (id, amount) => {
        const t = this.resolve(id);
        t.amount = amount;
        t.net = amount - t.fee;
      },
      moveTo: (id, created) => {
        const t = this.resolve(id);
        t.created = created;
        t.available_on = created + 2 * DAY_SECONDS;
      },
      omit: (id) => void this.omitted.add(this.resolve(id).id),
      addForeign: (amount, currency) => {
        const pi = this.account.createPaymentIntent({ amount: String(amount), currency, payment_method: 'pm_card_visa', confirm: 'true' }, null);
        return pi.id;
      },
    };
  }

  private resolve(id: string): StripeBalanceTransaction {
    let key = id;
    if (id.startsWith('pi_')) key = this.account.paymentIntents.get(id)?.latest_charge ?? id;
    const t = this.txns.get(key) ?? this.txns.get(this.bySource.get(key) ?? '');
    if (!t) throw new Error(`Stripe sandbox: no balance transaction for ${id}`);
    return t;
  }

  private add(type: string, category: string, amount: number, fee: number, currency: string, created: number, source: string, description: string | null, feeDescription = 'Stripe processing fees'): StripeBalanceTransaction {
    const t: StripeBalanceTransaction = {
      id: stripeId('txn'),
      object: 'balance_transaction',
      amount,
      available_on: created + 2 * DAY_SECONDS,
      balance_type: 'payments',
      created,
      currency,
      description,
      exchange_rate: null,
      fee,
      fee_details: fee === 0 ? [] : [{ amount: fee, application: null, currency, description: feeDescription, type: 'stripe_fee' }],
      net: amount - fee,
      reporting_category: category,
      source,
      status: 'pending',
      type,
    };
    setBounded(this.txns, t.id, t, this.keep, (_id, old) => this.bySource.delete(old.source ?? ''));
    this.bySource.set(source, t.id);
    return t;
  }

  private onEvent(event: StripeEvent): void {
    const object = event.data.object as { id: string };
    switch (event.type) {
      case 'charge.succeeded':
      case 'charge.captured': {
        const charge = this.account.charges.get(object.id);
        if (!charge || !charge.captured || charge.balance_transaction) return;
        const t = this.add('charge', 'charge', charge.amount_captured, sandboxStripeFee(charge.amount_captured), charge.currency, charge.created as number, charge.id, (charge.description as string | null | undefined) ?? null);
        charge.balance_transaction = t.id;
        return;
      }
      case 'refund.created': {
        const refund = this.account.refunds.get(object.id);
        if (!refund || refund.balance_transaction) return;
        const t = this.add('refund', 'refund', -refund.amount, 0, refund.currency, refund.created, refund.id, `REFUND FOR CHARGE (${refund.charge ?? ''})`);
        refund.balance_transaction = t.id;
        return;
      }
      case 'refund.failed': {
        const refund = this.account.refunds.get(object.id);
        if (!refund || refund.failure_balance_transaction) return;
        // The refunded money comes back to the balance (https://docs.stripe.com/refunds#failed-refunds).
        const t = this.add('refund_failure', 'refund_failure', refund.amount, 0, refund.currency, now(), refund.id, `REFUND FAILURE FOR CHARGE (${refund.charge ?? ''})`);
        this.bySource.set(refund.id, (refund.balance_transaction as string | null) ?? t.id);
        refund.failure_balance_transaction = t.id;
        return;
      }
      case 'charge.dispute.funds_withdrawn':
      case 'charge.dispute.funds_reinstated': {
        const dispute = event.data.object as { id: string; amount: number; currency: string; charge?: string };
        const withdrawn = event.type === 'charge.dispute.funds_withdrawn';
        const move = `${dispute.id}:${withdrawn ? 'withdrawn' : 'reinstated'}`;
        if (this.disputeMoves.has(move)) return;
        this.disputeMoves.add(move);
        if (this.disputeMoves.size > this.keep) this.disputeMoves.delete(this.disputeMoves.values().next().value!);
        const t = withdrawn
          ? this.add('adjustment', 'dispute', -dispute.amount, DISPUTE_FEE, dispute.currency, now(), dispute.id, `Chargeback withdrawal for ${dispute.charge ?? ''}`, 'Dispute fee')
          : this.add('adjustment', 'dispute_reversal', dispute.amount, 0, dispute.currency, now(), dispute.id, `Chargeback reversal for ${dispute.charge ?? ''}`);
        // The dispute lists its balance transactions (a new array: event snapshots stay as they were).
        const stored = this.account.disputes.get(dispute.id);
        if (stored) stored.balance_transactions = [...((stored.balance_transactions as unknown[] | undefined) ?? []), { ...t }];
        return;
      }
      default:
    }
  }

  /** `source` expanded where the shared expansion cannot find the object (a dispute), leaving the rest to it. */
  private withDisputes(t: StripeBalanceTransaction, expand: boolean): StripeBalanceTransaction {
    const dispute = expand && t.source?.startsWith('dp_') ? this.account.disputes.get(t.source) : undefined;
    return dispute ? ({ ...t, source: structuredClone(dispute) } as unknown as StripeBalanceTransaction) : t;
  }

  private view(t: StripeBalanceTransaction): StripeBalanceTransaction {
    t.status = t.available_on <= now() ? 'available' : 'pending';
    return t;
  }

  /** `GET /v1/balance_transactions[/:id]`. */
  route(method: string, id: string | undefined, params: Record<string, unknown>): unknown {
    if (method !== 'GET') return undefined;
    if (id) {
      const t = this.txns.get(id);
      if (!t || this.omitted.has(id)) throw missing('balance_transaction', id);
      return this.withDisputes(this.view(t), expands(params.expand, 'source'));
    }
    if (params.payout !== undefined) throw missing('payout', String(params.payout), 'payout');
    const created = params.created;
    const range: Record<string, number | undefined> =
      created !== undefined && typeof created === 'object' && created !== null
        ? { gt: int(created as Record<string, unknown>, 'gt'), gte: int(created as Record<string, unknown>, 'gte'), lt: int(created as Record<string, unknown>, 'lt'), lte: int(created as Record<string, unknown>, 'lte') }
        : { gte: int(params, 'created'), lte: int(params, 'created') };
    const type = str(params, 'type');
    const source = str(params, 'source');
    const currency = str(params, 'currency')?.toLowerCase();
    const items = [...this.txns.values()]
      .filter((t) => !this.omitted.has(t.id))
      .filter((t) => (range.gt === undefined || t.created > range.gt) && (range.gte === undefined || t.created >= range.gte) && (range.lt === undefined || t.created < range.lt) && (range.lte === undefined || t.created <= range.lte))
      .filter((t) => (!type || t.type === type) && (!source || t.source === source) && (!currency || t.currency === currency))
      // Newest first; a stable order for equal times (ids are random, insertion order is kept reversed).
      .reverse()
      .sort((a, b) => b.created - a.created)
      .map((t) => this.withDisputes(this.view(t), expands(params.expand, 'data.source')));
    return list(items, params, '/v1/balance_transactions');
  }
}
