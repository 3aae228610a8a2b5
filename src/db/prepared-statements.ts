/**
 * Named prepared statements for everything drizzle sends through postgres.js.
 *
 * drizzle asks postgres.js for an unnamed statement unless a query is given a name, and
 * postgres.js answers an unnamed statement with parameters in two round trips (it asks
 * the server for the parameter types first) and will not pipeline behind it. Every
 * parameterized statement thus cost two round trips, and statements issued together in a
 * transaction were still sent one at a time. Named, each statement is parsed once per
 * connection and then costs one round trip, and statements issued together leave
 * together.
 *
 * PgBouncer in transaction mode before 1.21 cannot keep named statements apart; such a
 * deployment turns this off (DATABASE_PREPARED_STATEMENTS=false).
 */
import type { Sql } from 'postgres';

/** `client`, with every query drizzle runs through it (in transactions too) sent as a named prepared statement. */
export function preparing(client: Sql): Sql {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, parameters?: unknown[], options?: Record<string, unknown>) => target.unsafe(query, parameters as never, { ...options, prepare: true });
      }
      if (property === 'begin') {
        // The transaction's own client is another postgres.js handle: it gets the same treatment.
        return (...args: unknown[]) => {
          const body = args.pop() as (scoped: Sql) => unknown;
          return (target.begin as (...rest: unknown[]) => unknown)(...args, (scoped: Sql) => body(preparing(scoped)));
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
