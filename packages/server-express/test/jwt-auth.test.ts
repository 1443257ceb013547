import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@tender/server-express';
import { SECRET, startHarness, type Harness } from './helpers';

/** An identity provider's JWKS endpoint on loopback whose answer the test controls. */
let jwks: Server;
let answer: 'keys' | 'error' = 'keys';
let publicJwk: Record<string, unknown>;
let privateKey: CryptoKey;
let harness: Harness;

const sign = (key: CryptoKey, claims: { sub: string; scope?: string }, kid = 'k1') =>
  new SignJWT({ scope: claims.scope ?? 'payments:read payments:write refunds:write' })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => {
    if (answer === 'error') return void res.writeHead(500).end('identity provider down');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
  });
  jwks.listen(0, '127.0.0.1');
  await once(jwks, 'listening');
  harness = await startHarness({ app: { auth: { jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json` } } });
});
afterAll(async () => {
  await harness?.close();
  jwks?.closeAllConnections();
  await new Promise((resolve) => jwks?.close(resolve));
});

const list = (token: string) => harness.call('GET', '/api/v1/payments', { token });

describe('JWT auth against a JWKS URL', () => {
  it('accepts an RS256 token signed with a key of the set, and refuses one signed with another key', async () => {
    expect((await list(await sign(privateKey, { sub: 'jwks-merchant' }))).status).toBe(200);
    const stranger = await generateKeyPair('RS256');
    const refused = await list(await sign(stranger.privateKey, { sub: 'jwks-merchant' }));
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('invalid_token');
  });

  it('answers 503 auth_unavailable with Retry-After, not 401, while the key set cannot be fetched', async () => {
    const token = await sign(privateKey, { sub: 'jwks-merchant' });
    // A server started while its identity provider fails, then one whose provider is gone.
    answer = 'error';
    const failing = await startHarness({ app: { auth: { jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks` } } });
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks`;
    await new Promise((resolve) => closed.close(resolve));
    const gone = await startHarness({ app: { auth: { jwksUrl: deadUrl } } });
    try {
      for (const h of [failing, gone]) {
        const response = await h.call('GET', '/api/v1/payments', { token });
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.body.error).toMatchObject({ type: 'api_error', code: 'auth_unavailable' });
      }
      // Once the provider answers again, the same token is accepted.
      answer = 'keys';
      expect((await failing.call('GET', '/api/v1/payments', { token })).status).toBe(200);
    } finally {
      await failing.close();
      await gone.close();
    }
  });
});

describe('JWT_ISSUER and JWT_AUDIENCE', () => {
  it('accept only tokens from that issuer for that audience', async () => {
    const h = await startHarness({ app: { auth: { secret: SECRET, issuer: 'https://idp.example', audience: 'tender-api' } } });
    try {
      const token = (claims: { issuer?: string; audience?: string }) => signToken({ secret: SECRET, merchantId: 'aud-merchant', ...claims });
      expect((await h.call('GET', '/api/v1/payments', { token: await token({ issuer: 'https://idp.example', audience: 'tender-api' }) })).status).toBe(200);
      for (const claims of [{}, { issuer: 'https://other.example', audience: 'tender-api' }, { issuer: 'https://idp.example', audience: 'another-api' }]) {
        const refused = await h.call('GET', '/api/v1/payments', { token: await token(claims) });
        expect(refused.status).toBe(401);
        expect(refused.body.error.code).toBe('invalid_token');
      }
    } finally {
      await h.close();
    }
  });
});

describe('token lifetime', () => {
  const bare = (claims: { exp?: number; iat?: number }) => {
    const jwt = new SignJWT({ scope: 'payments:read' }).setProtectedHeader({ alg: 'HS256' }).setSubject('life-merchant');
    if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
    if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
    return jwt.sign(new TextEncoder().encode(SECRET));
  };
  const now = () => Math.floor(Date.now() / 1000);

  it('refuses a token without exp, and one living longer than the maximum (24 h unless configured)', async () => {
    const h = await startHarness({ app: { auth: { secret: SECRET } } });
    const longer = await startHarness({ app: { auth: { secret: SECRET, maxLifetimeSeconds: 3 * 24 * 3600 } } });
    try {
      const forever = await h.call('GET', '/api/v1/payments', { token: await bare({ iat: now() }) });
      expect(forever.status).toBe(401);
      expect(forever.body.error.code).toBe('token_without_expiry');
      const twoDays = await bare({ iat: now(), exp: now() + 2 * 24 * 3600 });
      const refused = await h.call('GET', '/api/v1/payments', { token: twoDays });
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('token_lifetime_too_long');
      // Without iat the lifetime counts from now.
      expect((await h.call('GET', '/api/v1/payments', { token: await bare({ exp: now() + 2 * 24 * 3600 }) })).status).toBe(401);
      expect((await h.call('GET', '/api/v1/payments', { token: await bare({ iat: now(), exp: now() + 3600 }) })).status).toBe(200);
      expect((await longer.call('GET', '/api/v1/payments', { token: twoDays })).status).toBe(200);
      // An iat in the future does not stretch the lifetime: exp from now counts too.
      const postdated = await h.call('GET', '/api/v1/payments', { token: await bare({ iat: now() + 10 * 24 * 3600, exp: now() + 10 * 24 * 3600 + 3600 }) });
      expect(postdated.status).toBe(401);
      expect(postdated.body.error.code).toBe('token_lifetime_too_long');
    } finally {
      await h.close();
      await longer.close();
    }
  });

  it('holds for tokens verified against the JWKS too', async () => {
    const rs = (claims: { exp?: number; iat?: number }) => {
      const jwt = new SignJWT({ scope: 'payments:read' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('jwks-life');
      if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
      if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
      return jwt.sign(privateKey);
    };
    answer = 'keys';
    const forever = await harness.call('GET', '/api/v1/payments', { token: await rs({ iat: now() }) });
    expect(forever.status).toBe(401);
    expect(forever.body.error.code).toBe('token_without_expiry');
    for (const claims of [{ iat: now(), exp: now() + 2 * 24 * 3600 }, { exp: now() + 2 * 24 * 3600 }, { iat: now() + 5 * 24 * 3600, exp: now() + 5 * 24 * 3600 + 60 }]) {
      const refused = await harness.call('GET', '/api/v1/payments', { token: await rs(claims) });
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('token_lifetime_too_long');
    }
    expect((await harness.call('GET', '/api/v1/payments', { token: await rs({ iat: now(), exp: now() + 300 }) })).status).toBe(200);
  });
});
