/**
 * Builds the whole docs site with one command, `npm run docs:build`: VitePress renders docs/*.md into
 * docs/.vitepress/dist (generated, not committed), then typedoc writes the API reference into its
 * api/ and Redoc the REST reference into its rest/index.html. VitePress goes first because it empties
 * its output folder. An argument builds elsewhere: `npx tsx scripts/docs-build.ts /tmp/site`.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(root, 'docs', '.vitepress', 'dist'));
const bin = (name: string) => join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

function run(command: string, args: string[], env: Record<string, string> = {}): void {
  const result = spawnSync(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32' });
  if (result.status !== 0) {
    console.error(`docs:build: ${[command, ...args].join(' ')} failed`);
    process.exit(result.status ?? 1);
  }
}

run(bin('vitepress'), ['build', 'docs', '--outDir', outDir]);
// The packages' sources only (docs/tsconfig.typedoc.json): the reference documents what is exported.
// Type errors are the typecheck's business (npm run typecheck), not the reference's; the site is the
// readme, so the reference opens on its module index (the root README's repository links would break).
run(bin('typedoc'), ['--tsconfig', join(root, 'docs', 'tsconfig.typedoc.json'), '--out', join(outDir, 'api'), '--logLevel', 'Warn', '--disableSources', '--skipErrorChecking', '--readme', 'none']);
// Redoc's page would otherwise report readers' visits to Redocly from their browsers.
run(bin('tsx'), [join(root, 'scripts', 'rest-reference.ts'), join(outDir, 'rest', 'index.html')], { REDOCLY_TELEMETRY: 'off' });
console.log(`docs:build: the site is in ${outDir}`);
