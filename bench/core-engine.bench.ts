/**
 * core-engine: create + capture through the engine (MemoryStore, in-process gateway, manual capture so
 * both operations run) against a baseline doing the same writes to a bare Map with no checks.
 */
import { createTender } from '@tender/core';
import { MemoryStore, createTestGateway } from '@tender/core/testing';
import { alternateThroughput, compare, round3, roundsText, type BenchResult } from './lib';

export default async function coreEngine(): Promise<BenchResult> {
  const concurrency = 16;
  const tender = createTender({ gateways: [createTestGateway()], store: new MemoryStore() });
  let n = 0;
  const engineOnce = async () => {
      const p = await tender.payments.create(
        { amount: '100.50', currency: 'MYR', paymentMethod: 'card', captureMethod: 'manual', orderId: `ORD-${n}` },
        { idempotencyKey: `bench-${n++}` },
      );
      await tender.payments.capture(p.id);
  };

  // Baseline: the same writes the engine makes for one create + capture (1 idempotency insert and 2
  // updates, 1 payment insert and 3 updates, 4 audit entries, 4 outbox rows, same record shapes), to
  // bare Maps and arrays: no validation, no transactions, no copies, no gateway.
  const payments = new Map<string, Record<string, unknown>>();
  const keys = new Map<string, Record<string, unknown>>();
  const trail: Record<string, unknown>[] = [];
  const outbox = new Map<string, Record<string, unknown>>();
  let m = 0;
  const write = (id: string, p: Record<string, unknown>, to: string, type: string) => {
    payments.set(id, p);
    trail.push({ id: `tr_${m}_${to}`, paymentId: id, from: null, to, reason: type, actor: 'api', at: new Date().toISOString() });
    outbox.set(`evt_${m}_${to}`, { id: `evt_${m}_${to}`, type, paymentId: id, data: p, status: 'pending', attempts: 0 });
  };
  const bareOnce = async () => {
    const id = `pay_${++m}`;
    const key = `bench-${m}`;
    keys.set(key, { key, state: 'in_flight', fingerprint: 'x', response: null });
    const created: Record<string, unknown> = {
      id, merchantId: 'default', orderId: `ORD-${m}`, status: 'PENDING', amount: '100.50', currency: 'MYR',
      amountCaptured: '0.00', amountRefunded: '0.00', captureMethod: 'manual', gateway: 'test', gatewayReference: null,
      paymentMethod: 'card', description: null, customer: {}, returnUrl: null, notifyUrl: null, metadata: {},
      nextAction: null, failure: null, gatewayData: {}, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), version: 1,
    };
    write(id, created, 'PENDING', 'payment.created');
    keys.set(key, { ...keys.get(key), resourceId: id });
    await Promise.resolve();
    const authorized = { ...created, status: 'AUTHORIZED', gatewayReference: `ref_${m}`, version: 2 };
    write(id, authorized, 'AUTHORIZED', 'payment.authorized');
    keys.set(key, { ...keys.get(key), state: 'completed', response: { status: 201, body: authorized } });
    const processing = { ...authorized, status: 'PROCESSING', version: 3 };
    write(id, processing, 'PROCESSING', 'payment.processing');
    await Promise.resolve();
    write(id, { ...processing, status: 'CAPTURED', amountCaptured: '100.50', version: 4 }, 'CAPTURED', 'payment.captured');
  };
  // Rounds alternate engine / bare (each side warmed up by a first, unmeasured round).
  const rounds = await alternateThroughput(engineOnce, bareOnce, { rounds: 4, ms: 1000, concurrency });
  return compare('core-engine', rounds.meanA, 'create+capture/s', 'the same writes to bare Maps, no checks (create+capture/s)', rounds.meanB, {
    concurrency,
    rounds: roundsText(rounds),
    median_round_ratio: round3(rounds.medianRatio),
  });
}
