/**
 * `npm run schema:release`: records schema/ as the released API under package.json's
 * version (schema/released/api.graphql), after checking that the version may ship it: a
 * breaking change needs a new major version. Run it when cutting a release, after the
 * CHANGELOG entry.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { currentSchema, judge, RELEASED_SCHEMA, releasedSchema, snapshotOf } from './compatibility.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const changelog = readFileSync(new URL('../../CHANGELOG.md', import.meta.url), 'utf8');
if (!changelog.includes(`## ${version} `)) {
  console.error(`CHANGELOG.md has no "## ${version} (date)" entry: write what changed for clients first.`);
  process.exit(1);
}
const current = currentSchema();
const released = releasedSchema();
const verdict = await judge(released.schema, released.version, current, version);
if (verdict.refusal) {
  console.error(verdict.refusal);
  process.exit(1);
}
writeFileSync(RELEASED_SCHEMA, snapshotOf(current, version));
console.log(`schema/released/api.graphql is now the API of ${version} (${verdict.changes.length} change(s) since ${released.version}).`);
