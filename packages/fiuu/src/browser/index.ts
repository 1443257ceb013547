/**
 * `@tender/fiuu/browser`: Fiuu seamless checkout for a plain web page, with no jQuery and no
 * runtime dependencies. It asks the merchant's server for the seamless parameters, opens Fiuu's
 * payment page in a pop-up (Fiuu forbids iframes, Fiuu's "Cheatsheet & Best Practices", Tip #9) by posting the hosted-payment form
 * into it, and resolves when the return page (rendered by `renderReturnPage` on the server) posts
 * the verified result back from the expected origin. Also available as a single IIFE file exposing
 * the global `TenderFiuu`.
 *
 * @example
 * ```html
 * <script src="/tender-fiuu.iife.js"></script>
 * <script>
 *   payButton.onclick = async () => {
 *     const result = await TenderFiuu.checkout({ config: '/api/v1/payments/seamless/config', params: { order_id: 'ORD-1', amount: '10.00', payment_method: 'FPX' } });
 *     show(result.status); // CAPTURED, FAILED, PROCESSING, CLOSED...
 *     // Then follow the payment as the server records it (live stream, polling as the fallback):
 *     const payment = await TenderFiuu.watchPayment({ events: `/api/v1/payments/${result.paymentId}/events`, status: `/api/v1/payments/${result.paymentId}/status`, fetchInit: { headers: { Authorization: 'Bearer ...' } }, onUpdate: (p) => show(p.status) });
 *   };
 * </script>
 * ```
 *
 * @packageDocumentation
 */
import type { FiuuReturnMessage } from '../return-page';

/** The JSON the merchant's server answers (see `seamlessConfigResponse` in `@tender/fiuu`). */
export interface SeamlessConfig {
  status: boolean;
  /** Fiuu's own seamless fields: `mpsmerchantid`, `mpsamount`, `mpsvcode`, ... */
  [mps: string]: unknown;
  tender?: { paymentId: string; paymentUrl: string; fields: Record<string, string> };
  error_code?: string;
  error_desc?: string;
}

/**
 * What the return page reports: its {@link FiuuReturnMessage} without the envelope marker. `status` may
 * also be `CLOSED` when the customer closed the pop-up first.
 */
export type CheckoutResult = Omit<FiuuReturnMessage, 'source'>;

/** Options of {@link checkout}. */
export interface CheckoutOptions {
  /** The seamless config: a URL answered with JSON (GET), a function resolving to it, or the config itself. */
  config: string | SeamlessConfig | (() => Promise<SeamlessConfig>);
  /** Query parameters added to a config URL (e.g. `order_id`, `amount`, `payment_method`). */
  params?: Record<string, string>;
  /** Extra `fetch` options for the config URL (e.g. an `Authorization` header). */
  fetchInit?: RequestInit;
  /**
   * A fingerprint of this device (from your fingerprinting library) for the server's risk checks:
   * sent with the config request as `X-Device-Fingerprint`.
   */
  deviceFingerprint?: string;
  /** Origin the return page is served from. Default: this page's origin. Messages from anywhere else are ignored. */
  returnOrigin?: string;
  /** `popup` (default): this library's pop-up. `official`: Fiuu's own seamless script (needs jQuery, loaded for you). */
  mode?: 'popup' | 'official';
  /** Pop-up window name and size. */
  popup?: { name?: string; width?: number; height?: number };
  /** Give up after this long (default 30 minutes). */
  timeoutMs?: number;
  /** For `official` mode: script URLs. */
  official?: OfficialScripts;
}

/** Script URLs for Fiuu's official seamless plugin. */
export interface OfficialScripts {
  /** `{payHost}/RMS/API/seamless/{version}/js/MOLPay_seamless.deco.js`; default from the config's `seamlessScriptUrl` when present. */
  scriptUrl?: string;
  /** jQuery, which the official plugin needs. */
  jqueryUrl?: string;
}

const SOURCE = 'tender-fiuu';

function fail(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

async function resolveConfig(options: CheckoutOptions): Promise<SeamlessConfig> {
  const { config } = options;
  if (typeof config === 'function') return config();
  if (typeof config !== 'string') return config;
  const url = new URL(config, location.href);
  for (const [k, v] of Object.entries(options.params ?? {})) url.searchParams.set(k, v);
  const init = options.fetchInit ?? {};
  const headers: Record<string, string> = { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) };
  if (options.deviceFingerprint) headers['x-device-fingerprint'] = options.deviceFingerprint;
  const response = await fetch(url.toString(), { credentials: 'same-origin', ...init, headers });
  const body = (await response.json().catch(() => null)) as SeamlessConfig | null;
  if (!body) throw fail('config_failed', `Seamless config answered HTTP ${response.status} without JSON`);
  return body;
}

/** True for a message the return page posted. */
export function isReturnMessage(data: unknown): data is CheckoutResult & { source: 'tender-fiuu' } {
  return typeof data === 'object' && data !== null && (data as { source?: unknown }).source === SOURCE && typeof (data as { status?: unknown }).status === 'string';
}

/** Posts a hosted-payment form into a named window (the pop-up), never an iframe. */
export function postForm(url: string, fields: Record<string, string>, target: string): void {
  const form = document.createElement('form');
  form.method = 'POST';
  form.action = url;
  form.target = target;
  form.style.display = 'none';
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
  form.remove();
}

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(fail('script_failed', `Could not load ${src}`));
    document.head.appendChild(s);
  });
}

/**
 * Loads Fiuu's official seamless plugin (and jQuery first, which it needs) for merchants who want
 * its exact UI. Resolves with the page's jQuery.
 */
export async function loadOfficialSeamless(scripts: Required<OfficialScripts>): Promise<unknown> {
  const w = window as unknown as { jQuery?: unknown };
  if (!w.jQuery) await loadScript(scripts.jqueryUrl);
  await loadScript(scripts.scriptUrl);
  return w.jQuery;
}

/**
 * Runs one seamless checkout. Call it from a click handler: the pop-up is opened synchronously so
 * pop-up blockers allow it, then filled once the config arrives.
 * @throws Error with `code` `popup_blocked`, `config_failed`, `config_refused` or `timeout`.
 */
export function checkout(options: CheckoutOptions): Promise<CheckoutResult> {
  const mode = options.mode ?? 'popup';
  const name = options.popup?.name ?? 'tender_fiuu';
  const width = options.popup?.width ?? 480;
  const height = options.popup?.height ?? 720;
  const left = Math.max(0, (screen.width - width) / 2);
  const top = Math.max(0, (screen.height - height) / 2);
  const popup = mode === 'popup' ? window.open('', name, `popup,width=${width},height=${height},left=${left},top=${top}`) : null;
  if (mode === 'popup' && !popup) return Promise.reject(fail('popup_blocked', 'The browser blocked the payment pop-up'));
  const origin = options.returnOrigin ?? location.origin;

  return new Promise<CheckoutResult>((resolve, reject) => {
    let paymentId: string | null = null;
    let done = false;
    let poll = 0;
    const finish = (error: Error | null, result?: CheckoutResult) => {
      if (done) return;
      done = true;
      window.removeEventListener('message', onMessage);
      clearInterval(poll);
      clearTimeout(timer);
      if (error) {
        popup?.close();
        reject(error);
      } else resolve(result!);
    };
    const onMessage = (event: MessageEvent) => {
      if (event.origin !== origin || !isReturnMessage(event.data)) return;
      if (popup && event.source !== popup) return;
      const { source: _source, ...result } = event.data;
      if (paymentId && result.paymentId && result.paymentId !== paymentId) return;
      finish(null, result);
    };
    window.addEventListener('message', onMessage);
    const timer = setTimeout(() => finish(fail('timeout', 'The payment was not finished in time')), options.timeoutMs ?? 30 * 60_000);

    resolveConfig(options)
      .then(async (config) => {
        if (!config.status) throw fail('config_refused', String(config.error_desc ?? config.error_code ?? 'The server refused the payment'));
        paymentId = config.tender?.paymentId ?? null;
        if (mode === 'official') {
          const scriptUrl = options.official?.scriptUrl ?? (config.seamlessScriptUrl as string | undefined);
          if (!scriptUrl || !options.official?.jqueryUrl) throw fail('config_failed', 'Official mode needs official.scriptUrl and official.jqueryUrl');
          const $ = (await loadOfficialSeamless({ scriptUrl, jqueryUrl: options.official.jqueryUrl })) as (el: Element) => { MOLPaySeamless?: (o: unknown) => void };
          const button = document.createElement('button');
          const { tender: _t, status: _s, ...mps } = config;
          $(button).MOLPaySeamless?.(mps);
          return;
        }
        if (!config.tender) throw fail('config_failed', 'The seamless config has no hosted-payment form');
        postForm(config.tender.paymentUrl, config.tender.fields, name);
        // A closed pop-up without a result: give a message already in flight a moment to arrive.
        poll = window.setInterval(() => {
          if (popup?.closed) {
            clearInterval(poll);
            setTimeout(() => finish(null, { status: 'CLOSED', paymentId, orderId: null, tranID: null, amount: null, currency: null, failure: null }), 500);
          }
        }, 400);
      })
      .catch((error: Error) => finish(error));
  });
}

export { watchPayment, settled, EventStreamParser, type WatchOptions, type WatchedPayment, type ServerSentEvent } from './watch';

/** Library version. */
export const version = '0.1.0';
