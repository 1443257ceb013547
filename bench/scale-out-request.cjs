// autocannon `setupRequest` of scale-out.bench.ts (loaded by path in its worker thread): a fresh
// Idempotency-Key per request, and every tenth payment with a card that needs 3-D Secure, so it waits
// in REQUIRES_ACTION for the reconcilers to expire.
const { randomBytes } = require('node:crypto');
const prefix = randomBytes(6).toString('hex');
const card = JSON.stringify({ amount: '20.00', currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_visa' });
const threeDS = JSON.stringify({ amount: '20.00', currency: 'USD', gateway: 'stripe', payment_method: 'pm_card_threeDSecure2Required', return_url: 'https://shop.example/return' });
let n = 0;
module.exports = function setupRequest(request) {
  n++;
  return { ...request, body: n % 10 === 0 ? threeDS : card, headers: { ...request.headers, 'idempotency-key': `scale-${prefix}-${n}` } };
};
