/**
 * The risk review queue: payments the risk engine held `REQUIRES_REVIEW` (`GET /admin/reviews`, scope
 * `admin:read`), approved or declined with a reason (`POST /admin/payments/{id}/review`, scope
 * `admin:write`; approving sends the payment on to its gateway).
 *
 * @module
 */
import { useState } from 'preact/hooks';
import { api, type ApiError, type ListPage, type PaymentJson } from '../api';
import { asApiError, ErrorBox, html, isMissingRoute, MerchantField, NotAvailable, Status, Time, useLoad } from '../ui';

/** A held payment and, where the API gives them, the risk engine's reasons. */
type Held = PaymentJson & { risk?: { score?: number; reasons?: string[]; decision?: string } | null };

function Decide({ payment, merchantId, onDone }: { payment: Held; merchantId: string; onDone: (message: string) => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const decide = async (decision: 'approve' | 'decline') => {
    setBusy(true);
    setError(null);
    try {
      const answer = await api<PaymentJson>('POST', `/admin/payments/${encodeURIComponent(payment.id)}/review`, { body: { decision, ...(reason.trim() ? { reason: reason.trim() } : {}), ...(merchantId ? { merchant_id: merchantId } : {}) }, idempotent: true });
      onDone(`${payment.id}: ${decision === 'approve' ? 'approved' : 'declined'}, now ${answer.status}.`);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="decide">
    <label>Reason <input name=${`reason-${payment.id}`} value=${reason} onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} /></label>
    <button type="button" disabled=${busy} onClick=${() => decide('approve')} aria-label=${`Approve ${payment.id}`}>Approve</button>
    <button type="button" disabled=${busy} onClick=${() => decide('decline')} aria-label=${`Decline ${payment.id}`}>Decline</button>
    <${ErrorBox} error=${error} />
  </div>`;
}

/** The reviews page. */
export function ReviewsPage({ scopes }: { scopes: ReadonlySet<string> }) {
  const [merchant, setMerchant] = useState('');
  const [merchantId, setMerchantId] = useState('');
  const queue = useLoad(() => api<ListPage<Held>>('GET', '/admin/reviews', { query: { limit: 100, merchant_id: merchantId } }), [merchantId]);
  const [message, setMessage] = useState<string | null>(null);
  const canDecide = scopes.has('admin:write');
  return html`<h1 tabindex="-1">Risk reviews</h1>
    ${scopes.has('platform:admin')
      ? html`<form class="filters" aria-label="Merchant" onSubmit=${(e: Event) => { e.preventDefault(); setMerchantId(merchant.trim()); }}>
          <${MerchantField} scopes=${scopes} value=${merchant} onInput=${setMerchant} /><button type="submit">Show queue</button>
        </form>`
      : null}
    ${message ? html`<p class="ok" role="status">${message}</p>` : null}
    ${isMissingRoute(queue.error) ? html`<${NotAvailable} what="The risk review queue" />` : html`<${ErrorBox} error=${queue.error} />`}
    ${queue.data
      ? html`<table data-testid="reviews">
          <caption>Payments held for review, oldest first</caption>
          <thead><tr><th scope="col">Payment</th><th scope="col">Status</th><th scope="col">Amount</th><th scope="col">Gateway</th><th scope="col">Risk</th><th scope="col">Created</th>${canDecide ? html`<th scope="col">Decision</th>` : null}</tr></thead>
          <tbody>
            ${queue.data.data.length === 0 ? html`<tr><td colspan=${canDecide ? 7 : 6}>No payments are waiting for review.</td></tr>` : null}
            ${queue.data.data.map(
              (p) => html`<tr>
                <td><a href=${`#/payments/${encodeURIComponent(p.id)}`}>${p.id}</a></td><td><${Status} status=${p.status} /></td>
                <td class="num">${p.amount} ${p.currency}</td><td>${p.gateway}</td>
                <td>${p.risk ? `${p.risk.score ?? ''} ${(p.risk.reasons ?? []).join(', ')}` : '-'}</td><td><${Time} at=${p.created_at} /></td>
                ${canDecide ? html`<td><${Decide} payment=${p} merchantId=${merchantId} onDone=${(m: string) => { setMessage(m); queue.reload(); }} /></td>` : null}
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}`;
}
