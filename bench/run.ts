/**
 * Runs every benchmark (or those named on the command line) and merges the results into
 * bench/results.json. Usage: `npm run bench [-- name...]`, which builds the packages first and measures
 * the built `dist` (what users run), not the sources; by hand:
 * `TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/run.ts [name...]`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult } from './lib';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort();

if (files.length > 1) {
  // Each benchmark in a process of its own: no heap, JIT state or peak RSS carried over from the last.
  for (const file of files) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), file.replace(/\.bench\.ts$/, '')], { stdio: 'inherit' });
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
  process.exit(0);
}

const resultsPath = `${dir}results.json`;
const results: Record<string, Omit<BenchResult, 'name'>> = existsSync(resultsPath)
  ? JSON.parse(readFileSync(resultsPath, 'utf8'))
  : {};

for (const file of files) {
  const mod = (await import(pathToFileURL(`${dir}${file}`).href)) as { default: () => Promise<BenchResult | BenchResult[]> };
  const out = await mod.default();
  for (const r of Array.isArray(out) ? out : [out]) {
    const { name, ...rest } = r;
    results[name] = rest;
    console.log(`${name}: ${r.value} ${r.unit} vs ${r.baseline} ${r.baseline_value} -> ratio ${r.ratio}`, r.extra ?? '');
  }
}
writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
