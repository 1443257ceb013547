/**
 * The merchant's events: a page of them newest first (`GET /events`, filtered by type, delivery state
 * or payment), one event with its delivery and broker-relay state (`GET /events/:id`),
 * and a redelivery (`POST /events/:id/redeliver`). Another merchant's event is a 404.
 *
 * @module
 */
import type { OutboxRow } from '@tender/core';
import type { Request, Router } from 'express';
import { publishedEvent } from '../present';
import { ListEventsQuery, validate } from '../schemas';
import { listJson } from '../serialize';
import { notFoundId, pageOptions, pathId, stringQuery, type RouteContext } from './shared';

/** An event as `GET /events/:id` and each item of `GET /events` answer it: the published event with its delivery and relay state. */
function eventJson(row: OutboxRow): Record<string, unknown> {
  return {
    ...publishedEvent(row),
    delivery: { status: row.status, attempts: row.attempts, next_attempt_at: row.nextAttemptAt, last_error: row.lastError, delivered_at: row.deliveredAt },
    relay: { status: row.relay.status, attempts: row.relay.attempts, next_attempt_at: row.relay.nextAttemptAt, last_error: row.relay.lastError, published_at: row.relay.publishedAt },
  };
}

/** Adds the event routes to the authenticated API router. */
export function eventRoutes(api: Router, { tender, need, merchantOf }: RouteContext): void {
  const ownEvent = async (req: Request) => {
    const id = pathId(req, 'event');
    const row = await tender.store.getOutboxEvent(id);
    if (!row || row.merchantId !== merchantOf(req)) throw notFoundId('event', id);
    return row;
  };
  api.get('/events', need('payments:read'), async (req, res) => {
    const q = validate(ListEventsQuery, stringQuery(req));
    const { limit = 20, startingAfter } = pageOptions(q);
    // One row more than the page tells whether another page follows.
    const rows = await tender.store.listOutboxEvents({
      merchantId: merchantOf(req),
      limit: limit + 1,
      ...(startingAfter ? { startingAfter } : {}),
      ...(q.type ? { type: q.type } : {}),
      ...(q.delivery_status ? { deliveryStatus: q.delivery_status } : {}),
      ...(q.payment_id ? { paymentId: q.payment_id } : {}),
    });
    const data = rows.slice(0, limit);
    const hasMore = rows.length > limit;
    res.json(listJson(data, hasMore, hasMore ? data[data.length - 1]!.id : null, eventJson));
  });
  api.get('/events/:id', need('payments:read'), async (req, res) => {
    res.json(eventJson(await ownEvent(req)));
  });
  api.post('/events/:id/redeliver', need('payments:write'), async (req, res) => {
    const row = await ownEvent(req);
    await tender.store.requeueOutbox(row.id, new Date().toISOString());
    res.status(202).json({ id: row.id, object: 'event', delivery: { status: 'pending' } });
  });
}
