#!/usr/bin/env node
// Entry point of the root npm scripts, so a fresh machine with only Node and npm needs no global
// pnpm: it installs the workspace with a pinned pnpm through npx when needed, then runs the task.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const PNPM = ['-y', 'pnpm@10.34.9'];
const task = process.argv[2];
const rest = process.argv.slice(3);

function run(cmd, args, env = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function pnpm(args, env = {}) {
  run('npx', [...PNPM, ...args], env);
}

function ensureInstalled() {
  const marker = 'node_modules/.modules.yaml';
  const stale =
    !existsSync(marker) || (existsSync('pnpm-lock.yaml') && statSync('pnpm-lock.yaml').mtimeMs > statSync(marker).mtimeMs);
  if (stale) pnpm(['install', ...(process.env.CI ? ['--frozen-lockfile'] : [])]);
}

ensureInstalled();
switch (task) {
  case 'test':
    pnpm(['run', 'build']);
    run('npx', ['vitest', 'run', ...rest]);
    break;
  case 'bench':
    pnpm(['run', 'build']);
    // Against the built packages, as users run them (bench/tsconfig.json has no source paths).
    run('node', ['--import', 'tsx', 'bench/run.ts', ...rest], { TSX_TSCONFIG_PATH: 'bench/tsconfig.json' });
    break;
  case 'start':
    // Running the server needs no type declarations; skipping them roughly halves a first start.
    pnpm(['run', 'build'], { TENDER_BUILD_TYPES: '0' });
    run('node', ['packages/server-express/dist/cli.js', ...rest]);
    break;
  default:
    console.error(`unknown task ${task}`);
    process.exit(2);
}
