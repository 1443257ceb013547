/**
 * The operator's bearer token: kept in sessionStorage (gone when the tab closes, never in a URL or a
 * cookie), and the scopes its `scope` claim grants, which decide what the pages show. The scopes are
 * read without verifying the signature: they only hide what the API would refuse anyway (403).
 *
 * @module
 */

const KEY = 'tender.dashboard.token';

/** The stored token, or null when the operator has not signed in. */
export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

/** Keeps `token` for this tab. */
export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

/** Forgets the token (sign out, or a 401 from the API). */
export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}

/** What a token says about itself: its merchant (`sub`) and scopes (`scope`, space separated: RFC 8693 §4.2). */
export interface TokenClaims {
  merchantId: string | null;
  scopes: ReadonlySet<string>;
  expiresAt: Date | null;
}

/** Decodes a JWT's payload (https://www.rfc-editor.org/rfc/rfc7519#section-3); null when it is not a JWT. */
export function claimsOf(token: string): TokenClaims | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const payload = JSON.parse(json) as { sub?: unknown; scope?: unknown; exp?: unknown };
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    return {
      merchantId: typeof payload.sub === 'string' ? payload.sub : null,
      scopes: new Set(scopes),
      expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null,
    };
  } catch {
    return null;
  }
}

/**
 * In simulation mode the server hands the dashboard its development token (`GET /dashboard/session`,
 * the demo merchant, as `/demo` acts for it); elsewhere that route is a 404 and the operator signs in.
 */
export async function simulationToken(): Promise<string | null> {
  try {
    const res = await fetch('/dashboard/session', { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) return null;
    const body = (await res.json()) as { token?: unknown };
    return typeof body.token === 'string' ? body.token : null;
  } catch {
    return null;
  }
}
