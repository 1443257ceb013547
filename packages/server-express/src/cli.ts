#!/usr/bin/env node
/**
 * `tender-server` — the reference server's command line.
 *
 *   tender-server [start]                      run the server (config from the environment)
 *   tender-server migrate                      apply database migrations and exit
 *   tender-server rotate-keys [--batch-size N] [--json]
 *                                              re-encrypt records on an ENCRYPTION_KEYS key (or in
 *                                              plaintext) with ENCRYPTION_KEY, beside running servers
 *   tender-server purge [--dry-run] [--batch-size N] [--json]
 *                                              anonymise payments older than DATA_RETENTION_DAYS, delete
 *                                              expired idempotency keys and delivered outbox rows
 *                                              (--dry-run: only count)
 *   tender-server token --merchant M [--scope "payments:read payments:write refunds:write"] [--expires 1h]
 *                                              print a JWT signed with JWT_SECRET (at most
 *                                              JWT_MAX_LIFETIME_SECONDS long, default 24 h)
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, KNOWN_SCOPES, SCOPES, signToken } from './auth';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logging';
import { purgeCommand, rotateKeysCommand } from './encryption';
import { openStore, startTenderServer } from './server';

const USAGE = `Usage:
  tender-server [start]
  tender-server migrate
  tender-server rotate-keys [--batch-size <n>] [--json]
  tender-server purge [--dry-run] [--batch-size <n>] [--json]
  tender-server token --merchant <id> [--scope "<scopes>"] [--expires <duration>]

Environment: PORT (8080), HOST (127.0.0.1), DATABASE_URL (+ DATABASE_POOL_MAX, 10) or TENDER_DATA_DIR (./.tender-data),
JWT_SECRET or JWT_JWKS_URL, FIUU_* / STRIPE_* / PAYPAL_* / RAZORPAY_* gateway credentials (none = simulation mode),
ENCRYPTION_KEY (+ ENCRYPTION_KEYS), DATA_RETENTION_DAYS.`;

function fail(message: string): never {
  process.stderr.write(`tender-server: ${message}\n`);
  process.exit(1);
}

async function start(): Promise<void> {
  const server = await startTenderServer();
  if (server.simulation) {
    const lines = [
      '',
      '================================================================================',
      '  TENDER SIMULATION MODE: no gateway credentials are set.',
      `  Fiuu sandbox:   ${server.simulation.fiuu.url}`,
      `  Stripe sandbox: ${server.simulation.stripe.url}`,
      ...server.simulation.stripe.prices.map((p, i) => `  ${i === 0 ? 'Stripe prices: ' : '               '} ${p.id} (${p.description}, for POST /api/v1/subscriptions)`),
      `  PayPal sandbox: ${server.simulation.paypal.url}`,
      `  UPI sandbox:    ${server.simulation.upi.url} (Razorpay)`,
      `  Demo checkout:  ${server.publicUrl}/demo`,
      ...(server.grpcAddress ? [`  gRPC API:       ${server.grpcAddress} (tender.payments.v1.PaymentService)`] : []),
      ...(server.devToken
        ? ['', '  DEV TOKEN (merchant "demo", all scopes, signed with a secret generated for this', '  run only; set JWT_SECRET to use your own):', `  ${server.devToken}`]
        : []),
      '================================================================================',
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`tender-server: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    server
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        process.stderr.write(`tender-server: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function migrateCommand(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL });
  const store = await openStore(config, logger);
  await store.close?.();
  process.stdout.write(`migrations applied (${config.DATABASE_URL ? 'postgres' : `pglite:${config.TENDER_DATA_DIR}`})\n`);
}

/** rotate-keys and purge: run on the configured store, print the report, exit with its code. */
async function maintenanceCommand(run: typeof rotateKeysCommand, args: string[]): Promise<void> {
  const config = loadConfig();
  const store = await openStore(config, createLogger({ level: config.LOG_LEVEL }));
  let result;
  try {
    result = await run(args, config, store);
  } finally {
    await store.close?.();
  }
  process.stdout.write(result.stdout);
  process.exitCode = result.code;
}

async function tokenCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { merchant: { type: 'string' }, scope: { type: 'string' }, expires: { type: 'string' } }, strict: true });
  if (!values.merchant) fail(`--merchant is required\n${USAGE}`);
  const secret = process.env.JWT_SECRET;
  if (!secret || secret.length < 32) fail('JWT_SECRET (at least 32 characters) must be set to sign a token');
  const scopes = values.scope ? values.scope.split(/[\s,]+/).filter(Boolean) : [...SCOPES];
  const unknown = scopes.filter((s) => !(KNOWN_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) fail(`unknown scope(s): ${unknown.join(', ')}; known: ${KNOWN_SCOPES.join(' ')}`);
  const maxText = process.env.JWT_MAX_LIFETIME_SECONDS?.trim();
  const maxLifetime = maxText ? Number(maxText) : DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  if (!Number.isInteger(maxLifetime) || maxLifetime <= 0) fail('JWT_MAX_LIFETIME_SECONDS must be a positive whole number of seconds');
  let token: string;
  try {
    token = await signToken({
      secret,
      merchantId: values.merchant,
      scopes,
      expiresIn: values.expires ?? '1h',
      ...(process.env.JWT_ISSUER ? { issuer: process.env.JWT_ISSUER } : {}),
      ...(process.env.JWT_AUDIENCE ? { audience: process.env.JWT_AUDIENCE } : {}),
    });
  } catch (error) {
    fail(`--expires: ${error instanceof Error ? error.message : String(error)}`);
  }
  // A token the server would refuse is no use to anyone: say so instead of printing it.
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number };
  if (claims.exp - claims.iat > maxLifetime) {
    fail(`--expires ${values.expires}: the server accepts tokens living at most ${maxLifetime} s (JWT_MAX_LIFETIME_SECONDS); ask for less`);
  }
  process.stdout.write(`${token}\n`);
}

async function main(): Promise<void> {
  const [command = 'start', ...rest] = process.argv.slice(2);
  switch (command) {
    case 'start':
      return start();
    case 'migrate':
      return migrateCommand();
    case 'token':
      return tokenCommand(rest);
    case 'rotate-keys':
      return maintenanceCommand(rotateKeysCommand, rest);
    case 'purge':
      return maintenanceCommand(purgeCommand, rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      fail(`unknown command '${command}'\n${USAGE}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) fail(error.message);
  fail(error instanceof Error ? error.message : String(error));
});
