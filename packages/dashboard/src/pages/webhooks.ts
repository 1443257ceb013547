/**
 * Webhooks: the merchant's endpoints (`GET /webhook-endpoints`), its recent events with their delivery
 * state (`GET /events`, filtered by delivery status, paged by cursor) with a redelivery per row
 * (`POST /events/{id}/redeliver`, scope `payments:write`), and an event's delivery looked up by its id
 * (`GET /events/{id}`: the id every delivery carries).
 *
 * @module
 */
import { useState } from 'preact/hooks';
import { api, type ApiError, type ListPage } from '../api';
import { asApiError, ErrorBox, html, Time, useLoad } from '../ui';

interface EndpointJson {
  id: string;
  url: string;
  events: string[] | null;
  description: string | null;
  created_at: string;
}

interface EventJson {
  id: string;
  type?: string;
  created_at?: string;
  delivery: { status: string; attempts: number; next_attempt_at: string | null; last_error: string | null; delivered_at: string | null };
}

function EventDelivery({ scopes }: { scopes: ReadonlySet<string> }) {
  const [id, setId] = useState('');
  const [event, setEvent] = useState<EventJson | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const lookUp = async (eventId: string) => {
    setError(null);
    try {
      setEvent(await api<EventJson>('GET', `/events/${encodeURIComponent(eventId)}`));
    } catch (err) {
      setEvent(null);
      setError(asApiError(err));
    }
  };
  const redeliver = async () => {
    if (!event) return;
    setError(null);
    setMessage(null);
    try {
      const answer = await api<{ delivery: { status: string } }>('POST', `/events/${encodeURIComponent(event.id)}/redeliver`);
      setMessage(`Redelivery queued (delivery ${answer.delivery.status}).`);
      await lookUp(event.id);
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return html`<section aria-labelledby="event-h">
    <h2 id="event-h">Event delivery</h2>
    <form class="filters" onSubmit=${(e: Event) => { e.preventDefault(); setMessage(null); if (id.trim()) void lookUp(id.trim()); }}>
      <label>Event id <input name="event-id" value=${id} placeholder="evt_…" onInput=${(e: Event) => setId((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">Look up</button>
    </form>
    <${ErrorBox} error=${error} />
    ${message ? html`<p class="ok" role="status">${message}</p>` : null}
    ${event
      ? html`<dl class="facts" data-testid="event">
          <dt>Event</dt><dd><code>${event.id}</code></dd>
          <dt>Type</dt><dd>${event.type ?? '-'}</dd>
          <dt>Delivery</dt><dd data-testid="delivery-status">${event.delivery.status}</dd>
          <dt>Attempts</dt><dd data-testid="delivery-attempts">${event.delivery.attempts}</dd>
          <dt>Delivered</dt><dd><${Time} at=${event.delivery.delivered_at} /></dd>
          <dt>Next attempt</dt><dd><${Time} at=${event.delivery.next_attempt_at} /></dd>
          <dt>Last error</dt><dd>${event.delivery.last_error ?? '-'}</dd>
        </dl>
        ${scopes.has('payments:write') ? html`<button type="button" onClick=${redeliver}>Redeliver</button>` : null}`
      : null}
  </section>`;
}

/** Delivery states an event's list can be filtered by (`OutboxRow.status` of `@tender/core`). */
const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'];
const EVENTS_PER_PAGE = 25;

function RecentEvents({ scopes }: { scopes: ReadonlySet<string> }) {
  const [status, setStatus] = useState('');
  // Cursors of the pages before this one, for "Previous".
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [reload, setReload] = useState(0);
  const [error, setError] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1] ?? null;
  const events = useLoad(
    () => api<ListPage<EventJson>>('GET', '/events', { query: { limit: EVENTS_PER_PAGE, delivery_status: status, starting_after: cursor } }),
    [status, cursor, reload],
  );
  const redeliver = async (id: string) => {
    setError(null);
    setMessage(null);
    try {
      const answer = await api<{ delivery: { status: string } }>('POST', `/events/${encodeURIComponent(id)}/redeliver`);
      setMessage(`Redelivery of ${id} queued (delivery ${answer.delivery.status}).`);
      setReload(reload + 1);
    } catch (err) {
      setError(asApiError(err));
    }
  };
  const canWrite = scopes.has('payments:write');
  return html`<section aria-labelledby="events-h">
    <h2 id="events-h">Recent events</h2>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()} aria-label="Filter events">
      <label>Delivery status <select name="delivery-status" value=${status} onChange=${(e: Event) => { setStatus((e.target as HTMLSelectElement).value); setCursors([null]); setMessage(null); }}>
        <option value="">Any</option>${DELIVERY_STATUSES.map((d) => html`<option value=${d}>${d}</option>`)}
      </select></label>
    </form>
    <${ErrorBox} error=${events.error ?? error} />
    ${message ? html`<p class="ok" role="status">${message}</p>` : null}
    ${events.data
      ? html`<table data-testid="events"><caption>This merchant's events, newest first, with their webhook delivery</caption>
          <thead><tr><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Delivery</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Created</th>${canWrite ? html`<th scope="col">Action</th>` : null}</tr></thead>
          <tbody>
            ${events.data.data.length === 0 ? html`<tr><td colspan=${canWrite ? 7 : 6}>No events.</td></tr>` : null}
            ${events.data.data.map(
              (e) => html`<tr data-event=${e.id}>
                <td><code>${e.id}</code></td><td>${e.type ?? '-'}</td>
                <td data-testid="row-delivery">${e.delivery.status}</td><td>${e.delivery.attempts}</td><td>${e.delivery.last_error ?? '-'}</td>
                <td><${Time} at=${e.created_at ?? null} /></td>
                ${canWrite ? html`<td><button type="button" aria-label=${`Redeliver ${e.id}`} onClick=${() => redeliver(e.id)}>Redeliver</button></td>` : null}
              </tr>`,
            )}
          </tbody>
        </table>
        <div class="pager">
          <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous events</button>
          <button type="button" disabled=${!events.data.has_more} onClick=${() => events.data?.next_cursor && setCursors([...cursors, events.data.next_cursor])}>Next events</button>
        </div>`
      : null}
  </section>`;
}

/** The webhooks page. */
export function WebhooksPage({ scopes }: { scopes: ReadonlySet<string> }) {
  const endpoints = useLoad(() => api<ListPage<EndpointJson>>('GET', '/webhook-endpoints', { query: { limit: 100 } }), []);
  return html`<h1 tabindex="-1">Webhooks</h1>
    <section aria-labelledby="endpoints-h">
      <h2 id="endpoints-h">Endpoints</h2>
      <${ErrorBox} error=${endpoints.error} />
      ${endpoints.data
        ? html`<table data-testid="endpoints"><caption>Where this merchant's events are delivered</caption>
            <thead><tr><th scope="col">Endpoint</th><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Description</th><th scope="col">Created</th></tr></thead>
            <tbody>
              ${endpoints.data.data.length === 0 ? html`<tr><td colspan="5">No endpoints.</td></tr>` : null}
              ${endpoints.data.data.map((e) => html`<tr><td><code>${e.id}</code></td><td>${e.url}</td><td>${e.events?.join(', ') ?? 'all'}</td><td>${e.description ?? '-'}</td><td><${Time} at=${e.created_at} /></td></tr>`)}
            </tbody>
          </table>`
        : null}
    </section>
    <${RecentEvents} scopes=${scopes} />
    <${EventDelivery} scopes=${scopes} />`;
}
