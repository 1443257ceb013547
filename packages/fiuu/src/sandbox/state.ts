/**
 * The sandbox's Fiuu: merchant accounts, transactions and their refunds held in memory, with the
 * lookups Fiuu's APIs make (by transaction id, by order id, by refund RefID) and how a transaction
 * settles. HTTP, pages, APIs and deliveries are in the other modules of the sandbox.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { retentionLimit, setBounded } from '@tender/core';
import type { FiuuChannel } from '../channels';

/** A merchant account the sandbox knows. */
export interface SandboxMerchant {
  merchantId: string;
  verifyKey: string;
  secretKey: string;
  /** "Use extended format for Verify Payment": the vcode includes the currency. */
  extendedVcode?: boolean;
  /** Legacy account: result skeys are keyed with the verify key. */
  legacySkeyWithVerifyKey?: boolean;
  /** Portal-registered URLs, used when a payment carries no per-transaction override. */
  returnUrl?: string;
  notificationUrl?: string;
  callbackUrl?: string;
  /** Send callbacks (`nbcb=1`) as well as notifications. Default true. */
  callbacks?: boolean;
  /**
   * Attach `extraP` (the echoed `metadata`, card details) to results. Default true; the field is
   * optional in Fiuu's results, so a merchant must cope without it.
   */
  extraP?: boolean;
}

/** Payment-result status codes. */
export type SandboxStatus = '00' | '11' | '22';

/** A refund the sandbox holds. */
export interface SandboxRefund {
  refID: string;
  refundID: string;
  amount: string;
  status: 'pending' | 'success' | 'rejected';
  lastUpdate: string;
}

/** A transaction the sandbox holds. */
export interface SandboxTransaction {
  tranID: string;
  token: string;
  merchantId: string;
  orderid: string;
  /** Two-decimal amount as Fiuu reports it. */
  amount: string;
  currency: string;
  channel: FiuuChannel | null;
  billName: string;
  returnurl: string | null;
  callbackurl: string | null;
  tcctype: 'SALS' | 'AUTH';
  metadata: unknown;
  /** `null` until the customer acts on the payment page. */
  status: SandboxStatus | null;
  statName: string;
  appcode: string;
  paydate: string;
  captured: string | null;
  reversed: boolean;
  refunds: SandboxRefund[];
}

/** How much the sandbox remembers (see `FiuuSandboxOptions.retention`). */
export interface SandboxRetention {
  transactions?: number;
  history?: number;
}

/** What a transaction is opened with on the payment page; the rest starts empty. */
export type NewTransaction = Pick<SandboxTransaction, 'merchantId' | 'orderid' | 'amount' | 'currency' | 'channel' | 'billName' | 'returnurl' | 'callbackurl' | 'tcctype' | 'metadata'>;

const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:mm:ss` in GMT+8, as Fiuu's `paydate`. */
export function paydate(now = new Date()): string {
  const d = new Date(now.getTime() + 8 * 3600_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Decimal string -> two decimals, without floats; null when not a plain amount. */
export function twoDp(amount: string | undefined): string | null {
  const m = /^([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(amount ?? '');
  if (!m) return null;
  return `${BigInt(m[1]!).toString()}.${(m[2] ?? '').padEnd(2, '0')}`;
}

/** A two-decimal amount in cents, for comparing amounts without floats. */
export function cents(amount: string): bigint {
  const [w, f = ''] = amount.split('.');
  return BigInt(w!) * 100n + BigInt(f.padEnd(2, '0').slice(0, 2));
}

/** The key a merchant's result skeys are made with: the secret key, or the verify key on legacy accounts. */
export function skeyKeyOf(m: SandboxMerchant): string {
  return m.legacySkeyWithVerifyKey ? m.verifyKey : m.secretKey;
}

/**
 * The sandbox's accounts and transactions. Past the retention counts the oldest transactions are
 * forgotten (a long-running fake, such as the reference server's simulation mode, must not grow
 * without bound): a forgotten transaction is "not found" to every API.
 */
export class SandboxLedger {
  /** The accounts, by merchant id (Fiuu's `domain`). */
  readonly merchants: ReadonlyMap<string, SandboxMerchant>;
  /** Transactions kept (default 100 000); also bounds other per-transaction memory. */
  readonly keepTransactions: number;
  /** Deliveries, IPN echoes and API calls kept (default 10 000). */
  readonly keepHistory: number;
  private readonly txns = new Map<string, SandboxTransaction>();
  // Lookups by order id and by refund RefID, so no request scans every transaction.
  private readonly byOrder = new Map<string, SandboxTransaction[]>();
  private readonly byRefId = new Map<string, { t: SandboxTransaction; r: SandboxRefund }>();
  private nextTran = 3_000_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
  private nextRefund = 1;

  constructor(merchants: SandboxMerchant[], retention: SandboxRetention = {}) {
    this.merchants = new Map(merchants.map((m) => [m.merchantId, m]));
    this.keepTransactions = retentionLimit(retention.transactions, 100_000, 'retention.transactions');
    this.keepHistory = retentionLimit(retention.history, 10_000, 'retention.history');
  }

  /** The merchant of a transaction the ledger holds (only known merchants open transactions). */
  merchantOf(t: SandboxTransaction): SandboxMerchant {
    return this.merchants.get(t.merchantId)!;
  }

  /** A fresh Fiuu transaction id (also used for the tranID of a partial capture). */
  newTranId(): string {
    return String(this.nextTran++);
  }

  /** A fresh refund id (refunds and reversals share the sequence). */
  newRefundId(): string {
    return String(this.nextRefund++);
  }

  /** Opens a transaction awaiting the customer's decision. */
  open(fields: NewTransaction): SandboxTransaction {
    const t: SandboxTransaction = {
      tranID: this.newTranId(),
      token: randomBytes(12).toString('hex'),
      ...fields,
      status: null,
      statName: 'Unknown',
      appcode: '',
      paydate: paydate(),
      captured: null,
      reversed: false,
      refunds: [],
    };
    setBounded(this.txns, t.tranID, t, this.keepTransactions, (_id, old) => this.forget(old));
    const key = orderKey(t.merchantId, t.orderid);
    const same = this.byOrder.get(key);
    if (same) same.push(t);
    else this.byOrder.set(key, [t]);
    return t;
  }

  /** The transaction with Fiuu's `tranID`, while it is remembered. */
  get(tranID: string): SandboxTransaction | undefined {
    return this.txns.get(tranID);
  }

  /** @throws Error when the ledger holds no such transaction. */
  require(tranID: string): SandboxTransaction {
    const t = this.txns.get(tranID);
    if (!t) throw new Error(`Fiuu sandbox: no transaction ${tranID}`);
    return t;
  }

  /** Every transaction remembered, oldest first. */
  all(): SandboxTransaction[] {
    return [...this.txns.values()];
  }

  /** The transactions of an order, oldest first. */
  ofOrder(merchantId: string, orderid: string): readonly SandboxTransaction[] {
    return this.byOrder.get(orderKey(merchantId, orderid)) ?? [];
  }

  /** The order's latest transaction. */
  latestOfOrder(merchantId: string, orderid: string): SandboxTransaction | undefined {
    return this.byOrder.get(orderKey(merchantId, orderid))?.at(-1);
  }

  /** Records a refund of `t` (its RefID must be new: see {@link refund}). */
  addRefund(t: SandboxTransaction, r: SandboxRefund): void {
    t.refunds.push(r);
    this.byRefId.set(r.refID, { t, r });
  }

  /** The refund with the merchant's RefID, with its transaction. */
  refund(refID: string): { t: SandboxTransaction; r: SandboxRefund } | undefined {
    return this.byRefId.get(refID);
  }

  /** Records the outcome of the customer's (or the bank's late) decision. */
  settle(t: SandboxTransaction, decision: 'approve' | 'decline' | 'pending'): void {
    const auth = t.tcctype === 'AUTH';
    t.status = decision === 'approve' ? '00' : decision === 'decline' ? '11' : '22';
    t.statName = decision === 'approve' ? (auth ? 'authorized' : 'captured') : decision === 'decline' ? 'failed' : 'Pending';
    t.appcode = decision === 'approve' ? String(100000 + Math.floor(Math.random() * 900000)) : '';
    t.paydate = paydate();
    if (decision === 'approve' && !auth) t.captured = t.amount;
  }

  private forget(t: SandboxTransaction): void {
    const key = orderKey(t.merchantId, t.orderid);
    const same = this.byOrder.get(key)?.filter((x) => x !== t) ?? [];
    if (same.length > 0) this.byOrder.set(key, same);
    else this.byOrder.delete(key);
    for (const r of t.refunds) this.byRefId.delete(r.refID);
  }
}

const orderKey = (merchantId: string, orderid: string) => `${merchantId}\u0000${orderid}`;
