/**
 * The merchant APIs of the sandbox, answered in Fiuu's formats and error codes: requery by
 * transaction and by order id, capture, reversal, refund and refund status, and the back-end IPN echo
 * (`returnipn.php`). Each checks its skey or Signature as Fiuu does.
 *
 * @module
 */
import type { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { pushBounded, setBounded } from '@tender/core';
import {
  captureSkey,
  hexEquals,
  paymentSkey,
  refundInquiryByRefIdSignature,
  refundInquiryByTxnSignature,
  refundResponseSignature,
  refundSignature,
  requeryByOidSkey,
  requeryByTidSkey,
  requeryVrfKey,
  reversalSkey,
  statusVrfKey,
} from '../signatures';
import type { SandboxOperation } from './faults';
import { cents, paydate, skeyKeyOf, twoDp, type SandboxLedger, type SandboxMerchant, type SandboxRefund, type SandboxTransaction } from './state';

/** A back-end IPN echo (`treq=1`) the merchant posted to `returnipn.php`. */
export interface SandboxIpnEcho {
  tranID: string;
  fields: Record<string, string>;
  /** Whether the echoed fields still carried a valid skey. */
  valid: boolean;
}

/** How the merchant APIs behave (see `FiuuSandboxOptions`). */
export interface MerchantApiOptions {
  /** Reject a requery of the same transaction sooner than this with `Q99`. Default 0 (off). */
  requeryMinIntervalMs?: number;
  /** How a refund ends after its immediate `22`: default `success`. */
  refundOutcome?: 'success' | 'rejected' | 'pending';
}

/** The merchant-API paths (after `/RMS/` or `/MOLPay/`) and the operation each is, for faults and `apiCalls`. */
export const API_OPERATIONS: Readonly<Record<string, Exclude<SandboxOperation, 'any'>>> = {
  'q_by_tid.php': 'requery',
  'API/gate-query/index.php': 'requery',
  'query/q_by_oid.php': 'requery',
  'API/capstxn/index.php': 'capture',
  'API/refundAPI/refund.php': 'reversal',
  'API/refundAPI/index.php': 'refund',
  'API/refundAPI/q_by_refID.php': 'refund_status',
  'API/refundAPI/q_by_txn.php': 'refund_status',
  'API/chkstat/returnipn.php': 'ipn',
  // Answered by `settlement-report.ts`; listed here for `apiCalls` and faults.
  'API/settlement/report.php': 'settlement_report',
};

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function text(res: ServerResponse, fields: Record<string, string>, separator: '=' | ': '): void {
  res.writeHead(200, { 'content-type': 'text/plain' }).end(Object.entries(fields).map(([k, v]) => `${k}${separator}${v}`).join('\n'));
}

/** The merchant APIs over one ledger. */
export class MerchantApi {
  /** Every IPN echo received, oldest first (bounded by the history retention). */
  readonly ipnEchoes: SandboxIpnEcho[] = [];
  private readonly lastRequery = new Map<string, number>();

  constructor(
    private readonly ledger: SandboxLedger,
    private readonly options: MerchantApiOptions,
    /** Emits `ipn` ({@link SandboxIpnEcho}) for each echo. */
    private readonly events: EventEmitter,
  ) {}

  /**
   * Answers the API at `path` (a key of {@link API_OPERATIONS}) with the request's fields.
   * @returns false for a path that is not a merchant API (nothing is written then).
   */
  handle(path: string, res: ServerResponse, f: Record<string, string>): boolean {
    switch (path) {
      case 'q_by_tid.php':
      case 'API/gate-query/index.php':
        this.requery(res, f, 'tid');
        return true;
      case 'query/q_by_oid.php':
        this.requery(res, f, 'oid');
        return true;
      case 'API/capstxn/index.php':
        this.capture(res, f);
        return true;
      case 'API/refundAPI/refund.php':
        this.reversal(res, f);
        return true;
      case 'API/refundAPI/index.php':
        this.refund(res, f);
        return true;
      case 'API/refundAPI/q_by_refID.php':
        this.refundStatus(res, f, 'refID');
        return true;
      case 'API/refundAPI/q_by_txn.php':
        this.refundStatus(res, f, 'txn');
        return true;
      case 'API/chkstat/returnipn.php':
        this.returnIpn(res, f);
        return true;
      default:
        return false;
    }
  }

  private requery(res: ServerResponse, f: Record<string, string>, by: 'tid' | 'oid'): void {
    const err = (code: string, desc: string) => json(res, { StatCode: null, ErrorCode: code, ErrorDesc: desc });
    const id = by === 'tid' ? f.txID : f.oID;
    if (!f.domain || !id || !f.amount || !f.skey) return err('Q00001', 'Missing parameter');
    const m = this.ledger.merchants.get(f.domain);
    if (!m) return err('Q00003', 'Merchant not found');
    const expected = by === 'tid'
      ? requeryByTidSkey({ txID: id, domain: f.domain, verifyKey: m.verifyKey, amount: f.amount })
      : requeryByOidSkey({ oID: id, domain: f.domain, verifyKey: m.verifyKey, amount: f.amount });
    if (!hexEquals(expected, f.skey)) return err('Q00004', 'Incorrect skey');
    const limitKey = `${f.domain}:${by}:${id}`;
    const now = Date.now();
    if (this.options.requeryMinIntervalMs && now - (this.lastRequery.get(limitKey) ?? -Infinity) < this.options.requeryMinIntervalMs) return err('Q99', 'Blocked: query rate exceeded');
    setBounded(this.lastRequery, limitKey, now, this.ledger.keepTransactions);
    const byTid = by === 'tid' ? this.ledger.get(id) : undefined;
    const t = by === 'tid' ? (byTid?.merchantId === f.domain ? byTid : undefined) : this.ledger.latestOfOrder(f.domain, id);
    if (!t) return err('Q00005', 'Record not found');
    if (twoDp(f.amount) !== t.amount) return err('Q00002', 'Invalid amount');
    const statCode = t.reversed ? '11' : (t.status ?? '22');
    const out: Record<string, string | null> = {
      StatCode: statCode,
      StatName: t.reversed ? 'cancelled' : t.status === null ? 'Unknown' : t.statName,
      TranID: t.tranID,
      Amount: t.amount,
      Domain: t.merchantId,
      Channel: t.channel?.hosted ?? '',
      VrfKey: requeryVrfKey({ amount: t.amount, secretKey: m.secretKey, domain: t.merchantId, id: by === 'tid' ? t.tranID : t.orderid, statCode }),
      Currency: t.currency,
      ErrorCode: statCode === '11' ? '01' : null,
      ErrorDesc: statCode === '11' ? 'Transaction unsuccessful' : null,
    };
    if (by === 'oid') Object.assign(out, { OrderID: t.orderid, BillingDate: t.paydate, BillingName: t.billName });
    if (f.type === '2') return json(res, out);
    text(res, Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v ?? ''])), ': ');
  }

  private capture(res: ServerResponse, f: Record<string, string>): void {
    const reply = (m: SandboxMerchant | undefined, tranID: string, statCode: string, extra: Record<string, string> = {}) =>
      json(res, { TranID: tranID, Domain: f.domain ?? '', StatCode: statCode, StatDate: paydate(), VrfKey: m ? statusVrfKey({ secretKey: m.secretKey, domain: f.domain!, tranID, statCode }) : '', ...extra });
    if (!f.domain || !f.tranID || !f.amount || !f.skey) return reply(undefined, f.tranID ?? '', '18');
    const m = this.ledger.merchants.get(f.domain);
    if (!m) return reply(undefined, f.tranID, '19');
    if (!hexEquals(captureSkey({ tranID: f.tranID, amount: f.amount, domain: f.domain, verifyKey: m.verifyKey }), f.skey)) return reply(undefined, f.tranID, '12');
    const t = this.ledger.get(f.tranID);
    if (!t || t.merchantId !== f.domain) return reply(m, f.tranID, '17');
    if (t.channel?.kind !== 'card') return reply(m, t.tranID, '13');
    if (t.captured !== null) return reply(m, t.tranID, '24');
    if (t.statName !== 'authorized' || t.reversed) return reply(m, t.tranID, '11');
    const amount = twoDp(f.amount);
    if (!amount || cents(amount) > cents(t.amount)) return reply(m, t.tranID, '25');
    t.captured = amount;
    t.statName = 'captured';
    reply(m, t.tranID, '00', amount !== t.amount ? { PartialCaptureTranID: this.ledger.newTranId() } : {});
  }

  private reversal(res: ServerResponse, f: Record<string, string>): void {
    const reply = (m: SandboxMerchant | undefined, statCode: string) =>
      text(res, { TranID: f.txnID ?? '', Domain: f.domain ?? '', StatCode: statCode, StatDate: paydate(), VrfKey: m ? statusVrfKey({ secretKey: m.secretKey, domain: f.domain!, tranID: f.txnID!, statCode }) : '', refundID: statCode === '00' ? this.ledger.newRefundId() : '' }, '=');
    if (!f.txnID || !f.domain || !f.skey) return reply(undefined, '20');
    const m = this.ledger.merchants.get(f.domain);
    if (!m) return reply(undefined, '19');
    if (!hexEquals(reversalSkey({ txnID: f.txnID, domain: f.domain, secretKey: m.secretKey }), f.skey)) return reply(undefined, '12');
    const t = this.ledger.get(f.txnID);
    if (!t || t.merchantId !== f.domain) return reply(m, '17');
    if (t.reversed) return reply(m, '22');
    if (t.status !== '00') return reply(m, '21');
    t.reversed = true;
    t.statName = 'cancelled';
    reply(m, '00');
  }

  private refund(res: ServerResponse, f: Record<string, string>): void {
    const err = (code: string, desc: string) => json(res, { error_code: code, error_desc: desc });
    for (const [name, code] of [['RefundType', 'PR002'], ['MerchantID', 'PR003'], ['RefID', 'PR004'], ['TxnID', 'PR005'], ['Amount', 'PR006'], ['Signature', 'PR006']] as const) {
      if (!f[name]) return err(code, `Missing ${name}`);
    }
    if (f.RefundType !== 'P') return err('PR001', 'Invalid RefundType');
    const m = this.ledger.merchants.get(f.MerchantID!);
    if (!m) return err('PR007', 'Merchant ID not found');
    const fields = { RefundType: f.RefundType!, MerchantID: f.MerchantID!, RefID: f.RefID!, TxnID: f.TxnID!, Amount: f.Amount! };
    if (!hexEquals(refundSignature(fields, m.secretKey), f.Signature)) return err('PR008', 'Invalid signature');
    const t = this.ledger.get(f.TxnID!);
    if (!t || t.merchantId !== m.merchantId) return err('PR009', 'Transaction not found');
    if (this.ledger.refund(f.RefID!)) return err('PR016', 'Duplicate RefID');
    if (t.status !== '00' || t.captured === null || t.reversed) return err('PR010', 'Transaction status not allowed');
    const amount = twoDp(f.Amount);
    const refunded = t.refunds.filter((r) => r.status !== 'rejected').reduce((sum, r) => sum + cents(r.amount), 0n);
    if (!amount || cents(amount) + refunded > cents(t.captured)) return err('PR011', 'Refund amount exceeds the transaction amount');
    const r: SandboxRefund = { refID: f.RefID!, refundID: this.ledger.newRefundId(), amount: fields.Amount, status: 'pending', lastUpdate: paydate() };
    this.ledger.addRefund(t, r);
    if (this.options.refundOutcome !== 'pending') {
      setImmediate(() => {
        r.status = this.options.refundOutcome === 'rejected' ? 'rejected' : 'success';
        r.lastUpdate = paydate();
      });
    }
    const response = { ...fields, RefundID: r.refundID, Status: '22' };
    json(res, { ...response, Signature: refundResponseSignature(response, m.secretKey) });
  }

  private refundStatus(res: ServerResponse, f: Record<string, string>, by: 'refID' | 'txn'): void {
    const err = (code: string, desc: string) => json(res, { error_code: code, error_desc: desc });
    const id = by === 'refID' ? f.RefID : f.TxnID;
    if (!id || !f.MerchantID || !f.Signature) return err('INQ001', 'Missing parameter');
    const m = this.ledger.merchants.get(f.MerchantID);
    if (!m) return err('INQ004', 'Merchant ID not found');
    const expected = by === 'refID'
      ? refundInquiryByRefIdSignature({ refID: id, merchantId: m.merchantId, verifyKey: m.verifyKey })
      : refundInquiryByTxnSignature({ txnID: id, merchantId: m.merchantId, verifyKey: m.verifyKey });
    if (!hexEquals(expected, f.Signature)) return err('INQ005', 'Invalid signature');
    const byRef = by === 'refID' ? this.ledger.refund(id) : undefined;
    const txn = by === 'txn' ? this.ledger.get(id) : undefined;
    const found = (byRef ? [byRef] : txn ? txn.refunds.map((r) => ({ t: txn, r })) : []).filter(({ t }) => t.merchantId === m.merchantId);
    if (found.length === 0) return err('INQ011', 'Refund not found');
    const view = ({ t, r }: { t: SandboxTransaction; r: SandboxRefund }) => ({ TxnID: t.tranID, RefID: r.refID, RefundID: r.refundID, Status: r.status, LastUpdate: r.lastUpdate });
    json(res, found.length === 1 ? view(found[0]!) : found.map(view));
  }

  private returnIpn(res: ServerResponse, f: Record<string, string>): void {
    const m = this.ledger.merchants.get(f.domain ?? '');
    const base = { tranID: f.tranID ?? '', orderid: f.orderid ?? '', status: f.status ?? '', domain: f.domain ?? '', amount: f.amount ?? '', currency: f.currency ?? '', paydate: f.paydate ?? '', appcode: f.appcode ?? '' };
    const valid = !!m && f.treq === '1' && hexEquals(paymentSkey(base, skeyKeyOf(m)), f.skey);
    const echo: SandboxIpnEcho = { tranID: base.tranID, fields: f, valid };
    pushBounded(this.ipnEchoes, echo, this.ledger.keepHistory);
    this.events.emit('ipn', echo);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(valid ? 'ACK' : 'NACK');
  }
}
