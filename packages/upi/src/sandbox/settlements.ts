/**
 * The sandbox's settlement reconciliation, `GET /v1/settlements/recon/combined?year&month[&day][&count][&skip]`
 * (https://razorpay.com/docs/api/settlements/fetch-recon/): every payment and refund settled in the
 * month or on the day, with Razorpay's item fields (`entity_id`, `type`, `debit`, `credit`, `amount`,
 * `currency`, `fee`, `tax`, `settlement_id`, `settled_at`, `payment_id` for refunds, `order_id`, ...),
 * paged by `count` / `skip`.
 *
 * A captured payment settles at once (Razorpay's real cycle is T+2, which a test would have to wait
 * for) with its fee and tax; a processed refund is debited when it is processed; a lost dispute's
 * deducted amount is debited as an adjustment naming the dispute. Days are UTC days.
 * Tests plant mismatches with {@link SandboxSettlementControls}.
 *
 * @module
 */
import { razorpayId, badRequest, type SandboxPayment, type SandboxRefund } from './account';

/** One line of the recon report, as Razorpay shapes it. */
export interface SandboxReconItem {
  entity_id: string;
  type: 'payment' | 'refund' | 'adjustment' | 'transfer';
  debit: number;
  credit: number;
  amount: number;
  currency: string;
  fee: number;
  tax: number;
  on_hold: boolean;
  settled: boolean;
  created_at: number;
  settled_at: number;
  settlement_id: string;
  posted_at: number | null;
  credit_type: string;
  description: string | null;
  notes: Record<string, string> | [];
  payment_id: string | null;
  settlement_utr: string;
  order_id: string | null;
  order_receipt: string | null;
  method: 'upi' | null;
  card_network: null;
  card_issuer: null;
  card_type: null;
  dispute_id: string | null;
}

/** Options of the recon report (see `RazorpaySandboxOptions.settlements`). */
export interface SandboxSettlementOptions {
  /** The most items one page answers, whatever `count` asks (default 1000). */
  maxCount?: number;
}

/** What tests change in the recon report, to plant mismatches. Ids are the `pay_` / `rfnd_` entity ids. */
export interface SandboxSettlementControls {
  /** The item of an entity. */
  of(entityId: string): SandboxReconItem;
  /** Reports another amount (paise) for the entity; credit or debit follows. */
  alterAmount(entityId: string, amount: number): void;
  /** Settles the entity at another time (unix seconds), e.g. on a fixed report day. */
  moveTo(entityId: string, settledAt: number): void;
  /** Leaves the entity out of the report. */
  omit(entityId: string): void;
  /** Adds a settled payment no order of this sandbox made; answers its `pay_` id. */
  addForeign(item: { amount: number; settledAt: number; currency?: string }): string;
}

const day = (unix: number) => new Date(unix * 1000).toISOString().slice(0, 10);

/** The recon report over one account, filled from its events. */
export class SandboxSettlements {
  private readonly items = new Map<string, SandboxReconItem>();
  private readonly omitted = new Set<string>();
  private readonly settlementIds = new Map<string, string>();
  readonly controls: SandboxSettlementControls;

  constructor(
    private readonly now: () => number,
    private readonly options: SandboxSettlementOptions = {},
    private readonly orderReceipt: (orderId: string) => string | null = () => null,
  ) {
    this.controls = {
      of: (id) => this.require(id),
      alterAmount: (id, amount) => {
        const item = this.require(id);
        item.amount = amount;
        if (item.credit > 0 || item.type === 'payment') item.credit = amount - item.fee;
        else item.debit = amount + item.fee;
      },
      moveTo: (id, settledAt) => {
        const item = this.require(id);
        item.settled_at = settledAt;
        item.posted_at = settledAt;
        item.settlement_id = this.settlementOf(settledAt);
      },
      omit: (id) => void this.omitted.add(this.require(id).entity_id),
      addForeign: ({ amount, settledAt, currency = 'INR' }) => {
        const fee = Math.round(amount * 0.02);
        const tax = Math.round(fee * 0.18);
        const id = razorpayId('pay');
        this.items.set(id, this.item({ entity_id: id, type: 'payment', amount, fee: fee + tax, tax, credit: amount - fee - tax, debit: 0, currency, created_at: settledAt, settled_at: settledAt, order_id: razorpayId('order'), payment_id: null }));
        return id;
      },
    };
  }

  private require(id: string): SandboxReconItem {
    const item = this.items.get(id);
    if (!item) throw new Error(`Razorpay sandbox: no settled entity ${id}`);
    return item;
  }

  /** One settlement (`setl_...`) per UTC day. */
  private settlementOf(unix: number): string {
    const d = day(unix);
    let id = this.settlementIds.get(d);
    if (!id) {
      id = razorpayId('setl');
      this.settlementIds.set(d, id);
    }
    return id;
  }

  private item(fields: Pick<SandboxReconItem, 'entity_id' | 'type' | 'amount' | 'fee' | 'tax' | 'credit' | 'debit' | 'currency' | 'created_at' | 'settled_at' | 'order_id' | 'payment_id'>): SandboxReconItem {
    return {
      ...fields,
      on_hold: false,
      settled: true,
      settlement_id: this.settlementOf(fields.settled_at),
      posted_at: fields.settled_at,
      credit_type: 'default',
      description: null,
      notes: [],
      settlement_utr: `SBUTR${day(fields.settled_at).replaceAll('-', '')}`,
      order_receipt: fields.order_id ? this.orderReceipt(fields.order_id) : null,
      method: 'upi',
      card_network: null,
      card_issuer: null,
      card_type: null,
      dispute_id: null,
    };
  }

  /** Records what an account event settles: a captured payment (credit) or a processed refund (debit). */
  onEvent(type: string, payload: Record<string, unknown>): void {
    const now = Math.floor(this.now() / 1000);
    if (type === 'payment.captured') {
      const p = (payload.payment as { entity: SandboxPayment }).entity;
      if (this.items.has(p.id)) return;
      const fee = p.fee ?? 0;
      this.items.set(p.id, this.item({ entity_id: p.id, type: 'payment', amount: p.amount, fee, tax: p.tax ?? 0, credit: p.amount - fee, debit: 0, currency: p.currency, created_at: p.created_at, settled_at: now, order_id: p.order_id, payment_id: null }));
    }
    if (type === 'payment.dispute.lost') this.onDisputeLost(payload, now);
    if (type === 'refund.processed') {
      const r = (payload.refund as { entity: SandboxRefund }).entity;
      const p = (payload.payment as { entity: SandboxPayment } | undefined)?.entity;
      // Only money that settled comes back out: an auto-refunded authorisation was never captured.
      if (this.items.has(r.id) || !this.items.has(r.payment_id)) return;
      this.items.set(r.id, this.item({ entity_id: r.id, type: 'refund', amount: r.amount, fee: 0, tax: 0, credit: 0, debit: r.amount, currency: r.currency, created_at: r.created_at, settled_at: now, order_id: p?.order_id ?? null, payment_id: r.payment_id }));
    }
  }

  /** Debits a lost dispute's deducted amount (`payment.dispute.lost`), once. */
  private onDisputeLost(payload: Record<string, unknown>, now: number): void {
    const d = (payload.dispute as { entity: { id: string; payment_id: string; amount_deducted?: number; amount: number; currency: string } }).entity;
    const id = `adj_${d.id.replace(/^disp_/, '')}`;
    if (this.items.has(id)) return;
    const amount = d.amount_deducted ?? d.amount;
    const order = (payload.payment as { entity: SandboxPayment } | undefined)?.entity.order_id ?? null;
    this.items.set(id, { ...this.item({ entity_id: id, type: 'adjustment', amount, fee: 0, tax: 0, credit: 0, debit: amount, currency: d.currency, created_at: now, settled_at: now, order_id: order, payment_id: d.payment_id }), dispute_id: d.id, description: 'Dispute lost: amount deducted' });
  }

  /** `GET /v1/settlements/recon/combined`. */
  recon(query: URLSearchParams): { entity: 'collection'; count: number; items: SandboxReconItem[] } {
    const year = query.get('year');
    const month = query.get('month');
    const dayOf = query.get('day');
    if (!year || !/^\d{4}$/.test(year)) throw badRequest('The year field is required.', 'year');
    if (!month || !/^\d{1,2}$/.test(month) || Number(month) < 1 || Number(month) > 12) throw badRequest('The month field is required.', 'month');
    if (dayOf !== null && (!/^\d{1,2}$/.test(dayOf) || Number(dayOf) < 1 || Number(dayOf) > 31)) throw badRequest('The day must be between 1 and 31.', 'day');
    const prefix = `${year}-${month.padStart(2, '0')}${dayOf === null ? '' : `-${dayOf.padStart(2, '0')}`}`;
    const count = Math.min(this.options.maxCount ?? 1000, Math.max(1, Number(query.get('count') ?? 10) || 10));
    const skip = Math.max(0, Number(query.get('skip') ?? 0) || 0);
    const all = [...this.items.values()].filter((i) => !this.omitted.has(i.entity_id) && day(i.settled_at).startsWith(prefix)).sort((a, b) => a.settled_at - b.settled_at);
    const items = all.slice(skip, skip + count);
    return { entity: 'collection', count: items.length, items };
  }
}
