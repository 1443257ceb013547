import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // Node entries: the gateway and the sandbox.
    entry: { index: 'src/index.ts', 'sandbox/index': 'src/sandbox/index.ts' },
    format: ['esm', 'cjs'],
    // Declarations are skipped only by `npm start` (TENDER_BUILD_TYPES=0), which just runs the server.
    dts: process.env.TENDER_BUILD_TYPES !== '0',
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    external: ['@tender/core'],
  },
  {
    // Browser ESM build (for bundlers) with its types.
    entry: { 'browser/index': 'src/browser/index.ts' },
    format: ['esm'],
    // Declarations are skipped only by `npm start` (TENDER_BUILD_TYPES=0), which just runs the server.
    dts: process.env.TENDER_BUILD_TYPES !== '0',
    sourcemap: true,
    target: 'es2020',
    platform: 'browser',
  },
  {
    // The single-file IIFE for a plain <script> tag: global `TenderFiuu`.
    entry: { 'browser/tender-fiuu': 'src/browser/index.ts' },
    format: ['iife'],
    globalName: 'TenderFiuu',
    minify: true,
    target: 'es2020',
    platform: 'browser',
    outExtension: () => ({ js: '.iife.js' }),
  },
]);
