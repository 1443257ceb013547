/**
 * The payments list: status, order id, gateway and creation dates filtered by the API
 * (`GET /payments?status&order_id&gateway&created_from&created_before`), search by payment id or
 * order id, and paging by the API's cursor.
 *
 * @module
 */
import { useState } from 'preact/hooks';
import { api, ApiError, type ListPage, type PaymentJson } from '../api';
import { ErrorBox, html, Status, Time, useLoad } from '../ui';

/** Every payment status (`PaymentStatus` of `@tender/core`). */
export const STATUSES = ['PENDING', 'REQUIRES_ACTION', 'PROCESSING', 'AUTHORIZED', 'CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'FAILED', 'CANCELLED', 'EXPIRED', 'REQUIRES_REVIEW'];
/** The gateways Tender ships. */
export const GATEWAYS = ['fiuu', 'stripe', 'paypal', 'upi'];

/** Rows per page the operator can pick. */
const PAGE_SIZES = [5, 25, 100];

interface Filters {
  perPage: number;
  status: string;
  gateway: string;
  from: string;
  to: string;
  search: string;
}

interface Result {
  rows: PaymentJson[];
  next: string | null;
}

/** The day after `date` (`YYYY-MM-DD`): "created to" includes its whole day, and the API's `created_before` is exclusive. */
function dayAfter(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** One page of the API's list from `cursor`, every filter applied by the API (`GET /payments`). */
async function loadPage(f: Filters, cursor: string | null): Promise<Result> {
  const search = f.search.trim();
  if (search.startsWith('pay_')) {
    try {
      const one = await api<PaymentJson>('GET', `/payments/${encodeURIComponent(search)}`);
      return { rows: [one], next: null };
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return { rows: [], next: null };
      throw error;
    }
  }
  const page = await api<ListPage<PaymentJson>>('GET', '/payments', {
    query: {
      limit: f.perPage,
      starting_after: cursor,
      status: f.status,
      order_id: search,
      gateway: f.gateway,
      // Dates are whole UTC days: from 00:00 UTC of `from` to 00:00 UTC of the day after `to`.
      created_from: f.from,
      created_before: f.to ? dayAfter(f.to) : '',
    },
  });
  return { rows: page.data, next: page.has_more ? page.next_cursor : null };
}

/** The payments page. */
export function PaymentsPage() {
  const empty: Filters = { perPage: 25, status: '', gateway: '', from: '', to: '', search: '' };
  const [draft, setDraft] = useState<Filters>(empty);
  const [applied, setApplied] = useState<Filters>(empty);
  // Cursors of the pages before this one, for "Previous".
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const result = useLoad(() => loadPage(applied, cursor), [applied, cursor]);
  const field = (name: keyof Filters) => (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value });
  const apply = (e: Event) => {
    e.preventDefault();
    setApplied(draft);
    setCursors([null]);
  };
  return html`<h1 tabindex="-1">Payments</h1>
    <form class="filters" onSubmit=${apply} aria-label="Filter payments">
      <label>Status <select name="status" value=${draft.status} onChange=${field('status')}>
        <option value="">Any</option>${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select></label>
      <label>Gateway <select name="gateway" value=${draft.gateway} onChange=${field('gateway')}>
        <option value="">Any</option>${GATEWAYS.map((g) => html`<option value=${g}>${g}</option>`)}
      </select></label>
      <label>Created from <input type="date" name="from" value=${draft.from} onInput=${field('from')} /></label>
      <label>Created to <input type="date" name="to" value=${draft.to} onInput=${field('to')} /></label>
      <label>Payment id or order id <input type="search" name="search" value=${draft.search} onInput=${field('search')} /></label>
      <label>Per page <select name="per-page" value=${String(draft.perPage)} onChange=${(e: Event) => setDraft({ ...draft, perPage: Number((e.target as HTMLSelectElement).value) })}>
        ${PAGE_SIZES.map((n) => html`<option value=${String(n)}>${n}</option>`)}
      </select></label>
      <button type="submit">Apply</button>
    </form>
    <${ErrorBox} error=${result.error} />
    ${result.loading ? html`<p role="status">Loading…</p>` : null}
    ${result.data
      ? html`<table>
          <caption>Payments, newest first${applied.from || applied.to ? ' (dates in UTC)' : ''}</caption>
          <thead><tr><th scope="col">Payment</th><th scope="col">Status</th><th scope="col">Amount</th><th scope="col">Gateway</th><th scope="col">Method</th><th scope="col">Order</th><th scope="col">Created</th></tr></thead>
          <tbody>
            ${result.data.rows.length === 0 ? html`<tr><td colspan="7">No payments match.</td></tr>` : null}
            ${result.data.rows.map(
              (p) => html`<tr data-payment=${p.id}>
                <td><a href=${`#/payments/${encodeURIComponent(p.id)}`}>${p.id}</a></td>
                <td><${Status} status=${p.status} /></td>
                <td class="num">${p.amount} ${p.currency}</td>
                <td>${p.gateway}</td><td>${p.payment_method ?? '-'}</td><td>${p.order_id ?? '-'}</td><td><${Time} at=${p.created_at} /></td>
              </tr>`,
            )}
          </tbody>
        </table>
        <div class="pager">
          <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>
          <button type="button" disabled=${!result.data.next} onClick=${() => result.data?.next && setCursors([...cursors, result.data.next])}>Next page</button>
        </div>`
      : null}`;
}
