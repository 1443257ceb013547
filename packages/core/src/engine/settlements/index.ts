/**
 * `tender.settlements`: fetch a gateway's report of a day, classify it line by line against Tender's
 * records (see `classify.ts`), store the run with its `settlement.mismatch` outbox events in one
 * transaction. Rules on {@link SettlementOperations}.
 *
 * @module
 */
import { TenderError, invalidRequest } from '../../errors';
import { defaultEventPayload } from '../../events/envelope';
import { newId } from '../../ids';
import type { SettlementLine } from '../../spec/gateway/v1/settlements';
import type { OutboxEvent } from '../../spec/store/v1/index';
import { SETTLEMENT_MISMATCHES, settlementStoreOf, type SettlementRun, type SettlementRunKey, type SettlementStore } from '../../spec/store/v1/settlements';
import { gatewayOf, type EngineContext } from '../context';
import { RecordResolver, classifyLine, missingAtGateway, reportMentions, reversedRefunds, type MatchState } from './classify';
import { countLines, totalLines } from './totals';
import type { SettlementOperations, SettlementReportKey, SettlementScopeOptions } from './types';

export type * from './types';
export { formatMinor } from './totals';

/** The outbox event type of a mismatched line. */
export const SETTLEMENT_MISMATCH_EVENT = 'settlement.mismatch';

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** How often a run is retried when a concurrent run took its version number. */
const VERSION_ATTEMPTS = 5;

/** The day's start (ms, UTC); a 400 `invalid_date` for anything but a real `YYYY-MM-DD` not in the future. */
function dayStart(ctx: EngineContext, date: unknown): number {
  const start = typeof date === 'string' && DATE.test(date) ? Date.parse(`${date}T00:00:00.000Z`) : NaN;
  if (!Number.isFinite(start) || new Date(start).toISOString().slice(0, 10) !== date) {
    throw invalidRequest('invalid_date', 'date must be a calendar day, YYYY-MM-DD', 'date');
  }
  if (start > ctx.clock.now().getTime()) throw invalidRequest('invalid_date', 'date is in the future: the gateway has no report of it yet', 'date');
  return start;
}

/** The gateway's report of a day, all lines. */
async function fetchReport(ctx: EngineContext, gateway: string, date: string): Promise<SettlementLine[]> {
  const settlements = gatewayOf(ctx, gateway).settlements!;
  return settlements.fetchReport({ date }, { idempotencyKey: `settlement-report:${gateway}:${date}`, now: ctx.clock.now() });
}

function scopeOf(ctx: EngineContext, options?: SettlementScopeOptions): string | null {
  if (options?.merchantId === null) return null;
  if (options?.merchantId !== undefined && (typeof options.merchantId !== 'string' || options.merchantId === '')) {
    throw invalidRequest('invalid_merchant', 'merchantId must be a non-empty string or null', 'merchant_id');
  }
  return options?.merchantId ?? ctx.defaultMerchantId;
}

/** Checks the key; the gateway must declare and implement settlements, the store keep runs. */
function checked(ctx: EngineContext, key: SettlementReportKey): { store: SettlementStore; start: number } {
  if (!key || typeof key.gateway !== 'string') throw invalidRequest('invalid_gateway', 'gateway is required', 'gateway');
  const start = dayStart(ctx, key.date);
  const gateway = gatewayOf(ctx, key.gateway);
  if (!gateway.capabilities.settlements || !gateway.settlements) {
    throw invalidRequest('settlements_not_supported', `Gateway '${key.gateway}' serves no settlement report`, 'gateway');
  }
  return { store: settlementStoreOf(ctx.store), start };
}

/** Classifies the day's report for the scope: the run's lines, report order first, then what the report lacks. */
async function classifyDay(ctx: EngineContext, store: SettlementStore, key: SettlementReportKey, start: number, scope: string | null) {
  const report = await fetchReport(ctx, key.gateway, key.date);
  const end = start + DAY_MS;
  // The lag rule: once D+1 has begun, its report (so far) is read for D's records D's report lacks.
  const next = ctx.clock.now().getTime() >= end ? await fetchReport(ctx, key.gateway, new Date(end).toISOString().slice(0, 10)) : [];
  const resolver = new RecordResolver(ctx.store, key.gateway);
  const state: MatchState = { payments: new Set(), refunds: new Set(), reversed: reversedRefunds(report) };
  const lines = [];
  for (const line of report) {
    const classified = await classifyLine(line, resolver, state);
    if (scope === null || classified.merchantId === scope) lines.push(classified);
  }
  const records = await store.listSettledRecords({ gateway: key.gateway, merchantId: scope, from: new Date(start).toISOString(), to: new Date(end).toISOString() });
  lines.push(...missingAtGateway(records, state, reportMentions(next)));
  return lines;
}

function mismatchEvents(ctx: EngineContext, run: SettlementRun): OutboxEvent[] {
  const events: OutboxEvent[] = [];
  for (const line of run.lines) {
    if (!SETTLEMENT_MISMATCHES.includes(line.classification)) continue;
    const event: OutboxEvent = {
      id: newId('evt'),
      // An unattributed line (account-wide run) goes to the engine's default merchant.
      merchantId: line.merchantId ?? run.merchantId ?? ctx.defaultMerchantId,
      type: SETTLEMENT_MISMATCH_EVENT,
      paymentId: line.paymentId,
      refundId: line.refundId,
      data: { run: { id: run.id, merchantId: run.merchantId, gateway: run.gateway, date: run.date, version: run.version }, line },
      payload: null,
      createdAt: run.createdAt,
    };
    try {
      event.payload = ctx.eventPayload(event);
    } catch (error) {
      ctx.logger.error({ eventId: event.id, type: event.type, error: String(error) }, 'event payload encoder threw; the default envelope is stored');
      event.payload = defaultEventPayload(event);
    }
    events.push(event);
  }
  return events;
}

/**
 * Reconciles and stores a new version. With `firstOnly`, a run stored meanwhile by someone else (a
 * concurrent first `get`) is answered instead of adding another version.
 */
async function runAndStore(ctx: EngineContext, key: SettlementReportKey, options: SettlementScopeOptions | undefined, firstOnly: boolean): Promise<SettlementRun> {
  const { store, start } = checked(ctx, key);
  const scope = scopeOf(ctx, options);
  const runKey: SettlementRunKey = { merchantId: scope, gateway: key.gateway, date: key.date };
  const lines = await classifyDay(ctx, store, key, start, scope);
  for (let attempt = 1; ; attempt++) {
    const latest = await store.latestSettlementRun(runKey);
    if (latest && firstOnly) return latest;
    const run: SettlementRun = {
      id: newId('stl'),
      ...runKey,
      version: (latest?.version ?? 0) + 1,
      createdAt: ctx.clock.now().toISOString(),
      counts: countLines(lines),
      totals: totalLines(lines),
      lines,
    };
    const events = mismatchEvents(ctx, run);
    try {
      await store.insertSettlementRun(run, events);
    } catch (error) {
      if (TenderError.isInstance(error) && error.code === 'duplicate_settlement_run' && attempt < VERSION_ATTEMPTS) continue;
      throw error;
    }
    if (events.length > 0) ctx.publish(events);
    return run;
  }
}

/** @internal `tender.settlements` over one engine context. */
export function createSettlementOperations(ctx: EngineContext): SettlementOperations {
  return {
    reconcile: (key, options) => runAndStore(ctx, key, options, false),
    async get(key, options) {
      if (!options?.refresh) {
        const { store } = checked(ctx, key);
        const latest = await store.latestSettlementRun({ merchantId: scopeOf(ctx, options), gateway: key.gateway, date: key.date });
        if (latest) return latest;
      }
      return runAndStore(ctx, key, options, !options?.refresh);
    },
    async history(key, options) {
      const { store } = checked(ctx, key);
      return store.listSettlementRuns({ merchantId: scopeOf(ctx, options), gateway: key.gateway, date: key.date });
    },
  };
}
