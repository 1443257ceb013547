/**
 * The merchant's events: one event with its delivery and broker-relay state (`GET /events/:id`),
 * and a redelivery (`POST /events/:id/redeliver`). Another merchant's event is a 404.
 *
 * @module
 */
import type { Request, Router } from 'express';
import { publishedEvent } from '../present';
import { notFoundId, pathId, type RouteContext } from './shared';

/** Adds the event routes to the authenticated API router. */
export function eventRoutes(api: Router, { tender, need, merchantOf }: RouteContext): void {
  const ownEvent = async (req: Request) => {
    const id = pathId(req, 'event');
    const row = await tender.store.getOutboxEvent(id);
    if (!row || row.merchantId !== merchantOf(req)) throw notFoundId('event', id);
    return row;
  };
  api.get('/events/:id', need('payments:read'), async (req, res) => {
    const row = await ownEvent(req);
    res.json({
      ...publishedEvent(row),
      delivery: { status: row.status, attempts: row.attempts, next_attempt_at: row.nextAttemptAt, last_error: row.lastError, delivered_at: row.deliveredAt },
      relay: { status: row.relay.status, attempts: row.relay.attempts, next_attempt_at: row.relay.nextAttemptAt, last_error: row.relay.lastError, published_at: row.relay.publishedAt },
    });
  });
  api.post('/events/:id/redeliver', need('payments:write'), async (req, res) => {
    const row = await ownEvent(req);
    await tender.store.requeueOutbox(row.id, new Date().toISOString());
    res.status(202).json({ id: row.id, object: 'event', delivery: { status: 'pending' } });
  });
}
