/**
 * One payment: its details, its timeline from the audit trail (`GET /payments/{id}/transitions`: every
 * status change of the payment and its refunds, with who made it — `api`, `webhook`, `reconciler`,
 * `system` — and why, e.g. the gateway webhook's event id), its refunds, its disputes where the server
 * has them, and the capture and refund actions the token's scopes allow.
 *
 * @module
 */
import { useState } from 'preact/hooks';
import { api, type ApiError, type ListPage, type PaymentJson, type RefundJson, type TransitionJson } from '../api';
import { asApiError, ErrorBox, html, isMissingRoute, Status, Time, useLoad } from '../ui';

interface DisputeJson {
  id: string;
  status: string;
  amount?: string;
  currency?: string;
  reason?: string | null;
  opened_at?: string;
  created_at?: string;
}

interface Detail {
  payment: PaymentJson;
  transitions: TransitionJson[];
  refunds: RefundJson[];
  /** Null when this server has no disputes route. */
  disputes: DisputeJson[] | null;
}

async function loadDetail(id: string): Promise<Detail> {
  const path = `/payments/${encodeURIComponent(id)}`;
  const [payment, transitions, refunds, disputes] = await Promise.all([
    api<PaymentJson>('GET', path),
    api<ListPage<TransitionJson>>('GET', `${path}/transitions`),
    api<ListPage<RefundJson>>('GET', `${path}/refunds`, { query: { limit: 100 } }),
    api<ListPage<DisputeJson>>('GET', `${path}/disputes`).then(
      (page) => page.data,
      (error: unknown) => {
        if (isMissingRoute(asApiError(error))) return null;
        throw error;
      },
    ),
  ]);
  return { payment, transitions: transitions.data, refunds: refunds.data, disputes };
}

const REFUNDABLE = new Set(['CAPTURED', 'PARTIALLY_REFUNDED']);

/** An amount form (empty = the whole remaining amount) posting one action. */
function ActionForm({ label, name, hint, onDone, run }: { label: string; name: string; hint: string; onDone: (message: string) => void; run: (amount: string, reason: string) => Promise<unknown> }) {
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await run(amount.trim(), reason.trim());
      setAmount('');
      setReason('');
      onDone(`${label}: done.`);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="action" onSubmit=${submit} aria-label=${label}>
    <label>Amount <input name=${`${name}-amount`} inputmode="decimal" placeholder=${hint} value=${amount} onInput=${(e: Event) => setAmount((e.target as HTMLInputElement).value)} /></label>
    ${name === 'refund' ? html`<label>Reason <input name="refund-reason" value=${reason} onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} /></label>` : null}
    <button type="submit" disabled=${busy} data-action=${name}>${label}</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

/** The payment page. */
export function PaymentPage({ id, scopes }: { id: string; scopes: ReadonlySet<string> }) {
  const detail = useLoad(() => loadDetail(id), [id]);
  const [message, setMessage] = useState<string | null>(null);
  const done = (text: string) => {
    setMessage(text);
    detail.reload();
  };
  const p = detail.data?.payment;
  const path = `/payments/${encodeURIComponent(id)}`;
  return html`<p><a href="#/payments">← Payments</a></p>
    <h1 tabindex="-1">Payment <code>${id}</code></h1>
    <${ErrorBox} error=${detail.error} />
    ${message ? html`<p class="ok" role="status">${message}</p>` : null}
    ${p
      ? html`<dl class="facts">
            <dt>Status</dt><dd data-testid="payment-status"><${Status} status=${p.status} /></dd>
            <dt>Amount</dt><dd>${p.amount} ${p.currency}</dd>
            <dt>Captured</dt><dd>${p.amount_captured} ${p.currency}</dd>
            <dt>Refunded</dt><dd data-testid="payment-refunded">${p.amount_refunded} ${p.currency}</dd>
            <dt>Gateway</dt><dd>${p.gateway}</dd>
            <dt>Method</dt><dd>${p.payment_method ?? '-'}</dd>
            <dt>Order</dt><dd>${p.order_id ?? '-'}</dd>
            <dt>Created</dt><dd><${Time} at=${p.created_at} /></dd>
            ${p.failure ? html`<dt>Failure</dt><dd>${p.failure.code}: ${p.failure.message}</dd>` : null}
          </dl>
          <section aria-labelledby="actions-h">
            <h2 id="actions-h">Actions</h2>
            ${p.status === 'AUTHORIZED' && scopes.has('payments:write')
              ? html`<${ActionForm} label="Capture" name="capture" hint=${`up to ${p.amount}`} onDone=${done}
                  run=${(amount: string) => api('POST', `${path}/capture`, { body: amount ? { amount } : {}, idempotent: true })} />`
              : null}
            ${REFUNDABLE.has(p.status) && scopes.has('refunds:write')
              ? html`<${ActionForm} label="Refund" name="refund" hint="everything not yet refunded" onDone=${done}
                  run=${(amount: string, reason: string) => api('POST', `${path}/refund`, { body: { ...(amount ? { amount } : {}), ...(reason ? { reason } : {}) }, idempotent: true })} />`
              : null}
            ${(p.status === 'AUTHORIZED' && !scopes.has('payments:write')) || (REFUNDABLE.has(p.status) && !scopes.has('refunds:write'))
              ? html`<p class="notice">This token’s scopes do not allow the actions of this payment.</p>`
              : null}
          </section>`
      : null}
    ${detail.data
      ? html`<section aria-labelledby="timeline-h">
            <h2 id="timeline-h">Timeline</h2>
            <table data-testid="timeline">
              <caption>Audit trail, oldest first</caption>
              <thead><tr><th scope="col">When</th><th scope="col">Change</th><th scope="col">Of</th><th scope="col">By</th><th scope="col">Why</th></tr></thead>
              <tbody>${detail.data.transitions.map(
                (t) => html`<tr><td><${Time} at=${t.at} /></td><td>${t.from ?? '(new)'} → ${t.to}</td><td>${t.refund_id ? html`refund <code>${t.refund_id}</code>` : 'payment'}</td><td>${t.actor}</td><td>${t.reason ?? ''}</td></tr>`,
              )}</tbody>
            </table>
          </section>
          <section aria-labelledby="refunds-h">
            <h2 id="refunds-h">Refunds</h2>
            ${detail.data.refunds.length === 0
              ? html`<p>No refunds.</p>`
              : html`<table data-testid="refunds"><caption>Refunds of this payment</caption>
                  <thead><tr><th scope="col">Refund</th><th scope="col">Status</th><th scope="col">Amount</th><th scope="col">Reason</th><th scope="col">Created</th></tr></thead>
                  <tbody>${detail.data.refunds.map((r) => html`<tr><td><code>${r.id}</code></td><td><${Status} status=${r.status} /></td><td class="num">${r.amount} ${r.currency}</td><td>${r.reason ?? '-'}</td><td><${Time} at=${r.created_at} /></td></tr>`)}</tbody>
                </table>`}
          </section>
          <section aria-labelledby="disputes-h">
            <h2 id="disputes-h">Disputes</h2>
            ${detail.data.disputes === null
              ? html`<p class="notice" data-testid="not-available">Disputes are not available on this server (the API answered 404 for their route).</p>`
              : detail.data.disputes.length === 0
                ? html`<p>No disputes.</p>`
                : html`<table data-testid="disputes"><caption>Disputes of this payment</caption>
                    <thead><tr><th scope="col">Dispute</th><th scope="col">Status</th><th scope="col">Amount</th><th scope="col">Reason</th><th scope="col">Opened</th></tr></thead>
                    <tbody>${detail.data.disputes.map((d) => html`<tr><td><code>${d.id}</code></td><td><${Status} status=${d.status} /></td><td class="num">${d.amount ?? ''} ${d.currency ?? ''}</td><td>${d.reason ?? '-'}</td><td><${Time} at=${d.opened_at ?? d.created_at} /></td></tr>`)}</tbody>
                  </table>`}
          </section>`
      : null}`;
}
