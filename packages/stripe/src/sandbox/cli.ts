/**
 * Runs the Stripe sandbox as a process: `node --import tsx src/sandbox/cli.ts [--port N] [--retain N] [--quiet]`
 * (or `node dist/sandbox/cli.js`). `--retain N` keeps at most N objects, events and idempotency keys. Prints one JSON line `{ url, secretKey, publishableKey }` once
 * listening; webhooks go to `STRIPE_SANDBOX_WEBHOOK_URL` signed with `STRIPE_SANDBOX_WEBHOOK_SECRET`.
 *
 * @module
 */
import { startStripeSandbox } from './server';

const args = process.argv.slice(2);
const portIndex = args.indexOf('--port');
const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 12111;
const retainIndex = args.indexOf('--retain');
const retain = retainIndex >= 0 ? Number(args[retainIndex + 1]) : undefined;
const webhookUrl = process.env.STRIPE_SANDBOX_WEBHOOK_URL;
const sandbox = await startStripeSandbox({
  port,
  ...(retain !== undefined ? { retention: { objects: retain, events: retain, idempotencyKeys: retain } } : {}),
  ...(process.env.STRIPE_SANDBOX_SECRET_KEY ? { secretKey: process.env.STRIPE_SANDBOX_SECRET_KEY } : {}),
  ...(webhookUrl ? { webhook: { url: webhookUrl, secret: process.env.STRIPE_SANDBOX_WEBHOOK_SECRET ?? 'whsec_tender_sandbox' } } : {}),
});
process.stdout.write(`${JSON.stringify({ url: sandbox.url, secretKey: sandbox.secretKey, publishableKey: sandbox.publishableKey })}\n`);
if (!args.includes('--quiet')) process.stderr.write(`Stripe sandbox (fake Stripe, no real money) listening on ${sandbox.url}\n`);
const stop = () => void sandbox.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
