/**
 * Whether the schema in schema/ may ship under a version: a change that breaks a client
 * (graphql-inspector's "breaking" level: a field, type, argument or enum value removed, a
 * type changed, an argument made required…) needs a new major version over the released
 * snapshot's. The check behind `npm test` and `npm run schema:release`.
 */
import { readFileSync } from 'node:fs';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { buildSchema, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { loadTypeDefs } from '../../src/graphql/schema.ts';

/** The released snapshot: the whole API as printed at the last release. */
export const RELEASED_SCHEMA = new URL('../../schema/released/api.graphql', import.meta.url);

/** Its first line names the version it was released in. */
const HEADER = /^# wallet-events GraphQL API (\d+\.\d+\.\d+)\n/;

/** The schema in schema/ (SDL only, no resolvers). */
export function currentSchema(): GraphQLSchema {
  return buildSchema(loadTypeDefs().join('\n'));
}

/** The snapshot text for `schema` released as `version`: sorted, so that it diffs well. */
export function snapshotOf(schema: GraphQLSchema, version: string): string {
  return `# wallet-events GraphQL API ${version}\n# Written by \`npm run schema:release\`; the test suite diffs schema/ against it. Do not edit.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** The released snapshot and its version. */
export function releasedSchema(text = readFileSync(RELEASED_SCHEMA, 'utf8')): { version: string; schema: GraphQLSchema } {
  const header = HEADER.exec(text);
  if (!header) throw new Error(`${RELEASED_SCHEMA.pathname} does not start with "# wallet-events GraphQL API <version>"`);
  return { version: header[1]!, schema: buildSchema(text) };
}

export interface Verdict {
  /** Every change from the released schema, breaking or not. */
  changes: Change[];
  /** The breaking ones, each as "path: message". */
  breaking: string[];
  /** Why `version` may not ship this schema; null when it may. */
  refusal: string | null;
}

const major = (version: string) => Number(version.split('.')[0]);

/** Judges `current` shipped as `version` against the schema released as `releasedVersion`. */
export async function judge(released: GraphQLSchema, releasedVersion: string, current: GraphQLSchema, version: string): Promise<Verdict> {
  const changes = await diff(released, current);
  const breaking = changes.filter((change) => change.criticality.level === CriticalityLevel.Breaking).map((change) => `${change.path ?? '(schema)'}: ${change.message}`);
  let refusal: string | null = null;
  if (breaking.length > 0 && major(version) <= major(releasedVersion)) {
    refusal =
      `${breaking.length} breaking change(s) to the GraphQL API since ${releasedVersion}, but the version is still ${version}:\n` +
      breaking.map((line) => `  - ${line}`).join('\n') +
      `\nKeep the old field or type and mark it @deprecated(reason: "…") instead, or release a new major version (package.json "version", CHANGELOG.md, then npm run schema:release).`;
  }
  return { changes, breaking, refusal };
}
