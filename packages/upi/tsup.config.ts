import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', 'sandbox/index': 'src/sandbox/index.ts' },
    format: ['esm', 'cjs'],
    // Declarations are skipped only by `npm start` (TENDER_BUILD_TYPES=0), which just runs the server.
    dts: process.env.TENDER_BUILD_TYPES !== '0',
    clean: true,
    sourcemap: true,
    target: 'node20',
  },
  {
    // The standalone sandbox process (top-level await, so ESM only).
    entry: { 'sandbox/cli': 'src/sandbox/cli.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
