/**
 * How results reach the merchant: the fields of a result (browser return, notification `nbcb=2`,
 * callback `nbcb=1`) with their skey, and the server-to-server deliveries of each outcome, with the
 * delivery faults applied.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { pushBounded } from '@tender/core';
import { paymentSkey } from '../signatures';
import type { SandboxFaultQueues } from './faults';
import { paydate, skeyKeyOf, type SandboxLedger, type SandboxTransaction } from './state';

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

/** The fields of a result as Fiuu sends them, signed with the merchant's skey key. */
export function resultFields(
  ledger: SandboxLedger,
  t: SandboxTransaction,
  kind: 'return' | 'notification' | 'callback',
  extra?: Record<string, unknown>,
): Record<string, string> {
  const m = ledger.merchantOf(t);
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

/**
 * Sends each outcome's notification (to the transaction's `callbackurl` or the merchant's
 * notification URL) and callback (to `callbackurl` or the callback URL, unless the merchant turned
 * callbacks off), one after the other, and records every attempt.
 */
export class ResultDelivery {
  /** Every delivery made, oldest first (bounded by the history retention). */
  readonly deliveries: SandboxDelivery[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  // Deliveries of older outcomes held back by a reorder fault, sent after the transaction's next outcome.
  private readonly held = new Map<string, Array<() => Promise<void>>>();

  constructor(
    private readonly ledger: SandboxLedger,
    private readonly faults: SandboxFaultQueues,
    /** Emits `delivery` ({@link SandboxDelivery}) for each one made. */
    private readonly events: EventEmitter,
  ) {}

  /** Delivers the transaction's current outcome, under the next pending delivery fault. */
  sendOutcome(t: SandboxTransaction, extra?: Record<string, unknown>): Promise<void> {
    const m = this.ledger.merchantOf(t);
    const notifyUrl = t.callbackurl ?? m.notificationUrl;
    const callbackUrl = t.callbackurl ?? m.callbackUrl;
    const sendOf = (view: SandboxTransaction) => async () => {
      if (notifyUrl) await this.deliverOne(view, 'notification', notifyUrl, resultFields(this.ledger, view, 'notification', extra));
      if (callbackUrl && m.callbacks !== false) await this.deliverOne(view, 'callback', callbackUrl, resultFields(this.ledger, view, 'callback', extra));
    };
    const send = sendOf(t);
    const fault = this.faults.nextNotificationFault();
    const release = async () => {
      const waiting = this.held.get(t.tranID);
      this.held.delete(t.tranID);
      for (const w of waiting ?? []) await w();
    };
    if (fault?.action === 'drop') return Promise.resolve();
    if (fault?.action === 'reorder') {
      // Capture the fields now so the held delivery carries this (older) outcome.
      this.held.set(t.tranID, [...(this.held.get(t.tranID) ?? []), sendOf({ ...t })]);
      return Promise.resolve();
    }
    const run = async () => {
      if (fault?.action === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
      await send();
      if (fault?.action === 'duplicate') await send();
      await release();
    };
    return this.track(run());
  }

  /** Sends a DuitNow QR account-enquiry notification for a transaction (not a payment; no faults apply). */
  async sendAccountEnquiry(t: SandboxTransaction): Promise<void> {
    const url = t.callbackurl ?? this.ledger.merchantOf(t).notificationUrl;
    if (!url) return;
    const view = { ...t, status: '22' as const };
    await this.track(this.deliverOne(view, 'notification', url, resultFields(this.ledger, view, 'notification', { account_enquiry: 'true', enquirydate: paydate() })));
  }

  /** Resolves once every delivery started so far has finished. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Waits for the deliveries in flight now (on close), failed ones included. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => undefined);
    return p;
  }

  private async deliverOne(t: SandboxTransaction, kind: 'notification' | 'callback', url: string, fields: Record<string, string>): Promise<void> {
    const delivery: SandboxDelivery = { tranID: t.tranID, kind, status: fields.status!, url, fields, httpStatus: null, responseBody: '', acknowledged: false };
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
      delivery.httpStatus = res.status;
      delivery.responseBody = await res.text();
      delivery.acknowledged = kind === 'callback' ? delivery.responseBody.trim() === 'CBTOKEN:MPSTATOK' : res.ok;
    } catch (error) {
      delivery.responseBody = String(error);
    }
    pushBounded(this.deliveries, delivery, this.ledger.keepHistory);
    this.events.emit('delivery', delivery);
  }
}
