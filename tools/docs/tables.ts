/**
 * The README's reference tables, made from their declarations in the code: settings
 * (src/config/options.ts), error codes and close codes (src/domain/errors.ts). `npm run
 * docs` writes them between their markers; a test checks the README holds them as made.
 */
import { optionsOf } from '../../src/config/option.ts';
import { OPTIONS } from '../../src/config/options.ts';
import { CLOSES, ERRORS } from '../../src/domain/errors.ts';

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

/** The generated blocks by marker name. */
export const GENERATED_TABLES: Record<string, () => string> = {
  configuration: configurationTable,
  'error-codes': errorTable,
  'close-codes': closeTable,
};

/** `text` with every `<!-- generated:NAME -->…<!-- /generated:NAME -->` block made anew. */
export function withTables(text: string): string {
  let out = text;
  for (const [name, make] of Object.entries(GENERATED_TABLES)) {
    const start = `<!-- generated:${name} (npm run docs; edit the declaration, not this table) -->`;
    const end = `<!-- /generated:${name} -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} block`);
    out = `${out.slice(0, from + start.length)}\n${make()}\n${out.slice(to)}`;
  }
  return out;
}
