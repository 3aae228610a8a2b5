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

/**
 * `insert into <table> (columns) select … from jsonb_to_recordset(<rows>)`, plus an optional
 * tail. With `orderBy` (column names), rows are inserted in that order, compared byte-wise
 * (`collate "C"`) so that the order is the same on every database whatever its locale.
 */
export function insertJsonRows(table: string, columns: readonly Column[], rows: readonly Record<string, unknown>[], tail?: SQL, orderBy?: string): SQL {
  const names = columns.map(([name]) => `"${name}"`).join(', ');
  const definition = columns.map(([name, type]) => `"${name}" ${type}`).join(', ');
  const order = orderBy ? ` order by ${orderBy.split(',').map((name) => `"${name.trim()}" collate "C"`).join(', ')}` : '';
  const insert = sql`insert into ${sql.raw(`"${table}"`)} (${sql.raw(names)}) select ${sql.raw(names)} from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(${sql.raw(definition)})${sql.raw(order)}`;
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

