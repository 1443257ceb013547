// The document users get from the built server (`npm start`, the published package) must be the one
// the sources describe: a bundler that drops a module it believes side-effect free (the schemas that
// register themselves) would leave `$ref`s pointing at nothing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '@tender/server-express';
import { expect, it } from 'vitest';

const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));

it('the built package builds the same OpenAPI document as the sources, every $ref resolving', async () => {
  // npm test builds the packages before the tests run.
  expect(existsSync(built), 'packages/server-express/dist is missing: run the build first').toBe(true);
  const fromDist = (await import(built)) as { buildOpenApiDocument: typeof buildOpenApiDocument };
  const documentFromDist = fromDist.buildOpenApiDocument();
  const documentFromSource = buildOpenApiDocument();
  expect(Object.keys((documentFromDist.components as { schemas: object }).schemas).sort()).toEqual(
    Object.keys((documentFromSource.components as { schemas: object }).schemas).sort(),
  );
  const schemas = (documentFromDist.components as { schemas: Record<string, unknown> }).schemas;
  const refs = [...JSON.stringify(documentFromDist).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]);
  expect(refs.length).toBeGreaterThan(0);
  expect(refs.filter((name) => !(name! in schemas))).toEqual([]);
  expect(documentFromDist).toEqual(documentFromSource);
});
