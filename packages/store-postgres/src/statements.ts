/**
 * Every SQL statement the store runs, built once per schema. Names are schema-qualified rather than
 * resolved through `search_path`, so a shared pool needs no per-connection setup.
 *
 * @module
 */
import { buildBillingStatements } from './billing-statements';
import { buildDisputeStatements } from './dispute-statements';
import { IDEMPOTENCY_COLUMNS, OUTBOX_COLUMNS, PAYMENT_COLUMNS, REFUND_COLUMNS, TRANSITION_COLUMNS, WEBHOOK_ENDPOINT_COLUMNS } from './rows';
import { quoteIdent } from './schema';

const placeholders = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `$${from + i}`).join(', ');

/** How many rows of a table a flush carries: none, one (scalar parameters) or several (arrays). */
export type Rows = 0 | 1 | 2;

/** The row count class of `count` rows. */
export function rowsOf(count: number): Rows {
  return count === 0 ? 0 : count === 1 ? 1 : 2;
}

/** Which queued writes a flush carries (at most one payment write per flush). */
export interface FlushShape {
  payment: 'insert' | 'update' | null;
  transitions: Rows;
  outbox: Rows;
  idempotency: Rows;
  /** Expected payment versions (`expectPaymentVersion`). */
  expected: Rows;
  /** Idempotency records expected to be new (`insertIdempotencyRecord`). */
  newKeys: Rows;
}

// Parameter columns of each queued table, in the order the store sends them.
const TRANSITION_SOURCE = [
  ['id', 'text'], ['merchant_id', 'text'], ['payment_id', 'text'], ['refund_id', 'text'], ['from_status', 'text'],
  ['to_status', 'text'], ['reason', 'text'], ['actor', 'text'], ['at', 'timestamptz'],
] as const;
const OUTBOX_SOURCE = [
  ['id', 'text'], ['merchant_id', 'text'], ['type', 'text'], ['payment_id', 'text'], ['refund_id', 'text'], ['data', 'text'],
  ['payload', 'text'], ['created_at', 'timestamptz'],
] as const;
const KEY_SOURCE = [
  ['merchant_id', 'text'], ['key', 'text'], ['fingerprint', 'text'], ['state', 'text'], ['locked_until', 'timestamptz'],
  ['recovery_point', 'text'], ['resource_type', 'text'], ['resource_id', 'text'], ['response', 'text'],
  ['created_at', 'timestamptz'], ['expires_at', 'timestamptz'],
] as const;
const EXPECTED_SOURCE = [['id', 'text'], ['version', 'int']] as const;

/** The statements for one schema. */
export type Statements = ReturnType<typeof buildStatements>;

export function buildStatements(schema: string) {
  const s = quoteIdent(schema);
  const payments = `${s}.payments`;
  const refunds = `${s}.refunds`;
  const transitions = `${s}.transitions`;
  const idem = `${s}.idempotency_keys`;
  const inbox = `${s}.inbox_events`;
  const outbox = `${s}.outbox_events`;
  const endpoints = `${s}.webhook_endpoints`;
  const deliveries = `${s}.webhook_deliveries`;

  const flushCache = new Map<string, string>();

  const paymentValues =
    '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16, $17::jsonb, $18::jsonb, $19::jsonb, $20::jsonb, $21, $22, $23, $24, $25';

  const insertPayment = `INSERT INTO ${payments} (${PAYMENT_COLUMNS}) VALUES (${paymentValues}) ON CONFLICT DO NOTHING`;
  // Found by primary key alone. Any other indexable condition (merchant_id) lets a plan made without
  // statistics (a new schema, and plans are kept per connection) pick a merchant index and walk all of
  // that merchant's payments on every write. The merchant never changes and the write comes from a
  // payment read for that merchant, so the row is its own.
  const updatePayment = `UPDATE ${payments} SET
        order_id = $2, status = $3, amount = $4, currency = $5, amount_captured = $6, amount_refunded = $7,
        capture_method = $8, gateway = $9, gateway_reference = $10, payment_method = $11, description = $12,
        customer = $13::jsonb, return_url = $14, notify_url = $15, metadata = $16::jsonb, next_action = $17::jsonb,
        failure = $18::jsonb, gateway_data = $19::jsonb, updated_at = $20, version = $21, user_id = $22,
        saved_payment_method_id = $23
      WHERE id = $1 AND version = $21 - 1
        AND ($10::text IS NULL OR NOT EXISTS (SELECT 1 FROM ${payments} g WHERE g.gateway = $9 AND g.gateway_reference = $10 AND g.id <> $1))`;
  return {
    /** Customers, saved methods, subscriptions, invoices and their trail (migration 10). */
    billing: buildBillingStatements(schema),
    /** Disputes and their trail (migration 12). */
    disputes: buildDisputeStatements(schema),
    countOutboxBacklog: `SELECT count(*)::int AS n FROM ${outbox} WHERE status = 'pending'`,
    insertWebhookEndpoint: `INSERT INTO ${endpoints} (${WEBHOOK_ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7) ON CONFLICT DO NOTHING`,
    listWebhookEndpoints: `SELECT ${WEBHOOK_ENDPOINT_COLUMNS} FROM ${endpoints} WHERE merchant_id = $1 ORDER BY created_at, id`,
    getWebhookEndpoint: `SELECT ${WEBHOOK_ENDPOINT_COLUMNS} FROM ${endpoints} WHERE merchant_id = $1 AND id = $2`,
    deleteWebhookEndpoint: `DELETE FROM ${endpoints} WHERE merchant_id = $1 AND id = $2`,
    getPayment: `SELECT ${PAYMENT_COLUMNS} FROM ${payments} WHERE id = $1`,
    lockPayment: `SELECT ${PAYMENT_COLUMNS} FROM ${payments} WHERE id = $1 FOR UPDATE`,
    findByGatewayReference: `SELECT ${PAYMENT_COLUMNS} FROM ${payments} WHERE gateway = $1 AND gateway_reference = $2`,
    // Two index lookups (order id, then primary key for a payment without one), newest first.
    listByGatewayOrder: `SELECT * FROM (
      SELECT ${PAYMENT_COLUMNS} FROM ${payments} WHERE order_id = $2 AND gateway = $1
      UNION ALL
      SELECT ${PAYMENT_COLUMNS} FROM ${payments} WHERE id = $2 AND order_id IS NULL AND gateway = $1
    ) AS matches ORDER BY created_at DESC, id DESC LIMIT $3`,
    findByOrderId: `SELECT ${PAYMENT_COLUMNS} FROM ${payments} WHERE merchant_id = $1 AND order_id = $2
      ORDER BY created_at DESC, id DESC LIMIT 1`,
    /** Builds the list query for the filters present, so each shape gets its own (index-using) plan. */
    listPayments(filters: {
      userId: boolean;
      orderId: boolean;
      status: boolean;
      gateway: boolean;
      createdFrom: boolean;
      createdBefore: boolean;
      startingAfter: boolean;
    }): { sql: string; next: number } {
      const where = ['merchant_id = $1'];
      let n = 2;
      // Strict equality implies \`user_id IS NOT NULL\`, so the partial index of migration 10 applies.
      if (filters.userId) where.push(`user_id = $${n++}`);
      if (filters.orderId) where.push(`order_id = $${n++}`);
      if (filters.status) where.push(`status = $${n++}`);
      if (filters.gateway) where.push(`gateway = $${n++}`);
      // Date bounds are a range of payments_merchant_created_idx (merchant_id, created_at DESC, id DESC).
      if (filters.createdFrom) where.push(`created_at >= $${n++}::timestamptz`);
      if (filters.createdBefore) where.push(`created_at < $${n++}::timestamptz`);
      if (filters.startingAfter) {
        where.push(`(created_at, id) < (SELECT c.created_at, c.id FROM ${payments} c WHERE c.id = $${n++})`);
      }
      return {
        sql: `SELECT ${PAYMENT_COLUMNS} FROM ${payments} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${n}`,
        next: n,
      };
    },
    // Monitoring (tender_reconcile_stuck_payments): the same index ranges as listToReconcile, capped.
    // The ORDER BY makes the index range the plan: without it the generic plan of a large table is a
    // sequential scan that expects to meet $3 matches early, and reads every payment when few are stuck.
    countToReconcile: `SELECT count(*)::int AS n FROM (SELECT 1 FROM unnest($1::text[]) AS s (status)
      CROSS JOIN LATERAL (SELECT 1 FROM ${payments} WHERE status = s.status AND updated_at < $2 ORDER BY updated_at, id LIMIT $3) p LIMIT $3) c`,
    // Monitoring (db_size_bytes): tables of this schema with their indexes and TOAST.
    schemaSize: `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'm')`,
    // One ordered range of (status, updated_at, id) per status, merged: an index walk of the stuck
    // payments only. \`status = ANY(...)\` with one ORDER BY is planned as a scan and sort of every
    // payment when the table looked small at planning time.
    listToReconcile: `SELECT p.* FROM unnest($1::text[]) AS s (status)
      CROSS JOIN LATERAL (SELECT ${PAYMENT_COLUMNS} FROM ${payments}
        WHERE status = s.status AND updated_at < $2 ORDER BY updated_at, id LIMIT $3) p
      ORDER BY p.updated_at, p.id LIMIT $3`,
    // DO NOTHING (rather than a unique-violation error) keeps the transaction usable after a duplicate.
    insertPayment,
    /** Why an insert or update of a payment wrote nothing ($1 id, $2 gateway, $3 reference). */
    paymentConflicts: `SELECT
        EXISTS (SELECT 1 FROM ${payments} WHERE gateway = $2 AND gateway_reference = $3 AND id <> $1) AS reference_taken,
        (SELECT version FROM ${payments} WHERE id = $1) AS version`,
    /** Parameters: the insert's list without `merchant_id` and `created_at` (they never change), so $20 updated_at, $21 version, $22 user, $23 saved method. */
    // The version check makes the write conditional (optimistic concurrency); the NOT EXISTS guards turn
    // a unique collision into "no row updated" instead of an error that would abort the transaction.
    updatePayment,

    getRefund: `SELECT ${REFUND_COLUMNS} FROM ${refunds} WHERE id = $1`,
    getRefundOfMerchant: `SELECT ${REFUND_COLUMNS} FROM ${refunds} WHERE id = $1 AND merchant_id = $2`,
    listRefunds: `SELECT ${REFUND_COLUMNS} FROM ${refunds} WHERE payment_id = $1 ORDER BY created_at, id`,
    listPendingRefunds: `SELECT ${REFUND_COLUMNS} FROM ${refunds} WHERE status = 'PENDING' AND created_at < $1
      ORDER BY created_at, id LIMIT $2`,
    // The EXISTS guard reports a missing payment as "nothing inserted" instead of a foreign-key error
    // that would abort the transaction; the foreign key still stands behind it.
    insertRefund: `INSERT INTO ${refunds} (${REFUND_COLUMNS})
      SELECT $1::text, $2::text, $3::text, $4::text, $5::numeric, $6::text, $7::text, $8::text, $9::jsonb, $10::jsonb,
        $11::timestamptz, $12::timestamptz
      WHERE EXISTS (SELECT 1 FROM ${payments} WHERE id = $3)
      ON CONFLICT DO NOTHING`,
    refundExists: `SELECT EXISTS (SELECT 1 FROM ${refunds} WHERE id = $1) AS refund_taken`,
    updateRefund: `UPDATE ${refunds} SET status = $4, amount = $5, currency = $6, reason = $7, gateway_reference = $8,
        failure = $9::jsonb, metadata = $10::jsonb, updated_at = $11
      WHERE id = $1 AND merchant_id = $2 AND payment_id = $3`,

    listTransitions: `SELECT ${TRANSITION_COLUMNS} FROM ${transitions} WHERE payment_id = $1 ORDER BY seq`,
    paymentExists: `SELECT EXISTS (SELECT 1 FROM ${payments} WHERE id = $1) AS payment_exists`,

    getIdempotency: `SELECT ${IDEMPOTENCY_COLUMNS} FROM ${idem} WHERE merchant_id = $1 AND key = $2`,
    lockIdempotency: `SELECT ${IDEMPOTENCY_COLUMNS} FROM ${idem} WHERE merchant_id = $1 AND key = $2 FOR UPDATE`,
    insertIdempotency: `INSERT INTO ${idem} (${IDEMPOTENCY_COLUMNS}) VALUES (${placeholders(1, 8)}, $9::jsonb, $10, $11)
      ON CONFLICT (merchant_id, key) DO NOTHING RETURNING ${IDEMPOTENCY_COLUMNS}`,
    deleteIdempotency: `DELETE FROM ${idem} WHERE merchant_id = $1 AND key = $2`,

    /**
     * Write-behind flush: the payment write, transitions, outbox events, idempotency records and
     * version expectations a transaction queued since its last statement, in one round trip. Only the
     * tables with queued rows take part, so each shape is its own small prepared statement. A single
     * row goes as scalar parameters; several go as arrays (unnest keeps them in the order they were
     * queued). `alone`: sent outside BEGIN ... COMMIT, so a conflict must fail the whole statement
     * (`flush_conflict`) rather than be reported in the counts. JSON travels as text and is cast here,
     * so both drivers serialise it the same way.
     */
    flushWrites: (shape: FlushShape, alone: boolean): string => {
      const key = `${shape.payment ?? '-'}${shape.transitions}${shape.outbox}${shape.idempotency}${shape.expected}${shape.newKeys}${+alone}`;
      const cached = flushCache.get(key);
      if (cached) return cached;
      const ctes: string[] = [];
      const counts: string[] = [];
      const mismatches: string[] = [];
      let n = 1;
      /**
       * The queued rows of one table as a row source `u`: a single row as scalar parameters (the usual
       * case, cheapest to bind and plan), several as one array parameter per column; with the SQL
       * expression of how many rows were queued.
       */
      const source = (rows: Rows, columns: ReadonlyArray<readonly [string, string]>, ordered = false): { from: string; queued: string } => {
        const first = n;
        const names = columns.map(([name]) => name).join(', ');
        if (rows === 1) {
          const values = columns.map(([, type]) => `$${n++}::${type}`).join(', ');
          return { from: `(VALUES (${values})) AS u (${names})`, queued: '1' };
        }
        const arrays = columns.map(([, type]) => `$${n++}::${type}[]`).join(', ');
        return {
          from: `unnest(${arrays})${ordered ? ' WITH ORDINALITY' : ''} AS u (${names}${ordered ? ', n' : ''})`,
          queued: `cardinality($${first}::${columns[0]![1]}[])`,
        };
      };
      // Idempotency records (upserted, or inserted as new keys).
      const insertKeys = (rows: Rows) => {
        const u = source(rows, KEY_SOURCE);
        return {
          queued: u.queued,
          sql: `
        INSERT INTO ${idem} (${IDEMPOTENCY_COLUMNS})
        SELECT u.merchant_id, u.key, u.fingerprint, u.state, u.locked_until, u.recovery_point, u.resource_type, u.resource_id,
          u.response::jsonb, u.created_at, u.expires_at
        FROM ${u.from}`,
        };
      };
      if (shape.payment) {
        // Parameters: the single-row insert's 25 or the update's 23, first.
        ctes.push(`pw AS (${shape.payment === 'insert' ? insertPayment : updatePayment} RETURNING id)`);
        counts.push('(SELECT count(*) FROM pw)::int AS payment');
        mismatches.push('c.payment <> 1');
        n += shape.payment === 'insert' ? 25 : 23;
      }
      if (shape.transitions) {
        // No existence guard: a transition of an unknown payment fails the foreign key (reported as
        // not_found). A guard joining the rows to payments is planned as a hash join over a scan of
        // the whole table when statistics are missing or stale.
        const u = source(shape.transitions, TRANSITION_SOURCE, true);
        mismatches.push(`c.transitions <> ${u.queued}`);
        ctes.push(`t AS (
        INSERT INTO ${transitions} (${TRANSITION_COLUMNS})
        SELECT u.id, u.merchant_id, u.payment_id, u.refund_id, u.from_status, u.to_status, u.reason, u.actor, u.at
        FROM ${u.from}
        ${shape.transitions === 1 ? '' : '-- seq (the trail\'s order) must follow the order of the calls.\n        ORDER BY u.n'}
        ON CONFLICT DO NOTHING RETURNING 1)`);
        counts.push('(SELECT count(*) FROM t)::int AS transitions');
      }
      if (shape.outbox) {
        const u = source(shape.outbox, OUTBOX_SOURCE, true);
        mismatches.push(`c.outbox <> ${u.queued}`);
        ctes.push(`o AS (
        INSERT INTO ${outbox} (id, merchant_id, type, payment_id, refund_id, data, payload, created_at, next_attempt_at,
          aggregateid, relay_next_attempt_at)
        SELECT u.id, u.merchant_id, u.type, u.payment_id, u.refund_id, u.data::jsonb, u.payload::jsonb, u.created_at, u.created_at,
          coalesce(u.payment_id, u.id), u.created_at
        FROM ${u.from}
        ${shape.outbox === 1 ? '' : '-- seq (the relay\'s order per payment) must follow the order of the calls.\n        ORDER BY u.n'}
        ON CONFLICT DO NOTHING RETURNING 1)`);
        counts.push('(SELECT count(*) FROM o)::int AS outbox');
      }
      if (shape.idempotency) {
        ctes.push(`i AS (${insertKeys(shape.idempotency).sql}
        ON CONFLICT (merchant_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, state = EXCLUDED.state,
          locked_until = EXCLUDED.locked_until, recovery_point = EXCLUDED.recovery_point,
          resource_type = EXCLUDED.resource_type, resource_id = EXCLUDED.resource_id, response = EXCLUDED.response,
          created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
        RETURNING 1)`);
        counts.push('(SELECT count(*) FROM i)::int AS idempotency');
      }
      if (shape.expected) {
        // Sees the rows as they were before this statement, as the version checks of the writes do.
        // A scalar subquery, not EXISTS or a join: it stays a primary-key lookup per row whatever the
        // statistics say (see the transitions note above).
        const u = source(shape.expected, EXPECTED_SOURCE);
        mismatches.push(`c.expected <> ${u.queued}`);
        ctes.push(`e AS (
        SELECT count(*)::int AS n FROM ${u.from}
        WHERE (SELECT p.version FROM ${payments} p WHERE p.id = u.id) = u.version)`);
        counts.push('(SELECT n FROM e) AS expected');
      }
      if (shape.newKeys) {
        const k = insertKeys(shape.newKeys);
        mismatches.push(`c.new_keys <> ${k.queued}`);
        ctes.push(`k AS (${k.sql}
        ON CONFLICT (merchant_id, key) DO NOTHING
        RETURNING 1)`);
        counts.push('(SELECT count(*) FROM k)::int AS new_keys');
      }
      // Inside a transaction the caller reads the counts and rolls back itself. Sent alone, the
      // statement must fail as a whole instead: flush_conflict raises with the counts. (OFFSET 0 keeps
      // the counts computed once rather than inlined into both uses.)
      const select = alone && mismatches.length > 0
        ? `SELECT c.*, CASE WHEN ${mismatches.join(' OR ')} THEN ${s}.flush_conflict(row_to_json(c)::text) END AS conflict
      FROM (SELECT ${counts.join(', ')} OFFSET 0) c`
        : `SELECT ${counts.join(', ')}`;
      const sql = `WITH ${ctes.join(',\n      ')}\n      ${select}`;
      flushCache.set(key, sql);
      return sql;
    },
    recordInbound: `INSERT INTO ${inbox} (gateway, event_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,

    getOutbox: `SELECT ${OUTBOX_COLUMNS} FROM ${outbox} WHERE id = $1`,
    /** A merchant's events newest first; each filter shape gets its own plan over outbox_events_merchant_created_idx (migration 15). */
    listOutboxEvents(filters: { type: boolean; deliveryStatus: boolean; paymentId: boolean; startingAfter: boolean }): string {
      const where = ['merchant_id = $1'];
      let n = 2;
      if (filters.type) where.push(`type = $${n++}`);
      if (filters.deliveryStatus) where.push(`status = $${n++}`);
      if (filters.paymentId) where.push(`payment_id = $${n++}`);
      if (filters.startingAfter) {
        where.push(`(created_at, id) < (SELECT c.created_at, c.id FROM ${outbox} c WHERE c.id = $${n++} AND c.merchant_id = $1)`);
      }
      return `SELECT ${OUTBOX_COLUMNS} FROM ${outbox} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${n}`;
    },
    // SKIP LOCKED: rows another dispatcher is claiming right now are passed over, not waited for.
    claimOutbox: `WITH due AS (
        SELECT id FROM ${outbox}
        WHERE status = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
        ORDER BY next_attempt_at, id
        LIMIT $2
        FOR UPDATE SKIP LOCKED)
      UPDATE ${outbox} o SET locked_until = $3 FROM due WHERE o.id = due.id
      RETURNING ${OUTBOX_COLUMNS.split(', ').map((c) => `o.${c}`).join(', ')}`,
    completeDelivered: `UPDATE ${outbox} SET status = 'delivered', attempts = attempts + 1, locked_until = NULL,
        delivered_at = $2, last_error = NULL WHERE id = $1`,
    completePending: `UPDATE ${outbox} SET status = 'pending', attempts = attempts + 1, locked_until = NULL,
        next_attempt_at = $2, last_error = $3 WHERE id = $1`,
    completeDead: `UPDATE ${outbox} SET status = 'dead', attempts = attempts + 1, locked_until = NULL,
        last_error = $2 WHERE id = $1`,
    // The oldest relay-pending row of each payment, if due and free. The conditions that decide a
    // claim are on o itself, so a row another claimer leased or completed meanwhile is re-checked
    // (READ COMMITTED re-evaluates them on the row's newest version after waiting for its lock).
    claimRelay: `WITH heads AS (
        SELECT DISTINCT ON (aggregateid) id, seq FROM ${outbox}
        WHERE relay_status = 'pending'
        ORDER BY aggregateid, seq),
      due AS (
        SELECT o.id FROM ${outbox} o JOIN heads h ON o.id = h.id
        WHERE o.relay_status = 'pending' AND o.relay_next_attempt_at <= $1 AND (o.relay_locked_until IS NULL OR o.relay_locked_until <= $1)
        ORDER BY h.seq
        LIMIT $2
        FOR UPDATE OF o SKIP LOCKED)
      UPDATE ${outbox} o SET relay_locked_until = $3 FROM due WHERE o.id = due.id
      RETURNING ${OUTBOX_COLUMNS.split(', ').map((c) => `o.${c}`).join(', ')}`,
    // A failure reported late (by a relay whose lease ran out while another published the row) never
    // turns a published row back.
    completeRelayPublished: `UPDATE ${outbox} SET relay_status = 'published', relay_attempts = relay_attempts + 1,
        relay_locked_until = NULL, published_at = $2, relay_error = NULL WHERE id = $1`,
    completeRelayPending: `UPDATE ${outbox} SET relay_status = 'pending', relay_attempts = relay_attempts + 1,
        relay_locked_until = NULL, relay_next_attempt_at = $2, relay_error = $3 WHERE id = $1 AND relay_status = 'pending'`,
    completeRelayDead: `UPDATE ${outbox} SET relay_status = 'dead', relay_attempts = relay_attempts + 1,
        relay_locked_until = NULL, relay_error = $2 WHERE id = $1 AND relay_status = 'pending'`,
    relayBacklog: `SELECT count(*)::int AS n, min(created_at) AS oldest FROM ${outbox} WHERE relay_status = 'pending'`,
    requeueOutbox: `WITH r AS (
        UPDATE ${outbox} SET status = 'pending', next_attempt_at = $2, locked_until = NULL, delivered_at = NULL
        WHERE id = $1 RETURNING id),
      d AS (DELETE FROM ${deliveries} WHERE event_id = $1 AND EXISTS (SELECT 1 FROM r))
      SELECT count(*)::int AS n FROM r`,
    listEventDeliveries: `SELECT endpoint_id FROM ${deliveries} WHERE event_id = $1 ORDER BY delivered_at, endpoint_id`,
    // An unknown event or endpoint (purged or deleted meanwhile) records nothing rather than failing.
    recordEventDelivery: `INSERT INTO ${deliveries} (event_id, endpoint_id, delivered_at)
      SELECT $1::text, $2::text, $3::timestamptz
      WHERE EXISTS (SELECT 1 FROM ${outbox} WHERE id = $1) AND EXISTS (SELECT 1 FROM ${endpoints} WHERE id = $2)
      ON CONFLICT DO NOTHING`,

    // Purges delete one bounded batch per statement so locks stay short and WAL stays small.
    // Batched purges: the batch is picked oldest first along its index and deleted by row address, so
    // neither half can become a scan of the whole table, whatever the statistics say.
    purgeIdempotency: `DELETE FROM ${idem} WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM ${idem} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    purgeOutbox: `DELETE FROM ${outbox} WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM ${outbox} WHERE status = 'delivered' AND delivered_at < $1 ORDER BY delivered_at LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    purgeOutboxPublished: `DELETE FROM ${outbox} WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM ${outbox} WHERE status = 'delivered' AND delivered_at < $1 AND relay_status <> 'pending'
        ORDER BY delivered_at LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    purgeCountIdempotency: `SELECT count(*)::int AS n FROM ${idem} WHERE expires_at <= $1`,
    purgeCountOutbox: `SELECT count(*)::int AS n FROM ${outbox} WHERE status = 'delivered' AND delivered_at < $1`,
    purgeCountOutboxPublished: `SELECT count(*)::int AS n FROM ${outbox} WHERE status = 'delivered' AND delivered_at < $1 AND relay_status <> 'pending'`,

    // Maintenance pages (rewriteRecords): primary-key order from a cursor ('' sorts before every id),
    // each row locked until the page commits; the writes replace the data columns only.
    pagePayments: `SELECT ${PAYMENT_COLUMNS} FROM ${payments} WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
    pageRefunds: `SELECT ${REFUND_COLUMNS} FROM ${refunds} WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
    pageOutbox: `SELECT ${OUTBOX_COLUMNS} FROM ${outbox} WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
    pageIdempotency: `SELECT ${IDEMPOTENCY_COLUMNS} FROM ${idem} WHERE (merchant_id, key) > ($1, $2) ORDER BY merchant_id, key LIMIT $3 FOR UPDATE`,
    rewritePayments: (bump: boolean) => `UPDATE ${payments} p SET customer = u.customer::jsonb, metadata = u.metadata::jsonb,
        next_action = u.next_action::jsonb, gateway_data = u.gateway_data::jsonb${bump ? ', version = p.version + 1, anonymized_at = now()' : ''}
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u (id, customer, metadata, next_action, gateway_data)
      WHERE p.id = u.id`,
    rewriteRefunds: `UPDATE ${refunds} r SET metadata = u.metadata::jsonb
      FROM unnest($1::text[], $2::text[]) AS u (id, metadata) WHERE r.id = u.id`,
    rewriteOutbox: `UPDATE ${outbox} o SET data = u.data::jsonb, payload = u.payload::jsonb
      FROM unnest($1::text[], $2::text[], $3::text[]) AS u (id, data, payload) WHERE o.id = u.id`,
    rewriteIdempotency: `UPDATE ${idem} i SET response = u.response::jsonb
      FROM unnest($1::text[], $2::text[], $3::text[]) AS u (merchant_id, key, response)
      WHERE i.merchant_id = u.merchant_id AND i.key = u.key`,

    // Retention (anonymizePayments): the oldest payments not anonymised yet, along their partial
    // index; ones another transaction holds are left for the next batch (SKIP LOCKED), so several
    // instances take disjoint batches. Then the copies of the batch, each by its own index.
    anonymizeDue: `SELECT ${PAYMENT_COLUMNS} FROM ${payments} WHERE anonymized_at IS NULL AND created_at < $1
      ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    refundsOfPayments: `SELECT id, metadata FROM ${refunds} WHERE payment_id = ANY($1::text[]) FOR UPDATE`,
    outboxOfPayments: `SELECT id, data, payload FROM ${outbox} WHERE payment_id = ANY($1::text[]) FOR UPDATE`,
    idempotencyOfResources: `SELECT merchant_id, key, response FROM ${idem} WHERE resource_id = ANY($1::text[]) FOR UPDATE`,
    anonymizeCounts: `WITH p AS (SELECT id FROM ${payments} WHERE anonymized_at IS NULL AND created_at < $1),
        r AS (SELECT id FROM ${refunds} WHERE payment_id IN (SELECT id FROM p))
      SELECT (SELECT count(*) FROM p)::int AS payments, (SELECT count(*) FROM r)::int AS refunds,
        (SELECT count(*) FROM ${outbox} WHERE payment_id IN (SELECT id FROM p))::int AS outbox,
        (SELECT count(*) FROM ${idem} WHERE resource_id IN (SELECT id FROM p UNION ALL SELECT id FROM r))::int AS idempotency`,

    // Readiness: the database answers and this schema has every migration this package ships.
    ping: `SELECT coalesce(max(version), 0) AS version FROM ${s}.schema_migrations`,
  };
}
