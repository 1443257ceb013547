/**
 * The SQL of the disputes part of the store (migration 12's tables), built once per schema and
 * schema-qualified like `statements.ts`. The insert uses `ON CONFLICT DO NOTHING` so a duplicate is
 * reported by the store as a typed error while the transaction stays usable.
 *
 * @module
 */
import { DISPUTE_COLUMNS, DISPUTE_TRANSITION_COLUMNS } from './dispute-rows';
import { quoteIdent } from './schema';

const placeholders = (count: number) => Array.from({ length: count }, (_, i) => `$${i + 1}`).join(', ');

/** Which optional conditions a dispute list carries (each shape is its own prepared statement). */
export interface DisputeListShape {
  merchantId: boolean;
  paymentId: boolean;
  status: boolean;
  from: boolean;
  to: boolean;
  startingAfter: boolean;
  limit: boolean;
}

/** The dispute statements for one schema. */
export type DisputeStatements = ReturnType<typeof buildDisputeStatements>;

export function buildDisputeStatements(schema: string) {
  const s = quoteIdent(schema);
  const disputes = `${s}.disputes`;
  const transitions = `${s}.dispute_transitions`;
  const cache = new Map<string, string>();

  /** A list newest opened first, keyset-paginated on (opened_at, id) from the cursor dispute. */
  const list = (shape: DisputeListShape): string => {
    const key = Object.values(shape).map(Number).join('');
    const cached = cache.get(key);
    if (cached) return cached;
    const conditions: string[] = [];
    let n = 1;
    if (shape.merchantId) conditions.push(`merchant_id = $${n++}`);
    if (shape.paymentId) conditions.push(`payment_id = $${n++}`);
    if (shape.status) conditions.push(`status = $${n++}`);
    if (shape.from) conditions.push(`opened_at >= $${n++}`);
    if (shape.to) conditions.push(`opened_at < $${n++}`);
    if (shape.startingAfter) conditions.push(`(opened_at, id) < (SELECT c.opened_at, c.id FROM ${disputes} c WHERE c.id = $${n++})`);
    const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
    const sql = `SELECT ${DISPUTE_COLUMNS} FROM ${disputes}${where} ORDER BY opened_at DESC, id DESC${shape.limit ? ` LIMIT $${n}` : ''}`;
    cache.set(key, sql);
    return sql;
  };

  return {
    list,
    get: `SELECT ${DISPUTE_COLUMNS} FROM ${disputes} WHERE id = $1`,
    lock: `SELECT ${DISPUTE_COLUMNS} FROM ${disputes} WHERE id = $1 FOR UPDATE`,
    findByReference: `SELECT ${DISPUTE_COLUMNS} FROM ${disputes} WHERE gateway = $1 AND gateway_reference = $2`,
    insert: `INSERT INTO ${disputes} (${DISPUTE_COLUMNS}) VALUES (${placeholders(17)}) ON CONFLICT DO NOTHING`,
    /**
     * Parameters: the insert's list without `merchant_id`, `payment_id` and `created_at` (they never
     * change): $1 id, $2 gateway, $3 gateway_reference .. $12 updated_at, $13 synced_at, $14 version.
     * Conditional on the version; a taken gateway reference matches no row instead of aborting.
     */
    update: `UPDATE ${disputes} SET
        gateway = $2, gateway_reference = $3, status = $4, gateway_status = $5, amount = $6, currency = $7, reason = $8,
        evidence_due_by = $9, opened_at = $10, closed_at = $11, updated_at = $12, synced_at = $13, version = $14
      WHERE id = $1 AND version = $14 - 1
        AND NOT EXISTS (SELECT 1 FROM ${disputes} g WHERE g.gateway = $2 AND g.gateway_reference = $3 AND g.id <> $1)`,
    /** Why a dispute write matched nothing ($1 id, $2 gateway, $3 reference). */
    conflicts: `SELECT
        EXISTS (SELECT 1 FROM ${disputes} WHERE gateway = $2 AND gateway_reference = $3 AND id <> $1) AS reference_taken,
        (SELECT version FROM ${disputes} WHERE id = $1) AS version`,
    paymentExists: `SELECT EXISTS (SELECT 1 FROM ${s}.payments WHERE id = $1) AS found`,
    listTransitions: `SELECT ${DISPUTE_TRANSITION_COLUMNS} FROM ${transitions} WHERE dispute_id = $1 ORDER BY seq`,
    insertTransition: `INSERT INTO ${transitions} (${DISPUTE_TRANSITION_COLUMNS}) VALUES (${placeholders(9)}) ON CONFLICT DO NOTHING`,
  };
}
