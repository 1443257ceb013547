/**
 * The window and grouping of an analytics query, from what a caller sent: dates or instants, checked
 * strictly (a 400 naming the parameter, never a silently different window).
 *
 * @module
 */
import { invalidRequest } from '../../errors';
import { ANALYTICS_GROUP_BY, type AnalyticsGroupBy } from '../../spec/store/v1/analytics';
import type { PaymentAnalyticsInput } from './types';

/** The longest window: a year, leap day included. */
export const MAX_ANALYTICS_DAYS = 366;
const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// RFC 3339 date-time (https://www.rfc-editor.org/rfc/rfc3339#section-5.6): a zone is required, so an
// instant never depends on the server's time zone.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** A checked window: instants in ms and ISO form, `[from, to)`. */
export interface AnalyticsWindow {
  from: string;
  to: string;
  groupBy: AnalyticsGroupBy | undefined;
}

function validCalendarDate(y: string, m: string, d: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
}

/**
 * The instant (ms) of a query bound (`from`, `to`, a list's `created_from`...): a date is 00:00 UTC of that day.
 * @throws TenderError 400 `parameter_missing` / `parameter_invalid` naming `param`.
 */
export function instantOf(value: unknown, param: string): number {
  const bad = () => invalidRequest('parameter_invalid', `${param} must be a date (YYYY-MM-DD) or an ISO 8601 instant with a zone (2026-01-31T16:00:00Z)`, param);
  if (value === undefined || value === null || value === '') throw invalidRequest('parameter_missing', `${param} is required (YYYY-MM-DD or an ISO 8601 instant)`, param);
  if (typeof value !== 'string') throw bad();
  const date = DATE.exec(value);
  if (date) {
    if (!validCalendarDate(date[1]!, date[2]!, date[3]!)) throw bad();
    return Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
  }
  const instant = INSTANT.exec(value);
  if (!instant || !validCalendarDate(instant[1]!, instant[2]!, instant[3]!) || Number(instant[4]) > 23 || Number(instant[5]) > 59 || Number(instant[6] ?? 0) > 59) throw bad();
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw bad();
  return ms;
}

/**
 * The window of `input`.
 * @throws TenderError 400 `parameter_missing` / `parameter_invalid` naming `from`, `to` or `group_by`:
 * a malformed value, `to` not after `from`, or a window longer than {@link MAX_ANALYTICS_DAYS} days.
 */
export function analyticsWindow(input: PaymentAnalyticsInput): AnalyticsWindow {
  if (input === null || typeof input !== 'object') throw invalidRequest('parameter_missing', 'from is required (YYYY-MM-DD or an ISO 8601 instant)', 'from');
  const from = instantOf(input.from, 'from');
  const to = instantOf(input.to, 'to');
  if (to <= from) throw invalidRequest('parameter_invalid', 'to must be after from (to is exclusive)', 'to');
  if (to - from > MAX_ANALYTICS_DAYS * DAY_MS) throw invalidRequest('parameter_invalid', `The window may be at most ${MAX_ANALYTICS_DAYS} days long`, 'to');
  const groupBy = input.groupBy;
  if (groupBy !== undefined && !(ANALYTICS_GROUP_BY as readonly string[]).includes(groupBy)) {
    throw invalidRequest('parameter_invalid', `group_by must be one of ${ANALYTICS_GROUP_BY.join(', ')}`, 'group_by');
  }
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), groupBy: groupBy as AnalyticsGroupBy | undefined };
}
