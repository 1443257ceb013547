/**
 * Benchmark plumbing. Each `bench/*.bench.ts` default-exports a function returning one or more
 * {@link BenchResult}s; `bench/run.ts` runs them (a full run writes `bench/results.json`).
 * Every result with a baseline compares against it in the same process and run, in alternating rounds.
 */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** What the baseline is (absent for absolute figures such as `pglite`). */
  baseline?: string;
  baseline_value?: number;
  /** value / baseline_value (or the inverse when smaller is better; say so in `unit`). */
  ratio?: number;
  /** The figure's target in words (e.g. `ratio >= 0.9`), when it has one. */
  target?: string;
  /** Whether this run met {@link BenchResult.target}. */
  holds?: boolean;
  /** Anything else worth recording (p99, RSS, other baselines...). */
  extra?: Record<string, number | string | boolean>;
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

/** Rounds to three decimals, as every figure in results.json is. */
export const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** What {@link alternate} measured: per-round figures of both sides, in round order. */
export interface Alternated {
  a: number[];
  b: number[];
  /** Median of the per-round ratios a/b: robust to a burst of load from elsewhere hitting one round. */
  medianRatio: number;
  meanA: number;
  meanB: number;
}

/**
 * Measures two sides in alternating rounds, A B A B..., so drift and other load on a shared machine
 * hit both alike. `measureA`/`measureB` run one round each and return its figure; both get one
 * unmeasured warm-up round first.
 */
export async function alternate(measureA: () => Promise<number>, measureB: () => Promise<number>, rounds: number): Promise<Alternated> {
  await measureA();
  await measureB();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    a.push(await measureA());
    b.push(await measureB());
  }
  const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
  return { a, b, medianRatio: median(a.map((v, i) => v / b[i]!)), meanA: mean(a), meanB: mean(b) };
}

/** `alternate` for two operations driven by {@link throughput} at one concurrency. */
export function alternateThroughput(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  options: { rounds: number; ms: number; concurrency: number },
): Promise<Alternated> {
  const run = (fn: () => Promise<unknown>) => () => throughput(fn, { ms: options.ms, concurrency: options.concurrency });
  return alternate(run(a), run(b), options.rounds);
}

/** Per-round figures as `a vs b, ...` for `extra`. */
export function roundsText(result: Pick<Alternated, 'a' | 'b'>): string {
  return result.a.map((v, i) => `${v.toFixed(0)} vs ${result.b[i]!.toFixed(0)}`).join(', ');
}

/** Builds a result, computing the ratio. */
export function compare(
  name: string,
  value: number,
  unit: string,
  baseline: string,
  baselineValue: number,
  extra?: Record<string, number | string | boolean>,
): BenchResult {
  return { name, value: round3(value), unit, baseline, baseline_value: round3(baselineValue), ratio: round3(value / baselineValue), ...(extra ? { extra } : {}) };
}

/** `result` with its target and whether this run met it. */
export function withTarget(result: BenchResult, target: string, holds: boolean): BenchResult {
  return { ...result, target, holds };
}
