/**
 * Benchmark plumbing. Each `bench/*.bench.ts` default-exports a function returning one or more
 * {@link BenchResult}s; `bench/run.ts` runs them and merges the results into `bench/results.json`.
 * Every result compares against a baseline measured in the same process and run.
 */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** What the baseline is. */
  baseline: string;
  baseline_value: number;
  /** value / baseline_value (or the inverse when smaller is better; say so in `unit`). */
  ratio: number;
  /** Anything else worth recording (p99, RSS, PGlite figure...). */
  extra?: Record<string, number | string>;
}

/** Runs `fn` repeatedly for `ms` milliseconds with `concurrency` callers; returns operations per second. */
export async function throughput(fn: () => Promise<unknown>, options: { ms: number; concurrency: number }): Promise<number> {
  const end = performance.now() + options.ms;
  let count = 0;
  const worker = async () => {
    while (performance.now() < end) {
      await fn();
      count++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return count / ((performance.now() - start) / 1000);
}

/** Builds a result, computing the ratio. */
export function compare(
  name: string,
  value: number,
  unit: string,
  baseline: string,
  baselineValue: number,
  extra?: Record<string, number | string>,
): BenchResult {
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return { name, value: round(value), unit, baseline, baseline_value: round(baselineValue), ratio: round(value / baselineValue), ...(extra ? { extra } : {}) };
}
