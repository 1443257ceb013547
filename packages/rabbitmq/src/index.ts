/**
 * `@tender/rabbitmq`: Tender's event broker spec over RabbitMQ (AMQP 0-9-1 with publisher confirms).
 *
 * @packageDocumentation
 */
export {};
