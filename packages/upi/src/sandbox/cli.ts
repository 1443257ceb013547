/**
 * Runs the Razorpay sandbox as a process: `node --import tsx src/sandbox/cli.ts [--port N] [--retain N] [--quiet]`
 * (or `tender-razorpay-sandbox` from the built package). `--retain N` keeps at most N of each kind of
 * object, refund key, event and request record. Prints one JSON line `{ url, keyId, keySecret, webhookSecret, upiAppUrl }` once
 * listening (`upiAppUrl` has `{paymentId}` where the Razorpay payment id goes): give the gateway
 * `baseUrl: url` and the keys. Webhooks go to `RAZORPAY_SANDBOX_WEBHOOK_URL`; keys can be fixed with
 * `RAZORPAY_SANDBOX_KEY_ID`, `RAZORPAY_SANDBOX_KEY_SECRET` and `RAZORPAY_SANDBOX_WEBHOOK_SECRET`.
 *
 * @module
 */
import { startRazorpaySandbox } from './server';

const args = process.argv.slice(2);
const valueOf = (flag: string): string | undefined => {
  const index = args.indexOf(flag);
  return index >= 0 ? args[index + 1] : undefined;
};
const port = valueOf('--port') !== undefined ? Number(valueOf('--port')) : 12113;
const retain = valueOf('--retain') !== undefined ? Number(valueOf('--retain')) : undefined;
const env = process.env;
const sandbox = await startRazorpaySandbox({
  port,
  ...(retain !== undefined ? { retention: { objects: retain, idempotencyKeys: retain, events: retain, requests: retain } } : {}),
  ...(env.RAZORPAY_SANDBOX_KEY_ID ? { keyId: env.RAZORPAY_SANDBOX_KEY_ID } : {}),
  ...(env.RAZORPAY_SANDBOX_KEY_SECRET ? { keySecret: env.RAZORPAY_SANDBOX_KEY_SECRET } : {}),
  ...(env.RAZORPAY_SANDBOX_WEBHOOK_SECRET ? { webhookSecret: env.RAZORPAY_SANDBOX_WEBHOOK_SECRET } : {}),
  ...(env.RAZORPAY_SANDBOX_WEBHOOK_URL ? { webhook: { url: env.RAZORPAY_SANDBOX_WEBHOOK_URL } } : {}),
});
const { url, keyId, keySecret, webhookSecret } = sandbox;
const upiAppUrl = sandbox.upiAppUrl('{paymentId}').replace(encodeURIComponent('{paymentId}'), '{paymentId}');
process.stdout.write(`${JSON.stringify({ url, keyId, keySecret, webhookSecret, upiAppUrl })}\n`);
if (!args.includes('--quiet')) process.stderr.write(`Razorpay sandbox (fake Razorpay for UPI, no real money) listening on ${url}\n`);
const stop = () => void sandbox.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
