/**
 * Writes the published events' JSON Schemas into docs/events/schemas/<format>/<type>.json from the
 * server's zod schemas. Run `npx tsx scripts/event-schemas.ts` after changing an event or API
 * object; a test fails while the committed files differ from what this writes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventJsonSchemas } from '../packages/server-express/src/event-schemas';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'events', 'schemas');
for (const [format, schemas] of Object.entries(eventJsonSchemas())) {
  mkdirSync(join(root, format), { recursive: true });
  for (const [type, schema] of Object.entries(schemas)) writeFileSync(join(root, format, `${type}.json`), `${JSON.stringify(schema, null, 2)}\n`);
}
