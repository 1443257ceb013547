// Verifies a Tender webhook delivery. Node 18+, node:crypto only, no dependencies.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { pathToFileURL } from 'node:url';

/** Deliveries signed longer ago than this are refused, so a captured request cannot be replayed. */
export const TOLERANCE_SECONDS = 300;

/**
 * True when `header` (the `Tender-Signature` request header, `t=<unix seconds>,v1=<hex>`) is a valid
 * signature of `rawBody` under `secret` (the endpoint's `whsec_...` secret) and is not too old.
 * `rawBody` must be the request body exactly as received (a Buffer), never re-serialised JSON.
 */
export function verifyTenderSignature(rawBody, header, secret, { toleranceSeconds = TOLERANCE_SECONDS, now = Date.now() / 1000 } = {}) {
  if (typeof header !== 'string') return false;
  let timestamp = null;
  const signatures = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value);
  }
  if (timestamp === null || !/^[0-9]{1,12}$/.test(timestamp) || signatures.length === 0) return false;
  if (Math.abs(now - Number(timestamp)) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
  return signatures.some((s) => /^[0-9a-f]{64}$/i.test(s) && timingSafeEqual(Buffer.from(s, 'hex'), expected));
}

// Command line: TENDER_WEBHOOK_SECRET=whsec_... node verify.mjs '<Tender-Signature>' < body.json
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const ok = verifyTenderSignature(Buffer.concat(chunks), process.argv[2], process.env.TENDER_WEBHOOK_SECRET ?? '');
  console.log(ok ? 'valid' : 'invalid');
  process.exitCode = ok ? 0 : 1;
}
