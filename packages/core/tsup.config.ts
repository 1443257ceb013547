import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'spec/gateway/v1/index': 'src/spec/gateway/v1/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  // Declarations are skipped only by `npm start` (TENDER_BUILD_TYPES=0), which just runs the server.
  dts: process.env.TENDER_BUILD_TYPES !== '0',
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['vitest', 'fast-check'],
});
