/**
 * The monitoring artifacts in deploy/ checked with the real tools and against a real server:
 * - deploy/prometheus: `promtool check rules`, `promtool test rules` (every alert fires in one
 *   scenario and stays silent in another), `promtool check config` of the example configuration;
 * - every PromQL expression of the alert and recording rules and of the Grafana dashboard
 *   (deploy/grafana) is valid PromQL (promtool) and names only metrics a running server exports
 *   (simulation mode, after real payments, refunds, refused tokens and gRPC calls);
 * - each alert's runbook_url names a section of docs/operations.md.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { streamNameFor } from '@tender/nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { NATS_URL, haveNats, testConnection, unique } from '../../nats/test/nats-helpers';
import { signToken } from '../src/auth';
import { createLogger } from '../src/logging';
import { startTenderServer, type TenderServer } from '../src/server';
import { paymentClient } from './grpc-client';
import { scrapeMetrics, type Scrape } from './prom-text';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PROMETHEUS_DIR = join(ROOT, 'deploy/prometheus');
const DASHBOARD = join(ROOT, 'deploy/grafana/tender-dashboard.json');
const PROMTOOL = '/usr/bin/promtool';
// Skipped only on a machine without promtool, never in CI (`.ci/run` installs Debian's `prometheus`
// package and sets TENDER_REQUIRE_PROMTOOL=1, so a missing promtool fails there).
const havePromtool = existsSync(PROMTOOL) || process.env.TENDER_REQUIRE_PROMTOOL === '1';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rulesOf = (file: string): Rule[] => (parseYaml(readFileSync(join(PROMETHEUS_DIR, file), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const alerts = rulesOf('alerts.yml');
const recordings = rulesOf('recording.yml');

interface Target {
  expr: string;
}
interface Panel {
  type: string;
  id: number;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Array<Target & { refId: string; datasource?: { uid: string } }>;
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
};

// Grafana's variables, as a dashboard would have them substituted.
const VARIABLES: Record<string, string> = { $__rate_interval: '5m', $__interval: '1m', $__range: '1h', $job: 'payment-service', $instance: '.*', $gateway: '.*' };
function substitute(expr: string): string {
  return expr.replace(/\$\{?(__rate_interval|__interval|__range|job|instance|gateway)\}?/g, (_m, name: string) => VARIABLES[`$${name}`]!);
}

/** PromQL for each template variable query (`label_values(metric{...}, label)` -> a selector). */
function variableExprs(): string[] {
  return dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => (typeof v.query === 'string' ? v.query : v.query!.query))
    .map((q) => {
      const m = /^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(q.trim());
      if (!m) throw new Error(`unsupported variable query: ${q}`);
      return `count by (${m[2]}) (${m[1]})`;
    });
}

const panelExprs = () =>
  dashboard.panels
    .filter((p) => p.type !== 'row')
    .flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

// PromQL words that are not metric names.
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2']);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile']);

/**
 * The metric names an expression reads: identifiers used bare or before `{` or `[`, after removing
 * strings, label matchers, ranges, grouping label lists and numbers; function and aggregation names
 * (identifiers before `(`) and keywords are not metrics.
 */
function metricNames(expr: string): Set<string> {
  let text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ');
  text = text.replace(/(^|[^A-Za-z0-9_:.])(\d+(\.\d+)?([eE][+-]?\d+)?|0x[0-9a-fA-F]+)(?![A-Za-z0-9_:])/g, '$1 ');
  const names = new Set<string>();
  for (const m of text.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = text.slice(m.index! + word.length).trimStart();
    if (after.startsWith('(')) continue;
    if (KEYWORDS.has(word.toLowerCase()) || AGGREGATIONS.has(word)) continue;
    names.add(word);
  }
  return names;
}

/** Metric names a scrape declares, histograms and summaries with their series' suffixes. */
function exportedNames(scrape: Scrape): Set<string> {
  const names = new Set<string>();
  for (const [family, type] of scrape.families) {
    names.add(family);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(family + suffix);
  }
  return names;
}

// Series Prometheus itself makes for every target.
const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

describe('PromQL metric-name extraction', () => {
  it('finds metrics bare, before { and [, and skips functions, aggregations, grouping labels, strings and numbers', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, operation) (rate(payment_duration_seconds_bucket{job="payment-service", route!~"/health|x_y"}[5m])))')).toEqual(new Set(['payment_duration_seconds_bucket']));
    expect(metricNames('up{job="a"} == 0 or absent(up{job="a"})')).toEqual(new Set(['up']));
    expect(metricNames('db_connections_waiting > 0 and db_connections_active >= db_connections_max')).toEqual(new Set(['db_connections_waiting', 'db_connections_active', 'db_connections_max']));
    expect(metricNames('sum(rate(a_total[5m])) by (job) / ignoring(code) group_left sum(b) * 1e3 + 86400 - 0.5')).toEqual(new Set(['a_total', 'b']));
    expect(metricNames('deriv(max(db_size_bytes{x="1"})[1h:5m]) * 86400')).toEqual(new Set(['db_size_bytes']));
    expect(metricNames('job:payment_success_rate:ratio_rate5m offset 5m')).toEqual(new Set(['job:payment_success_rate:ratio_rate5m']));
    expect(metricNames('(sum(rate(x[5m])) or vector(0)) > bool 1')).toEqual(new Set(['x']));
  });
});

describe('dashboard and alert rules against a running server', () => {
  let server: TenderServer;
  let dir: string;
  let scrape: Scrape;
  const topic = unique('tender_monitoring');
  const secret = 'monitoring-secret-monitoring-secret-0123456789';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tender-monitoring-'));
    server = await startTenderServer({
      env: {
        PORT: '0',
        METRICS_PORT: '0',
        GRPC_PORT: '0',
        JWT_SECRET: secret,
        TENDER_DATA_DIR: join(dir, 'data'),
        RECONCILE_INTERVAL: '0',
        // The relay's gauges exist only with a broker: NATS where it runs (always in CI).
        ...(haveNats ? { EVENT_BROKER_URL: NATS_URL, EVENT_TOPIC: topic } : {}),
      },
      logger: createLogger({ destination: new Writable({ write(_c, _e, cb) { cb(); } }) }),
    });
    const token = await signToken({ secret, merchantId: 'monitoring' });
    const api = async (method: string, path: string, body?: unknown, bearer: string | null = token) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    // A few payments so the series exist: captured and refunded on Stripe, declined, a Fiuu checkout.
    const paid = await api('POST', '/api/v1/payments', { amount: '25.00', currency: 'MYR', payment_method: 'pm_card_visa', gateway: 'stripe' });
    expect(paid.body.status).toBe('CAPTURED');
    expect((await api('POST', `/api/v1/payments/${paid.body.id}/refund`, { amount: '5.00' })).status).toBe(201);
    expect((await api('POST', '/api/v1/payments', { amount: '8.00', currency: 'MYR', payment_method: 'pm_card_chargeDeclined', gateway: 'stripe' })).body.status).toBe('FAILED');
    expect((await api('POST', '/api/v1/payments', { amount: '12.00', currency: 'MYR', payment_method: 'FPX', gateway: 'fiuu' })).status).toBe(201);
    expect((await api('GET', '/api/v1/payments', undefined, null)).status).toBe(401);
    const grpc = paymentClient(server.grpcAddress!, token);
    try {
      expect((await grpc.call('GetPayment', { payment_id: paid.body.id })).error).toBeNull();
    } finally {
      grpc.close();
    }
    scrape = await scrapeMetrics(server.metricsUrl!);
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (haveNats) {
      const nc = await testConnection();
      try {
        await (await jetstreamManager(nc)).streams.delete(streamNameFor(topic)).catch(() => undefined);
      } finally {
        await nc.close();
      }
    }
  });

  it('the traffic produced the series the dashboard is about', () => {
    expect(scrape.value('payment_results_total', { gateway: 'stripe', result: 'succeeded' })).toBe(1);
    expect(scrape.value('payment_results_total', { gateway: 'stripe', result: 'failed' })).toBe(1);
    expect(scrape.value('revenue_total', { currency: 'MYR' })).toBe(25);
    expect(scrape.value('revenue_refunded_total', { currency: 'MYR' })).toBe(5);
    expect(scrape.value('failed_auth_total', { reason: 'missing_token', api: 'rest' })).toBe(1);
    expect(scrape.value('grpc_server_handled_total', { grpc_method: 'GetPayment', grpc_code: 'OK' })).toBe(1);
    expect(scrape.value('fiuu_circuit_breaker_state')).toBe(0);
    expect(scrape.all('fiuu_circuit_breaker_state')[0]!.labels.merchant_id).toBeTruthy();
    expect(scrape.value('tender_gateway_requests_total', { gateway: 'stripe', operation: 'create_payment', outcome: '2xx' })).toBe(1);
    expect(scrape.value('db_query_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(scrape.value('db_size_bytes')).toBeGreaterThan(0);
    for (const name of ['db_connections_active', 'tender_reconcile_stuck_payments', 'tender_outbox_backlog', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'process_cpu_seconds_total']) {
      expect(scrape.all(name).length, name).toBeGreaterThan(0);
    }
  });

  it('every metric a dashboard panel or variable reads is one the server exports', () => {
    const exported = exportedNames(scrape);
    const missing: string[] = [];
    const exprs = [...panelExprs(), ...variableExprs().map((expr) => ({ panel: 'variables', expr }))];
    expect(exprs.length).toBeGreaterThan(30);
    for (const { panel, expr } of exprs) {
      const names = metricNames(substitute(expr));
      expect(names.size, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) if (!exported.has(name)) missing.push(`${panel}: ${name}`);
    }
    if (!haveNats) missing.splice(0, missing.length, ...missing.filter((m) => !/tender_relay_(backlog|oldest_pending_age_seconds)$/.test(m)));
    expect(missing).toEqual([]);
  });

  it('every metric an alert or recording rule reads is exported (or made by Prometheus: up)', () => {
    const exported = exportedNames(scrape);
    const missing: string[] = [];
    for (const rule of [...alerts, ...recordings]) {
      for (const name of metricNames(rule.expr)) if (!exported.has(name) && !SYNTHETIC.has(name)) missing.push(`${rule.alert ?? rule.record}: ${name}`);
    }
    if (!haveNats) missing.splice(0, missing.length, ...missing.filter((m) => !/tender_relay_(backlog|oldest_pending_age_seconds)$/.test(m)));
    expect(missing).toEqual([]);
  });
});

describe('the Grafana dashboard', () => {
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  const rows = dashboard.panels.filter((p) => p.type === 'row');

  it("has the four panel groups (payments, system, gateways, database), each with its panels", () => {
    expect(rows.map((r) => r.title)).toEqual(['Payment Metrics', 'System Metrics', 'Fiuu Integration (and every gateway)', 'Database Metrics']);
    const groups = new Map<string, string[]>();
    let current = '';
    for (const p of [...dashboard.panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x)) {
      if (p.type === 'row') current = p.title;
      else groups.set(current, [...(groups.get(current) ?? []), p.title]);
    }
    const expected: Record<string, RegExp[]> = {
      'Payment Metrics': [/^Payments per minute/, /^Success rate by payment method/, /^Average payment amount/, /^Payment processing duration/],
      'System Metrics': [/^HTTP requests per second/, /^Error rate/, /^Response time percentiles/, /^Memory/, /^CPU/],
      'Fiuu Integration (and every gateway)': [/request rate/, /^Circuit breaker state/, /^Retry attempts/, /^Error breakdown/],
      'Database Metrics': [/^Connection pool usage/, /^Query duration/, /^Database size growth/],
    };
    for (const [group, wanted] of Object.entries(expected)) {
      for (const title of wanted) expect(groups.get(group)?.some((t) => title.test(t)), `${group}: ${title}`).toBe(true);
    }
  });

  it('is a well-formed classic dashboard: unique ids, every panel on the 24-column grid, queries through the data source variable', () => {
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{8,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.gridPos.h, p.title).toBeGreaterThan(0);
    }
    expect(dashboard.templating.list.find((v) => v.type === 'datasource')?.name).toBe('datasource');
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refs = p.targets!.map((t) => t.refId);
      expect(new Set(refs).size, p.title).toBe(refs.length);
      for (const t of p.targets!) expect(t.expr.trim(), p.title).not.toBe('');
    }
    // No two panels overlap.
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const cell = `${x},${y}`;
          expect(cells.has(cell), `${p.title} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });
});

describe('alert rules and their runbooks', () => {
  const expectedAlerts = ['TenderServiceDown', 'TenderHighErrorRate', 'TenderHighLatency', 'TenderCircuitBreakerOpen', 'TenderDatabasePoolExhausted', 'TenderOutboxBacklog', 'TenderRelayBacklog', 'TenderReconcilerStuckPayments'];
  it("has the service, error-rate, latency, circuit-breaker and pool alerts plus outbox, relay and reconciler, each with a severity and a runbook section in docs/operations.md", () => {
    expect(alerts.map((a) => a.alert)).toEqual(expectedAlerts);
    const operations = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    for (const a of alerts) {
      expect(['critical', 'warning']).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.runbook_url).toBe(`docs/operations.md#${a.alert!.toLowerCase()}`);
      expect(operations, `docs/operations.md has a section ### ${a.alert}`).toMatch(new RegExp(`^### ${a.alert}$`, 'm'));
    }
  });

  it('unit tests make every alert fire in one scenario and stay silent in another', () => {
    const tests = (parseYaml(readFileSync(join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }> }).tests;
    const cases = tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of expectedAlerts) {
      expect(cases.some((c) => c.alertname === name && (c.exp_alerts?.length ?? 0) > 0), `${name} fires somewhere`).toBe(true);
      expect(cases.some((c) => c.alertname === name && (c.exp_alerts?.length ?? 0) === 0), `${name} is silent somewhere`).toBe(true);
    }
  });
});

describe.skipIf(!havePromtool)('promtool (Debian prometheus package)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tender-promtool-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is installed', () => {
    expect(existsSync(PROMTOOL), `${PROMTOOL} is missing: apt-get install prometheus (CI: .ci/run)`).toBe(true);
  });

  it('checks the alert and recording rules (PromQL included)', async () => {
    const { stdout } = await run(PROMTOOL, ['check', 'rules', 'alerts.yml', 'recording.yml'], { cwd: PROMETHEUS_DIR });
    expect(stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(stdout).toContain(`SUCCESS: ${recordings.length} rules found`);
  });

  it('passes the rules unit tests', async () => {
    const { stdout } = await run(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], { cwd: PROMETHEUS_DIR });
    expect(stdout).toContain('SUCCESS');
  });

  it('fails a unit test whose alert does not fire (the tests can fail)', async () => {
    const broken = readFileSync(join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8').replace("values: '3x10'", "values: '0x10'");
    for (const file of ['alerts.yml', 'recording.yml']) copyFileSync(join(PROMETHEUS_DIR, file), join(dir, file));
    writeFileSync(join(dir, 'broken.test.yml'), broken);
    await expect(run(PROMTOOL, ['test', 'rules', 'broken.test.yml'], { cwd: dir })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('TenderDatabasePoolExhausted') });
  });

  it('accepts the example Prometheus configuration with its rule files', async () => {
    for (const file of ['alerts.yml', 'recording.yml']) copyFileSync(join(PROMETHEUS_DIR, file), join(dir, file));
    const token = join(dir, 'token');
    writeFileSync(token, 'metrics-token-metrics-token');
    const config = readFileSync(join(PROMETHEUS_DIR, 'prometheus.example.yml'), 'utf8').replace('/etc/prometheus/secrets/tender-metrics-token', token);
    writeFileSync(join(dir, 'prometheus.yml'), config);
    const { stdout } = await run(PROMTOOL, ['check', 'config', 'prometheus.yml'], { cwd: dir });
    expect(stdout).toContain('SUCCESS');
    expect(stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it("checks every dashboard expression's PromQL (as recording rules)", async () => {
    const exprs = [...panelExprs().map((e) => e.expr), ...variableExprs()].map(substitute);
    const rules = { groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr })) }] };
    writeFileSync(join(dir, 'dashboard-rules.yml'), JSON.stringify(rules, null, 2));
    const { stdout } = await run(PROMTOOL, ['check', 'rules', 'dashboard-rules.yml'], { cwd: dir });
    expect(stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
    // And a broken expression is caught.
    writeFileSync(join(dir, 'bad-rules.yml'), JSON.stringify({ groups: [{ name: 'bad', rules: [{ record: 'bad:expr', expr: 'sum(rate(payments_total[5m])' }] }] }));
    await expect(run(PROMTOOL, ['check', 'rules', 'bad-rules.yml'], { cwd: dir })).rejects.toMatchObject({ code: 1 });
  });
});
