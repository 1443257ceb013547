/**
 * Webhooks: the merchant's endpoints (`GET /webhook-endpoints`), and an event's delivery looked up by
 * its id (`GET /events/{id}`: the id every delivery carries) with a redelivery
 * (`POST /events/{id}/redeliver`, scope `payments:write`). The API lists no events, so an event is
 * found by the id an endpoint received.
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
    <${EventDelivery} scopes=${scopes} />`;
}
