/**
 * `@tender/core`: money, the payment state machine, the engine, idempotency, the versioned gateway
 * and store specs, and the resilient HTTP transport gateway packages share.
 *
 * @packageDocumentation
 */
export * from './errors';
export * from './currencies';
export * from './money';
export * from './payment';
export * from './billing';
export * from './dispute';
export * from './state-machine';
export * from './clock';
export * from './logger';
export * from './ids';
export * from './spec/gateway/v1/index';
export * from './spec/store/v1/index';
export * from './spec/webhook-endpoints/v1/index';
export * from './spec/event-broker/v1/index';
export * from './transport/index';
export * from './crypto';
export * from './redaction';
export * from './store/personal-data';
export * from './store/field-encryption';
export * from './store/encrypting-store';
export * from './store/retention';
export * from './bounded';
export * from './engine/index';
export * from './risk/index';
export * from './events/envelope';
export * from './events/seed-events';
export * from './events/broker-messages';
export * from './events/order-confirmed';
