/**
 * Analytics: payment volume and success rate over a window (`GET /admin/analytics/payments?from&to&group_by`,
 * scope `admin:read`), by day, gateway, method or currency: a chart and the same figures as a table.
 *
 * @module
 */
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { BarLineChart, type ChartData } from '../chart';
import { ErrorBox, html, isMissingRoute, MerchantField, NotAvailable, useLoad, utcDate } from '../ui';

interface Rate {
  rate: string | null;
  count: number;
  of: number;
}

/** The figures of a group or of the whole window (the API's snake_case names). */
interface Figures {
  key?: string;
  payments: number;
  attempts: number;
  success_rate: Rate;
  authorization_rate: Rate;
  revenue: Record<string, string>;
  refunds: Record<string, string>;
}

interface Analytics {
  from: string;
  to: string;
  totals: Figures;
  groups: Figures[];
}

const GROUPS = [
  ['day', 'Day'],
  ['gateway', 'Gateway'],
  ['method', 'Payment method'],
  ['currency', 'Currency'],
] as const;

const percent = (r: Rate | undefined) => (r?.rate == null ? null : Math.round(Number(r.rate) * 10_000) / 100);
const money = (m: Record<string, string> | undefined) =>
  Object.entries(m ?? {})
    .map(([c, v]) => `${v} ${c}`)
    .join(', ') || '-';

/** The window's days in order, those without payments as zero (the API lists only days that have some). */
function everyDay(answer: Analytics, groups: Figures[]): Figures[] {
  const byKey = new Map(groups.map((g) => [g.key, g]));
  const out: Figures[] = [];
  const end = Date.parse(answer.to);
  // At most 366 days (the API's limit), so this stays small.
  for (let t = Date.parse(answer.from.slice(0, 10)); t < end && out.length < 367; t += 86_400_000) {
    const key = new Date(t).toISOString().slice(0, 10);
    out.push(byKey.get(key) ?? { key, payments: 0, attempts: 0, success_rate: { rate: null, count: 0, of: 0 }, authorization_rate: { rate: null, count: 0, of: 0 }, revenue: {}, refunds: {} });
  }
  return out;
}

/** The analytics page. */
export function AnalyticsPage({ scopes }: { scopes: ReadonlySet<string> }) {
  const [draft, setDraft] = useState({ from: utcDate(-29), to: utcDate(1), group_by: 'day', merchant_id: '' });
  const [query, setQuery] = useState(draft);
  const result = useLoad(() => api<Analytics>('GET', '/admin/analytics/payments', { query }), [query]);
  const chart = useMemo<ChartData | null>(() => {
    let groups = result.data?.groups ?? [];
    if (groups.length === 0) return null;
    if (query.group_by === 'day' && result.data) groups = everyDay(result.data, groups);
    return {
      labels: groups.map((g) => g.key ?? ''),
      counts: groups.map((g) => g.payments),
      rates: groups.map((g) => percent(g.success_rate)),
      countLabel: 'Payments',
      rateLabel: 'Success rate',
      time: query.group_by === 'day',
    };
  }, [result.data, query.group_by]);
  const set = (name: keyof typeof draft) => (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value });
  const groupName = GROUPS.find(([v]) => v === query.group_by)?.[1] ?? 'Group';
  return html`<h1 tabindex="-1">Analytics</h1>
    <form class="filters" onSubmit=${(e: Event) => { e.preventDefault(); setQuery(draft); }} aria-label="Analytics window">
      <label>From (UTC day) <input type="date" name="from" value=${draft.from} onInput=${set('from')} /></label>
      <label>To (exclusive) <input type="date" name="to" value=${draft.to} onInput=${set('to')} /></label>
      <label>Group by <select name="group_by" value=${draft.group_by} onChange=${set('group_by')}>
        ${GROUPS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select></label>
      <${MerchantField} scopes=${scopes} value=${draft.merchant_id} onInput=${(merchant_id: string) => setDraft({ ...draft, merchant_id })} />
      <button type="submit">Show</button>
    </form>
    ${isMissingRoute(result.error) ? html`<${NotAvailable} what="Analytics" />` : html`<${ErrorBox} error=${result.error} />`}
    ${result.loading ? html`<p role="status">Loading…</p>` : null}
    ${result.data
      ? html`<p data-testid="analytics-totals">
            ${`${result.data.totals.payments} payments, ${result.data.totals.attempts} with an outcome; success rate ${percent(result.data.totals.success_rate) ?? '-'}%; captured ${money(result.data.totals.revenue)}.`}
          </p>
          <figure>
            <figcaption id="chart-caption">Payments (blue bars, left axis) and success rate (green line, right axis) by ${groupName.toLowerCase()}; the table below has the same figures.</figcaption>
            ${chart ? html`<${BarLineChart} data=${chart} />` : html`<p>No payments in this window.</p>`}
          </figure>
          <table data-testid="analytics-table">
            <caption>Payments by ${groupName.toLowerCase()}</caption>
            <thead><tr><th scope="col">${groupName}</th><th scope="col">Payments</th><th scope="col">With an outcome</th><th scope="col">Success rate</th><th scope="col">Authorisation rate</th><th scope="col">Captured</th><th scope="col">Refunded</th></tr></thead>
            <tbody>${result.data.groups.map(
              (g) => html`<tr><th scope="row">${g.key}</th><td class="num">${g.payments}</td><td class="num">${g.attempts}</td><td class="num">${percent(g.success_rate) ?? '-'}${percent(g.success_rate) === null ? '' : '%'}</td><td class="num">${percent(g.authorization_rate) ?? '-'}${percent(g.authorization_rate) === null ? '' : '%'}</td><td>${money(g.revenue)}</td><td>${money(g.refunds)}</td></tr>`,
            )}</tbody>
          </table>`
      : null}`;
}
