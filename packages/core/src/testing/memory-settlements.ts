/**
 * MemoryStore's {@link SettlementStore} part: settlement runs kept in memory, and the day's settled
 * records read from the store's payments, refunds and audit trail.
 *
 * @module
 */
import { cloneData } from '../clone';
import { stateConflict } from '../errors';
import type { Payment, Refund, Transition } from '../payment';
import type { OutboxEvent, StoreTx } from '../spec/store/v1/index';
import type { SettledRecords, SettledRecordsQuery, SettlementRun, SettlementRunKey, SettlementRunSummary, SettlementStore } from '../spec/store/v1/settlements';

/** What {@link MemorySettlements} reads of the store's data. */
export interface MemorySettlementData {
  payments: ReadonlyMap<string, Payment>;
  refunds: ReadonlyMap<string, Refund>;
  transitionsByPayment: ReadonlyMap<string, Transition[]>;
}

const runKey = (key: SettlementRunKey) => `${key.merchantId ?? ''}\u0000${key.merchantId === null ? '*' : ''}\u0000${key.gateway}\u0000${key.date}`;
const summary = ({ lines: _lines, ...rest }: SettlementRun): SettlementRunSummary => cloneData(rest);
const STILL_CAPTURED: readonly string[] = ['CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED'];

/** @internal */
export class MemorySettlements implements SettlementStore {
  /** run key -> versions, oldest first. */
  readonly #runs = new Map<string, SettlementRun[]>();

  constructor(
    private readonly data: () => MemorySettlementData,
    private readonly exclusive: <T>(fn: () => Promise<T>) => Promise<T>,
    private readonly transaction: <T>(fn: (tx: StoreTx) => Promise<T>) => Promise<T>,
  ) {}

  listSettledRecords(query: SettledRecordsQuery): Promise<SettledRecords> {
    return this.exclusive(async () => {
      const { payments, refunds, transitionsByPayment } = this.data();
      const out: SettledRecords = { payments: [], refunds: [] };
      for (const payment of payments.values()) {
        if (payment.gateway !== query.gateway || (query.merchantId !== null && payment.merchantId !== query.merchantId)) continue;
        const firstAt = new Map<string, string>();
        for (const t of transitionsByPayment.get(payment.id) ?? []) {
          const to = t.refundId === null ? t.to === 'CAPTURED' : t.to === 'SUCCEEDED';
          if (to && !firstAt.has(t.refundId ?? '')) firstAt.set(t.refundId ?? '', t.at);
        }
        for (const [refundId, at] of firstAt) {
          if (at < query.from || at >= query.to) continue;
          if (refundId === '') {
            if (STILL_CAPTURED.includes(payment.status)) out.payments.push({ payment: cloneData(payment), capturedAt: at });
          } else {
            const refund = refunds.get(refundId);
            if (refund?.status === 'SUCCEEDED') out.refunds.push({ refund: cloneData(refund), payment: cloneData(payment), succeededAt: at });
          }
        }
      }
      out.payments.sort((a, b) => (a.capturedAt === b.capturedAt ? (a.payment.id < b.payment.id ? -1 : 1) : a.capturedAt < b.capturedAt ? -1 : 1));
      out.refunds.sort((a, b) => (a.succeededAt === b.succeededAt ? (a.refund.id < b.refund.id ? -1 : 1) : a.succeededAt < b.succeededAt ? -1 : 1));
      return out;
    });
  }

  insertSettlementRun(run: SettlementRun, events: readonly OutboxEvent[]): Promise<void> {
    return this.transaction(async (tx) => {
      const versions = this.#runs.get(runKey(run)) ?? [];
      if (versions.some((r) => r.version === run.version) || this.#find(run.id)) {
        throw stateConflict('duplicate_settlement_run', `Settlement run ${run.gateway} ${run.date} version ${run.version} exists`);
      }
      for (const event of events) await tx.enqueueOutbox(event);
      // Last, so a failed outbox write (rolled back by the transaction) leaves no run either.
      versions.push(cloneData(run));
      this.#runs.set(runKey(run), versions);
    });
  }

  latestSettlementRun(key: SettlementRunKey): Promise<SettlementRun | null> {
    return this.exclusive(async () => {
      const versions = this.#runs.get(runKey(key)) ?? [];
      const latest = versions.reduce<SettlementRun | null>((best, r) => (best === null || r.version > best.version ? r : best), null);
      return latest ? cloneData(latest) : null;
    });
  }

  getSettlementRun(id: string, merchantId?: string | null): Promise<SettlementRun | null> {
    return this.exclusive(async () => {
      const run = this.#find(id);
      return run && (merchantId === undefined || run.merchantId === merchantId) ? cloneData(run) : null;
    });
  }

  listSettlementRuns(key: SettlementRunKey): Promise<SettlementRunSummary[]> {
    return this.exclusive(async () => [...(this.#runs.get(runKey(key)) ?? [])].sort((a, b) => b.version - a.version).map(summary));
  }

  #find(id: string): SettlementRun | undefined {
    for (const versions of this.#runs.values()) {
      const run = versions.find((r) => r.id === id);
      if (run) return run;
    }
    return undefined;
  }
}
