/**
 * Gateway spec, version 1 (`spec/gateway/v1/`): the contract a gateway package implements. The engine is the only
 * caller; gateway methods translate between Tender's normalised shapes and one provider's wire
 * protocol and never touch storage. Prove an implementation with `runGatewayConformance` from
 * `@tender/core/testing`.
 *
 * Rules every implementation follows:
 * - Amounts arrive as {@link Money}; convert at the edge with the currency's exponent (never `* 100`).
 * - Throw {@link TenderError}s. Set `retryable` only when repeating is safe. When the request may have
 *   reached the provider and the outcome is unknown, throw with code `gateway_outcome_unknown`
 *   (see {@link GATEWAY_OUTCOME_UNKNOWN}); the engine then marks the payment `PROCESSING` for the
 *   reconciler instead of failing it. When the request certainly never left (circuit open, DNS,
 *   connection refused), throw `gateway_unavailable` with `details.requestSent === false`, which lets
 *   the engine fail over to another gateway.
 * - Pass {@link GatewayCallContext.idempotencyKey} to providers that accept one. The engine may repeat a
 *   call with the same key after a crash, so each method must be safe to repeat under one key.
 * - `retrieve` throws a `not_found_error` TenderError (code {@link GATEWAY_PAYMENT_NOT_FOUND}) when the
 *   provider has no record of the payment (it never reached the provider).
 *
 * A later, incompatible version goes beside this one (`spec/gateway/v2/`), so gateways written
 * against v1 keep compiling while they move. Gateway packages import this spec, the transport, the
 * crypto helpers, `Money` and `TenderError`, never the engine.
 *
 * @module
 */
export * from './errors';
export * from './capabilities';
export * from './operations';
export * from './webhooks';
export * from './billing';
export * from './settlements';
export * from './gateway';
