/**
 * Helpers of the deploy/ checks (deploy-image.test.ts, deploy-kubernetes.test.ts): YAML loading, a
 * minimal kustomize for deploy/kubernetes' own layout, strict Kubernetes schema validation, the
 * environment variables the server reads, and a reader of deploy/Dockerfile.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { redactingLogger } from '@tender/core';
import { EnvSchema, loadConfig } from '../src/config';
import { gatewaysFromConfig } from '../src/gateways';
import { createLogger } from '../src/logging';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');
export const KUBERNETES_DIR = join(DEPLOY_DIR, 'kubernetes');

// ---------------------------------------------------------------------------------------------
// YAML and a minimal kustomize

/** A Kubernetes object as parsed from YAML. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Every document of a YAML file (empty documents skipped); a YAML error or warning throws. */
export function readYamlDocuments(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { prettyErrors: true, uniqueKeys: true });
  const out: unknown[] = [];
  for (const doc of docs) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${file}: ${problems.map((p) => p.message).join('; ')}`);
    const value = doc.toJS() as unknown;
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function asObject(value: unknown, where: string): K8sObject {
  const o = value as Partial<K8sObject> | null;
  if (!o || typeof o !== 'object' || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') {
    throw new Error(`${where}: not a Kubernetes object (apiVersion, kind, metadata.name)`);
  }
  return o as K8sObject;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The strategic-merge keys of the list fields these manifests patch (as Kubernetes declares them:
 * `patchMergeKey`); any other list is replaced whole, as strategic merge does for atomic lists.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  imagePullSecrets: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
};

/** Strategic merge of `patch` into `target` for the fields above (`null` deletes a field). */
export function strategicMerge(target: unknown, patch: unknown, field = ''): unknown {
  if (isPlainObject(target) && isPlainObject(patch)) {
    const out: Record<string, unknown> = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) throw new Error(`strategic-merge directive ${key} is not supported by this check`);
      if (value === null) delete out[key];
      else out[key] = key in out ? strategicMerge(out[key], value, key) : value;
    }
    return out;
  }
  const mergeKey = MERGE_KEYS[field];
  if (Array.isArray(target) && Array.isArray(patch) && mergeKey) {
    const out = [...target];
    for (const item of patch) {
      if (!isPlainObject(item) || !(mergeKey in item)) throw new Error(`a ${field} patch item needs ${mergeKey}`);
      const at = out.findIndex((t) => isPlainObject(t) && t[mergeKey] === item[mergeKey]);
      if (at === -1) out.push(item);
      else out[at] = strategicMerge(out[at], item, '');
    }
    return out;
  }
  return patch;
}

function pointer(path: string): string[] {
  if (!path.startsWith('/')) throw new Error(`JSON pointer ${path} must start with /`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 add / replace / remove / test; a path that does not exist throws (as kustomize does). */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new Error('a JSON 6902 patch is a list of operations');
  const doc = structuredClone(target);
  for (const op of ops as Array<{ op: string; path: string; value?: unknown }>) {
    const parts = pointer(op.path);
    const last = parts.pop()!;
    let parent: unknown = doc;
    for (const p of parts) {
      parent = (parent as Record<string, unknown>)?.[p];
      if (parent === undefined) throw new Error(`JSON patch path ${op.path} does not exist`);
    }
    const list = Array.isArray(parent) ? (parent as unknown[]) : null;
    const record = parent as Record<string, unknown>;
    const exists = list ? Number(last) < list.length : Object.hasOwn(record, last);
    switch (op.op) {
      case 'replace':
        if (!exists) throw new Error(`JSON patch replace: ${op.path} does not exist`);
        record[last] = op.value;
        break;
      case 'add':
        if (list) list.splice(last === '-' ? list.length : Number(last), 0, op.value);
        else record[last] = op.value;
        break;
      case 'remove':
        if (!exists) throw new Error(`JSON patch remove: ${op.path} does not exist`);
        if (list) list.splice(Number(last), 1);
        else delete record[last];
        break;
      case 'test':
        if (JSON.stringify(record[last]) !== JSON.stringify(op.value)) throw new Error(`JSON patch test failed at ${op.path}`);
        break;
      default:
        throw new Error(`JSON patch op ${op.op} is not supported by this check`);
    }
  }
  return doc;
}

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'patches', 'images']);
const CLUSTER_SCOPED = new Set(['Namespace']);

function podSpecs(o: K8sObject): Array<{ containers: Array<{ name: string; image: string }>; initContainers?: Array<{ name: string; image: string }> }> {
  const spec = o.spec as { template?: { spec?: unknown }; jobTemplate?: { spec?: { template?: { spec?: unknown } } } } | undefined;
  const pod = spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec;
  return pod ? [pod as never] : [];
}

/**
 * Renders a kustomization directory the way `kustomize build` does for the fields this layout
 * uses (`resources`, `namespace`, `patches` by path or inline with a target, `images`). Any other
 * field is an error, so the check never silently ignores what real kustomize would apply; a patch
 * that matches no resource (or, by path, more than one) is an error too, as in kustomize.
 */
export function kustomize(dir: string): K8sObject[] {
  const file = join(dir, 'kustomization.yaml');
  const k = parseYaml(readFileSync(file, 'utf8')) as {
    apiVersion?: string;
    kind?: string;
    namespace?: string;
    resources?: string[];
    patches?: Array<{ path?: string; patch?: string; target?: { kind?: string; name?: string; namespace?: string } }>;
    images?: Array<{ name: string; newName?: string; newTag?: string }>;
  };
  for (const key of Object.keys(k)) if (!KUSTOMIZATION_FIELDS.has(key)) throw new Error(`${file}: field ${key} is not handled by this check`);
  if (k.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k.kind !== 'Kustomization') throw new Error(`${file}: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  let objects: K8sObject[] = [];
  for (const entry of k.resources ?? []) {
    const path = resolve(dir, entry);
    if (statSync(path).isDirectory()) objects.push(...kustomize(path));
    else objects.push(...readYamlDocuments(path).map((d, i) => asObject(d, `${path}#${i}`)));
  }
  for (const [i, p] of (k.patches ?? []).entries()) {
    const where = `${file} patches[${i}]`;
    if (p.path && !p.target && !p.patch) {
      const docs = readYamlDocuments(resolve(dir, p.path));
      for (const doc of docs) {
        const patch = asObject(doc, `${where} (${p.path})`);
        const matches = objects.filter(
          (o) => o.kind === patch.kind && o.apiVersion === patch.apiVersion && o.metadata.name === patch.metadata.name && (o.metadata.namespace ?? '') === (patch.metadata.namespace ?? ''),
        );
        if (matches.length !== 1) throw new Error(`${where}: ${patch.kind} ${patch.metadata.namespace ?? ''}/${patch.metadata.name} matches ${matches.length} resources (need exactly one)`);
        objects = objects.map((o) => (o === matches[0] ? (strategicMerge(o, patch) as K8sObject) : o));
      }
    } else if (p.patch && p.target && !p.path) {
      const ops = parseYaml(p.patch) as unknown;
      const t = p.target;
      const matches = objects.filter((o) => (!t.kind || o.kind === t.kind) && (!t.name || o.metadata.name === t.name) && (!t.namespace || o.metadata.namespace === t.namespace));
      if (matches.length === 0) throw new Error(`${where}: target ${JSON.stringify(t)} matches no resource`);
      objects = objects.map((o) => (matches.includes(o) ? (jsonPatch(o, ops) as K8sObject) : o));
    } else {
      throw new Error(`${where}: only {path} (strategic merge) or {target, patch} (JSON 6902) are handled by this check`);
    }
  }
  if (k.namespace) {
    objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: k.namespace } }));
  }
  for (const image of k.images ?? []) {
    let used = false;
    objects = objects.map((o) => {
      const copy = structuredClone(o);
      for (const pod of podSpecs(copy)) {
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          const m = /^([^@:]+(?::\d+\/[^@:]+)?)(?::([^@]+))?(@.+)?$/.exec(c.image);
          if (!m || m[1] !== image.name) continue;
          used = true;
          c.image = `${image.newName ?? image.name}${image.newTag ? `:${image.newTag}` : m[2] ? `:${m[2]}` : ''}`;
        }
      }
      return copy;
    });
    if (!used) throw new Error(`${file}: images entry ${image.name} matches no container`);
  }
  return objects;
}

// ---------------------------------------------------------------------------------------------
// Validation against the Kubernetes API schemas

/** kubernetes-models' module of each API group version the manifests use. */
const MODELS: Record<string, () => Promise<object>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'batch/v1': () => import('kubernetes-models/batch/v1'),
  'autoscaling/v2': () => import('kubernetes-models/autoscaling/v2'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
};

/**
 * Validates `object` with kubernetes-models' validator for its apiVersion and kind (the Kubernetes
 * OpenAPI schema, compiled with Ajv) and returns the paths of fields the schema does not declare.
 * The schema alone lets unknown fields through (the API server's strict field validation, which
 * `kubectl apply` uses, refuses them): the validator is run on a proxy that records every field it
 * reads, and a field it never read is one the schema does not know. Schema errors throw.
 */
export async function validateObject(object: K8sObject): Promise<string[]> {
  const load = MODELS[object.apiVersion];
  if (!load) throw new Error(`no kubernetes-models module for apiVersion ${object.apiVersion} (add it to MODELS)`);
  const model = ((await load()) as unknown as Record<string, { prototype: { validate(): void } } | undefined>)[object.kind];
  if (!model) throw new Error(`kubernetes-models has no ${object.apiVersion} ${object.kind}`);
  const objects: Array<{ path: string; value: object; read: Set<string> }> = [];
  const wrap = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const read = new Set<string>();
    const children = new Map<string, unknown>();
    if (!Array.isArray(value)) objects.push({ path, value, read });
    return new Proxy(value, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof key !== 'string' || !Object.hasOwn(target, key)) return v;
        read.add(key);
        if (!children.has(key)) children.set(key, wrap(v, `${path}/${key}`));
        return children.get(key);
      },
    });
  };
  model.prototype.validate.call(wrap(structuredClone(object), ''));
  return objects.flatMap(({ path, value, read }) => Object.keys(value).filter((k) => !read.has(k)).map((k) => `${path}/${k}`));
}

// ---------------------------------------------------------------------------------------------
// What the server reads from its environment

/**
 * Every environment variable tender-server reads: its config schema's variables, and the gateway
 * transports' `<PREFIX>_TIMEOUT`, `_RETRY_*`, `_CIRCUIT_*`, `_POOL_CONNECTIONS` (found by building
 * every gateway from a recording environment, so a new prefix or suffix is picked up).
 */
export async function serverEnvironmentVariables(): Promise<Set<string>> {
  const known = new Set(Object.keys(EnvSchema.shape));
  const credentials: Record<string, string> = {
    TENDER_SIMULATION: '0',
    FIUU_MERCHANT_ID: 'm',
    FIUU_VERIFY_KEY: 'v',
    FIUU_SECRET_KEY: 's',
    STRIPE_SECRET_KEY: 'sk_test_x',
    PAYPAL_CLIENT_ID: 'c',
    PAYPAL_CLIENT_SECRET: 's',
    PAYPAL_WEBHOOK_ID: 'w',
    RAZORPAY_KEY_ID: 'rzp_test_x',
    RAZORPAY_KEY_SECRET: 's',
    RAZORPAY_WEBHOOK_SECRET: 'w',
  };
  const recording = new Proxy(credentials, {
    get(target, key) {
      if (typeof key === 'string') known.add(key);
      return target[key as string];
    },
  });
  const setup = gatewaysFromConfig(loadConfig(credentials), recording, redactingLogger(createLogger({ level: 'silent' })));
  await setup.close();
  return known;
}

/** A container's environment as Kubernetes gives it: envFrom ConfigMaps, then env (values, refs). */
export function containerEnvironment(
  container: { envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>; env?: Array<{ name: string; value?: string; valueFrom?: Record<string, { name: string; key: string; optional?: boolean }> }> },
  objects: K8sObject[],
  secretValues: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const configMap = (name: string) => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    if (!cm) throw new Error(`ConfigMap ${name} is not among the manifests`);
    return (cm.data ?? {}) as Record<string, string>;
  };
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.secretRef) throw new Error('envFrom secretRef: secrets are mapped key by key in env');
    if (from.configMapRef) Object.assign(env, configMap(from.configMapRef.name));
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const ref = e.valueFrom?.configMapKeyRef;
    if (ref) {
      const value = configMap(ref.name)[ref.key];
      if (value !== undefined) env[e.name] = value;
      else if (!ref.optional) throw new Error(`${e.name}: ConfigMap ${ref.name} has no key ${ref.key}`);
    }
    const secret = e.valueFrom?.secretKeyRef;
    if (secret) {
      const value = secretValues[secret.key];
      if (value !== undefined) env[e.name] = value;
      else if (!secret.optional) throw new Error(`${e.name}: no value for secret key ${secret.key}`);
    }
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// deploy/Dockerfile

/** One stage of a Dockerfile: its FROM line and its instructions (continuations joined). */
export interface DockerStage {
  from: string;
  name: string | null;
  instructions: Array<{ keyword: string; args: string }>;
}

/** Reads a Dockerfile's stages (comments and `\` continuations handled; no parser directives needed). */
export function readDockerfile(file: string): DockerStage[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const joined: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (current === '' && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) current += `${line.slice(0, -1)} `;
    else {
      current += line;
      if (current.trim()) joined.push(current.trim());
      current = '';
    }
  }
  const stages: DockerStage[] = [];
  for (const line of joined) {
    const m = /^(\w+)\s+(.*)$/s.exec(line);
    if (!m) throw new Error(`${file}: cannot read '${line}'`);
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.replace(/\s+/g, ' ').trim();
    if (keyword === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: f![1]!, name: f![2] ?? null, instructions: [] });
    } else if (keyword !== 'ARG' || stages.length > 0) {
      if (stages.length === 0) throw new Error(`${file}: ${keyword} before FROM`);
      stages.at(-1)!.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** `ENV a=1 b=2` of a stage, in order (values without spaces or quotes only, which this file keeps to). */
export function dockerEnv(stage: DockerStage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV') continue;
    for (const pair of args.split(' ')) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=([^"'\s]*)$/.exec(pair);
      if (!m) throw new Error(`ENV ${args}: only KEY=value pairs without quotes are read`);
      env[m[1]!] = m[2]!;
    }
  }
  return env;
}

/** The JSON (exec form) argument list of a stage's last `keyword` (ENTRYPOINT, CMD, or HEALTHCHECK's CMD). */
export function dockerExec(stage: DockerStage, keyword: 'ENTRYPOINT' | 'CMD' | 'HEALTHCHECK'): string[] {
  const last = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
  if (!last) throw new Error(`no ${keyword}`);
  const json = keyword === 'HEALTHCHECK' ? /\bCMD (\[.*\])$/.exec(last.args)?.[1] : last.args;
  const list = JSON.parse(json ?? 'null') as unknown;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw new Error(`${keyword} must be in exec (JSON) form`);
  return list as string[];
}
