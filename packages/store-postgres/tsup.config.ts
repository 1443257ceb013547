import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  // Declarations are skipped only by `npm start` (TENDER_BUILD_TYPES=0), which just runs the server.
  dts: process.env.TENDER_BUILD_TYPES !== '0',
  clean: true,
  // `import.meta.url` in the CommonJS build too (pglite-template.ts resolves PGlite's package from it).
  shims: true,
  sourcemap: true,
  target: 'node20',
  external: ['pg', '@electric-sql/pglite', '@tender/core'],
});
