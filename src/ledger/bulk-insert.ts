/**
 * Many rows as one JSON parameter: they travel as a single JSON array that PostgreSQL
 * unpacks with `jsonb_to_recordset`. Building a statement with thousands of
 * bind parameters costs far more CPU (in the query builder and in the server's parser)
 * than one JSON.stringify; this keeps a 1,000-row insert about as cheap as a 10-row one.
 * Values must be JSON-safe: bigints and dates go as strings, which PostgreSQL parses.
 */
import { sql, type AnyColumn, type SQL } from 'drizzle-orm';

/** A column name and its SQL type, e.g. `['amount', 'bigint']`. */
export type Column = readonly [name: string, type: string];

/** `insert into <table> (columns) select … from jsonb_to_recordset(<rows>)`, plus an optional tail. */
export function insertJsonRows(table: string, columns: readonly Column[], rows: readonly Record<string, unknown>[], tail?: SQL): SQL {
  const names = columns.map(([name]) => `"${name}"`).join(', ');
  const definition = columns.map(([name, type]) => `"${name}" ${type}`).join(', ');
  const insert = sql`insert into ${sql.raw(`"${table}"`)} (${sql.raw(names)}) select ${sql.raw(names)} from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(${sql.raw(definition)})`;
  return tail ? sql`${insert} ${tail}` : insert;
}

/**
 * `<column> in (…values)` with the values as one JSON parameter, so the statement's text
 * is the same whatever the number of values (one prepared statement, not one per count).
 */
export function inJsonList(column: SQL | AnyColumn, values: readonly string[], type: 'text' | 'uuid'): SQL {
  return sql`${column} in (select (jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))::${sql.raw(type)})`;
}

/** `jsonb_to_recordset(<rows>) as <alias>(columns)`, a FROM item of rows given as one JSON parameter. */
export function jsonRecordset(alias: string, columns: readonly Column[], rows: readonly Record<string, unknown>[]): SQL {
  const definition = columns.map(([name, type]) => `"${name}" ${type}`).join(', ');
  return sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as ${sql.raw(alias)}(${sql.raw(definition)})`;
}

/** The rows of a raw statement's result, whichever driver ran it (postgres.js or PGlite). */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
