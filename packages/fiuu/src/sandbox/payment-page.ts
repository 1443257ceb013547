/**
 * The hosted payment page: `pay/<merchantId>/[<channel>.php]` checks the payment request as Fiuu
 * does (merchant, amount, order id, buyer, channel and currency, vcode, minimum, AUTH only on cards,
 * metadata) and shows the page; `sandbox/act.php` takes the customer's decision, settles the
 * transaction, starts its deliveries and sends the browser on to the return URL. The HTML is in
 * `pages.ts`.
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import { FIUU_CHANNELS, type FiuuChannel } from '../channels';
import { hexEquals, vcode } from '../signatures';
import { resultFields, type ResultDelivery } from './delivery';
import { autoPostPage, donePage, errorPage, paymentPage } from './pages';
import { cents, twoDp, type SandboxLedger } from './state';

const channelByHosted = new Map<string, FiuuChannel>();
for (const c of FIUU_CHANNELS) if (!channelByHosted.has(c.hosted.toLowerCase())) channelByHosted.set(c.hosted.toLowerCase(), c);

function html(res: ServerResponse, page: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
}

// Fiuu answers a refused payment request with an error page (HTTP 200) carrying the error code.
function payError(res: ServerResponse, code: string, desc: string): void {
  html(res, errorPage(code, desc));
}

/** The customer's side of the sandbox. */
export class HostedPaymentPages {
  constructor(
    private readonly ledger: SandboxLedger,
    private readonly delivery: ResultDelivery,
  ) {}

  /**
   * The payment request (`pay/<merchantId>/...`): opens a transaction, or reuses the order's one for
   * the same amount that the customer has not acted on yet, and shows its page.
   * @param prefix `RMS` or `MOLPay`, as requested (the page's form posts under the same one).
   * @param fileChannel The channel named by the path's file (`.../fpx.php`), if any.
   */
  pay(res: ServerResponse, prefix: string, merchantId: string, fileChannel: string | null, f: Record<string, string>): void {
    const m = this.ledger.merchants.get(merchantId);
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
    let t = this.ledger.ofOrder(merchantId, orderid).find((x) => x.amount === amount);
    if (t && t.status === '00') return payError(res, 'P09', 'Duplicate payment');
    if (!t || t.status !== null) {
      t = this.ledger.open({
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
      });
    }
    html(res, paymentPage({ tranID: t.tranID, token: t.token, merchantId, orderid, amount, currency, channel: channel?.hosted ?? '', prefix }));
  }

  /** The customer's decision (`sandbox/act.php`): approve, decline or leave pending, once per transaction. */
  act(res: ServerResponse, f: Record<string, string>): void {
    const t = this.ledger.get(f.tranID ?? '');
    if (!t || !hexEquals(t.token, f.token)) return payError(res, 'P403', 'Invalid payment URL');
    if (t.status !== null) return payError(res, 'P409', 'Duplicate request');
    const decision = f.decision === 'approve' || f.decision === 'decline' || f.decision === 'pending' ? f.decision : null;
    if (!decision) return payError(res, 'P04', 'Choose approve, decline or pending');
    this.ledger.settle(t, decision);
    void this.delivery.sendOutcome(t);
    const returnUrl = t.returnurl ?? this.ledger.merchantOf(t).returnUrl;
    html(res, returnUrl ? autoPostPage(returnUrl, resultFields(this.ledger, t, 'return')) : donePage(t.status!, t.tranID));
  }
}
