// autocannon `setupRequest` (loaded by path in its worker thread): a fresh Idempotency-Key per request.
const { randomBytes } = require('node:crypto');
const prefix = randomBytes(6).toString('hex');
let n = 0;
module.exports = function setupRequest(request) {
  return { ...request, headers: { ...request.headers, 'idempotency-key': `bench-${prefix}-${++n}` } };
};
