import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    // Declarations are skipped only by `npm start` (TENDER_BUILD_TYPES=0), which just runs the server.
    dts: process.env.TENDER_BUILD_TYPES !== '0',
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    // import.meta.url (used to find the Fiuu browser bundle) in the CJS build.
    shims: true,
  },
  {
    // The CLI: ESM only, with its shebang kept by tsup.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    platform: 'node',
  },
]);
