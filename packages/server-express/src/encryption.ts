/**
 * Encryption at rest and retention in the reference server: the store wrapper from ENCRYPTION_KEY /
 * ENCRYPTION_KEYS, and the `tender-server rotate-keys` and `tender-server purge` commands. See
 * docs/encryption.md.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { applyRetention, createEncryptingStore, type EncryptingStore, type Logger, type RetentionReport, type Store } from '@tender/core';
import type { ServerConfig } from './config';

/** True for a store {@link encryptAtRest} (or `createEncryptingStore`) made. */
export function isEncryptingStore(store: Store): store is EncryptingStore {
  return typeof (store as Partial<EncryptingStore>).rotateKeys === 'function' && (store as Partial<EncryptingStore>).inner !== undefined;
}

/**
 * `store` wrapped so personal data is encrypted at rest with ENCRYPTION_KEY (ENCRYPTION_KEYS decrypt
 * too); `store` itself when no key is configured (no cost at all then) or when it encrypts already.
 */
export function encryptAtRest(config: Pick<ServerConfig, 'ENCRYPTION_KEY' | 'ENCRYPTION_KEYS'>, store: Store): Store {
  if (!config.ENCRYPTION_KEY || isEncryptingStore(store)) return store;
  return createEncryptingStore(store, { keys: [config.ENCRYPTION_KEY, ...(config.ENCRYPTION_KEYS ?? [])], activeKeyId: config.ENCRYPTION_KEY.id });
}

/** Says at start whether personal data is encrypted at rest (key ids only, never keys). */
export function logEncryption(config: Pick<ServerConfig, 'ENCRYPTION_KEY' | 'ENCRYPTION_KEYS' | 'DATA_RETENTION_DAYS'>, simulation: boolean, log: Logger): void {
  if (config.ENCRYPTION_KEY) {
    log.info({ active_key_id: config.ENCRYPTION_KEY.id, previous_key_ids: (config.ENCRYPTION_KEYS ?? []).map((k) => k.id) }, 'personal data is encrypted at rest (AES-256-GCM)');
  } else if (!simulation) {
    log.warn({}, 'ENCRYPTION_KEY is not set: personal data (customer names, e-mails, phone numbers, VPAs) is stored unencrypted; see docs/encryption.md');
  }
  if (config.DATA_RETENTION_DAYS) log.info({ retention_days: config.DATA_RETENTION_DAYS }, 'payments are anonymised once older than DATA_RETENTION_DAYS');
}

/** A command's outcome: what to print and the exit code. */
export interface CommandResult {
  stdout: string;
  code: number;
}

function batchSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0 || n > 10_000) throw new Error('--batch-size must be a whole number from 1 to 10000');
  return n;
}

/**
 * `tender-server rotate-keys [--batch-size N] [--json]`: re-encrypts every record holding a value of
 * an ENCRYPTION_KEYS key (or plaintext from before encryption was on) with ENCRYPTION_KEY, page by
 * page, beside running servers. Exit code 1 when a record could not be decrypted or some remain.
 */
export async function rotateKeysCommand(args: string[], config: ServerConfig, store: Store): Promise<CommandResult> {
  const { values } = parseArgs({ args, options: { 'batch-size': { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  if (!isEncryptingStore(store)) throw new Error('ENCRYPTION_KEY must be set to rotate keys (the key to re-encrypt with; old keys go in ENCRYPTION_KEYS)');
  const size = batchSize(values['batch-size']);
  const report = await store.rotateKeys(size ? { batchSize: size } : {});
  const remaining = Object.values(report.counts).reduce((n, c) => n + c.remaining, 0);
  const code = report.failed.length === 0 && remaining === 0 ? 0 : 1;
  if (values.json) return { stdout: `${JSON.stringify(report)}\n`, code };
  const previous = (config.ENCRYPTION_KEYS ?? []).map((k) => k.id);
  const lines = [`rotate-keys: active key ${report.activeKeyId}${previous.length ? `; previous keys ${previous.join(', ')}` : ''}`];
  for (const [kind, c] of Object.entries(report.counts)) lines.push(`  ${kind.padEnd(12)} scanned ${c.scanned}, re-encrypted ${c.rewritten}, remaining ${c.remaining}`);
  for (const f of report.failed) lines.push(`  could not decrypt ${f.kind} ${f.id} (${f.code})`);
  lines.push(
    code === 0
      ? `done: every record is on key ${report.activeKeyId}${previous.length ? `; ${previous.join(', ')} may leave ENCRYPTION_KEYS once no backup you may restore still needs them` : ''}`
      : 'not done: records above are not on the active key (an unknown or altered value, or a server still writing with another key); fix and run again',
  );
  return { stdout: `${lines.join('\n')}\n`, code };
}

function describeRetention(report: RetentionReport, days: number | undefined): string[] {
  const verb = report.dryRun ? 'would be' : 'were';
  const lines = [report.dryRun ? 'purge --dry-run: nothing was changed' : 'purge: done'];
  if (report.anonymized && report.createdBefore) {
    const a = report.anonymized;
    lines.push(`  payments created before ${report.createdBefore} (DATA_RETENTION_DAYS=${days}) that ${verb} anonymised: ${a.payments}`);
    lines.push(`    with their refunds: ${a.refunds}, outbox rows: ${a.outbox}, idempotency records: ${a.idempotency}`);
  } else {
    lines.push('  DATA_RETENTION_DAYS is not set: no payment is anonymised');
  }
  lines.push(`  expired idempotency records that ${verb} deleted: ${report.purged.idempotency}`);
  lines.push(`  outbox rows delivered before ${report.deliveredBefore} that ${verb} deleted: ${report.purged.outbox}`);
  return lines;
}

/**
 * `tender-server purge [--dry-run] [--batch-size N] [--json]`: one retention run (what the server's
 * workers do every hour): payments older than DATA_RETENTION_DAYS anonymised, expired idempotency
 * records and delivered outbox rows deleted. `--dry-run` only counts.
 */
export async function purgeCommand(args: string[], config: ServerConfig, store: Store): Promise<CommandResult> {
  const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean' }, 'batch-size': { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  const size = batchSize(values['batch-size']);
  const report = await applyRetention(store, {
    ...(config.DATA_RETENTION_DAYS ? { retentionDays: config.DATA_RETENTION_DAYS } : {}),
    ...(size ? { batchSize: size } : {}),
    // With a broker relay, rows it has not published yet are kept, as the server's own purge does.
    keepUnpublished: config.EVENT_BROKER_URL !== undefined,
    dryRun: values['dry-run'] === true,
  });
  if (values.json) return { stdout: `${JSON.stringify(report)}\n`, code: 0 };
  return { stdout: `${describeRetention(report, config.DATA_RETENTION_DAYS).join('\n')}\n`, code: 0 };
}
