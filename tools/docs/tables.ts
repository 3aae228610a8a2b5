/**
 * The generated parts of the docs, made from their declarations: settings
 * (src/config/options.ts), error and close codes (src/domain/errors.ts), the GraphQL API
 * (schema/'s descriptions) and the metrics (src/metrics/). `npm run docs` writes each
 * between its markers in the page that holds them; a test checks every page is as made.
 */
import { optionsOf } from '../../src/config/option.ts';
import { OPTIONS } from '../../src/config/options.ts';
import { CLOSES, ERRORS } from '../../src/domain/errors.ts';
import { currentSchema } from '../schema/compatibility.ts';
import { apiReference } from './api-reference.ts';
import { metricsTable } from './metrics-reference.ts';

/** A markdown table cell: pipes escaped, on one line. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** One row per setting: variable, default, range, meaning. */
export function configurationTable(): string {
  const rows = optionsOf(OPTIONS).map((option) => `| \`${option.env}\` | ${cell(option.defaultText)} | ${cell(option.rangeText)} | ${cell(option.doc)} |`);
  return ['| variable | default | values | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** One row per error code: code, HTTP status, whether to retry, meaning. */
export function errorTable(): string {
  const rows = Object.entries(ERRORS).map(([code, spec]) => `| \`${code}\` | ${spec.httpStatus} | ${spec.retry} | ${cell(spec.meaning)} |`);
  return ['| code | HTTP status | retry? | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** One row per WebSocket close code. */
export function closeTable(): string {
  const yes = (flag: boolean) => (flag ? 'yes' : 'no');
  const rows = Object.values(CLOSES).map((spec) => `| ${spec.code} | ${cell(spec.when)} | ${yes(spec.clientRetries)} | ${yes(spec.resumed)} |`);
  return ['| code | when | graphql-ws client reconnects? | client library resumes? |', '|---|---|---|---|', ...rows].join('\n');
}

/** The generated blocks by marker name, and the page (from the repository's root) that holds each. */
export const GENERATED: Record<string, { page: string; make: () => string }> = {
  configuration: { page: 'docs/reference/configuration.md', make: configurationTable },
  'error-codes': { page: 'docs/reference/errors.md', make: errorTable },
  'close-codes': { page: 'docs/reference/errors.md', make: closeTable },
  'api-reference': { page: 'docs/reference/api.md', make: () => apiReference(currentSchema()) },
  metrics: { page: 'docs/reference/metrics.md', make: metricsTable },
};

/** The pages that hold generated blocks. */
export const GENERATED_PAGES = [...new Set(Object.values(GENERATED).map(({ page }) => page))];

/** `text`, the page at `page`, with each of its `<!-- generated:NAME … -->…<!-- /generated:NAME -->` blocks made anew. */
export function withGenerated(page: string, text: string): string {
  let out = text;
  for (const [name, block] of Object.entries(GENERATED)) {
    if (block.page !== page) continue;
    const start = `<!-- generated:${name} (npm run docs; edit the declaration, not this page) -->`;
    const end = `<!-- /generated:${name} -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${page} has no ${start} … ${end} block`);
    out = `${out.slice(0, from + start.length)}\n${block.make()}\n${out.slice(to)}`;
  }
  return out;
}
