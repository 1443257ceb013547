/**
 * HTML of the sandbox: the hosted payment page (approve / decline / leave pending), the
 * auto-submitting form that carries the result to the return URL (as Fiuu's page does), and error
 * pages carrying the spec's error code.
 *
 * @module
 */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = '<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}button{font-size:1rem;margin:.25rem;padding:.5rem 1rem}</style>';

/** The hosted payment page for one transaction. */
export function paymentPage(t: { tranID: string; token: string; merchantId: string; orderid: string; amount: string; currency: string; channel: string; prefix: string }): string {
  const hidden = `<input type="hidden" name="tranID" value="${esc(t.tranID)}"><input type="hidden" name="token" value="${esc(t.token)}">`;
  const button = (decision: string, label: string) =>
    `<form method="post" action="/${t.prefix}/sandbox/act.php">${hidden}<button id="${decision}" name="decision" value="${decision}">${label}</button></form>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Fiuu sandbox payment</title>${STYLE}</head><body>
<h1>Fiuu sandbox</h1>
<p>Merchant <b>${esc(t.merchantId)}</b> &middot; order <b id="orderid">${esc(t.orderid)}</b></p>
<p>Pay <b id="amount">${esc(t.currency)} ${esc(t.amount)}</b> with <b id="channel">${esc(t.channel || 'any channel')}</b></p>
<p>Transaction <b id="tranID" data-tran-id="${esc(t.tranID)}" data-token="${esc(t.token)}">${esc(t.tranID)}</b></p>
${button('approve', 'Approve')}${button('decline', 'Decline')}${button('pending', 'Leave pending')}
</body></html>`;
}

/** The page that POSTs the result to the merchant's return URL, as Fiuu's page does. */
export function autoPostPage(url: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Returning to merchant</title></head><body>
<form id="return" method="post" action="${esc(url)}">${inputs}<noscript><button>Continue</button></noscript></form>
<script>document.getElementById('return').submit();</script></body></html>`;
}

/** A page for a finished payment with nowhere to return to. */
export function donePage(status: string, tranID: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Payment ${esc(status)}</title>${STYLE}</head><body><p id="status">Status ${esc(status)} for transaction ${esc(tranID)}</p></body></html>`;
}

/** An error page carrying Fiuu's error code (Fiuu API Spec v13.86 p.132). */
export function errorPage(code: string, description: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Error ${esc(code)}</title>${STYLE}</head><body><h1 id="error_code">${esc(code)}</h1><p id="error_desc">${esc(description)}</p></body></html>`;
}
