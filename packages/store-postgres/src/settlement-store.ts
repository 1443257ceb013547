/**
 * PostgresStore's `SettlementStore` part (migration 14): settlement runs, and the day's settled
 * records read from the audit trail. Statements are schema-qualified like `statements.ts`.
 *
 * @module
 */
import { TenderError, type OutboxEvent, type SettledRecords, type SettledRecordsQuery, type SettlementRun, type SettlementRunKey, type SettlementRunSummary, type SettlementStore, type StoreTx } from '@tender/core';
import type { Queryable, Row } from './driver';
import { toStoreError } from './errors';
import { PAYMENT_COLUMNS, REFUND_COLUMNS, iso, toPayment, toRefund } from './rows';
import { quoteIdent } from './schema';

const SUMMARY_COLUMNS = 'id, merchant_id, gateway, date, version, created_at, counts, totals';
const RUN_COLUMNS = `${SUMMARY_COLUMNS}, lines`;
/** Payment statuses in which a capture's money has moved (also once refunded). */
const STILL_CAPTURED = ['CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED'];

const prefixed = (columns: string, alias: string, as: string) =>
  columns
    .split(',')
    .map((c) => `${alias}.${c.trim()} AS ${as}${c.trim()}`)
    .join(', ');
const unprefixed = (row: Row, as: string): Row => {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) if (key.startsWith(as)) out[key.slice(as.length)] = value;
  return out;
};

/** The settlement statements for one schema. */
export function buildSettlementStatements(schema: string) {
  const s = quoteIdent(schema);
  const runs = `${s}.settlement_runs`;
  const scope = `merchant_id IS NOT DISTINCT FROM $1::text AND gateway = $2 AND date = $3`;
  return {
    insertRun: `INSERT INTO ${runs} (${RUN_COLUMNS}) VALUES ($1, $2::text, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb) ON CONFLICT DO NOTHING`,
    latest: `SELECT ${RUN_COLUMNS} FROM ${runs} WHERE ${scope} ORDER BY version DESC LIMIT 1`,
    get: `SELECT ${RUN_COLUMNS} FROM ${runs} WHERE id = $1`,
    history: `SELECT ${SUMMARY_COLUMNS} FROM ${runs} WHERE ${scope} ORDER BY version DESC`,
    /**
     * Payments of gateway $1 (of merchant $4, or every merchant when null) first moved to CAPTURED in
     * [$2, $3) by their trail, and still captured ($5).
     */
    capturedIn: `SELECT ${prefixed(PAYMENT_COLUMNS, 'p', 'p_')}, t.at AS settled_at
      FROM ${s}.transitions t JOIN ${s}.payments p ON p.id = t.payment_id
      WHERE t.to_status = 'CAPTURED' AND t.refund_id IS NULL AND t.at >= $2 AND t.at < $3
        AND p.gateway = $1 AND ($4::text IS NULL OR p.merchant_id = $4) AND p.status = ANY($5::text[])
        AND NOT EXISTS (SELECT 1 FROM ${s}.transitions e WHERE e.payment_id = t.payment_id AND e.refund_id IS NULL
                        AND e.to_status = 'CAPTURED' AND (e.at, e.seq) < (t.at, t.seq))
      ORDER BY t.at, p.id`,
    /** Refunds of gateway $1's payments (of merchant $4 or all) that moved to SUCCEEDED in [$2, $3) and still are. */
    refundedIn: `SELECT ${prefixed(REFUND_COLUMNS, 'r', 'r_')}, ${prefixed(PAYMENT_COLUMNS, 'p', 'p_')}, t.at AS settled_at
      FROM ${s}.transitions t JOIN ${s}.refunds r ON r.id = t.refund_id JOIN ${s}.payments p ON p.id = r.payment_id
      WHERE t.to_status = 'SUCCEEDED' AND t.refund_id IS NOT NULL AND t.at >= $2 AND t.at < $3
        AND p.gateway = $1 AND ($4::text IS NULL OR p.merchant_id = $4) AND r.status = 'SUCCEEDED'
        AND NOT EXISTS (SELECT 1 FROM ${s}.transitions e WHERE e.payment_id = t.payment_id AND e.refund_id = t.refund_id
                        AND e.to_status = 'SUCCEEDED' AND (e.at, e.seq) < (t.at, t.seq))
      ORDER BY t.at, r.id`,
  };
}

/** The settlement statements, type. */
export type SettlementStatements = ReturnType<typeof buildSettlementStatements>;

async function run(q: Queryable, sql: string, params: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number }> {
  try {
    return await q.query(sql, params);
  } catch (error) {
    throw toStoreError(error);
  }
}

function toRun(r: Row): SettlementRun {
  return { ...toSummary(r), lines: r.lines as SettlementRun['lines'] };
}

function toSummary(r: Row): SettlementRunSummary {
  return {
    id: String(r.id),
    merchantId: r.merchant_id === null ? null : String(r.merchant_id),
    gateway: String(r.gateway),
    date: String(r.date),
    version: Number(r.version),
    createdAt: iso(r.created_at),
    counts: r.counts as SettlementRun['counts'],
    totals: r.totals as SettlementRun['totals'],
  };
}

/**
 * Runs a statement of this part inside a store transaction, after the transaction's queued writes:
 * how {@link PostgresSettlements} writes a run together with its outbox events.
 */
export type InTransaction = (fn: (tx: StoreTx, statement: (sql: string, params: readonly unknown[]) => Promise<{ rowCount: number }>) => Promise<void>) => Promise<void>;

/** @internal The `SettlementStore` methods of a PostgresStore. */
export class PostgresSettlements implements SettlementStore {
  readonly #st: SettlementStatements;

  constructor(
    private readonly q: Queryable,
    schema: string,
    private readonly inTransaction: InTransaction,
  ) {
    this.#st = buildSettlementStatements(schema);
  }

  async listSettledRecords(query: SettledRecordsQuery): Promise<SettledRecords> {
    const params = [query.gateway, query.from, query.to, query.merchantId];
    const [captured, refunded] = await Promise.all([
      run(this.q, this.#st.capturedIn, [...params, STILL_CAPTURED]),
      run(this.q, this.#st.refundedIn, params),
    ]);
    return {
      payments: captured.rows.map((r) => ({ payment: toPayment(unprefixed(r, 'p_')), capturedAt: iso(r.settled_at) })),
      refunds: refunded.rows.map((r) => ({ refund: toRefund(unprefixed(r, 'r_')), payment: toPayment(unprefixed(r, 'p_')), succeededAt: iso(r.settled_at) })),
    };
  }

  insertSettlementRun(r: SettlementRun, events: readonly OutboxEvent[]): Promise<void> {
    return this.inTransaction(async (tx, statement) => {
      for (const event of events) await tx.enqueueOutbox(event);
      const { rowCount } = await statement(this.#st.insertRun, [
        r.id,
        r.merchantId,
        r.gateway,
        r.date,
        r.version,
        r.createdAt,
        JSON.stringify(r.counts),
        JSON.stringify(r.totals),
        JSON.stringify(r.lines),
      ]);
      if (rowCount === 0) {
        throw new TenderError({ type: 'state_error', code: 'duplicate_settlement_run', message: `Settlement run ${r.gateway} ${r.date} version ${r.version} (or id ${r.id}) exists` });
      }
    });
  }

  async latestSettlementRun(key: SettlementRunKey): Promise<SettlementRun | null> {
    const { rows } = await run(this.q, this.#st.latest, [key.merchantId, key.gateway, key.date]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  async getSettlementRun(id: string, merchantId?: string | null): Promise<SettlementRun | null> {
    const { rows } = await run(this.q, this.#st.get, [id]);
    const found = rows[0] ? toRun(rows[0]) : null;
    return found && (merchantId === undefined || found.merchantId === merchantId) ? found : null;
  }

  async listSettlementRuns(key: SettlementRunKey): Promise<SettlementRunSummary[]> {
    const { rows } = await run(this.q, this.#st.history, [key.merchantId, key.gateway, key.date]);
    return rows.map(toSummary);
  }
}
