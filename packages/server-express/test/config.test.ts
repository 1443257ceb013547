import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@tender/server-express';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('server configuration from the environment', () => {
  it('fills in the documented defaults, treating empty variables as unset', () => {
    const c = loadConfig({ PORT: '', DATABASE_URL: 'postgres://tender@db:5432/tender' });
    expect(c.PORT).toBe(8080);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.DATABASE_POOL_MAX).toBe(10);
    expect(c.RECONCILE_INTERVAL).toBe(30_000);
    expect(c.RATE_LIMIT_PER_IP).toBe(600);
  });

  it('reads numbers and durations', () => {
    const c = loadConfig({ PORT: '9000', DATABASE_POOL_MAX: '4', OUTBOX_INTERVAL: '250ms', SHUTDOWN_TIMEOUT: '5s' });
    expect(c).toMatchObject({ PORT: 9000, DATABASE_POOL_MAX: 4, OUTBOX_INTERVAL: 250, SHUTDOWN_TIMEOUT: 5000 });
  });

  it('names every bad variable at once, with what is wrong', () => {
    const error = configError({ PORT: 'eighty', DATABASE_POOL_MAX: '0', DATABASE_URL: 'mysql://x', OUTBOX_INTERVAL: 'soon', LOG_LEVEL: 'loud' });
    const names = error.issues.map((issue) => issue.split(':')[0]);
    expect(names.sort()).toEqual(['DATABASE_POOL_MAX', 'DATABASE_URL', 'LOG_LEVEL', 'OUTBOX_INTERVAL', 'PORT']);
    expect(error.issues).toContain('DATABASE_POOL_MAX: must be positive');
    expect(error.message).toMatch(/^Invalid configuration:\n {2}- /);
  });

  it('never echoes a secret it rejects', () => {
    const secret = 'too-short-but-still-secret';
    const error = configError({ JWT_SECRET: secret, FIUU_SECRET_KEY: 'fiuu-secret-value' });
    expect(error.issues).toContain('JWT_SECRET: must be at least 32 characters (HS256)');
    // Partial Fiuu credentials: the missing ones are named, the given secret is not repeated.
    expect(error.issues).toEqual(expect.arrayContaining(['FIUU_MERCHANT_ID: is required when any FIUU_* credential is set', 'FIUU_VERIFY_KEY: is required when any FIUU_* credential is set']));
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('fiuu-secret-value');
  });
});
