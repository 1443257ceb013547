/**
 * fiuu-bundle-size: min+gzip bytes of the built `@tender/fiuu` IIFE browser bundle
 * (`packages/fiuu/dist/browser/tender-fiuu.iife.js`, global `TenderFiuu`, what a page loads) against
 * the 5 KB (5120 bytes) budget. Ratio < 1 means under budget (smaller is better).
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { compare, withTarget, type BenchResult } from './lib';

const BUDGET = 5120;

export default async function fiuuBundleSize(): Promise<BenchResult> {
  const code = readFileSync(new URL('../packages/fiuu/dist/browser/tender-fiuu.iife.js', import.meta.url));
  const gz = gzipSync(code, { level: 9 }).length;
  const result = compare('fiuu-bundle-size', gz, 'bytes min+gzip (smaller is better)', '5 KB budget', BUDGET, { minified_bytes: code.length });
  return withTarget(result, `<= ${BUDGET} bytes`, gz <= BUDGET);
}
