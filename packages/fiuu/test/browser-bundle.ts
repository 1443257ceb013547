import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** Builds the IIFE bundle from source exactly as tsup does (esbuild, minified, global TenderFiuu). */
export async function buildIife(): Promise<string> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('../src/browser/index.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    globalName: 'TenderFiuu',
    minify: true,
    target: 'es2020',
    platform: 'browser',
    write: false,
  });
  return out.outputFiles[0]!.text;
}
