/**
 * The raw-SQL baseline of the Postgres benchmarks: the durable effect of a payment created and
 * captured, in the fewest statements, through a plain `pg.Pool` against Tender's own tables.
 */
import { newId } from '@tender/core';
import type pg from 'pg';

/** The same durable effect in the fewest statements: two transactions of two statements each. */
export function rawOp(pool: pg.Pool, schema: string): () => Promise<void> {
  const s = `"${schema}"`;
  const insertKey = `INSERT INTO ${s}.idempotency_keys (merchant_id, key, fingerprint, state, locked_until, recovery_point, created_at, expires_at)
    VALUES ($1, $2, $3, 'completed', NULL, 'finished', $4, $5)`;
  const insertPayment = `INSERT INTO ${s}.payments (id, merchant_id, order_id, status, amount, currency, capture_method, gateway,
    gateway_reference, payment_method, customer, metadata, created_at, updated_at, version)
    VALUES ($1, $2, $3, 'AUTHORIZED', $4, 'MYR', 'manual', 'test', $5, 'card', '{}', '{}', $6, $6, 1)`;
  const updatePayment = `UPDATE ${s}.payments SET status = 'CAPTURED', amount_captured = amount, updated_at = $2, version = version + 1 WHERE id = $1`;
  const insertOutbox = `INSERT INTO ${s}.outbox_events (id, merchant_id, type, payment_id, data, created_at, next_attempt_at)
    VALUES ($1, $2, 'payment.captured', $3, $4, $5, $5)`;
  const named = (name: string, text: string, values: unknown[]) => ({ name: `raw_${name}_${schema}`, text, values });
  return async () => {
    const id = newId('pay');
    const now = new Date().toISOString();
    const c1 = await pool.connect();
    try {
      await c1.query('BEGIN');
      await c1.query(named('k', insertKey, ['default', `raw-${id}`, 'fp', now, now]));
      await c1.query(named('p', insertPayment, [id, 'default', `ORD-${id}`, '100.50', `ref-${id}`, now]));
      await c1.query('COMMIT');
    } finally {
      c1.release();
    }
    const c2 = await pool.connect();
    try {
      await c2.query('BEGIN');
      await c2.query(named('u', updatePayment, [id, now]));
      await c2.query(named('o', insertOutbox, [newId('evt'), 'default', id, JSON.stringify({ id, status: 'CAPTURED' }), now]));
      await c2.query('COMMIT');
    } finally {
      c2.release();
    }
  };
}

