/**
 * Pieces every page uses: the `html` template tag (htm bound to Preact: no JSX build step), loading
 * data with its error, the API's error message shown in an alert, and formatting.
 *
 * @module
 */
import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

export { html };

/** What {@link useLoad} holds: the data, the error of the last load, and a way to load again. */
export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Loads with `load` whenever `deps` change (and on `reload`); the last answer wins. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error: unknown) => current && setState({ data: null, error: asApiError(error), loading: false }),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Any thrown value as an {@link ApiError} (a bug in the page shows as one too, rather than a blank page). */
export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'client_error', error instanceof Error ? error.message : String(error));
}

/** The API's refusal, as it worded it. */
export function ErrorBox({ error }: { error: ApiError | null }) {
  if (!error) return null;
  return html`<p class="error" role="alert"><strong>Error${error.status ? ` ${error.status}` : ''}:</strong> ${error.message} <code>${error.code}</code></p>`;
}

/**
 * Whether the API answered that it has no such route: the app's 404 `route_not_found`, or the API
 * router's own 404 for an unknown path under `/api/v1` (`resource_missing`, "No such route").
 */
export function isMissingRoute(error: ApiError | null): boolean {
  return error !== null && error.status === 404 && (error.code === 'route_not_found' || /^No such route\b/.test(error.message));
}

/** The state of a page whose API route this server does not serve. */
export function NotAvailable({ what }: { what: string }) {
  return html`<p class="notice" role="status" data-testid="not-available">${what} is not available on this server (the API answered 404 for its route).</p>`;
}

/** A status as a labelled badge (the text says it; colour only repeats it). */
export function Status({ status }: { status: string }) {
  return html`<span class=${`badge status-${status.toLowerCase()}`}>${status}</span>`;
}

/** An ISO instant in the operator's locale, with the exact value kept in the `datetime` attribute. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return html`<span>-</span>`;
  const d = new Date(at);
  return html`<time datetime=${at}>${Number.isNaN(d.getTime()) ? at : d.toLocaleString()}</time>`;
}

/**
 * A platform admin's choice of merchant for an admin query (`merchant_id`; empty: the API's default,
 * which is every merchant or the token's own depending on the route). Shown only to a token with
 * `platform:admin`; any other admin token sees its own merchant and the API refuses another.
 */
export function MerchantField({ scopes, value, onInput }: { scopes: ReadonlySet<string>; value: string; onInput: (value: string) => void }) {
  if (!scopes.has('platform:admin')) return null;
  return html`<label>Merchant id (platform admin) <input name="merchant_id" value=${value} onInput=${(e: Event) => onInput((e.target as HTMLInputElement).value)} /></label>`;
}

/** Today's UTC date as `YYYY-MM-DD`, shifted by `days`. */
export function utcDate(days = 0): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
