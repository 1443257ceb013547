/**
 * The return-URL page: a tiny HTML document that hands the verified result to the checkout page
 * that opened the pop-up (`window.opener.postMessage`, to one exact origin) and closes itself.
 * Without an opener (full-page redirect) it shows the result and an optional link back.
 *
 * @module
 */
import type { FailureReason } from '@tender/core';
import type { FiuuResult } from './webhooks';

/** The message the return page posts; the browser bundle accepts only this shape, from the expected origin. */
export interface FiuuReturnMessage {
  source: 'tender-fiuu';
  /** Tender status the verified result maps to, or `UNVERIFIED` when the skey did not verify. */
  status: string;
  paymentId: string | null;
  orderId: string | null;
  tranID: string | null;
  amount: string | null;
  currency: string | null;
  failure: FailureReason | null;
}

/**
 * Builds the message from a verified result, or an `UNVERIFIED` one when verification failed. The
 * message is for the checkout page only and moves no payment: its `paymentId`, and whether a success
 * shows as `AUTHORIZED` rather than `CAPTURED`, come from the form's unsigned echo, which is good
 * enough to show the customer and to match the pop-up, and is never used to change state.
 */
export function returnMessage(result: FiuuResult | null): FiuuReturnMessage {
  if (!result) return { source: 'tender-fiuu', status: 'UNVERIFIED', paymentId: null, orderId: null, tranID: null, amount: null, currency: null, failure: null };
  const shown = result.resultFor(result.hint.manualCapture ? 'manual' : 'automatic');
  return {
    source: 'tender-fiuu',
    status: shown.status,
    paymentId: result.hint.paymentId,
    orderId: result.orderId,
    tranID: result.tranID,
    amount: shown.amount?.toString() ?? null,
    currency: shown.amount?.currency ?? null,
    failure: shown.failure ?? null,
  };
}

/** Options of {@link renderReturnPage}. */
export interface ReturnPageOptions {
  /** Origin of the checkout page (`https://shop.example`); the message goes to this origin only. */
  targetOrigin: string;
  /** Where the "back to shop" link goes when there is no opener. */
  continueUrl?: string;
  /** CSP nonce for the inline script. */
  nonce?: string;
  title?: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// JSON inside <script>: escape what could close the element or start a comment.
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/**
 * Renders the return page. Serve it with `content-type: text/html; charset=utf-8` from the route
 * that receives Fiuu's return POST, after verifying the result with the gateway's `parseReturn`.
 */
export function renderReturnPage(message: FiuuReturnMessage, options: ReturnPageOptions): string {
  const origin = new URL(options.targetOrigin).origin;
  const nonce = options.nonce ? ` nonce="${escapeHtml(options.nonce)}"` : '';
  const title = escapeHtml(options.title ?? 'Payment result');
  const link = options.continueUrl ? `<p><a href="${escapeHtml(options.continueUrl)}">Continue</a></p>` : '';
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title></head>
<body><p id="tender-fiuu-status">Payment ${escapeHtml(message.status)}</p>${link}
<script${nonce}>(function(){var m=${scriptJson(message)};try{if(window.opener&&!window.opener.closed){window.opener.postMessage(m,${scriptJson(origin)});window.close();}}catch(e){}})();</script>
</body></html>`;
}
