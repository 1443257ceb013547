/**
 * The dashboard's shell: sign-in, navigation and the hash router (`#/payments`, `#/payments/{id}`...:
 * the server serves one page, and nothing secret ever goes in the URL). Each page lives in `pages/`.
 *
 * @module
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { setUnauthorizedHandler } from './api';
import { AnalyticsPage } from './pages/analytics';
import { PaymentPage } from './pages/payment';
import { PaymentsPage } from './pages/payments';
import { ReviewsPage } from './pages/reviews';
import { SettlementsPage } from './pages/settlements';
import { WebhooksPage } from './pages/webhooks';
import { claimsOf, clearToken, simulationToken, storedToken, storeToken, type TokenClaims } from './session';
import { html } from './ui';

/** A page of the dashboard and the scope it needs to be listed. */
const NAV = [
  { path: '/payments', label: 'Payments', scope: 'payments:read' },
  { path: '/webhooks', label: 'Webhooks', scope: 'payments:read' },
  { path: '/analytics', label: 'Analytics', scope: 'admin:read' },
  { path: '/settlements', label: 'Settlements', scope: 'admin:read' },
  { path: '/reviews', label: 'Risk reviews', scope: 'admin:read' },
] as const;

function currentPath(): string {
  const path = location.hash.replace(/^#/, '');
  return path.startsWith('/') ? path : '/payments';
}

function SignIn({ onToken, message }: { onToken: (token: string) => void; message: string | null }) {
  const [value, setValue] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    const token = value.trim();
    if (token) onToken(token);
  };
  return html`<main id="main" class="signin">
    <h1>Tender dashboard</h1>
    <p>Paste an API token (a JWT the server accepts). It is kept in this tab only (sessionStorage) and sent as a bearer token.</p>
    ${message ? html`<p class="error" role="alert">${message}</p>` : null}
    <form onSubmit=${submit}>
      <label for="token">API token</label>
      <textarea id="token" name="token" rows="4" autocomplete="off" spellcheck=${false} value=${value} onInput=${(e: Event) => setValue((e.target as HTMLTextAreaElement).value)}></textarea>
      <button type="submit">Sign in</button>
    </form>
  </main>`;
}

function Page({ path, claims }: { path: string; claims: TokenClaims }) {
  const [, section, id] = path.split('/');
  if (section === 'payments' && id) return html`<${PaymentPage} id=${decodeURIComponent(id)} scopes=${claims.scopes} />`;
  switch (section) {
    case 'webhooks':
      return html`<${WebhooksPage} scopes=${claims.scopes} />`;
    case 'analytics':
      return html`<${AnalyticsPage} scopes=${claims.scopes} />`;
    case 'settlements':
      return html`<${SettlementsPage} scopes=${claims.scopes} />`;
    case 'reviews':
      return html`<${ReviewsPage} scopes=${claims.scopes} />`;
    default:
      return html`<${PaymentsPage} />`;
  }
}

function App() {
  const [token, setToken] = useState<string | null>(storedToken());
  const [checked, setChecked] = useState(token !== null);
  const [message, setMessage] = useState<string | null>(null);
  const [path, setPath] = useState(currentPath());
  const main = useRef<HTMLElement>(null);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setToken(null);
      setMessage('The server refused the token (401): sign in again.');
    });
    const onHash = () => setPath(currentPath());
    window.addEventListener('hashchange', onHash);
    if (!token) {
      void simulationToken().then((dev) => {
        if (dev) {
          storeToken(dev);
          setToken(dev);
        }
        setChecked(true);
      });
    }
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // A new page moves focus to its content, so keyboard and screen-reader users start there.
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [path, token]);

  if (!checked) return html`<p role="status">Loading…</p>`;
  const claims = token ? claimsOf(token) : null;
  if (!token || !claims) {
    return html`<${SignIn}
      message=${token && !claims ? 'That is not a JWT.' : message}
      onToken=${(t: string) => {
        if (!claimsOf(t)) {
          setMessage('That is not a JWT.');
          return;
        }
        storeToken(t);
        setMessage(null);
        setToken(t);
      }}
    />`;
  }
  const section = `/${path.split('/')[1] ?? ''}`;
  return html`<a class="skip" href="#main" onClick=${(e: Event) => { e.preventDefault(); main.current?.querySelector<HTMLElement>('h1')?.focus(); }}>Skip to content</a>
    <header>
      <span class="brand">Tender</span>
      <nav aria-label="Dashboard">
        <ul>
          ${NAV.filter((n) => claims.scopes.has(n.scope)).map(
            (n) => html`<li><a href=${`#${n.path}`} aria-current=${section === n.path ? 'page' : undefined}>${n.label}</a></li>`,
          )}
        </ul>
      </nav>
      <span class="who">Merchant <strong data-testid="merchant">${claims.merchantId ?? '?'}</strong></span>
      <button type="button" onClick=${() => { clearToken(); setToken(null); setMessage(null); }}>Sign out</button>
    </header>
    <main id="main" ref=${main}><${Page} path=${path} claims=${claims} /></main>`;
}

render(html`<${App} />`, document.getElementById('app')!);
