/** `npm run docs`: rewrites the generated blocks of the reference pages (docs/reference/) from the code and the schema. */
import { readFileSync, writeFileSync } from 'node:fs';
import { GENERATED_PAGES, withGenerated } from './tables.ts';

for (const page of GENERATED_PAGES) {
  const path = new URL(`../../${page}`, import.meta.url);
  const before = readFileSync(path, 'utf8');
  const after = withGenerated(page, before);
  if (after !== before) writeFileSync(path, after);
  process.stdout.write(`${page}: ${after === before ? 'up to date' : 'rewritten'}\n`);
}
