/**
 * deploy/kubernetes: every manifest parses, the base and the production overlay render (a minimal
 * kustomize for this layout: an overlay patch that targets nothing is an error), every object
 * validates against the Kubernetes API schemas (kubernetes-models, Kubernetes 1.33) with unknown
 * fields refused, every environment variable set is one tender-server reads, and the pieces refer to
 * each other (selectors, ports, probes, secrets) consistently.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import {
  KUBERNETES_DIR,
  DEPLOY_DIR,
  containerEnvironment,
  dockerEnv,
  dockerExec,
  kustomize,
  readDockerfile,
  readYamlDocuments,
  serverEnvironmentVariables,
  validateObject,
  type K8sObject,
} from './deploy-helpers';

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  env?: Array<{ name: string; value?: string; valueFrom?: Record<string, { name: string; key: string; optional?: boolean }> }>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  volumes?: Array<{ name: string; emptyDir?: Record<string, unknown> }>;
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
}

const OVERLAYS = readdirSync(join(KUBERNETES_DIR, 'overlays'));
const RENDERS: Record<string, string> = { base: join(KUBERNETES_DIR, 'base'), ...Object.fromEntries(OVERLAYS.map((o) => [`overlays/${o}`, join(KUBERNETES_DIR, 'overlays', o)])) };
const NAMESPACE = 'payment-service';
const SECRET = 'payment-service-secrets';

function find(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const matches = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (matches.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${matches.length}`);
  return matches[0]!;
}
const podSpecOf = (o: K8sObject) => (o.spec as { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }).template;
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const durationSeconds = (text: string) => {
  const m = /^(\d+)(ms|s|m)$/.exec(text);
  if (!m) throw new Error(`duration ${text}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2] as 'ms' | 's' | 'm'];
};

let known: Set<string>;
const rendered: Record<string, K8sObject[]> = {};

beforeAll(async () => {
  known = await serverEnvironmentVariables();
  for (const [label, dir] of Object.entries(RENDERS)) rendered[label] = kustomize(dir);
});

describe('deploy/kubernetes manifests', () => {
  it('has a base and a production overlay, every YAML file parsing', () => {
    expect(OVERLAYS).toContain('production');
    const files = ['base', ...OVERLAYS.map((o) => `overlays/${o}`)].flatMap((d) =>
      readdirSync(join(KUBERNETES_DIR, d))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => join(KUBERNETES_DIR, d, f)),
    );
    expect(files.length).toBeGreaterThan(12);
    for (const file of files) expect(readYamlDocuments(file).length, file).toBeGreaterThan(0);
  });

  it('the instrument: the known variables include the config schema and the transport variables', () => {
    for (const name of ['DATABASE_URL', 'METRICS_PORT', 'FIUU_TIMEOUT', 'FIUU_RETRY_ATTEMPTS', 'STRIPE_TIMEOUT', 'PAYPAL_CIRCUIT_THRESHOLD', 'UPI_CIRCUIT_OPEN', 'FIUU_POOL_CONNECTIONS']) {
      expect(known.has(name), name).toBe(true);
    }
    // And the strict validation catches a misspelt field, which the schema alone lets through.
    const deployment = structuredClone(find(rendered.base!, 'Deployment'));
    const container = podSpecOf(deployment).spec.containers[0]! as Container & { livenesProbe?: unknown };
    container.livenesProbe = container.livenessProbe;
    return expect(validateObject(deployment)).resolves.toEqual(['/spec/template/spec/containers/0/livenesProbe']);
  });

  for (const label of Object.keys(RENDERS)) {
    describe(label, () => {
      const objects = () => rendered[label]!;

      it('renders every kind the guide names, each valid against the Kubernetes API schema with no unknown field', async () => {
        const kinds = objects().map((o) => `${o.apiVersion} ${o.kind}`);
        for (const kind of [
          'v1 Namespace',
          'v1 ServiceAccount',
          'v1 ConfigMap',
          'v1 Secret',
          'apps/v1 Deployment',
          'v1 Service',
          'networking.k8s.io/v1 Ingress',
          'autoscaling/v2 HorizontalPodAutoscaler',
          'policy/v1 PodDisruptionBudget',
          'networking.k8s.io/v1 NetworkPolicy',
          'batch/v1 Job',
        ]) {
          expect(kinds, kind).toContain(kind);
        }
        for (const o of objects()) {
          const unknown = await validateObject(o).catch((error: Error) => [`invalid: ${error.message}`]);
          expect(unknown, `${o.kind} ${o.metadata.name}`).toEqual([]);
        }
        const ids = objects().map((o) => `${o.kind}/${o.metadata.name}`);
        expect(new Set(ids).size, 'duplicate resources').toBe(ids.length);
      });

      it('puts everything in the payment-service namespace', () => {
        expect(find(objects(), 'Namespace').metadata.name).toBe(NAMESPACE);
        for (const o of objects().filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(NAMESPACE);
      });

      it('sets only environment variables tender-server reads, and every reference resolves', () => {
        const configMaps = objects().filter((o) => o.kind === 'ConfigMap');
        for (const cm of configMaps) {
          for (const key of Object.keys((cm.data ?? {}) as object)) expect(known.has(key), `ConfigMap ${cm.metadata.name}: ${key}`).toBe(true);
        }
        const secret = find(objects(), 'Secret', SECRET);
        const secretKeys = Object.keys({ ...((secret.stringData ?? {}) as object), ...((secret.data ?? {}) as object) });
        for (const workload of [find(objects(), 'Deployment'), find(objects(), 'Job')]) {
          for (const c of podSpecOf(workload).spec.containers) {
            for (const e of c.env ?? []) {
              expect(known.has(e.name), `${workload.kind} ${c.name}: ${e.name}`).toBe(true);
              const s = e.valueFrom?.secretKeyRef;
              if (s) {
                expect(s.name, e.name).toBe(SECRET);
                if (!s.optional) expect(secretKeys, `${e.name} needs secret key ${s.key}`).toContain(s.key);
              }
              const cm = e.valueFrom?.configMapKeyRef;
              if (cm) expect(configMaps.map((x) => x.metadata.name)).toContain(cm.name);
            }
            for (const from of c.envFrom ?? []) expect(configMaps.map((x) => x.metadata.name), 'envFrom').toContain(from.configMapRef?.name);
            // Each container's environment as Kubernetes would build it, with the template's values.
            containerEnvironment(c, objects(), Object.fromEntries(secretKeys.map((k) => [k, 'x'])));
          }
        }
      });

      it('keeps the Secret a template: placeholders only, each refused by the server at start', () => {
        const secret = find(objects(), 'Secret', SECRET);
        expect(secret.data, 'base64 data would hide real values').toBeUndefined();
        const values = secret.stringData as Record<string, string>;
        for (const [key, value] of Object.entries(values)) expect(value, key).toBe('CHANGE_ME');
        const deployment = find(objects(), 'Deployment');
        const env = containerEnvironment(podSpecOf(deployment).spec.containers[0]!, objects(), values);
        let error: unknown;
        try {
          loadConfig(env);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        const issues = (error as ConfigError).issues.join('\n');
        expect(issues).toMatch(/^DATABASE_URL: /m);
        expect(issues).toMatch(/^JWT_SECRET: /m);
        expect(issues).toMatch(/^ENCRYPTION_KEY: /m);
      });

      it('runs the server with the guide’s ports, probes, resources and restricted security context', () => {
        const deployment = find(objects(), 'Deployment');
        const template = podSpecOf(deployment);
        const pod = template.spec;
        expect(pod.containers).toHaveLength(1);
        const c = pod.containers[0]!;
        const config = find(objects(), 'ConfigMap', 'payment-service-config').data as Record<string, string>;
        const port = (name: string) => c.ports?.find((p) => p.name === name)?.containerPort;
        expect(port('http')).toBe(Number(config.PORT));
        expect(port('metrics')).toBe(Number(config.METRICS_PORT));
        expect(config.METRICS_HOST).toBe('0.0.0.0');
        expect(config.HOST).toBe('0.0.0.0');
        expect(config.TENDER_SIMULATION).toBe('0');
        // Probes on a port the server serves /health and /ready on: HEALTH_CHECK_PORT's when set.
        const healthPort = config.HEALTH_CHECK_PORT ? 'health' : 'http';
        if (config.HEALTH_CHECK_PORT) expect(port('health')).toBe(Number(config.HEALTH_CHECK_PORT));
        expect(c.livenessProbe?.httpGet).toEqual({ path: '/health', port: healthPort });
        expect(c.readinessProbe?.httpGet).toEqual({ path: '/ready', port: healthPort });
        expect((template as { metadata: { annotations?: Record<string, string> } }).metadata.annotations?.['prometheus.io/port']).toBe(config.METRICS_PORT);
        expect(c.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(c.resources?.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        // The image's entry point, started with `start`.
        expect(c.command).toBeUndefined();
        expect(c.args).toEqual(['start']);
        // Shutdown: preStop pause + SHUTDOWN_TIMEOUT fit in the grace period.
        const pause = Number(c.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
        expect(pod.terminationGracePeriodSeconds!).toBeGreaterThan(pause + durationSeconds(config.SHUTDOWN_TIMEOUT ?? '25s'));
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(find(objects(), 'ServiceAccount', pod.serviceAccountName).automountServiceAccountToken).toBe(false);
      });

      it('runs the migration Job as the image’s `tender-server migrate`, as restricted as the server', () => {
        const job = find(objects(), 'Job');
        const deployment = find(objects(), 'Deployment');
        const jobPod = podSpecOf(job);
        const c = jobPod.spec.containers[0]!;
        expect(c.command).toEqual(['tender-server', 'migrate']);
        expect(c.image).toBe(podSpecOf(deployment).spec.containers[0]!.image);
        expect(jobPod.spec.restartPolicy).toBe('Never');
        expect(c.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef?.key).toBe('migration-database-url');
        // Its pods are not the server's: no Service, PDB or server NetworkPolicy selects them.
        for (const kind of ['Service', 'PodDisruptionBudget']) {
          const o = find(objects(), kind);
          const selector = (o.spec as { selector: { matchLabels?: Record<string, string> } & Record<string, string> }).selector;
          expect(selects(selector.matchLabels ?? selector, jobPod.metadata.labels), kind).toBe(false);
        }
      });

      for (const kind of ['Deployment', 'Job']) {
        it(`${kind}: non-root uid 1001, read-only root, no capabilities, RuntimeDefault seccomp, /tmp an emptyDir`, () => {
          const pod = podSpecOf(find(objects(), kind)).spec;
          expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1001, runAsGroup: 1001, seccompProfile: { type: 'RuntimeDefault' } });
          for (const c of pod.containers) {
            expect(c.securityContext, c.name).toMatchObject({
              runAsNonRoot: true,
              runAsUser: 1001,
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              privileged: false,
              capabilities: { drop: ['ALL'] },
              seccompProfile: { type: 'RuntimeDefault' },
            });
            expect((c.securityContext?.capabilities as { add?: unknown }).add).toBeUndefined();
            const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
            expect(tmp, `${c.name} mounts /tmp`).toBeDefined();
            expect(pod.volumes?.find((v) => v.name === tmp!.name)?.emptyDir).toMatchObject({ sizeLimit: expect.any(String) });
            expect(c.volumeMounts, 'only /tmp is writable').toHaveLength(1);
          }
        });
      }

      it('wires Service, Ingress, HPA, PDB and NetworkPolicy to the server pods and their named ports', () => {
        const deployment = find(objects(), 'Deployment');
        const template = podSpecOf(deployment);
        const labels = template.metadata.labels;
        const portNames = new Set(template.spec.containers[0]!.ports!.map((p) => p.name));
        expect((deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels).toEqual({ app: 'payment-service' });

        const service = find(objects(), 'Service', 'payment-service');
        const svc = service.spec as { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string }> };
        expect(selects(svc.selector, labels)).toBe(true);
        for (const p of svc.ports) expect(portNames, `Service port ${p.name}`).toContain(p.targetPort);
        expect(svc.ports.find((p) => p.name === 'http')?.port).toBe(80);

        const ingress = find(objects(), 'Ingress');
        const rules = (ingress.spec as { rules: Array<{ host: string; http: { paths: Array<{ backend: { service: { name: string; port: { name: string } } } }> } }>; tls: Array<{ hosts: string[] }> });
        for (const rule of rules.rules) {
          expect(rules.tls.flatMap((t) => t.hosts), 'every host has TLS').toContain(rule.host);
          for (const path of rule.http.paths) {
            expect(path.backend.service.name).toBe(service.metadata.name);
            expect(path.backend.service.port.name, 'only the API is published').toBe('http');
          }
        }
        const config = find(objects(), 'ConfigMap', 'payment-service-config').data as Record<string, string>;
        expect(config.PUBLIC_URL).toBe(`https://${rules.rules[0]!.host}`);

        const hpa = find(objects(), 'HorizontalPodAutoscaler').spec as { scaleTargetRef: { kind: string; name: string; apiVersion: string }; minReplicas: number; maxReplicas: number };
        expect(hpa.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
        const pdb = find(objects(), 'PodDisruptionBudget').spec as { minAvailable: number; selector: { matchLabels: Record<string, string> } };
        expect(selects(pdb.selector.matchLabels, labels)).toBe(true);
        // A drain can always evict one pod.
        expect(pdb.minAvailable).toBeLessThan(hpa.minReplicas);
        expect(hpa.maxReplicas).toBeGreaterThanOrEqual(hpa.minReplicas);
        const replicas = (deployment.spec as { replicas: number }).replicas;
        expect(replicas).toBeGreaterThanOrEqual(hpa.minReplicas);

        const policy = find(objects(), 'NetworkPolicy', 'payment-service').spec as {
          podSelector: { matchLabels: Record<string, string> };
          policyTypes: string[];
          ingress: Array<{ ports: Array<{ port: string | number }> }>;
        };
        expect(selects(policy.podSelector.matchLabels, labels)).toBe(true);
        expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
        for (const rule of policy.ingress) for (const p of rule.ports) expect(portNames, `NetworkPolicy port ${p.port}`).toContain(p.port);
        const migrate = find(objects(), 'NetworkPolicy', 'payment-service-migrate').spec as { podSelector: { matchLabels: Record<string, string> } };
        expect(selects(migrate.podSelector.matchLabels, podSpecOf(find(objects(), 'Job')).metadata.labels)).toBe(true);
      });

      it('matches the image: its user, its entry point, its port', () => {
        const runtime = readDockerfile(join(DEPLOY_DIR, 'Dockerfile')).at(-1)!;
        const user = runtime.instructions.filter((i) => i.keyword === 'USER').at(-1)!.args;
        expect(user).toBe('1001:1001');
        expect(dockerExec(runtime, 'ENTRYPOINT')).toEqual(['tender-server']);
        expect(dockerExec(runtime, 'CMD')).toEqual(['start']);
        expect(dockerEnv(runtime).TMPDIR).toBe('/tmp');
        expect(dockerEnv(runtime).HOME).toBe('/tmp');
      });
    });
  }

  it('production: your registry’s image and host, the base otherwise', () => {
    const production = rendered['overlays/production']!;
    const base = rendered.base!;
    const image = podSpecOf(find(production, 'Deployment')).spec.containers[0]!.image;
    expect(image).toBe('your-registry/payment-service:v1.0.0');
    expect(podSpecOf(find(production, 'Job')).spec.containers[0]!.image).toBe(image);
    expect((find(production, 'Ingress').spec as { rules: Array<{ host: string }> }).rules[0]!.host).toBe('payments.yourdomain.com');
    expect(find(production, 'Namespace').metadata.labels).toMatchObject({ name: NAMESPACE, environment: 'production' });
    expect(production.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(base.map((o) => `${o.kind}/${o.metadata.name}`).sort());
  });

  it('an overlay patch that targets nothing is an error (as in kustomize), so every overlay patch above hit its resource', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tender-kustomize-'));
    try {
      const overlay = (patch: string) => {
        writeFileSync(join(dir, 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${join(KUBERNETES_DIR, 'base')}\npatches:\n  - path: patch.yaml\n`);
        writeFileSync(join(dir, 'patch.yaml'), patch);
        return () => kustomize(dir);
      };
      expect(overlay('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payment-service\n  namespace: payment-service\nspec:\n  replicas: 4\n')).not.toThrow();
      expect(overlay('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payment-servic\n  namespace: payment-service\nspec:\n  replicas: 4\n')).toThrow(/matches 0 resources/);
      // Without its namespace a patch may match nothing in some kustomize versions: refused here.
      expect(overlay('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payment-service\nspec:\n  replicas: 4\n')).toThrow(/matches 0 resources/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
