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
  // The outbox row as the store writes it: the snapshot, the published payload, the relay's columns.
  const insertOutbox = `INSERT INTO ${s}.outbox_events (id, merchant_id, type, payment_id, data, payload, created_at, next_attempt_at,
      aggregateid, relay_next_attempt_at)
    VALUES ($1, $2, 'payment.captured', $3, $4, $4, $5, $5, $3, $5)`;
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


/**
 * The engine's own durable effect in raw SQL: the rows PostgresStore writes for one create + capture
 * (a payment and three later versions of it, four transitions, four outbox events, an idempotency key
 * written and completed), committed at the same four points (before and after each gateway call), one
 * statement each. The floor of what the engine's guarantees cost in Postgres, with no store or engine
 * code in the way.
 */
export function rawEngineEffectOp(pool: pg.Pool, schema: string): () => Promise<void> {
  const s = `"${schema}"`;
  // $1 payment id, $2 event data, $3 now; transitions and events take the numbers after the statement's own.
  const transition = (n: number, from: string | null, to: string, reason: string) =>
    `t${n} AS (INSERT INTO ${s}.transitions (id, merchant_id, payment_id, from_status, to_status, reason, actor, at)
      VALUES ($${n}, 'default', $1, ${from === null ? 'NULL' : `'${from}'`}, '${to}', '${reason}', 'api', $3))`;
  const event = (n: number, type: string) =>
    `o${n} AS (INSERT INTO ${s}.outbox_events (id, merchant_id, type, payment_id, data, payload, created_at, next_attempt_at,
        aggregateid, relay_next_attempt_at)
      VALUES ($${n}, 'default', '${type}', $1, $2::jsonb, $2::jsonb, $3, $3, $1, $3))`;
  const create = `WITH k AS (INSERT INTO ${s}.idempotency_keys (merchant_id, key, fingerprint, state, locked_until, recovery_point,
      resource_type, resource_id, created_at, expires_at) VALUES ('default', $4, 'fp', 'in_flight', $3, 'started', 'payment', $1, $3, $3)),
    p AS (INSERT INTO ${s}.payments (id, merchant_id, order_id, status, amount, currency, capture_method, gateway, payment_method,
      customer, metadata, created_at, updated_at, version) VALUES ($1, 'default', $5, 'PROCESSING', 100.50, 'MYR', 'manual', 'test',
      'card', '{}', '{}', $3, $3, 1)),
    ${transition(6, null, 'PROCESSING', 'created')}, ${event(7, 'payment.created')}
    SELECT 1`;
  const authorized = `WITH p AS (UPDATE ${s}.payments SET status = 'AUTHORIZED', gateway_reference = $4, updated_at = $3, version = 2 WHERE id = $1),
    k AS (UPDATE ${s}.idempotency_keys SET state = 'completed', locked_until = NULL, recovery_point = 'finished', response = $2::jsonb
      WHERE merchant_id = 'default' AND key = $5),
    ${transition(6, 'PROCESSING', 'AUTHORIZED', 'gateway')}, ${transition(7, 'AUTHORIZED', 'AUTHORIZED', 'recorded')},
    ${event(8, 'payment.processing')}, ${event(9, 'payment.authorized')}
    SELECT 1`;
  const marker = `UPDATE ${s}.payments SET gateway_data = '{"pendingCapture":true}', updated_at = $2, version = 3 WHERE id = $1`;
  const captured = `WITH p AS (UPDATE ${s}.payments SET status = 'CAPTURED', amount_captured = amount, gateway_data = '{}', updated_at = $3,
      version = 4 WHERE id = $1),
    ${transition(4, 'AUTHORIZED', 'CAPTURED', 'captured')}, ${event(5, 'payment.captured')}
    SELECT 1`;
  const named = (name: string, text: string, values: unknown[]) => ({ name: `rawfx_${name}_${schema}`, text, values });
  return async () => {
    const id = newId('pay');
    const now = new Date().toISOString();
    const data = JSON.stringify({ id, status: 'AUTHORIZED', amount: '100.50', currency: 'MYR' });
    await pool.query(named('c', create, [id, data, now, `rawfx-${id}`, `ORD-${id}`, newId('trn'), newId('evt')]));
    await pool.query(named('a', authorized, [id, data, now, `ref-${id}`, `rawfx-${id}`, newId('trn'), newId('trn'), newId('evt'), newId('evt')]));
    await pool.query(named('m', marker, [id, now]));
    await pool.query(named('p', captured, [id, data, now, newId('trn'), newId('evt')]));
  };
}
