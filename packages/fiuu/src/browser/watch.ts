/**
 * Follows a payment's status from the browser: the server's live event stream
 * (`GET /api/v1/payments/{id}/events`, Server-Sent Events) read with `fetch`, so that an
 * `Authorization` header can be sent (EventSource cannot send one), resumed with `Last-Event-ID`
 * after a drop; and the status route polled instead when the stream cannot be used.
 *
 * @module
 */

/** A payment as the server's REST API shapes it (only what this module reads is typed). */
export interface WatchedPayment {
  id: string;
  status: string;
  [field: string]: unknown;
}

/** Options of {@link watchPayment}. */
export interface WatchOptions {
  /** The payment's live event stream, e.g. `/api/v1/payments/pay_123/events`. */
  events: string;
  /** Its status route, polled when the stream fails, e.g. `/api/v1/payments/pay_123/status`. */
  status: string;
  /** Extra `fetch` options for both (e.g. `{ headers: { Authorization: 'Bearer ...' } }`). */
  fetchInit?: RequestInit;
  /** Called with the payment each time the server reports it. */
  onUpdate?: (payment: WatchedPayment) => void;
  /**
   * When to stop. Default: once the status is none of PENDING, PROCESSING, REQUIRES_ACTION, nor
   * AUTHORIZED with `capture_method: automatic` (the capture follows on its own).
   */
  until?: (payment: WatchedPayment) => boolean;
  /** Interval of the fallback polling (default 2000 ms). */
  pollIntervalMs?: number;
  /** Give up after this long (default 30 minutes). */
  timeoutMs?: number;
  /** Stops watching (the promise rejects with code `aborted`). */
  signal?: AbortSignal;
}

const OPEN_STATUSES = new Set(['PENDING', 'PROCESSING', 'REQUIRES_ACTION']);

/** True once a payment has an outcome the buyer waits for (see {@link WatchOptions.until}). */
export function settled(payment: WatchedPayment): boolean {
  if (OPEN_STATUSES.has(payment.status)) return false;
  // An automatic capture authorises first (UPI, some cards): the capture is still to come.
  return !(payment.status === 'AUTHORIZED' && payment.capture_method === 'automatic');
}
// Stream failures in a row (no event received in between) before polling takes over.
const STREAM_ATTEMPTS = 3;

function fail(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** One dispatched server-sent event. */
export interface ServerSentEvent {
  type: string;
  data: string;
  /** The last event id after this event (the stream's, per the spec: it carries over). */
  lastEventId: string;
}

/**
 * An incremental parser of `text/event-stream` as the WHATWG HTML standard defines it ("Parsing an
 * event stream", https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * lines end in CRLF, LF or CR; a blank line dispatches; `:` starts a comment; a value's first space
 * is dropped; `data` lines join with LF; an `id` holding NUL is ignored.
 */
export class EventStreamParser {
  private buffer = '';
  private type = '';
  private data = '';
  private hasData = false;
  /** The last event id seen (sent back as `Last-Event-ID` on reconnect). */
  lastEventId = '';
  /** The `retry:` the server asked for, in ms, if any. */
  retryMs: number | null = null;

  constructor(private readonly dispatch: (event: ServerSentEvent) => void) {}

  /** Feeds decoded text. */
  push(text: string): void {
    this.buffer += text;
    // A CR at the end may be the first half of a CRLF still to come.
    const end = this.buffer.endsWith('\r') ? this.buffer.length - 1 : this.buffer.length;
    const complete = this.buffer.slice(0, end);
    const lines = complete.split(/\r\n|\r|\n/);
    this.buffer = lines.pop()! + this.buffer.slice(end);
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.hasData) this.dispatch({ type: this.type || 'message', data: this.data.endsWith('\n') ? this.data.slice(0, -1) : this.data, lastEventId: this.lastEventId });
      this.type = '';
      this.data = '';
      this.hasData = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') {
      this.data += `${value}\n`;
      this.hasData = true;
    } else if (field === 'id') {
      if (!value.includes('\u0000')) this.lastEventId = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }
}

function headersOf(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * Watches a payment until `until` holds, resolving with the payment then. It reads the live stream
 * (the `snapshot` first, then each `payment.status` / `refund.status`), resumes it with
 * `Last-Event-ID` when it drops or the server ends it, and polls the status route instead when the
 * stream answers anything but `200 text/event-stream` or fails three times in a row.
 * @throws Error with `code` `timeout`, `aborted`, or `status_failed` (the status route refused, e.g. 404).
 */
export function watchPayment(options: WatchOptions): Promise<WatchedPayment> {
  const until = options.until ?? settled;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort);
  let result: WatchedPayment | null = null;
  const seen = (payment: WatchedPayment): boolean => {
    options.onUpdate?.(payment);
    if (!until(payment)) return false;
    result = payment;
    stop.abort();
    return true;
  };
  const timer = setTimeout(() => stop.abort(), options.timeoutMs ?? 30 * 60_000);

  async function stream(): Promise<'done' | 'poll'> {
    let lastEventId = '';
    let retryMs = 2000;
    let failures = 0;
    while (!stop.signal.aborted) {
      let received = false;
      let endedBy: unknown = null;
      try {
        const headers = { ...headersOf(options.fetchInit), accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) };
        const response = await fetch(options.events, { credentials: 'same-origin', cache: 'no-store', ...options.fetchInit, headers, signal: stop.signal });
        // Not a stream (an older server, a proxy's page, a refusal): the status route decides.
        if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || !response.body) {
          await response.body?.cancel().catch(() => undefined);
          return 'poll';
        }
        const parser = new EventStreamParser((event) => {
          if (event.type === 'end') endedBy = (JSON.parse(event.data) as { reason?: unknown }).reason;
          if (event.type !== 'snapshot' && event.type !== 'payment.status' && event.type !== 'refund.status') return;
          received = true;
          const data = JSON.parse(event.data) as { payment?: WatchedPayment };
          if (data.payment) seen(data.payment);
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
          lastEventId = parser.lastEventId;
          if (parser.retryMs !== null) retryMs = parser.retryMs;
          if (stop.signal.aborted) break;
        }
      } catch {
        if (stop.signal.aborted) break;
      }
      if (stop.signal.aborted) break;
      // The server ended the stream (its lifetime, a restart) or it dropped: resume after the last event.
      // A stream that delivered or was ended by the server worked; one that failed to, counts.
      failures = received || endedBy !== null ? 0 : failures + 1;
      if (failures >= STREAM_ATTEMPTS) return 'poll';
      // A stream that lived its span is resumed at once; after anything else, the server's `retry:`.
      if (endedBy !== 'max_duration') await sleep(retryMs, stop.signal);
    }
    return 'done';
  }

  async function poll(): Promise<void> {
    const interval = options.pollIntervalMs ?? 2000;
    while (!stop.signal.aborted) {
      try {
        const response = await fetch(options.status, { credentials: 'same-origin', cache: 'no-store', ...options.fetchInit, headers: { ...headersOf(options.fetchInit), accept: 'application/json' }, signal: stop.signal });
        const body = (await response.json().catch(() => null)) as (WatchedPayment & { error?: { message?: string } }) | null;
        if (response.status >= 400 && response.status < 500) throw fail('status_failed', body?.error?.message ?? `The status route answered HTTP ${response.status}`);
        if (response.ok && body && typeof body.status === 'string' && seen(body)) return;
      } catch (error) {
        if ((error as { code?: string }).code === 'status_failed') throw error;
        if (stop.signal.aborted) return;
      }
      await sleep(interval, stop.signal);
    }
  }

  return (async () => {
    try {
      if ((await stream()) === 'poll') await poll();
      if (result) return result;
      throw options.signal?.aborted ? fail('aborted', 'Watching the payment was aborted') : fail('timeout', 'The payment did not reach the awaited status in time');
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      stop.abort();
    }
  })();
}
