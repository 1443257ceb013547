/**
 * pglite: payments created and captured per second through the engine on embedded PGlite (Postgres
 * in WASM, in memory; the reference server's zero-setup store), an absolute figure against the
 * target of 1,000/s. PGlite runs one statement at a time, so callers beyond a few only queue.
 */
import { createPGliteStore } from '@tender/store-postgres';
import { throughput, withTarget, type BenchResult } from './lib';
import { engineOp } from './store-engine-op';

const CONCURRENCY = 8;
const TARGET = 1000;

export default async function pglite(): Promise<BenchResult> {
  const store = await createPGliteStore();
  try {
    const op = engineOp(store);
    await throughput(op, { ms: 1000, concurrency: CONCURRENCY });
    const rounds: number[] = [];
    for (let i = 0; i < 3; i++) rounds.push(await throughput(op, { ms: 1500, concurrency: CONCURRENCY }));
    const value = rounds.reduce((sum, x) => sum + x, 0) / rounds.length;
    const result: BenchResult = {
      name: 'pglite',
      value: Math.round(value * 1000) / 1000,
      unit: 'create+capture/s (engine on in-memory PGlite)',
      extra: { concurrency: CONCURRENCY, rounds: rounds.map((r) => r.toFixed(0)).join(', ') },
    };
    return withTarget(result, `>= ${TARGET} create+capture/s`, value >= TARGET);
  } finally {
    await store.close();
  }
}
