/**
 * A fake Fiuu on loopback. It speaks the wire protocol of the Fiuu API Spec v13.86 (payment, results, requery, capture, refund) (same paths under `/RMS/`
 * and `/MOLPay/`, same fields, same hashes, same error codes) and rejects what Fiuu rejects: a wrong
 * vcode gives P03, a bad skey or Signature on an API gives its documented code, an unknown merchant
 * is refused. Results reach the merchant through the browser (return URL) and server-to-server
 * (notification `nbcb=2` and callback `nbcb=1`), with faults that tests can inject.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { pushBounded, retentionLimit, setBounded } from '@tender/core';
import { FIUU_CHANNELS } from '../channels';
import type { FiuuChannel } from '../channels';
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
  vcode,
} from '../signatures';
import { autoPostPage, donePage, errorPage, paymentPage } from './pages';

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

/** Options of {@link startFiuuSandbox}. */
export interface FiuuSandboxOptions {
  merchants: SandboxMerchant[];
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Reject a requery of the same transaction sooner than this with `Q99` (Fiuu's block). Default 0 (off). */
  requeryMinIntervalMs?: number;
  /** How a refund ends after its immediate `22`: default `success`. */
  refundOutcome?: 'success' | 'rejected' | 'pending';
  /**
   * How much the sandbox remembers. Past these counts the oldest are forgotten (a long-running fake,
   * such as the reference server's simulation mode, must not grow without bound): a forgotten
   * transaction is "not found" to every API. Defaults: 100 000 transactions, 10 000 deliveries and
   * IPN echoes.
   */
  retention?: { transactions?: number; history?: number };
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

/** One server-to-server delivery the sandbox made. */
export interface SandboxDelivery {
  tranID: string;
  kind: 'notification' | 'callback';
  status: string;
  url: string;
  fields: Record<string, string>;
  httpStatus: number | null;
  responseBody: string;
  /** Callback: the merchant answered `CBTOKEN:MPSTATOK`; notification: it answered 2xx. */
  acknowledged: boolean;
}

/** A back-end IPN echo (`treq=1`) the merchant posted to `returnipn.php`. */
export interface SandboxIpnEcho {
  tranID: string;
  fields: Record<string, string>;
  /** Whether the echoed fields still carried a valid skey. */
  valid: boolean;
}

/** Operations that API faults can target. */
export type SandboxOperation = 'requery' | 'capture' | 'reversal' | 'refund' | 'refund_status' | 'ipn' | 'any';

/** One merchant-API request the sandbox received (answered, failed or stalled by a fault alike). */
export interface SandboxApiCall {
  operation: Exclude<SandboxOperation, 'any'>;
  /** Path after the `/RMS/` or `/MOLPay/` prefix, e.g. `q_by_tid.php`. */
  path: string;
  /** The request's fields (GET and POST merged, POST winning). */
  fields: Record<string, string>;
}

type NotificationFault = { action: 'drop' } | { action: 'duplicate' } | { action: 'delay'; ms: number } | { action: 'reorder' };

/** Fault injection for tests. Each fault applies to the next result outcome(s) or API call(s). */
export interface SandboxFaults {
  /** Drop the notification and callback of the next `times` outcomes. */
  dropNotifications(times?: number): void;
  /** Send the notification and callback of the next `times` outcomes twice. */
  duplicateNotifications(times?: number): void;
  /** Delay the next `times` outcomes' deliveries by `ms`. */
  delayNotifications(ms: number, times?: number): void;
  /** Hold the next outcome's deliveries until the following outcome of the same transaction has been sent. */
  reorderNotifications(): void;
  /** Make the next `times` calls of `operation` answer HTTP 503, or stall (no answer until close). */
  api(operation: SandboxOperation, mode: '5xx' | 'stall', times?: number): void;
  /** Removes every pending fault. */
  clear(): void;
}

/** A running sandbox. */
export interface FiuuSandbox {
  /** Base URL (`http://127.0.0.1:port`); also the payment and API host. */
  url: string;
  paymentHost: string;
  apiHost: string;
  faults: SandboxFaults;
  /** Emits `delivery` ({@link SandboxDelivery}) and `ipn` ({@link SandboxIpnEcho}). */
  events: EventEmitter;
  deliveries: SandboxDelivery[];
  ipnEchoes: SandboxIpnEcho[];
  /** Every merchant-API request received, oldest first (bounded like `deliveries`): count requeries with it. */
  apiCalls: SandboxApiCall[];
  transactions(): SandboxTransaction[];
  transaction(tranID: string): SandboxTransaction | undefined;
  findByOrder(merchantId: string, orderid: string): SandboxTransaction | undefined;
  /** Finishes a pending transaction (the bank answered late) and delivers the new outcome. */
  complete(tranID: string, decision: 'approve' | 'decline'): Promise<void>;
  /** Re-sends the current outcome's notification and callback (Fiuu's retry). */
  resend(tranID: string): Promise<void>;
  /** Sends a DuitNow QR account-enquiry notification for a transaction (not a payment). */
  sendAccountEnquiry(tranID: string): Promise<void>;
  /** Resolves once every delivery started so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:mm:ss` in GMT+8, as Fiuu's `paydate`. */
function paydate(now = new Date()): string {
  const d = new Date(now.getTime() + 8 * 3600_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Decimal string -> two decimals, without floats; null when not a plain amount. */
function twoDp(amount: string | undefined): string | null {
  const m = /^([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(amount ?? '');
  if (!m) return null;
  return `${BigInt(m[1]!).toString()}.${(m[2] ?? '').padEnd(2, '0')}`;
}

function cents(amount: string): bigint {
  const [w, f = ''] = amount.split('.');
  return BigInt(w!) * 100n + BigInt(f.padEnd(2, '0').slice(0, 2));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const channelByHosted = new Map<string, FiuuChannel>();
for (const c of FIUU_CHANNELS) if (!channelByHosted.has(c.hosted.toLowerCase())) channelByHosted.set(c.hosted.toLowerCase(), c);

/**
 * Starts a fake Fiuu on 127.0.0.1.
 * @example
 * const sandbox = await startFiuuSandbox({ merchants: [{ merchantId: 'SB_acme', verifyKey, secretKey }] });
 * const gateway = createFiuuGateway({ merchantId: 'SB_acme', verifyKey, secretKey, paymentHost: sandbox.paymentHost, apiHost: sandbox.apiHost, transport });
 */
export async function startFiuuSandbox(options: FiuuSandboxOptions): Promise<FiuuSandbox> {
  const merchants = new Map(options.merchants.map((m) => [m.merchantId, m]));
  const txns = new Map<string, SandboxTransaction>();
  // Lookups by order id and by refund RefID, so no request scans every transaction.
  const byOrder = new Map<string, SandboxTransaction[]>();
  const byRefId = new Map<string, { t: SandboxTransaction; r: SandboxRefund }>();
  const orderKey = (merchantId: string, orderid: string) => `${merchantId}\u0000${orderid}`;
  const keepTransactions = retentionLimit(options.retention?.transactions, 100_000, 'retention.transactions');
  const keepHistory = retentionLimit(options.retention?.history, 10_000, 'retention.history');
  const forget = (t: SandboxTransaction) => {
    const key = orderKey(t.merchantId, t.orderid);
    const same = byOrder.get(key)?.filter((x) => x !== t) ?? [];
    if (same.length > 0) byOrder.set(key, same);
    else byOrder.delete(key);
    for (const r of t.refunds) byRefId.delete(r.refID);
  };
  const deliveries: SandboxDelivery[] = [];
  const ipnEchoes: SandboxIpnEcho[] = [];
  const apiCalls: SandboxApiCall[] = [];
  const events = new EventEmitter();
  const inflight = new Set<Promise<unknown>>();
  const lastRequery = new Map<string, number>();
  let notificationFaults: NotificationFault[] = [];
  let apiFaults: Array<{ operation: SandboxOperation; mode: '5xx' | 'stall' }> = [];
  const held = new Map<string, Array<() => Promise<void>>>();
  const stalled = new Set<ServerResponse>();
  let nextTran = 3_000_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
  let nextRefund = 1;
  let closed = false;

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };

  const skeyKeyOf = (m: SandboxMerchant) => (m.legacySkeyWithVerifyKey ? m.verifyKey : m.secretKey);

  function resultFields(t: SandboxTransaction, kind: 'return' | 'notification' | 'callback', extra?: Record<string, unknown>): Record<string, string> {
    const m = merchants.get(t.merchantId)!;
    const status = t.status ?? '22';
    const base = { tranID: t.tranID, orderid: t.orderid, status, domain: t.merchantId, amount: t.amount, currency: t.currency, paydate: t.paydate, appcode: t.appcode };
    const extraP: Record<string, unknown> = { ...(t.metadata !== undefined ? { metadata: t.metadata } : {}), ...extra };
    if (t.channel?.kind === 'card' && status === '00') Object.assign(extraP, { ccbrand: 'VISA', cclast4: '1111', cctype: 'CREDIT' });
    const fields: Record<string, string> = { ...(kind === 'return' ? {} : { nbcb: kind === 'callback' ? '1' : '2' }), ...base, skey: paymentSkey(base, skeyKeyOf(m)) };
    fields.channel = t.channel ? (kind === 'return' ? t.channel.returnName : t.channel.notifyName) : '';
    fields.error_code = status === '11' ? '01' : '';
    fields.error_desc = status === '11' ? 'Transaction unsuccessful: the customer did not authorise' : '';
    if (Object.keys(extraP).length > 0 && m.extraP !== false) fields.extraP = JSON.stringify(extraP);
    return fields;
  }

  async function deliverOne(t: SandboxTransaction, kind: 'notification' | 'callback', url: string, fields: Record<string, string>): Promise<void> {
    const delivery: SandboxDelivery = { tranID: t.tranID, kind, status: fields.status!, url, fields, httpStatus: null, responseBody: '', acknowledged: false };
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
      delivery.httpStatus = res.status;
      delivery.responseBody = await res.text();
      delivery.acknowledged = kind === 'callback' ? delivery.responseBody.trim() === 'CBTOKEN:MPSTATOK' : res.ok;
    } catch (error) {
      delivery.responseBody = String(error);
    }
    pushBounded(deliveries, delivery, keepHistory);
    events.emit('delivery', delivery);
  }

  function sendOutcome(t: SandboxTransaction, extra?: Record<string, unknown>): Promise<void> {
    const m = merchants.get(t.merchantId)!;
    const notifyUrl = t.callbackurl ?? m.notificationUrl;
    const callbackUrl = t.callbackurl ?? m.callbackUrl;
    const send = async () => {
      if (notifyUrl) await deliverOne(t, 'notification', notifyUrl, resultFields(t, 'notification', extra));
      if (callbackUrl && m.callbacks !== false) await deliverOne(t, 'callback', callbackUrl, resultFields(t, 'callback', extra));
    };
    const fault = notificationFaults.shift();
    const release = async () => {
      const waiting = held.get(t.tranID);
      held.delete(t.tranID);
      for (const w of waiting ?? []) await w();
    };
    if (fault?.action === 'drop') return Promise.resolve();
    if (fault?.action === 'reorder') {
      // Capture the fields now so the held delivery carries this (older) outcome.
      const older = { ...t };
      const olderSend = async () => {
        if (notifyUrl) await deliverOne(older, 'notification', notifyUrl, resultFields(older, 'notification', extra));
        if (callbackUrl && m.callbacks !== false) await deliverOne(older, 'callback', callbackUrl, resultFields(older, 'callback', extra));
      };
      held.set(t.tranID, [...(held.get(t.tranID) ?? []), olderSend]);
      return Promise.resolve();
    }
    const run = async () => {
      if (fault?.action === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
      await send();
      if (fault?.action === 'duplicate') await send();
      await release();
    };
    return track(run());
  }

  function settle(t: SandboxTransaction, decision: 'approve' | 'decline' | 'pending'): void {
    const auth = t.tcctype === 'AUTH';
    t.status = decision === 'approve' ? '00' : decision === 'decline' ? '11' : '22';
    t.statName = decision === 'approve' ? (auth ? 'authorized' : 'captured') : decision === 'decline' ? 'failed' : 'Pending';
    t.appcode = decision === 'approve' ? String(100000 + Math.floor(Math.random() * 900000)) : '';
    t.paydate = paydate();
    if (decision === 'approve' && !auth) t.captured = t.amount;
  }

  // ---- payment page -------------------------------------------------------------------------

  function payError(res: ServerResponse, code: string, desc: string): void {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(errorPage(code, desc));
  }

  function handlePay(res: ServerResponse, prefix: string, merchantId: string, fileChannel: string | null, f: Record<string, string>): void {
    const m = merchants.get(merchantId);
    if (!m) return payError(res, 'P404', 'Invalid merchant ID');
    const amount = twoDp(f.amount);
    if (!amount) return payError(res, 'P04', 'Invalid amount');
    const currencyText = (f.currency ?? f.cur ?? '').toUpperCase();
    // The amount field is n{10,2}: at most ten integer digits (Fiuu API Spec v13.86, Appendix A).
    if (amount.split('.')[0]!.length > 10) return payError(res, 'P15', `Transaction amount must less than ${currencyText || 'MYR'} 9999999999.99.`);
    const orderid = f.orderid ?? '';
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(orderid)) return payError(res, 'P19', 'Invalid order ID');
    if (!f.bill_name || f.bill_desc === undefined) return payError(res, 'P04', 'Incomplete buyer information');
    const currency = (f.currency ?? f.cur ?? '').toUpperCase();
    const channelCode = f.channel ?? fileChannel;
    const channel = channelCode ? channelByHosted.get(channelCode.toLowerCase()) : null;
    if (channelCode && !channel) return payError(res, 'P05', 'Invalid channel');
    if (!currency || (channel && !channel.currencies.includes(currency))) return payError(res, 'P13', 'Currency not supported');
    const expected = vcode({ amount: f.amount!, merchantId, orderId: orderid, verifyKey: m.verifyKey, currency: m.extendedVcode ? currency : undefined });
    if (!hexEquals(expected, f.vcode)) return payError(res, 'P03', 'Your payment info format not correct!');
    if (channel?.minAmount && cents(amount) < cents(channel.minAmount)) return payError(res, 'P14', 'Amount below minimum');
    const tcctype = f.tcctype === 'AUTH' ? 'AUTH' : 'SALS';
    if (tcctype === 'AUTH' && channel?.kind !== 'card') return payError(res, 'P48', 'TxnType not supported by channel');
    let metadata: unknown;
    if (f.metadata !== undefined) {
      try {
        metadata = JSON.parse(f.metadata);
      } catch {
        return payError(res, 'P57', 'metadata is not JSON');
      }
    }
    let t = byOrder.get(orderKey(merchantId, orderid))?.find((x) => x.amount === amount);
    if (t && t.status === '00') return payError(res, 'P09', 'Duplicate payment');
    if (!t || t.status !== null) {
      t = {
        tranID: String(nextTran++),
        token: randomBytes(12).toString('hex'),
        merchantId,
        orderid,
        amount,
        currency,
        channel: channel ?? null,
        billName: f.bill_name,
        returnurl: f.returnurl ?? null,
        callbackurl: f.callbackurl ?? null,
        tcctype,
        metadata,
        status: null,
        statName: 'Unknown',
        appcode: '',
        paydate: paydate(),
        captured: null,
        reversed: false,
        refunds: [],
      };
      setBounded(txns, t.tranID, t, keepTransactions, (_id, old) => forget(old));
      const key = orderKey(merchantId, orderid);
      const same = byOrder.get(key);
      if (same) same.push(t);
      else byOrder.set(key, [t]);
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      paymentPage({ tranID: t.tranID, token: t.token, merchantId, orderid, amount, currency, channel: channel?.hosted ?? '', prefix }),
    );
  }

  function handleAct(res: ServerResponse, f: Record<string, string>): void {
    const t = txns.get(f.tranID ?? '');
    if (!t || !hexEquals(t.token, f.token)) return payError(res, 'P403', 'Invalid payment URL');
    if (t.status !== null) return payError(res, 'P409', 'Duplicate request');
    const decision = f.decision === 'approve' || f.decision === 'decline' || f.decision === 'pending' ? f.decision : null;
    if (!decision) return payError(res, 'P04', 'Choose approve, decline or pending');
    settle(t, decision);
    void sendOutcome(t);
    const m = merchants.get(t.merchantId)!;
    const returnUrl = t.returnurl ?? m.returnUrl;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(returnUrl ? autoPostPage(returnUrl, resultFields(t, 'return')) : donePage(t.status!, t.tranID));
  }

  // ---- merchant APIs ------------------------------------------------------------------------

  function json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  function text(res: ServerResponse, fields: Record<string, string>, separator: '=' | ': '): void {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(Object.entries(fields).map(([k, v]) => `${k}${separator}${v}`).join('\n'));
  }

  function requery(res: ServerResponse, f: Record<string, string>, by: 'tid' | 'oid'): void {
    const err = (code: string, desc: string) => json(res, { StatCode: null, ErrorCode: code, ErrorDesc: desc });
    const id = by === 'tid' ? f.txID : f.oID;
    if (!f.domain || !id || !f.amount || !f.skey) return err('Q00001', 'Missing parameter');
    const m = merchants.get(f.domain);
    if (!m) return err('Q00003', 'Merchant not found');
    const expected = by === 'tid'
      ? requeryByTidSkey({ txID: id, domain: f.domain, verifyKey: m.verifyKey, amount: f.amount })
      : requeryByOidSkey({ oID: id, domain: f.domain, verifyKey: m.verifyKey, amount: f.amount });
    if (!hexEquals(expected, f.skey)) return err('Q00004', 'Incorrect skey');
    const limitKey = `${f.domain}:${by}:${id}`;
    const now = Date.now();
    if (options.requeryMinIntervalMs && now - (lastRequery.get(limitKey) ?? -Infinity) < options.requeryMinIntervalMs) return err('Q99', 'Blocked: query rate exceeded');
    setBounded(lastRequery, limitKey, now, keepTransactions);
    const byTid = by === 'tid' ? txns.get(id) : undefined;
    const t = by === 'tid' ? (byTid?.merchantId === f.domain ? byTid : undefined) : byOrder.get(orderKey(f.domain, id))?.at(-1);
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

  function capture(res: ServerResponse, f: Record<string, string>): void {
    const reply = (m: SandboxMerchant | undefined, tranID: string, statCode: string, extra: Record<string, string> = {}) =>
      json(res, { TranID: tranID, Domain: f.domain ?? '', StatCode: statCode, StatDate: paydate(), VrfKey: m ? statusVrfKey({ secretKey: m.secretKey, domain: f.domain!, tranID, statCode }) : '', ...extra });
    if (!f.domain || !f.tranID || !f.amount || !f.skey) return reply(undefined, f.tranID ?? '', '18');
    const m = merchants.get(f.domain);
    if (!m) return reply(undefined, f.tranID, '19');
    if (!hexEquals(captureSkey({ tranID: f.tranID, amount: f.amount, domain: f.domain, verifyKey: m.verifyKey }), f.skey)) return reply(undefined, f.tranID, '12');
    const t = txns.get(f.tranID);
    if (!t || t.merchantId !== f.domain) return reply(m, f.tranID, '17');
    if (t.channel?.kind !== 'card') return reply(m, t.tranID, '13');
    if (t.captured !== null) return reply(m, t.tranID, '24');
    if (t.statName !== 'authorized' || t.reversed) return reply(m, t.tranID, '11');
    const amount = twoDp(f.amount);
    if (!amount || cents(amount) > cents(t.amount)) return reply(m, t.tranID, '25');
    t.captured = amount;
    t.statName = 'captured';
    reply(m, t.tranID, '00', amount !== t.amount ? { PartialCaptureTranID: String(nextTran++) } : {});
  }

  function reversal(res: ServerResponse, f: Record<string, string>): void {
    const reply = (m: SandboxMerchant | undefined, statCode: string) =>
      text(res, { TranID: f.txnID ?? '', Domain: f.domain ?? '', StatCode: statCode, StatDate: paydate(), VrfKey: m ? statusVrfKey({ secretKey: m.secretKey, domain: f.domain!, tranID: f.txnID!, statCode }) : '', refundID: statCode === '00' ? String(nextRefund++) : '' }, '=');
    if (!f.txnID || !f.domain || !f.skey) return reply(undefined, '20');
    const m = merchants.get(f.domain);
    if (!m) return reply(undefined, '19');
    if (!hexEquals(reversalSkey({ txnID: f.txnID, domain: f.domain, secretKey: m.secretKey }), f.skey)) return reply(undefined, '12');
    const t = txns.get(f.txnID);
    if (!t || t.merchantId !== f.domain) return reply(m, '17');
    if (t.reversed) return reply(m, '22');
    if (t.status !== '00') return reply(m, '21');
    t.reversed = true;
    t.statName = 'cancelled';
    reply(m, '00');
  }

  function refund(res: ServerResponse, f: Record<string, string>): void {
    const err = (code: string, desc: string) => json(res, { error_code: code, error_desc: desc });
    for (const [name, code] of [['RefundType', 'PR002'], ['MerchantID', 'PR003'], ['RefID', 'PR004'], ['TxnID', 'PR005'], ['Amount', 'PR006'], ['Signature', 'PR006']] as const) {
      if (!f[name]) return err(code, `Missing ${name}`);
    }
    if (f.RefundType !== 'P') return err('PR001', 'Invalid RefundType');
    const m = merchants.get(f.MerchantID!);
    if (!m) return err('PR007', 'Merchant ID not found');
    const fields = { RefundType: f.RefundType!, MerchantID: f.MerchantID!, RefID: f.RefID!, TxnID: f.TxnID!, Amount: f.Amount! };
    if (!hexEquals(refundSignature(fields, m.secretKey), f.Signature)) return err('PR008', 'Invalid signature');
    const t = txns.get(f.TxnID!);
    if (!t || t.merchantId !== m.merchantId) return err('PR009', 'Transaction not found');
    if (byRefId.has(f.RefID!)) return err('PR016', 'Duplicate RefID');
    if (t.status !== '00' || t.captured === null || t.reversed) return err('PR010', 'Transaction status not allowed');
    const amount = twoDp(f.Amount);
    const refunded = t.refunds.filter((r) => r.status !== 'rejected').reduce((sum, r) => sum + cents(r.amount), 0n);
    if (!amount || cents(amount) + refunded > cents(t.captured)) return err('PR011', 'Refund amount exceeds the transaction amount');
    const r: SandboxRefund = { refID: f.RefID!, refundID: String(nextRefund++), amount: fields.Amount, status: 'pending', lastUpdate: paydate() };
    t.refunds.push(r);
    byRefId.set(r.refID, { t, r });
    if (options.refundOutcome !== 'pending') {
      setImmediate(() => {
        r.status = options.refundOutcome === 'rejected' ? 'rejected' : 'success';
        r.lastUpdate = paydate();
      });
    }
    const response = { ...fields, RefundID: r.refundID, Status: '22' };
    json(res, { ...response, Signature: refundResponseSignature(response, m.secretKey) });
  }

  function refundStatus(res: ServerResponse, f: Record<string, string>, by: 'refID' | 'txn'): void {
    const err = (code: string, desc: string) => json(res, { error_code: code, error_desc: desc });
    const id = by === 'refID' ? f.RefID : f.TxnID;
    if (!id || !f.MerchantID || !f.Signature) return err('INQ001', 'Missing parameter');
    const m = merchants.get(f.MerchantID);
    if (!m) return err('INQ004', 'Merchant ID not found');
    const expected = by === 'refID'
      ? refundInquiryByRefIdSignature({ refID: id, merchantId: m.merchantId, verifyKey: m.verifyKey })
      : refundInquiryByTxnSignature({ txnID: id, merchantId: m.merchantId, verifyKey: m.verifyKey });
    if (!hexEquals(expected, f.Signature)) return err('INQ005', 'Invalid signature');
    const byRef = by === 'refID' ? byRefId.get(id) : undefined;
    const txn = by === 'txn' ? txns.get(id) : undefined;
    const found = (byRef ? [byRef] : txn ? txn.refunds.map((r) => ({ t: txn, r })) : []).filter(({ t }) => t.merchantId === m.merchantId);
    if (found.length === 0) return err('INQ011', 'Refund not found');
    const view = ({ t, r }: { t: SandboxTransaction; r: SandboxRefund }) => ({ TxnID: t.tranID, RefID: r.refID, RefundID: r.refundID, Status: r.status, LastUpdate: r.lastUpdate });
    json(res, found.length === 1 ? view(found[0]!) : found.map(view));
  }

  function returnIpn(res: ServerResponse, f: Record<string, string>): void {
    const m = merchants.get(f.domain ?? '');
    const base = { tranID: f.tranID ?? '', orderid: f.orderid ?? '', status: f.status ?? '', domain: f.domain ?? '', amount: f.amount ?? '', currency: f.currency ?? '', paydate: f.paydate ?? '', appcode: f.appcode ?? '' };
    const valid = !!m && f.treq === '1' && hexEquals(paymentSkey(base, skeyKeyOf(m)), f.skey);
    const echo: SandboxIpnEcho = { tranID: base.tranID, fields: f, valid };
    pushBounded(ipnEchoes, echo, keepHistory);
    events.emit('ipn', echo);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(valid ? 'ACK' : 'NACK');
  }

  // ---- routing ------------------------------------------------------------------------------

  const OPERATIONS: Record<string, Exclude<SandboxOperation, 'any'>> = {
    'q_by_tid.php': 'requery',
    'API/gate-query/index.php': 'requery',
    'query/q_by_oid.php': 'requery',
    'API/capstxn/index.php': 'capture',
    'API/refundAPI/refund.php': 'reversal',
    'API/refundAPI/index.php': 'refund',
    'API/refundAPI/q_by_refID.php': 'refund_status',
    'API/refundAPI/q_by_txn.php': 'refund_status',
    'API/chkstat/returnipn.php': 'ipn',
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const body = req.method === 'POST' ? await readBody(req) : '';
    // GET and POST may be mixed; the POST value wins (CHEAT Tip #8).
    const f: Record<string, string> = Object.fromEntries(url.searchParams);
    for (const [k, v] of new URLSearchParams(body)) f[k] = v;
    const m = /^\/(RMS|MOLPay)\/(.*)$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end('Not found');
    const prefix = m[1]!;
    const path = m[2]!;
    const operation = OPERATIONS[path];
    if (operation) {
      pushBounded(apiCalls, { operation, path, fields: { ...f } }, keepHistory);
      const i = apiFaults.findIndex((x) => x.operation === operation || x.operation === 'any');
      if (i >= 0) {
        const [fault] = apiFaults.splice(i, 1);
        if (fault!.mode === '5xx') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
        stalled.add(res);
        return;
      }
    }
    const pay = /^pay\/([^/]+)\/?(?:([^/]+)\.php)?$/.exec(path);
    if (pay) return handlePay(res, prefix, decodeURIComponent(pay[1]!), pay[2] && pay[2] !== 'index' ? pay[2] : null, f);
    switch (path) {
      case 'sandbox/act.php':
        return handleAct(res, f);
      case 'q_by_tid.php':
      case 'API/gate-query/index.php':
        return requery(res, f, 'tid');
      case 'query/q_by_oid.php':
        return requery(res, f, 'oid');
      case 'API/capstxn/index.php':
        return capture(res, f);
      case 'API/refundAPI/refund.php':
        return reversal(res, f);
      case 'API/refundAPI/index.php':
        return refund(res, f);
      case 'API/refundAPI/q_by_refID.php':
        return refundStatus(res, f, 'refID');
      case 'API/refundAPI/q_by_txn.php':
        return refundStatus(res, f, 'txn');
      case 'API/chkstat/returnipn.php':
        return returnIpn(res, f);
      default:
        res.writeHead(404).end('Not found');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const faults: SandboxFaults = {
    dropNotifications: (times = 1) => notificationFaults.push(...Array.from({ length: times }, () => ({ action: 'drop' as const }))),
    duplicateNotifications: (times = 1) => notificationFaults.push(...Array.from({ length: times }, () => ({ action: 'duplicate' as const }))),
    delayNotifications: (ms, times = 1) => notificationFaults.push(...Array.from({ length: times }, () => ({ action: 'delay' as const, ms }))),
    reorderNotifications: () => notificationFaults.push({ action: 'reorder' }),
    api: (operation, mode, times = 1) => apiFaults.push(...Array.from({ length: times }, () => ({ operation, mode }))),
    clear: () => {
      notificationFaults = [];
      apiFaults = [];
    },
  };

  const need = (tranID: string) => {
    const t = txns.get(tranID);
    if (!t) throw new Error(`Fiuu sandbox: no transaction ${tranID}`);
    return t;
  };

  return {
    url,
    paymentHost: url,
    apiHost: url,
    faults,
    events,
    deliveries,
    ipnEchoes,
    apiCalls,
    transactions: () => [...txns.values()],
    transaction: (tranID) => txns.get(tranID),
    findByOrder: (merchantId, orderid) => byOrder.get(orderKey(merchantId, orderid))?.at(-1),
    async complete(tranID, decision) {
      const t = need(tranID);
      if (t.status !== '22') throw new Error(`Fiuu sandbox: transaction ${tranID} is not pending`);
      settle(t, decision);
      await sendOutcome(t);
    },
    async resend(tranID) {
      await sendOutcome(need(tranID));
    },
    async sendAccountEnquiry(tranID) {
      const t = need(tranID);
      const m = merchants.get(t.merchantId)!;
      const url = t.callbackurl ?? m.notificationUrl;
      if (!url) return;
      const view = { ...t, status: '22' as const };
      await track(deliverOne(view, 'notification', url, resultFields(view, 'notification', { account_enquiry: 'true', enquirydate: paydate() })));
    },
    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const res of stalled) res.destroy();
      await Promise.allSettled([...inflight]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
