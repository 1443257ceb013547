/**
 * Store spec, version 1 (`spec/store/v1/`): the persistence contract. `MemoryStore` (in `@tender/core/testing`) and
 * `PostgresStore` (`@tender/store-postgres`) implement it and both pass `runStoreConformance`.
 *
 * Rules every implementation follows:
 * - Everything done through one {@link StoreTx} commits or rolls back together.
 * - {@link StoreTx.lockPayment} holds the payment exclusively until the transaction ends; the engine
 *   relies on it for the refund-total rule and for serialising transitions of one payment.
 * - Timestamps are ISO-8601 strings in UTC with millisecond precision; amounts are decimal strings.
 * - Reads return copies: mutating a returned object never changes the store.
 * - Unique violations surface as `TenderError`s with type `state_error` and code `duplicate_*`;
 *   lost connections as `storage_error` with `retryable: true`.
 *
 * A later, incompatible version goes beside this one (`spec/store/v2/`).
 *
 * @module
 */
export * from './records';
export * from './billing';
export * from './disputes';
export * from './store';
export * from './settlements';
export * from './analytics';
