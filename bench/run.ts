/**
 * Runs the benchmarks against the built packages. Usage: `npm run bench [-- name...]`, which builds
 * the packages first and measures their `dist` (what users run), not the sources; by hand:
 * `TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/run.ts [name...]`.
 *
 * - With no names (a full run): every benchmark, each in a process of its own, and `bench/results.json`
 *   is written from this run alone: `meta` (commit, Node and Postgres versions, date) and every figure
 *   with its target and whether it holds. A benchmark that fails leaves results.json as it was.
 * - With names: only those, printed and written to `bench/results.partial.json` (git-ignored), so a
 *   run of one figure never mixes into the file of a full run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import type { BenchResult } from './lib';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const unknown = wanted.filter((name) => !all.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${all.join(', ')}`);
  process.exit(2);
}
/** Set in a child: run this one benchmark and write its results as JSON to this file. */
const childOut = process.env.TENDER_BENCH_OUT;

type Figures = Record<string, Omit<BenchResult, 'name'>>;

function print(r: BenchResult): void {
  const vs = r.baseline !== undefined ? ` vs ${r.baseline_value} (${r.baseline}) -> ratio ${r.ratio}` : '';
  const target = r.target !== undefined ? ` [target ${r.target}: ${r.holds ? 'holds' : 'MISSED'}]` : '';
  console.log(`${r.name}: ${r.value} ${r.unit}${vs}${target}`, r.extra ?? '');
}

async function runHere(name: string): Promise<BenchResult[]> {
  const mod = (await import(pathToFileURL(`${dir}${name}.bench.ts`).href)) as { default: () => Promise<BenchResult | BenchResult[]> };
  const out = await mod.default();
  return Array.isArray(out) ? out : [out];
}

/** Each benchmark in a process of its own: no heap, JIT state or peak RSS carried over from the last. */
function runInChild(name: string, tmp: string): BenchResult[] {
  const out = join(tmp, `${name}.json`);
  const started = performance.now();
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], {
    stdio: 'inherit',
    env: { ...process.env, TENDER_BENCH_OUT: out },
  });
  if (child.status !== 0) throw new Error(`benchmark ${name} failed (exit ${child.status ?? child.signal})`);
  console.log(`  (${name}: ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  return JSON.parse(readFileSync(out, 'utf8')) as BenchResult[];
}

function figures(results: BenchResult[]): Figures {
  const out: Figures = {};
  for (const { name, ...rest } of results) {
    // Every figure says whether it has a target, so a missing one is not mistaken for a pass.
    out[name] = { ...rest, target: rest.target ?? null, holds: rest.holds ?? null } as Omit<BenchResult, 'name'>;
  }
  return out;
}

async function meta(): Promise<Record<string, string | boolean>> {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  return {
    commit: git('rev-parse', 'HEAD'),
    // Uncommitted changes anywhere in the tree when the run started: the figures may not be the commit's.
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    node: process.version,
    postgres: rows[0]!.server_version,
    date: new Date().toISOString(),
  };
}

if (childOut) {
  const results = await runHere(wanted[0]!);
  for (const r of results) print(r);
  writeFileSync(childOut, JSON.stringify(results));
  process.exit(0);
}

const names = wanted.length > 0 ? wanted : all;
const started = performance.now();
const header = wanted.length === 0 ? await meta() : null;
const tmp = mkdtempSync(join(tmpdir(), 'tender-bench-'));
const results: BenchResult[] = [];
try {
  if (names.length === 1) {
    for (const r of await runHere(names[0]!)) {
      print(r);
      results.push(r);
    }
  } else {
    for (const name of names) results.push(...runInChild(name, tmp));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const seconds = Math.round((performance.now() - started) / 1000);
if (header) {
  const document = { meta: { ...header, duration_s: seconds }, figures: figures(results) };
  writeFileSync(`${dir}results.json`, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`bench/results.json written (${results.length} figures, ${seconds} s)`);
} else {
  writeFileSync(`${dir}results.partial.json`, `${JSON.stringify({ date: new Date().toISOString(), figures: figures(results) }, null, 2)}\n`);
  console.log(`${results.length} figure(s) in ${seconds} s; bench/results.json left as it is (written by full runs only); see bench/results.partial.json`);
}
const missed = results.filter((r) => r.holds === false).map((r) => r.name);
if (missed.length > 0) console.log(`targets missed: ${missed.join(', ')}`);
process.exit(0);
