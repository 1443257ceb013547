/**
 * The SQL of the billing part of the store (migration 10's tables), built once per schema and
 * schema-qualified like `statements.ts`. Inserts use `ON CONFLICT DO NOTHING` so a duplicate is
 * reported by the store as a typed error while the transaction stays usable, as for payments.
 *
 * @module
 */
import {
  BILLING_TRANSITION_COLUMNS,
  GATEWAY_CUSTOMER_COLUMNS,
  INVOICE_COLUMNS,
  SAVED_METHOD_COLUMNS,
  SUBSCRIPTION_COLUMNS,
} from './billing-rows';
import { quoteIdent } from './schema';

const placeholders = (count: number, casts: Record<number, string> = {}) =>
  Array.from({ length: count }, (_, i) => `$${i + 1}${casts[i + 1] ?? ''}`).join(', ');

/** Which optional conditions a billing list carries (each shape is its own prepared statement). */
export interface BillingListShape {
  userId: boolean;
  startingAfter: boolean;
  /** `status` (subscriptions) or `subscriptionId` (invoices). */
  extra: boolean;
}

/** The billing statements for one schema. */
export type BillingStatements = ReturnType<typeof buildBillingStatements>;

export function buildBillingStatements(schema: string) {
  const s = quoteIdent(schema);
  const customers = `${s}.gateway_customers`;
  const methods = `${s}.saved_payment_methods`;
  const subscriptions = `${s}.subscriptions`;
  const invoices = `${s}.invoices`;
  const transitions = `${s}.billing_transitions`;

  /**
   * A page query, newest first, keyset-paginated on (created_at, id) from the cursor record of the
   * same table (an unknown cursor matches nothing, as for payments). `extra` is the table's own
   * filter column (none for saved methods); `where` conditions that always apply.
   */
  const list = (table: string, columns: string, extraColumn: string | null, where: string[] = []) => {
    const cache = new Map<string, string>();
    return (shape: BillingListShape): string => {
      const key = `${+shape.userId}${+shape.startingAfter}${+shape.extra}`;
      const cached = cache.get(key);
      if (cached) return cached;
      const conditions = ['merchant_id = $1', ...where];
      let n = 2;
      if (shape.userId) conditions.push(`user_id = $${n++}`);
      if (shape.extra && extraColumn !== null) conditions.push(`${extraColumn} = $${n++}`);
      if (shape.startingAfter) conditions.push(`(created_at, id) < (SELECT c.created_at, c.id FROM ${table} c WHERE c.id = $${n++})`);
      const sql = `SELECT ${columns} FROM ${table} WHERE ${conditions.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${n}`;
      cache.set(key, sql);
      return sql;
    };
  };

  return {
    getCustomer: `SELECT ${GATEWAY_CUSTOMER_COLUMNS} FROM ${customers} WHERE merchant_id = $1 AND user_id = $2 AND gateway = $3`,
    insertCustomer: `INSERT INTO ${customers} (${GATEWAY_CUSTOMER_COLUMNS}) VALUES (${placeholders(5)})
      ON CONFLICT (merchant_id, user_id, gateway) DO NOTHING RETURNING ${GATEWAY_CUSTOMER_COLUMNS}`,

    getMethod: `SELECT ${SAVED_METHOD_COLUMNS} FROM ${methods} WHERE id = $1`,
    lockMethod: `SELECT ${SAVED_METHOD_COLUMNS} FROM ${methods} WHERE id = $1 AND merchant_id = $2 FOR UPDATE`,
    findMethodByToken: `SELECT ${SAVED_METHOD_COLUMNS} FROM ${methods} WHERE merchant_id = $1 AND gateway = $2 AND token = $3`,
    listMethods: list(methods, SAVED_METHOD_COLUMNS, null, ['deleted_at IS NULL']),
    // Any conflict (id, token, and the default index, which the user's lock keeps from happening)
    // inserts nothing; the store says which.
    insertMethod: `INSERT INTO ${methods} (${SAVED_METHOD_COLUMNS}) VALUES (${placeholders(12, { 7: '::jsonb' })}) ON CONFLICT DO NOTHING`,
    methodIdTaken: `SELECT EXISTS (SELECT 1 FROM ${methods} WHERE id = $1) AS taken`,
    /**
     * Serialises the default-changing writes of one user ($1 merchant, $2 user) until the transaction
     * ends: a transaction-scoped advisory lock
     * (https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS), which also holds
     * when the user has no method yet to lock a row of. A writer that waited starts its next
     * statement from a snapshot that sees the other's commit (READ COMMITTED).
     */
    lockUserDefault: `SELECT pg_advisory_xact_lock(hashtextextended('tender.saved_payment_methods:${schema}:' || $1::text || ':' || $2::text, 0))`,
    // First clear, then set: neither statement ever has two live defaults, so the partial unique
    // index is never violated on the way ($1 merchant, $2 user, $3 the method that keeps or takes it, $4 now).
    clearOtherDefaults: `UPDATE ${methods} SET is_default = false, updated_at = $4
      WHERE merchant_id = $1 AND user_id = $2 AND is_default AND deleted_at IS NULL AND id <> $3`,
    setDefault: `UPDATE ${methods} SET is_default = true, updated_at = $3
      WHERE id = $1 AND merchant_id = $2 AND deleted_at IS NULL AND NOT is_default`,
    removeMethod: `UPDATE ${methods} SET deleted_at = $3, is_default = false, updated_at = $3
      WHERE id = $1 AND merchant_id = $2 AND deleted_at IS NULL RETURNING ${SAVED_METHOD_COLUMNS}`,

    getSubscription: `SELECT ${SUBSCRIPTION_COLUMNS} FROM ${subscriptions} WHERE id = $1`,
    lockSubscription: `SELECT ${SUBSCRIPTION_COLUMNS} FROM ${subscriptions} WHERE id = $1 FOR UPDATE`,
    findSubscriptionByReference: `SELECT ${SUBSCRIPTION_COLUMNS} FROM ${subscriptions} WHERE gateway = $1 AND gateway_reference = $2`,
    listSubscriptions: list(subscriptions, SUBSCRIPTION_COLUMNS, 'status'),
    insertSubscription: `INSERT INTO ${subscriptions} (${SUBSCRIPTION_COLUMNS}) VALUES (${placeholders(27, { 23: '::jsonb' })}) ON CONFLICT DO NOTHING`,
    /**
     * Parameters: the insert's list without `merchant_id` and `created_at` (they never change): $1 id ..
     * $22 metadata, $23 updated_at, $24 synced_at, $25 version. Conditional on the version; a taken
     * gateway reference matches no row instead of aborting the transaction.
     */
    updateSubscription: `UPDATE ${subscriptions} SET
        user_id = $2, gateway = $3, gateway_reference = $4, gateway_customer_id = $5, status = $6, price_id = $7, quantity = $8,
        amount = $9, currency = $10, billing_interval = $11, interval_count = $12, payment_method_id = $13, trial_start = $14,
        trial_end = $15, current_period_start = $16, current_period_end = $17, cancel_at_period_end = $18, canceled_at = $19,
        ended_at = $20, latest_invoice_reference = $21, metadata = $22::jsonb, updated_at = $23, synced_at = $24, version = $25
      WHERE id = $1 AND version = $25 - 1
        AND NOT EXISTS (SELECT 1 FROM ${subscriptions} g WHERE g.gateway = $3 AND g.gateway_reference = $4 AND g.id <> $1)`,
    /** Why a subscription write matched nothing ($1 id, $2 gateway, $3 reference). */
    subscriptionConflicts: `SELECT
        EXISTS (SELECT 1 FROM ${subscriptions} WHERE gateway = $2 AND gateway_reference = $3 AND id <> $1) AS reference_taken,
        (SELECT version FROM ${subscriptions} WHERE id = $1) AS version`,

    getInvoice: `SELECT ${INVOICE_COLUMNS} FROM ${invoices} WHERE id = $1`,
    lockInvoice: `SELECT ${INVOICE_COLUMNS} FROM ${invoices} WHERE id = $1 FOR UPDATE`,
    findInvoiceByReference: `SELECT ${INVOICE_COLUMNS} FROM ${invoices} WHERE gateway = $1 AND gateway_reference = $2`,
    listInvoices: list(invoices, INVOICE_COLUMNS, 'subscription_id'),
    insertInvoice: `INSERT INTO ${invoices} (${INVOICE_COLUMNS}) VALUES (${placeholders(24)}) ON CONFLICT DO NOTHING`,
    /** As updateSubscription: $1 id .. $19 paid_at, $20 updated_at, $21 synced_at, $22 version. */
    updateInvoice: `UPDATE ${invoices} SET
        user_id = $2, gateway = $3, gateway_reference = $4, subscription_id = $5, status = $6, currency = $7, amount_due = $8,
        amount_paid = $9, amount_remaining = $10, billing_reason = $11, number = $12, hosted_invoice_url = $13, period_start = $14,
        period_end = $15, attempt_count = $16, next_payment_attempt = $17, payment_id = $18, paid_at = $19, updated_at = $20,
        synced_at = $21, version = $22
      WHERE id = $1 AND version = $22 - 1
        AND NOT EXISTS (SELECT 1 FROM ${invoices} g WHERE g.gateway = $3 AND g.gateway_reference = $4 AND g.id <> $1)`,
    invoiceConflicts: `SELECT
        EXISTS (SELECT 1 FROM ${invoices} WHERE gateway = $2 AND gateway_reference = $3 AND id <> $1) AS reference_taken,
        (SELECT version FROM ${invoices} WHERE id = $1) AS version`,

    listTransitions: `SELECT ${BILLING_TRANSITION_COLUMNS} FROM ${transitions} WHERE resource_id = $1 ORDER BY seq`,
    insertTransition: `INSERT INTO ${transitions} (${BILLING_TRANSITION_COLUMNS}) VALUES (${placeholders(9)}) ON CONFLICT DO NOTHING`,
  };
}
