/**
 * dashboard-bundle-size: gzip bytes of what `/dashboard` loads — the built `@tender/dashboard` app's
 * JS and CSS (`packages/dashboard/dist/assets/`, a Vite production build, minified) — against a
 * 50 KB (51200 bytes) budget. Ratio < 1 means under budget (smaller is better). The charting
 * library's own share (uPlot's minified build, gzipped alone) is recorded beside it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { compare, withTarget, type BenchResult } from './lib';

const BUDGET = 51_200;

const gz = (bytes: Buffer) => gzipSync(bytes, { level: 9 }).length;

export default async function dashboardBundleSize(): Promise<BenchResult> {
  const root = fileURLToPath(new URL('../packages/dashboard/', import.meta.url));
  const assets = join(root, 'dist', 'assets');
  const files = readdirSync(assets).filter((f) => f.endsWith('.js') || f.endsWith('.css'));
  if (!files.some((f) => f.endsWith('.js'))) throw new Error('packages/dashboard is not built (npm run build)');
  let js = 0;
  let css = 0;
  let raw = 0;
  for (const f of files) {
    const bytes = readFileSync(join(assets, f));
    raw += bytes.length;
    if (f.endsWith('.js')) js += gz(bytes);
    else css += gz(bytes);
  }
  const uplot = join(dirname(createRequire(join(root, 'package.json')).resolve('uplot/package.json')), 'dist', 'uPlot.iife.min.js');
  const total = js + css;
  const result = compare('dashboard-bundle-size', total, 'bytes min+gzip, JS and CSS (smaller is better)', '50 KB budget', BUDGET, {
    js_gzip_bytes: js,
    css_gzip_bytes: css,
    minified_bytes: raw,
    uplot_gzip_bytes: gz(readFileSync(uplot)),
  });
  return withTarget(result, `<= ${BUDGET} bytes`, total <= BUDGET);
}
