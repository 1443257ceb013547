/**
 * Migration 5: find payments by the merchant reference a gateway echoes in its signed results
 * (`listPaymentsByGatewayOrder`), across merchants, without scanning the table.
 */
export const gatewayOrder = `
CREATE INDEX payments_gateway_order_idx ON payments (gateway, order_id, created_at DESC, id DESC);
`;
