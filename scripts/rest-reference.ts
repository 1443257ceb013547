/**
 * Renders the REST reference, a static HTML page (Redoc), from the OpenAPI document the server
 * builds: `npx -y pnpm@10 run docs:rest` writes docs/rest/index.html (generated, not committed).
 * An argument writes it elsewhere: `npx tsx scripts/rest-reference.ts /tmp/rest.html`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../packages/server-express/src/openapi';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const output = resolve(process.argv[2] ?? join(root, 'docs', 'rest', 'index.html'));
const redocly = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'redocly.cmd' : 'redocly');

const dir = mkdtempSync(join(tmpdir(), 'tender-openapi-'));
try {
  const spec = join(dir, 'openapi.json');
  writeFileSync(spec, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
  mkdirSync(dirname(output), { recursive: true });
  const result = spawnSync(
    redocly,
    ['build-docs', spec, '--config', join(root, 'redocly.yaml'), '--output', output, '--title', 'Tender REST API', '--inlineBundle'],
    { stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32' },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
