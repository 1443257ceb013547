/**
 * Writes docs/configuration.md, the reference of every environment variable the server reads, from
 * the code: the zod `EnvSchema` of `packages/server-express/src/config.ts` (type and default from the
 * schema; the meaning from `.describe()`/`.meta()`, else the field's TSDoc comment in the source,
 * else the variable's row in the server README's table) and the per-gateway transport variables
 * that `transportOptionsFromEnv` (`packages/core/src/transport/env.ts`) builds for each gateway
 * prefix `packages/server-express/src/gateways.ts` passes it (meaning and default from the TSDoc of
 * the transport option each one sets). Run `npx tsx scripts/configuration-doc.ts` after changing
 * any of them; `packages/server-express/test/configuration-doc.test.ts` fails while the committed
 * file differs from what this writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EnvSchema } from '../packages/server-express/src/config';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Where the generated reference is written, relative to the repository root. */
export const CONFIGURATION_DOC = 'docs/configuration.md';

/** One documented environment variable. */
export interface EnvVariable {
  name: string;
  type: string;
  default: string;
  description: string;
}

/** The TSDoc text of the `/** ... *\/` block right before `name:` (or `name?:`) in `source`, as one line. */
export function tsdocBefore(source: string, name: string): string | undefined {
  const match = new RegExp(String.raw`/\*\*((?:(?!\*/)[\s\S])*)\*/\s*${name}\??:`).exec(source);
  if (!match) return undefined;
  return match[1]!
    .split('\n')
    .map((line) => line.replace(/^\s*\*\s?/, '').trim())
    .filter((line) => !line.startsWith('@'))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The text of `export const EnvSchema = z.object({ ... })` in config.ts, one field per top-level `  NAME:` line. */
function envSchemaSource(): string {
  const source = read('packages/server-express/src/config.ts');
  const start = source.indexOf('export const EnvSchema = z.object({');
  const end = source.indexOf('\n});', start);
  if (start < 0 || end < 0) throw new Error('EnvSchema not found in config.ts');
  return source.slice(start, end);
}

/** The expression after `NAME:` up to the next top-level field. */
function fieldSource(schemaSource: string, name: string): string {
  const match = new RegExp(String.raw`\n  ${name}: ([\s\S]*?)(?=\n  (?:/\*\*|[A-Z0-9_]+:)|$)`).exec(schemaSource);
  return match ? match[1]!.trim() : '';
}

/** The config.ts helpers a field can start with, and the input they accept. */
const HELPER_TYPES: Record<string, string> = {
  bool: 'boolean (`1`/`0`, `true`/`false`, `yes`/`no`, `on`/`off`)',
  duration: 'duration (`500ms`, `30s`, `15m`, `1h30m`; a bare number is seconds)',
  httpUrl: 'http(s) URL',
  url: 'URL',
  optionalText: 'string',
  positiveInt: 'positive integer',
};

/** Milliseconds as the shortest duration text the schema accepts back (`30s`, `15m`, `1h`). */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The parts of a zod 4 schema this script reads (zod is not a dependency of the scripts). */
interface AnySchema {
  _zod: { def: Record<string, unknown> & { type: string } };
  description?: string;
  meta(): unknown;
  options?: readonly unknown[];
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean;
  format?: string | null;
}

/** What the schema (below optional/default/pipe wrappers) accepts. */
function schemaType(schema: AnySchema): string {
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
      return schemaType(def.innerType as AnySchema);
    case 'pipe':
      return schemaType(def.in as AnySchema);
    case 'enum':
      return `one of ${(schema.options ?? []).map((o) => `\`${String(o)}\``).join(', ')}`;
    case 'union':
      return (def.options as AnySchema[]).map(schemaType).join(' or ');
    case 'number': {
      const n = { minValue: schema.minValue ?? null, maxValue: schema.maxValue ?? null, isInt: schema.isInt ?? false };
      if (n.minValue === 0 && n.maxValue === 65535) return 'port (`0`-`65535`)';
      const range = [n.minValue !== null && Number.isFinite(n.minValue) && n.minValue > Number.MIN_SAFE_INTEGER ? `>= ${n.minValue}` : '', n.maxValue !== null && Number.isFinite(n.maxValue) && n.maxValue < Number.MAX_SAFE_INTEGER ? `<= ${n.maxValue}` : ''].filter(Boolean).join(', ');
      return `${n.isInt ? 'integer' : 'number'}${range ? ` (${range})` : ''}`;
    }
    case 'string': {
      const format = schema.format;
      if (format === 'ipv4' || format === 'ipv6') return format === 'ipv4' ? 'IPv4 address' : 'IPv6 address';
      if (format === 'email') return 'e-mail address';
      if (format === 'url') return 'URL';
      return 'string';
    }
    default:
      return def.type;
  }
}

/** `.describe()` / `.meta({ description })` text on the field or any schema it wraps. */
function schemaDescription(schema: AnySchema | undefined): string | undefined {
  for (let s = schema; s; ) {
    const text = s.description ?? (s.meta() as { description?: string } | undefined)?.description;
    if (text) return text;
    const def = s._zod.def;
    s = (def.innerType ?? def.in) as AnySchema | undefined;
  }
  return undefined;
}

function schemaDefault(schema: AnySchema, helper: string): string {
  for (let s: AnySchema | undefined = schema; s; ) {
    const def = s._zod.def;
    if (def.type === 'default') {
      const value = def.defaultValue as unknown;
      if (helper === 'duration' && typeof value === 'number') return `\`${formatDuration(value)}\``;
      return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
    }
    s = (def.innerType ?? def.in) as AnySchema | undefined;
  }
  return '—';
}

/** Rows of the server README's environment table: the variable names of its first two columns, and its meaning. */
export function readmeEnvRows(readme: string): { names: string[]; meaning: string }[] {
  const lines = readme.split('\n');
  const header = lines.findIndex((line) => /^\| *variable *\| *default *\| *meaning *\|/.test(line));
  if (header < 0) throw new Error('the environment table (| variable | default | meaning |) is missing from the README');
  const rows: { names: string[]; meaning: string }[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.replace(/\\\|/g, '\u0000').split('|').slice(1, -1).map((c) => c.replace(/\u0000/g, '\\|').trim());
    const names = [...`${cells[0] ?? ''} ${cells[1] ?? ''}`.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
    rows.push({ names: [...new Set(names)], meaning: cells[cells.length - 1] ?? '' });
  }
  return rows;
}

/** README text moved to docs/: its relative links re-pointed so they still resolve. */
function fromReadme(text: string): string {
  return text.replace(/\]\(\.\.\/\.\.\/docs\//g, '](').replace(/\]\(#/g, '](../packages/server-express/README.md#');
}

/** The variables of `EnvSchema`, in schema order. */
export function envVariables(): EnvVariable[] {
  const source = envSchemaSource();
  const readme = readmeEnvRows(read('packages/server-express/README.md'));
  return Object.entries(EnvSchema.shape as unknown as Record<string, AnySchema>).map(([name, schema]) => {
    const expression = fieldSource(source, name);
    const helper = /^([A-Za-z]+)/.exec(expression)?.[1] ?? '';
    const row = readme.find((r) => r.names[0] === name) ?? readme.find((r) => r.names.includes(name) && r.meaning !== '');
    const description = schemaDescription(schema) ?? tsdocBefore(source, name) ?? (row?.meaning ? fromReadme(row.meaning) : '—');
    return { name, type: HELPER_TYPES[helper] ?? schemaType(schema), default: schemaDefault(schema, helper), description };
  });
}

/** One transport variable suffix (`TIMEOUT`, `RETRY_ATTEMPTS`...) and what it sets. */
export interface TransportVariable {
  suffix: string;
  type: string;
  option: string;
  default: string;
  description: string;
}

/** Interface and file that document each top-level option group of `HttpTransportOptions`. */
const OPTION_SOURCES: Record<string, string> = {
  '': 'packages/core/src/transport/http-transport.ts',
  pool: 'packages/core/src/transport/http-transport.ts',
  retry: 'packages/core/src/transport/backoff.ts',
  circuit: 'packages/core/src/transport/circuit-breaker.ts',
};

/** Suffixes `transportOptionsFromEnv` reads (its `v('SUFFIX')` calls), in order. */
export function transportSuffixesInCode(): string[] {
  return [...read('packages/core/src/transport/env.ts').matchAll(/\bv\('([A-Z_]+)'\)/g)].map((m) => m[1]!);
}

/** The transport variables: env.ts's mapping table, each with its option's TSDoc and default. */
export function transportVariables(): TransportVariable[] {
  const env = read('packages/core/src/transport/env.ts');
  const rows = [...env.matchAll(/^ \* \| `P_([A-Z_]+)` \| (.+?) \| `([A-Za-z.]+)`(?: \((.+?)\))? \|$/gm)];
  return rows.map(([, suffix, unit, option]) => {
    const path = option!.split('.');
    const field = path[path.length - 1]!;
    const group = path.length > 1 ? path[0]! : '';
    const doc = tsdocBefore(read(OPTION_SOURCES[group]!), field) ?? '';
    const defaultMatch = /\s*Default:? ([^.]+(?:\.\d[^.]*)?)\.?\s*$/.exec(doc) ?? /Default:? ([^.]+?)(?:\.|$)/.exec(doc);
    const description = (defaultMatch ? doc.replace(defaultMatch[0], '') : doc).trim();
    return {
      suffix: suffix!,
      type: unit!,
      option: option!,
      default: defaultMatch ? defaultMatch[1]!.trim() : '—',
      description: description.endsWith('.') || description === '' ? description : `${description}.`,
    };
  });
}

/** Gateway id and variable prefix of each transport the server builds (`transportFor('fiuu', 'FIUU', ...)`). */
export function transportPrefixes(): { gateway: string; prefix: string }[] {
  const source = read('packages/server-express/src/gateways.ts');
  const seen = new Map<string, string>();
  for (const [, gateway, prefix] of source.matchAll(/transportFor\('([a-z]+)', '([A-Z]+)'/g)) seen.set(gateway!, prefix!);
  return [...seen].map(([gateway, prefix]) => ({ gateway, prefix }));
}

/** Every transport variable name the server reads, such as `STRIPE_CIRCUIT_THRESHOLD`. */
export function transportVariableNames(): string[] {
  return transportPrefixes().flatMap(({ prefix }) => transportVariables().map((v) => `${prefix}_${v.suffix}`));
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\\\\\|/g, '\\|').replace(/\n/g, ' ');

/** The whole of docs/configuration.md. */
export function renderConfigurationDoc(): string {
  const prefixes = transportPrefixes();
  const schemaNames = new Set(Object.keys(EnvSchema.shape));
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated by `npx tsx scripts/configuration-doc.ts` from packages/server-express/src/config.ts and',
    '     packages/core/src/transport/env.ts; do not edit by hand. -->',
    '',
    'Every environment variable the reference server (`tender-server`) reads. Empty values count as',
    'unset. At start the server validates them all and reports each bad one by name with what is wrong,',
    'never echoing the value of a secret. Defaults are those of the schema; "—" means no default (what',
    'unset does is in the meaning). See also the table in',
    '[packages/server-express/README.md](../packages/server-express/README.md#run).',
    '',
    '## Server',
    '',
    'From `EnvSchema` in [`packages/server-express/src/config.ts`](../packages/server-express/src/config.ts).',
    '',
    '| variable | type | default | meaning |',
    '| --- | --- | --- | --- |',
    ...envVariables().map((v) => `| \`${v.name}\` | ${cell(v.type)} | ${cell(v.default)} | ${cell(v.description)} |`),
    '',
    '## Gateway transport',
    '',
    'Each gateway talks through its own HTTP transport (timeouts, retries with full jitter, circuit',
    'breaker, connection pool), configured by `<PREFIX>_<SETTING>` as read by `transportOptionsFromEnv`',
    'in [`packages/core/src/transport/env.ts`](../packages/core/src/transport/env.ts). Prefixes: ' +
      prefixes.map(({ gateway, prefix }) => `\`${prefix}\` (${gateway})`).join(', ') +
      '. Unset, the transport default applies; a malformed value stops the server naming the variable.' +
      (prefixes.some(({ prefix }) => transportVariables().some((t) => schemaNames.has(`${prefix}_${t.suffix}`)))
        ? ` ${transportVariableNames()
            .filter((n) => schemaNames.has(n))
            .map((n) => `\`${n}\``)
            .join(', ')} are also checked by the schema above.`
        : ''),
    '',
    '| variables | value | transport option | default | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...transportVariables().map(
      (t) =>
        `| ${prefixes.map(({ prefix }) => `\`${prefix}_${t.suffix}\``).join(', ')} | ${cell(t.type)} | \`${t.option}\` | ${cell(t.default)} | ${cell(t.description)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  writeFileSync(join(ROOT, CONFIGURATION_DOC), renderConfigurationDoc());
}
