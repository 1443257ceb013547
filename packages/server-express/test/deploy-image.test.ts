/**
 * deploy/Dockerfile, checked without Docker: the runtime stage's file layout is built the way the
 * Dockerfile builds it (deploy/image/install-runtime.sh, the script its build stage runs, into a
 * clean directory standing in for /app), then the image's entry point is run from there the way a
 * container runtime with Kubernetes' securityContext would: uid/gid 1001 with no capabilities, the
 * whole root filesystem read-only (a private mount namespace) with a fresh tmpfs on /tmp only, the
 * image's ENV plus the Kubernetes manifests' environment, nothing else. The migration Job's command
 * migrates a fresh schema on the real Postgres, the Deployment's starts the server, /health and
 * /ready answer 200, the HEALTHCHECK passes, and SIGTERM stops it cleanly. A production dependency
 * missing from the layout, or a write outside /tmp, fails these tests.
 *
 * Needs root (setpriv, mount namespaces), as CI has; elsewhere the file is skipped unless CI is set.
 * Takes about 10 s, most of it the production install.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, freshSchema } from './pg';
import { DEPLOY_DIR, KUBERNETES_DIR, REPO_ROOT, containerEnvironment, dockerEnv, dockerExec, kustomize, readDockerfile, type DockerStage, type K8sObject } from './deploy-helpers';

const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const canSandbox = process.getuid?.() === 0 && spawnSync('unshare', ['--mount', 'true']).status === 0 && spawnSync('setpriv', ['--version']).status === 0;

/**
 * Runs `argv` as a container would: private mount namespace with / remounted read-only (every
 * path, the app's tree included) and a new tmpfs on /tmp, then uid/gid 1001 with no groups, no
 * capabilities, no_new_privs, and exactly `env`. Nothing on the host changes.
 */
const SANDBOX = `set -eu
mount -o remount,bind,ro /
mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m tender-tmp /tmp
cd "$1"
shift
exec setpriv --reuid=1001 --regid=1001 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- env -i "$@"`;

const children = new Set<ChildProcess>();
function sandboxed(workdir: string, env: Record<string, string>, argv: string[]): ChildProcess {
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', SANDBOX, 'sandbox', workdir, ...pairs, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}
async function runToEnd(child: ChildProcess): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Polls `check` (every 100 ms) until it returns a value, or throws after `ms`. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Values for the Secret's keys: the real Postgres, generated keys, placeholders for Fiuu. */
const SECRETS: Record<string, string> = {
  'database-url': DATABASE_URL,
  'migration-database-url': DATABASE_URL,
  'jwt-secret': randomBytes(32).toString('base64url'),
  'fiuu-verify-key': 'verify-key-of-the-image-test',
  'fiuu-secret-key': 'secret-key-of-the-image-test',
  'encryption-key': randomBytes(32).toString('base64'),
};

let work: string;
let app: string;
let migratedSchema: string | undefined;
let runtime: DockerStage;
let objects: K8sObject[];
const schemas: string[] = [];

/** A path of the image, on this machine: /app is the layout directory. */
const inImage = (path: string) => path.replace(/^\/app(?=\/|$)/, app);

function imageEnv(extra: Record<string, string>): Record<string, string> {
  const env = { PATH: IMAGE_PATH, ...dockerEnv(runtime), ...extra };
  // /usr/local/bin/tender-server, the link the Dockerfile makes, sits in a directory of its own here.
  env.PATH = `${join(work, 'usr-local-bin')}:${env.PATH}`;
  return env;
}
const workdir = () => inImage(runtime.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)!.args);
const podContainer = (kind: string) => (objects.find((o) => o.kind === kind)!.spec as { template: { spec: { containers: Array<Parameters<typeof containerEnvironment>[0] & { command?: string[]; args?: string[] }> } } }).template.spec.containers[0]!;

describe.skipIf(!canSandbox && !process.env.CI)('the container image’s runtime layout (deploy/Dockerfile, without Docker)', () => {
  beforeAll(async () => {
    if (!canSandbox) throw new Error('this check needs root, unshare and setpriv (as CI runs)');
    const stages = readDockerfile(join(DEPLOY_DIR, 'Dockerfile'));
    runtime = stages.at(-1)!;
    objects = kustomize(join(KUBERNETES_DIR, 'base'));
    // Outside /tmp: the sandbox mounts a fresh tmpfs there. /var/tmp is on the root filesystem,
    // which the sandbox makes read-only, the layout included.
    work = mkdtempSync('/var/tmp/tender-image-');
    chmodSync(work, 0o755); // as / is: traversable by uid 1001
    app = join(work, 'app');
    const install = spawnSync('sh', ['deploy/image/install-runtime.sh', app], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000, env: { ...process.env, PNPM: '' } });
    if (install.status !== 0) throw new Error(`install-runtime.sh failed (${install.status}):\n${install.stdout}\n${install.stderr}`);
    // The runtime stage: `RUN chmod -R a-w /app && ln -s /app/bin/tender-server /usr/local/bin/tender-server`.
    spawnSync('chmod', ['-R', 'a-w', app]);
    mkdirSync(join(work, 'usr-local-bin'));
    symlinkSync(join(app, 'bin', 'tender-server'), join(work, 'usr-local-bin', 'tender-server'));
  }, 240_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    if (work) rmSync(work, { recursive: true, force: true });
    for (const schema of schemas) await dropSchema(schema);
  });

  it('the Dockerfile builds /app with install-runtime.sh and runs it as 1001 with the entry points these tests run', () => {
    const stages = readDockerfile(join(DEPLOY_DIR, 'Dockerfile'));
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    const build = stages[0]!;
    expect(build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args)).toContain('deploy/image/install-runtime.sh /app');
    expect(runtime.from).toBe(build.from);
    // The runtime stage holds the base image and /app, nothing else.
    expect(runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args)).toEqual(['--from=build --chown=root:root /app /app']);
    expect(runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args)).toContain('chmod -R a-w /app && ln -s /app/bin/tender-server /usr/local/bin/tender-server');
    expect(runtime.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args).toBe('1001:1001');
    expect(runtime.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args).toBe('/app');
    expect(dockerEnv(runtime)).toMatchObject({ HOME: '/tmp', TMPDIR: '/tmp', NODE_ENV: 'production' });
    expect(runtime.instructions.filter((i) => i.keyword === 'VOLUME').at(-1)?.args).toBe('["/tmp"]');
    expect(dockerExec(runtime, 'ENTRYPOINT')).toEqual(['tender-server']);
    expect(dockerExec(runtime, 'CMD')).toEqual(['start']);
    expect(dockerExec(runtime, 'HEALTHCHECK')).toEqual(['node', '/app/bin/healthcheck.mjs']);
    // No embedded database in the image: nothing of PGlite's data directory is copied into it.
    expect(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')).toMatch(/^\.tender-data$/m);
    expect(existsSync(join(app, '.tender-data'))).toBe(false);
  });

  it('holds the server’s production dependencies, and no build or test tool', async () => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/server-express/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const tools = ['vitest', 'vite', 'typescript', 'tsx', 'tsup', 'esbuild', 'msw', 'playwright-core', 'typedoc', '@changesets/cli', 'kubernetes-models', 'amqplib'];
    // Resolved by node from the image's working directory, as the server resolves its imports.
    const probe = `
      const { existsSync } = require('node:fs');
      const { dirname, join } = require('node:path');
      // Where node looks for a bare import: node_modules/<name> here and in every directory above.
      const resolves = (name) => { for (let dir = process.cwd(); ; dir = dirname(dir)) { if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return true; if (dir === '/') return false; } };
      console.log(JSON.stringify({ missing: ${JSON.stringify(Object.keys(manifest.dependencies))}.filter((d) => !resolves(d)), tools: ${JSON.stringify(tools)}.filter(resolves) }));`;
    const out = await runToEnd(sandboxed(workdir(), imageEnv({}), ['node', '-e', probe]));
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ missing: [], tools: [] });
    const store = readdirSync(join(app, 'node_modules', '.pnpm'));
    for (const tool of ['vitest@', 'vite@', 'typescript@', 'esbuild@', 'msw@', 'rollup@', 'tsup@', 'tsx@']) {
      expect(store.filter((entry) => entry.startsWith(tool)), tool).toEqual([]);
    }
    // Every package at exactly the version the workspace lockfile pins (nothing resolved anew).
    const lockfile = readFileSync(join(REPO_ROOT, 'pnpm-lock.yaml'), 'utf8');
    const packages = store.filter((e) => e !== 'node_modules' && e !== 'lock.yaml' && !e.includes('@file+'));
    expect(packages.length).toBeGreaterThan(100);
    const unpinned = packages.filter((entry) => {
      const m = /^(@?[^@]+)@([^_]+)(?:_.*)?$/.exec(entry);
      if (!m) return true;
      const name = m[1]!.replace('+', '/');
      return !lockfile.includes(`\n  ${name}@${m[2]}:`) && !lockfile.includes(`\n  '${name}@${m[2]}':`);
    });
    expect(unpinned).toEqual([]);
    // Nothing above the layout could lend it a module (as nothing does in the image).
    for (let dir = dirname(app); dir !== '/'; dir = dirname(dir)) expect(existsSync(join(dir, 'node_modules')), dir).toBe(false);
    expect(existsSync('/node_modules')).toBe(false);
  });

  it('the sandbox is the container’s: uid 1001, no groups, only /tmp writable', async () => {
    const probe = `
      const fs = require('node:fs');
      const tryWrite = (p) => { try { fs.writeFileSync(p, 'x'); return 'written'; } catch (e) { return e.code; } };
      console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(),
        app: tryWrite('./probe'), varTmp: tryWrite('/var/tmp/probe'), tmp: tryWrite('/tmp/probe'), home: tryWrite(require('node:os').homedir() + '/probe') }));`;
    const out = await runToEnd(sandboxed(workdir(), imageEnv({}), ['node', '-e', probe]));
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ uid: 1001, gid: 1001, groups: [1001], app: 'EROFS', varTmp: 'EROFS', tmp: 'written', home: 'written' });
    expect(existsSync('/tmp/probe')).toBe(false);
  });

  it('refuses every store command without DATABASE_URL, naming it; `token` needs none', async () => {
    for (const command of [[], ['migrate'], ['rotate-keys'], ['purge', '--dry-run']]) {
      const out = await runToEnd(sandboxed(workdir(), imageEnv({}), [...dockerExec(runtime, 'ENTRYPOINT'), ...(command.length ? command : dockerExec(runtime, 'CMD'))]));
      expect(out.code).toBe(78);
      expect(out.stderr).toMatch(/DATABASE_URL .*required/);
    }
    const secret = randomBytes(32).toString('base64url');
    const token = await runToEnd(sandboxed(workdir(), imageEnv({ JWT_SECRET: secret }), ['tender-server', 'token', '--merchant', 'm1', '--expires', '10m']));
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('runs the migration Job’s `tender-server migrate` on a fresh schema', async () => {
    const schema = freshSchema('deploy_image');
    schemas.push(schema);
    const job = podContainer('Job');
    const env = imageEnv({ ...containerEnvironment(job, objects, SECRETS), DATABASE_SCHEMA: schema });
    const out = await runToEnd(sandboxed(workdir(), env, job.command!.map(inImage)));
    expect(out.code, `${out.stdout}\n${out.stderr}`).toBe(0);
    expect(out.stdout).toContain('migrations applied (postgres)');
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1', [schema]);
      expect(Number(rows[0]!.n)).toBeGreaterThan(3);
    } finally {
      await client.end();
    }
    migratedSchema = schema;
  }, 60_000);

  it('runs `rotate-keys` and `purge --dry-run` with a server pod’s environment (as kubectl exec does)', async () => {
    expect(migratedSchema, 'the migration test ran first').toBeDefined();
    const env = imageEnv({ ...containerEnvironment(podContainer('Deployment'), objects, SECRETS), DATABASE_SCHEMA: migratedSchema! });
    for (const command of [['rotate-keys'], ['purge', '--dry-run']]) {
      const out = await runToEnd(sandboxed(workdir(), env, ['tender-server', ...command]));
      expect(out.code, `${command.join(' ')}: ${out.stdout}\n${out.stderr}`).toBe(0);
      expect(`${out.stdout}${out.stderr}`).not.toMatch(/EROFS|EACCES/);
    }
  }, 60_000);

  it('starts the Deployment’s server: /health and /ready 200, /metrics on its port, HEALTHCHECK passes, SIGTERM exits 0', async () => {
    const schema = freshSchema('deploy_image');
    schemas.push(schema);
    const c = podContainer('Deployment');
    const secrets = SECRETS;
    // The manifests' environment, with every listener on a free port and a schema of this test's.
    const manifestEnv = containerEnvironment(c, objects, secrets);
    const ports = Object.fromEntries(Object.keys(manifestEnv).filter((k) => k === 'PORT' || k.endsWith('_PORT')).map((k) => [k, '0']));
    const env = imageEnv({ ...manifestEnv, ...ports, DATABASE_SCHEMA: schema });
    const argv = [...dockerExec(runtime, 'ENTRYPOINT'), ...(c.command ?? []), ...(c.args ?? dockerExec(runtime, 'CMD'))];
    expect(argv).toEqual(['tender-server', 'start']);
    const server = sandboxed(workdir(), env, argv);
    let output = '';
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(server, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    const listening = await until('tender-server listening', 45_000, async () => {
      if (server.exitCode !== null) throw new Error(`exited ${server.exitCode}: ${output.slice(-3000)}`);
      const line = output.split('\n').find((l) => l.includes('tender-server listening'));
      return line ? (JSON.parse(line) as { url: string; metrics_url?: string; health_url?: string }) : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${output.slice(-3000)}`);
    });
    const local = (url: string) => url.replace('//0.0.0.0:', '//127.0.0.1:');
    const base = local(listening.url);
    // The probes' listener: HEALTH_CHECK_PORT's when the manifests set it, else the API port.
    if (manifestEnv.HEALTH_CHECK_PORT) expect(listening.health_url, 'HEALTH_CHECK_PORT from the ConfigMap').toBeDefined();
    const probes = listening.health_url ? local(listening.health_url) : base;
    expect((await fetch(`${probes}/health`)).status).toBe(200);
    const ready = await until('/ready 200', 30_000, async () => ((await fetch(`${probes}/ready`)).status === 200 ? true : undefined));
    expect(ready).toBe(true);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(listening.metrics_url, 'METRICS_PORT from the ConfigMap').toBeDefined();
    const metrics = await fetch(local(listening.metrics_url!));
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('tender_');

    // HEALTHCHECK with the ports the server picked in place of the manifests' 0s.
    const picked = { PORT: new URL(base).port, ...(listening.health_url ? { HEALTH_CHECK_PORT: new URL(probes).port } : {}) };
    const healthcheck = () => runToEnd(sandboxed(workdir(), { ...env, ...picked }, dockerExec(runtime, 'HEALTHCHECK').map(inImage)));
    const healthy = await healthcheck();
    expect(healthy.code, healthy.stderr).toBe(0);

    server.kill('SIGTERM');
    const [code, signal] = await exited;
    expect({ code, signal }, output.slice(-3000)).toEqual({ code: 0, signal: null });
    expect(output).not.toMatch(/EROFS|EACCES|read-only file system|permission denied/i);
    expect(output).toContain('tender-server stopped');
    // The Secret's encryption-key reached the server (it warns when personal data would be stored in the clear).
    expect(manifestEnv.ENCRYPTION_KEY).toBe(secrets['encryption-key']);
    expect(output).not.toContain('ENCRYPTION_KEY is not set');
    const down = await healthcheck();
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('/health failed');
  }, 120_000);
});
