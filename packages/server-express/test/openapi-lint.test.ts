/**
 * The OpenAPI document passes `redocly lint` (the recommended ruleset, as redocly.yaml configures it)
 * with no error and no warning, every operation has a unique operationId and a 4xx response, and
 * scripts/rest-reference.ts renders it to static HTML.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../src/openapi';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const bin = (name: string) => join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);
const dir = mkdtempSync(join(tmpdir(), 'tender-openapi-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
type Operation = { operationId?: string; responses?: Record<string, unknown> };
const doc = buildOpenApiDocument() as { paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => METHODS.includes(method))
    .map(([method, operation]) => ({ where: `${method.toUpperCase()} ${path}`, operation })),
);

describe('OpenAPI document lint', () => {
  it('redocly lint: no errors, no warnings', () => {
    const spec = join(dir, 'openapi.json');
    writeFileSync(spec, JSON.stringify(doc));
    let out: string;
    try {
      out = execFileSync(bin('redocly'), ['lint', spec, '--config', join(root, 'redocly.yaml'), '--format=json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      out = String((error as { stdout?: string }).stdout ?? '');
    }
    const report = JSON.parse(out.slice(out.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string; location?: Array<{ pointer?: string }> }> };
    const problems = report.problems.map((p) => `${p.ruleId} ${p.location?.[0]?.pointer ?? ''}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('every operation has a unique camelCase operationId and a 4xx response', () => {
    expect(operations.length).toBeGreaterThan(20);
    const ids = operations.map(({ operation }) => operation.operationId);
    for (const { where, operation } of operations) {
      expect(operation.operationId, where).toMatch(/^[a-z][A-Za-z0-9]*$/);
      expect(Object.keys(operation.responses ?? {}).some((code) => /^4[0-9X]{2}$/.test(code)), `${where} has a 4xx response`).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the main request bodies carry examples', () => {
    const examples = (path: string) => {
      const op = doc.paths[path]!.post as { requestBody: { content: Record<string, { examples?: Record<string, unknown> }> } };
      return Object.keys(op.requestBody.content['application/json']!.examples ?? {});
    };
    expect(examples('/api/v1/payments').length).toBeGreaterThan(0);
    expect(examples('/api/v1/payments/{id}/refund').length).toBeGreaterThan(0);
  });

  it('scripts/rest-reference.ts renders static HTML', () => {
    const html = join(dir, 'rest', 'index.html');
    execFileSync(bin('tsx'), [join(root, 'scripts', 'rest-reference.ts'), html], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(existsSync(html)).toBe(true);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<html');
    for (const id of ['createPayment', 'getPayment', 'refundPayment', 'streamPaymentEvents', 'createWebhookEndpoint']) expect(page).toContain(id);
  });
});
