/**
 * fiuu-bundle-size: min+gzip bytes of the `@tender/fiuu` IIFE browser bundle (global `TenderFiuu`),
 * built from source with the same esbuild options as the package's tsup config, against the
 * 5 KB (5120 bytes) budget. Ratio < 1 means under budget (smaller is better).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildIife } from '../packages/fiuu/test/browser-bundle';
import { compare, type BenchResult } from './lib';

const BUDGET = 5120;

export default async function fiuuBundleSize(): Promise<BenchResult> {
  const pkg = fileURLToPath(new URL('../packages/fiuu/', import.meta.url));
  const code = Buffer.from(await buildIife());
  const gz = gzipSync(code, { level: 9 }).length;
  const dist = `${pkg}dist/browser/tender-fiuu.iife.js`;
  const extra: Record<string, number> = { minified_bytes: code.length };
  if (existsSync(dist)) extra.dist_gzip_bytes = gzipSync(readFileSync(dist), { level: 9 }).length;
  return compare('fiuu-bundle-size', gz, 'bytes min+gzip (smaller is better)', '5 KB budget', BUDGET, extra);
}
