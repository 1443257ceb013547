/**
 * A caller's `Idempotency-Key` on a billing call, held to one request. Stripe's rule, which
 * `tender.payments` follows too: a key reused with a different request is refused with 422
 * `idempotency_key_reused` instead of answering the first request's result
 * (https://docs.stripe.com/api/idempotent_requests: "compares incoming parameters to those of the
 * original request and errors if they're not the same").
 *
 * The billing calls converge through the gateway's idempotency (their gateway keys are derived from
 * the caller's), so the key's record here holds only the first request's fingerprint: it leases
 * nothing, and identical requests at once all go on. The record lives in the store's idempotency keys
 * beside the payments' ones (one key space per merchant, as at Stripe), so a key used for a payment is
 * also refused for a subscription and the other way round.
 *
 * @module
 */
import { idempotencyKeyReused, newKeyRecord, requestFingerprint, validateIdempotencyKey } from '../idempotency';
import type { EngineContext } from '../context';

/**
 * Records `key` for `operation` on `target` with `body` (the validated request), or checks it
 * against the request it was first used for. Without a key: nothing.
 * @throws TenderError 400 `invalid_idempotency_key` for a malformed key; 422 `idempotency_key_reused`
 * when the key was used for another request within the retention period.
 */
export async function holdCallerKey(ctx: EngineContext, merchantId: string, key: string | undefined, operation: string, target: string | null, body: unknown): Promise<void> {
  if (key === undefined) return;
  validateIdempotencyKey(key);
  const fingerprint = requestFingerprint(operation, target, body);
  const now = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    const fresh = {
      ...newKeyRecord({ retentionMs: ctx.retentionMs, leaseMs: 0 }, merchantId, key, fingerprint, now, null),
      // Nothing to lease or replay: the gateway's idempotency makes repeats converge.
      state: 'completed' as const,
      lockedUntil: null,
      recoveryPoint: operation,
    };
    const { created, record } = await tx.claimIdempotencyKey(fresh);
    if (created) return;
    if (record.expiresAt <= now.toISOString()) {
      // Past retention the key is free again, as if purged (the payments' rule).
      await tx.updateIdempotencyRecord(fresh);
      return;
    }
    if (record.fingerprint !== fingerprint) throw idempotencyKeyReused();
  });
}
