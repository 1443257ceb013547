/**
 * Runs the PayPal sandbox as a process: `node --import tsx src/sandbox/cli.ts [--port N] [--retain N] [--tls] [--quiet]`
 * (or `tender-paypal-sandbox` from the built package). `--retain N` keeps at most N objects, events and
 * request ids. Prints one JSON line `{ url, clientId, clientSecret, webhookId, certUrl, certTrust }` once
 * listening: give the gateway `baseUrl: url`, the credentials, and `certTrust` (simulation only).
 * `--tls` also listens with TLS (a certificate for `api-m.sandbox.paypal.com` from the sandbox's CA)
 * and adds `tlsPort` and `caPem`, for clients that only talk to PayPal's own hosts (the official
 * `@paypal/paypal-server-sdk`: an https agent that connects to 127.0.0.1:tlsPort and trusts `caPem`).
 * Webhooks go to `PAYPAL_SANDBOX_WEBHOOK_URL`; credentials can be fixed with `PAYPAL_SANDBOX_CLIENT_ID`,
 * `PAYPAL_SANDBOX_CLIENT_SECRET` and `PAYPAL_SANDBOX_WEBHOOK_ID`.
 *
 * @module
 */
import { startPayPalSandbox } from './server';

const args = process.argv.slice(2);
const valueOf = (flag: string): string | undefined => {
  const index = args.indexOf(flag);
  return index >= 0 ? args[index + 1] : undefined;
};
const port = valueOf('--port') !== undefined ? Number(valueOf('--port')) : 12112;
const retain = valueOf('--retain') !== undefined ? Number(valueOf('--retain')) : undefined;
const env = process.env;
const sandbox = await startPayPalSandbox({
  port,
  ...(args.includes('--tls') ? { tls: true } : {}),
  ...(retain !== undefined ? { retention: { objects: retain, events: retain, requestIds: retain } } : {}),
  ...(env.PAYPAL_SANDBOX_CLIENT_ID ? { clientId: env.PAYPAL_SANDBOX_CLIENT_ID } : {}),
  ...(env.PAYPAL_SANDBOX_CLIENT_SECRET ? { clientSecret: env.PAYPAL_SANDBOX_CLIENT_SECRET } : {}),
  ...(env.PAYPAL_SANDBOX_WEBHOOK_ID ? { webhookId: env.PAYPAL_SANDBOX_WEBHOOK_ID } : {}),
  ...(env.PAYPAL_SANDBOX_WEBHOOK_URL ? { webhook: { url: env.PAYPAL_SANDBOX_WEBHOOK_URL } } : {}),
});
const { url, clientId, clientSecret, webhookId, certUrl, certTrust } = sandbox;
const tls = sandbox.tlsPort !== null ? { tlsPort: sandbox.tlsPort, caPem: sandbox.certificates.ca.certificatePem } : {};
process.stdout.write(`${JSON.stringify({ url, clientId, clientSecret, webhookId, certUrl, certTrust, ...tls })}\n`);
if (!args.includes('--quiet')) process.stderr.write(`PayPal sandbox (fake PayPal, no real money) listening on ${url}\n`);
const stop = () => void sandbox.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
