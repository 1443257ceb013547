/**
 * The settlement report: a gateway's report of one day reconciled line by line against Tender's
 * records (`GET /admin/settlements?date&provider`, scope `admin:read`; a fresh run with
 * `refresh=true`, scope `admin:write`). Lines that are not `matched` are highlighted and say why.
 *
 * @module
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorBox, html, isMissingRoute, MerchantField, NotAvailable, Time, useLoad, utcDate } from '../ui';
import { GATEWAYS } from './payments';

interface Line {
  line_id: string;
  classification: string;
  reason: string | null;
  type: string;
  gateway_reference: string | null;
  order_id: string | null;
  direction: string | null;
  reported_amount: string | null;
  reported_currency: string | null;
  reported_fee: string | null;
  tender_amount: string | null;
  tender_currency: string | null;
  tender_status: string | null;
  payment_id: string | null;
  occurred_at: string | null;
}

interface Run {
  id: string;
  gateway: string;
  date: string;
  version: number;
  created_at: string;
  counts: Record<string, number>;
  lines: Line[];
}

/** The settlements page. */
export function SettlementsPage({ scopes }: { scopes: ReadonlySet<string> }) {
  const [draft, setDraft] = useState({ date: utcDate(-1), provider: 'stripe', merchant_id: '' });
  // Nothing is asked before the operator picks the day and gateway: a GET runs the reconciliation when none is stored.
  const [query, setQuery] = useState<{ date: string; provider: string; merchant_id: string; refresh?: string } | null>(null);
  const run = useLoad(() => (query ? api<Run>('GET', '/admin/settlements', { query }) : Promise.resolve(null)), [query]);
  const set = (name: keyof typeof draft) => (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value });
  const mismatches = run.data?.lines.filter((l) => l.classification !== 'matched').length ?? 0;
  return html`<h1 tabindex="-1">Settlements</h1>
    <form class="filters" onSubmit=${(e: Event) => { e.preventDefault(); setQuery({ ...draft }); }} aria-label="Settlement report">
      <label>Day (UTC) <input type="date" name="date" value=${draft.date} onInput=${set('date')} /></label>
      <label>Gateway <select name="provider" value=${draft.provider} onChange=${set('provider')}>${GATEWAYS.map((g) => html`<option value=${g}>${g}</option>`)}</select></label>
      <${MerchantField} scopes=${scopes} value=${draft.merchant_id} onInput=${(merchant_id: string) => setDraft({ ...draft, merchant_id })} />
      <button type="submit">Show report</button>
      ${scopes.has('admin:write') ? html`<button type="button" onClick=${() => setQuery({ ...draft, refresh: 'true' })}>Reconcile again</button>` : null}
    </form>
    ${isMissingRoute(run.error) ? html`<${NotAvailable} what="The settlement report" />` : html`<${ErrorBox} error=${run.error} />`}
    ${run.loading && query ? html`<p role="status">Loading…</p>` : null}
    ${run.data
      ? html`<p data-testid="settlement-summary">
            ${`${run.data.gateway}, ${run.data.date}, version ${run.data.version} `}(<${Time} at=${run.data.created_at} />)${`: ${run.data.lines.length} lines, `}<strong>${mismatches} not matched</strong>${`. ${Object.entries(run.data.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(' · ')}`}
          </p>
          <table data-testid="settlement-lines">
            <caption>Report lines; lines that are not matched are highlighted</caption>
            <thead><tr><th scope="col">Result</th><th scope="col">Type</th><th scope="col">Gateway reference</th><th scope="col">Payment</th><th scope="col">Reported</th><th scope="col">Fee</th><th scope="col">In Tender</th><th scope="col">Why</th></tr></thead>
            <tbody>${run.data.lines.map(
              (l) => html`<tr class=${l.classification === 'matched' ? '' : 'mismatch'} data-classification=${l.classification}>
                <th scope="row">${l.classification === 'matched' ? 'matched' : html`<span class="badge mismatch-badge">⚠ ${l.classification}</span>`}</th>
                <td>${l.type}${l.direction ? ` (${l.direction})` : ''}</td>
                <td><code>${l.gateway_reference ?? '-'}</code></td>
                <td>${l.payment_id ? html`<a href=${`#/payments/${encodeURIComponent(l.payment_id)}`}>${l.payment_id}</a>` : '-'}</td>
                <td class="num">${l.reported_amount ? `${l.reported_amount} ${l.reported_currency ?? ''}` : '-'}</td>
                <td class="num">${l.reported_fee ?? '-'}</td>
                <td class="num">${l.tender_amount ? `${l.tender_amount} ${l.tender_currency ?? ''} ${l.tender_status ?? ''}` : '-'}</td>
                <td>${l.reason ?? ''}</td>
              </tr>`,
            )}</tbody>
          </table>`
      : null}`;
}
