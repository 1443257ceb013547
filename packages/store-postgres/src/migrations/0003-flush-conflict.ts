/**
 * Migration 3: `flush_conflict`, raised by a batch of writes sent on its own (outside BEGIN ...
 * COMMIT) when one of them matched no row (a stale payment version, a taken id). Failing the whole
 * statement is what undoes the batch's other writes; the message carries the per-table counts so the
 * store can tell the caller which write conflicted.
 */
export const flushConflict = `
CREATE FUNCTION flush_conflict(counts text) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'tender_flush_conflict %', counts USING ERRCODE = 'P0001';
END
$$;
`;
