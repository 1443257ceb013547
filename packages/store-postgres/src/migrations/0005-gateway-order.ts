/**
 * Migration 5: find payments by the merchant reference a gateway echoes in its signed results
 * (`listPaymentsByGatewayOrder`), across merchants, without scanning the table.
 */
export const gatewayOrder = `
-- Led by the order id, so it is no rival to the (gateway, gateway_reference) key for other lookups.
CREATE INDEX payments_order_gateway_idx ON payments (order_id, gateway);
`;
