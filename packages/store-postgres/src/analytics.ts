/**
 * PostgresStore's `AnalyticsStore` part (migration 13): the whole UTC days of a window are read from
 * the daily rollup tables the triggers keep; the part of a window cut inside a day (an instant that is
 * not midnight UTC) is summed from `payments`, `refunds` and `transitions` directly, over at most a day
 * at each end, with the same definitions. Statements are schema-qualified like `statements.ts`.
 *
 * @module
 */
import type { AnalyticsGroupBy, PaymentAnalyticsAggregate, PaymentAnalyticsQuery, PaymentStatus } from '@tender/core';
import type { Queryable, Row } from './driver';
import { toStoreError } from './errors';
import { quoteIdent } from './schema';

const DAY_MS = 86_400_000;

/** The SQL of a group's value, in the rollup tables and in `payments` (aliased `p`). */
/** `s`: the quoted schema, for the schema's `analytics_method`. */
function groupExpression(groupBy: AnalyticsGroupBy | undefined, raw: boolean, s: string): string {
  switch (groupBy) {
    case undefined:
      return 'NULL::text';
    case 'gateway':
      return raw ? 'p.gateway' : 'gateway';
    case 'method':
      return raw ? `${s}.analytics_method(p.payment_method)` : 'method';
    case 'currency':
      return raw ? 'p.currency' : 'currency';
    case 'day':
      return raw ? "to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')" : "to_char(day, 'YYYY-MM-DD')";
  }
}

/**
 * Rows `(kind, grp, currency, sub, n, amount)`: `s` status counts and captured sums per currency,
 * `r` succeeded refunds per currency, `l` processing-time buckets, `d` decline codes.
 */
export function buildAnalyticsStatements(schema: string) {
  const s = quoteIdent(schema);
  const cache = new Map<string, string>();
  // Every statement takes $1: every merchant's passes null, which must still have a type.
  const merchantFilter = (all: boolean, column: string) => (all ? '$1::text IS NULL' : `${column} = $1`);

  /** Whole days `[$2, $3)` (dates) from the rollup; `$1` the merchant unless `all`. */
  const rollup = (groupBy: AnalyticsGroupBy | undefined, all: boolean) => {
    const g = groupExpression(groupBy, false, s);
    const where = `WHERE ${merchantFilter(all, 'merchant_id')} AND day >= $2::date AND day < $3::date`;
    return `SELECT 's' AS kind, ${g} AS grp, currency, status AS sub, sum(payments)::bigint AS n, sum(captured)::text AS amount
        FROM ${s}.analytics_payments_daily ${where} GROUP BY 2, 3, 4
      UNION ALL
      SELECT 'r', ${g}, currency, NULL, NULL, sum(refunded)::text FROM ${s}.analytics_refunds_daily ${where} GROUP BY 2, 3
      UNION ALL
      SELECT 'l', ${g}, NULL, bucket::text, sum(payments)::bigint, NULL FROM ${s}.analytics_latency_daily ${where} GROUP BY 2, 4
      UNION ALL
      SELECT 'd', ${g}, NULL, code, sum(payments)::bigint, NULL FROM ${s}.analytics_declines_daily ${where} GROUP BY 2, 4`;
  };

  /**
   * The same rows from the records themselves, over instants `[$2, $3)`: the edges of a cut window,
   * and (bench/analytics.bench.ts) the straightforward baseline the rollup is measured against.
   */
  const raw = (groupBy: AnalyticsGroupBy | undefined, all: boolean) => {
    const g = groupExpression(groupBy, true, s);
    return `WITH p AS MATERIALIZED (
        SELECT id, merchant_id, gateway, payment_method, currency, status, amount_captured, failure, created_at FROM ${s}.payments p
        WHERE ${merchantFilter(all, 'p.merchant_id')} AND p.created_at >= $2::timestamptz AND p.created_at < $3::timestamptz)
      SELECT 's' AS kind, ${g} AS grp, p.currency, p.status AS sub, count(*)::bigint AS n, sum(p.amount_captured)::text AS amount FROM p GROUP BY 2, 3, 4
      UNION ALL
      SELECT 'r', ${g}, p.currency, NULL, NULL, sum(r.amount)::text FROM p JOIN ${s}.refunds r ON r.payment_id = p.id AND r.status = 'SUCCEEDED' GROUP BY 2, 3
      UNION ALL
      SELECT 'l', ${g}, NULL, ${s}.analytics_bucket(round(extract(epoch FROM f.at - p.created_at) * 1000)::bigint)::text, count(*)::bigint, NULL
        FROM p JOIN LATERAL (SELECT t.at FROM ${s}.transitions t WHERE t.payment_id = p.id AND t.refund_id IS NULL AND t.to_status IN ('AUTHORIZED', 'CAPTURED')
                               AND t.from_status IS DISTINCT FROM t.to_status ORDER BY t.seq LIMIT 1) f ON true
        GROUP BY 2, 4
      UNION ALL
      SELECT 'd', ${g}, NULL, ${s}.analytics_decline_code(p.failure), count(*)::bigint, NULL FROM p WHERE p.status = 'FAILED' GROUP BY 2, 4`;
  };

  const cached = (kind: 'rollup' | 'raw', groupBy: AnalyticsGroupBy | undefined, all: boolean) => {
    const key = `${kind}:${groupBy ?? ''}:${all}`;
    let sql = cache.get(key);
    if (!sql) cache.set(key, (sql = kind === 'rollup' ? rollup(groupBy, all) : raw(groupBy, all)));
    return sql;
  };
  return {
    rollup: (groupBy: AnalyticsGroupBy | undefined, all: boolean) => cached('rollup', groupBy, all),
    raw: (groupBy: AnalyticsGroupBy | undefined, all: boolean) => cached('raw', groupBy, all),
  };
}

/** The statements of {@link buildAnalyticsStatements}. */
export type AnalyticsStatements = ReturnType<typeof buildAnalyticsStatements>;

/** The parts a window reads: whole UTC days from the rollup, the cut edges from the records. */
export function windowParts(from: string, to: string): Array<{ kind: 'rollup' | 'raw'; from: string; to: string }> {
  const start = Date.parse(from);
  const end = Date.parse(to);
  const firstDay = Math.ceil(start / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(end / DAY_MS) * DAY_MS;
  if (firstDay >= lastDay) return [{ kind: 'raw', from, to }];
  const iso = (ms: number) => new Date(ms).toISOString();
  const parts: Array<{ kind: 'rollup' | 'raw'; from: string; to: string }> = [];
  if (start < firstDay) parts.push({ kind: 'raw', from, to: iso(firstDay) });
  parts.push({ kind: 'rollup', from: iso(firstDay).slice(0, 10), to: iso(lastDay).slice(0, 10) });
  if (lastDay < end) parts.push({ kind: 'raw', from: iso(lastDay), to });
  return parts;
}

/** Adds two decimal strings exactly (numeric text from Postgres, up to 4 places, maybe negative). */
function addDecimal(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  const scale = (x: string) => {
    const [int, frac = ''] = x.replace('-', '').split('.');
    return (x.startsWith('-') ? -1n : 1n) * BigInt(`${int}${frac.padEnd(4, '0')}`);
  };
  const sum = scale(a) + scale(b);
  const abs = (sum < 0n ? -sum : sum).toString().padStart(5, '0');
  return `${sum < 0n ? '-' : ''}${abs.slice(0, -4)}.${abs.slice(-4)}`;
}

/** Folds result rows into aggregates by group, adding to `groups`. */
export function foldRows(groups: Map<string | null, PaymentAnalyticsAggregate>, rows: readonly Row[]): void {
  for (const row of rows) {
    const key = (row.grp as string | null) ?? null;
    let agg = groups.get(key);
    if (!agg) groups.set(key, (agg = { group: key, statuses: {}, captured: {}, refunded: {}, processingMs: {}, declines: {} }));
    const n = row.n === null || row.n === undefined ? 0 : Number(row.n);
    const sub = row.sub as string;
    switch (row.kind) {
      case 's': {
        const status = sub as PaymentStatus;
        agg.statuses[status] = (agg.statuses[status] ?? 0) + n;
        agg.captured[row.currency as string] = addDecimal(agg.captured[row.currency as string], String(row.amount ?? '0'));
        break;
      }
      case 'r':
        agg.refunded[row.currency as string] = addDecimal(agg.refunded[row.currency as string], String(row.amount ?? '0'));
        break;
      case 'l':
        agg.processingMs[sub] = (agg.processingMs[sub] ?? 0) + n;
        break;
      case 'd':
        agg.declines[sub] = (agg.declines[sub] ?? 0) + n;
        break;
    }
  }
}

/**
 * {@link AnalyticsStore.paymentAnalytics} on Postgres. Groups left with no payments (the rollup's
 * deltas of payments that moved to another group) are dropped.
 */
export async function postgresPaymentAnalytics(q: Queryable, st: AnalyticsStatements, query: PaymentAnalyticsQuery): Promise<PaymentAnalyticsAggregate[]> {
  const all = query.merchantId === undefined;
  const groups = new Map<string | null, PaymentAnalyticsAggregate>();
  try {
    for (const part of windowParts(query.from, query.to)) {
      const sql = part.kind === 'rollup' ? st.rollup(query.groupBy, all) : st.raw(query.groupBy, all);
      const { rows } = await q.query(sql, [all ? null : query.merchantId, part.from, part.to]);
      foldRows(groups, rows);
    }
  } catch (error) {
    throw toStoreError(error);
  }
  return [...groups.values()].filter((g) => Object.values(g.statuses).some((n) => n !== 0));
}
