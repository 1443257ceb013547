/**
 * Bearer-token auth with jose: HS256 with a shared secret, or any asymmetric key from a JWKS URL.
 * `sub` is the merchant id; `scope` (space-separated, or an `scp` array) lists what the token may do.
 *
 * @module
 */
import { SignJWT, createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Request } from 'express';
import { TenderError, setBounded } from '@tender/core';
import { unauthenticated } from './errors';

/** The merchant API's scopes: what a token signed without a scope list (`signToken`, `tender-server token`) holds. */
export const SCOPES = ['payments:read', 'payments:write', 'refunds:write'] as const;
/**
 * The admin API's scopes (`/api/v1/admin/...`), never given by default: `admin:read` reads the
 * merchant's reports (analytics, settlements, disputes, the review queue), `admin:write` acts on them
 * (approve or decline a review, re-run a reconciliation), and `platform:admin` lets an admin token
 * name any merchant (`merchant_id`), or none for all of them, instead of its own `sub`
 * (see {@link adminMerchantScope}). `platform:admin` grants no action by itself: the route's
 * `admin:read` / `admin:write` is still asked for.
 */
export const ADMIN_SCOPES = ['admin:read', 'admin:write', 'platform:admin'] as const;
/** Every scope the API knows: {@link SCOPES} and {@link ADMIN_SCOPES}. */
export const KNOWN_SCOPES = [...SCOPES, ...ADMIN_SCOPES] as const;
/** One of {@link KNOWN_SCOPES}. */
export type Scope = (typeof KNOWN_SCOPES)[number];

/** Who is calling. */
export interface Principal {
  merchantId: string;
  scopes: ReadonlySet<string>;
}

/** How requests are authenticated. */
export type AuthOptions =
  | {
      /** HS256 shared secret (at least 32 bytes). */
      secret: string | Uint8Array;
      issuer?: string;
      audience?: string;
      /** Longest accepted token lifetime in seconds, both `exp` minus `iat` and `exp` minus now. Default 24 h. */
      maxLifetimeSeconds?: number;
    }
  | {
      /** JWKS URL for RS256/ES256/EdDSA tokens. */
      jwksUrl: string;
      issuer?: string;
      audience?: string;
      /** Longest accepted token lifetime in seconds, both `exp` minus `iat` and `exp` minus now. Default 24 h. */
      maxLifetimeSeconds?: number;
    }
  | {
      /** Your own verification: resolve the principal or throw. */
      authenticate(req: Request): Promise<Principal>;
    };

const MERCHANT_ID = /^[A-Za-z0-9_.:@-]{1,64}$/;
const VERIFIED_CACHE_SIZE = 10_000;
const VERIFIED_TTL_MS = 60_000;
/** Default longest token lifetime: a token without `exp`, or living longer, is refused. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
// How far ahead of this server's clock an issuer's may run before `exp` from now counts as too far.
const CLOCK_TOLERANCE_SECONDS = 60;

function secretBytes(secret: string | Uint8Array): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.length < 32) throw new Error('JWT secret must be at least 32 bytes (HS256)');
  return bytes;
}

/** {@link AuthOptions} that verify a bearer JWT (a shared secret or a JWKS), not a custom function. */
export type TokenAuthOptions = Exclude<AuthOptions, { authenticate(req: Request): Promise<Principal> }>;

/**
 * Builds the function that turns the value of an `Authorization` header (`Bearer <JWT>`) into a
 * {@link Principal}, or throws a 401 TenderError (503 `auth_unavailable` while the JWKS cannot be
 * fetched). The REST API reads the value from the HTTP header and the gRPC API from the
 * `authorization` metadata key, so both check a token by exactly the same rules.
 */
export function createTokenVerifier(options: TokenAuthOptions): (authorization: string | undefined) => Promise<Principal> {
  const verifyOptions = {
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
    // A token without an expiry would be good forever (RFC 8725 §3.10 asks for bounded lifetimes).
    requiredClaims: ['exp'],
  };
  const maxLifetime = options.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  let verify: (token: string) => Promise<JWTPayload>;
  if ('secret' in options) {
    const key = secretBytes(options.secret);
    verify = async (token) => (await jwtVerify(token, key, { ...verifyOptions, algorithms: ['HS256'] })).payload;
  } else {
    const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUrl));
    verify = async (token) => (await jwtVerify(token, jwks, { ...verifyOptions, algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] })).payload;
  }
  // Verified tokens, by their full text (signature included), until they expire but at most a minute,
  // so that a key rotated out of the JWKS stops being honoured soon. A signature check costs more than
  // the rest of a request's own work; clients send the same token many times.
  const verified = new Map<string, { principal: Principal; until: number }>();
  return async (header) => {
    if (!header) throw unauthenticated('missing_token', 'Send Authorization: Bearer <token>');
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(header.trim());
    if (!match) throw unauthenticated('invalid_token', 'The Authorization header must be Bearer <JWT>');
    const now = Date.now();
    const hit = verified.get(match[1]!);
    if (hit && hit.until > now) return hit.principal;
    if (hit) verified.delete(match[1]!);
    const { principal, exp } = await principalFrom(match[1]!);
    setBounded(verified, match[1]!, { principal, until: Math.min(exp === undefined ? Infinity : exp * 1000, now + VERIFIED_TTL_MS) }, VERIFIED_CACHE_SIZE);
    return principal;
  };

  async function principalFrom(token: string): Promise<{ principal: Principal; exp: number | undefined }> {
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated('token_expired', 'The token has expired');
      if (keySetUnavailable(error)) {
        // Not the caller's fault: a 401 would tell a client holding a good token to throw it away.
        throw new TenderError({
          type: 'api_error',
          code: 'auth_unavailable',
          message: 'The token could not be checked: the key set is unreachable; retry shortly',
          status: 503,
          retryable: true,
          retryAfterSeconds: 5,
          cause: error,
        });
      }
      if (error instanceof joseErrors.JOSENotSupported) throw unauthenticated('invalid_token', 'The token could not be verified');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'exp') throw unauthenticated('token_without_expiry', 'The token has no exp claim; tokens must expire');
      throw unauthenticated('invalid_token', 'The token is not valid');
    }
    const nowSeconds = Math.floor(Date.now() / 1000);
    const issuedAt = typeof payload.iat === 'number' ? payload.iat : nowSeconds;
    // Both spans count: `exp - iat` alone let an `iat` set in the future stretch a token's life at will.
    // The one from now allows for the issuer's clock running a little ahead of this server's.
    if (typeof payload.exp !== 'number' || payload.exp - issuedAt > maxLifetime || payload.exp - nowSeconds > maxLifetime + CLOCK_TOLERANCE_SECONDS) {
      throw unauthenticated('token_lifetime_too_long', `The token lives longer than the ${maxLifetime} s this server accepts (JWT_MAX_LIFETIME_SECONDS)`);
    }
    if (typeof payload.sub !== 'string' || !MERCHANT_ID.test(payload.sub)) {
      throw unauthenticated('invalid_token', 'The token has no valid sub (merchant id)');
    }
    const raw = (payload as { scope?: unknown; scp?: unknown }).scope ?? (payload as { scp?: unknown }).scp;
    const scopes = new Set<string>(typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : []);
    return { principal: { merchantId: payload.sub, scopes }, exp: payload.exp };
  }
}

/** Builds the function that turns a request into a {@link Principal} (throws 401). */
export function createAuthenticator(options: AuthOptions): (req: Request) => Promise<Principal> {
  if ('authenticate' in options) return options.authenticate;
  const verify = createTokenVerifier(options);
  return (req) => verify(req.headers.authorization);
}

/** Throws 403 `insufficient_scope` unless the principal holds `scope`. */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) {
    throw new TenderError({ type: 'permission_error', code: 'insufficient_scope', message: `This token lacks the '${scope}' scope` });
  }
}

/** Whether the principal is a platform admin (holds `platform:admin`): it may see every merchant. */
export function isPlatformAdmin(principal: Principal): boolean {
  return principal.scopes.has('platform:admin');
}

/**
 * The merchant an admin query covers, from the caller and the `merchant_id` it sent: a platform admin
 * gets the merchant it named, or `undefined` (every merchant) when it named none; any other caller gets
 * its own merchant (`sub`), and naming another one is a 403 rather than a silently narrowed answer.
 * Check the route's scope (`admin:read` / `admin:write`) first: this only decides whose records.
 * @throws TenderError 400 `parameter_invalid` (param `merchant_id`) for an id no token could carry;
 * 403 `merchant_mismatch` when a merchant admin names a merchant other than its own (as a body's
 * `merchant_id` is refused on the merchant API).
 */
export function adminMerchantScope(principal: Principal, requested: string | undefined): string | undefined {
  if (requested !== undefined && !MERCHANT_ID.test(requested)) {
    throw new TenderError({ type: 'invalid_request_error', code: 'parameter_invalid', message: 'merchant_id must be 1-64 characters of A-Z a-z 0-9 _ . : @ -', param: 'merchant_id' });
  }
  if (isPlatformAdmin(principal)) return requested;
  if (requested !== undefined && requested !== principal.merchantId) {
    throw new TenderError({ type: 'permission_error', code: 'merchant_mismatch', message: "merchant_id is not the merchant of this token (the token's sub); only a platform admin token (scope 'platform:admin') may name another", param: 'merchant_id' });
  }
  return principal.merchantId;
}

/**
 * Whether verification failed because the JWKS could not be fetched (network error, timeout, non-200
 * answer, unreadable key set) rather than because of the token.
 */
function keySetUnavailable(error: unknown): boolean {
  if (!(error instanceof joseErrors.JOSEError)) return true;
  return error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid || error.code === 'ERR_JOSE_GENERIC';
}

const principals = new WeakMap<Request, Principal>();

/** Records who is calling (set once by the router's auth middleware). */
export function setPrincipal(req: Request, principal: Principal): void {
  principals.set(req, principal);
}

/** Who is calling; throws 401 when the request was not authenticated. */
export function principalOf(req: Request): Principal {
  const principal = principals.get(req);
  if (!principal) throw unauthenticated('missing_token', 'Send Authorization: Bearer <token>');
  return principal;
}

/** Options of {@link signToken}. */
export interface SignTokenOptions {
  secret: string | Uint8Array;
  merchantId: string;
  scopes?: readonly string[];
  /** jose duration (`1h`, `30d`) or seconds. Default `1h`. */
  expiresIn?: string | number;
  issuer?: string;
  audience?: string;
}

/** Signs an HS256 token for a merchant (`tender-server token`). */
export async function signToken(options: SignTokenOptions): Promise<string> {
  if (!MERCHANT_ID.test(options.merchantId)) throw new Error('merchant id must be 1-64 characters of A-Z a-z 0-9 _ . : @ -');
  let jwt = new SignJWT({ scope: (options.scopes ?? SCOPES).join(' ') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.merchantId)
    .setIssuedAt()
    .setExpirationTime(typeof options.expiresIn === 'number' ? Math.floor(Date.now() / 1000) + options.expiresIn : (options.expiresIn ?? '1h'));
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(secretBytes(options.secret));
}
