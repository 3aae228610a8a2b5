/**
 * Structured logs on pino: one JSON object per line on stdout (`time`, `level` as a name,
 * `msg`, then the fields), so log shippers can index connection lifecycles and refusals
 * without parsing prose. Credentials never reach a line: tokens and authorization headers
 * are redacted wherever they appear in the fields.
 */
import { pino, stdSerializers, type DestinationStream, type Logger as Pino } from 'pino';

/** The levels a logger can be set to, quietest last. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** What is replaced by `[redacted]` wherever it appears, at the top or one or two levels down. */
const SECRETS = ['authorization', 'Authorization', 'token', 'accessToken', 'secret', 'password', 'cookie'];
export const REDACTED_PATHS = SECRETS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

/**
 * Creates a logger writing lines at or above `level` to `write` (stdout by default). A
 * logged error becomes its name, message, stack and cause: drizzle wraps the driver's
 * error ("Failed query: …"), and the cause is the part an operator needs.
 */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const destination: DestinationStream | undefined = write ? { write } : undefined;
  const root = pino(
    {
      level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { error: stdSerializers.errWithCause, err: stdSerializers.errWithCause },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return wrap(root);
}

/** Our call shape (message first) over pino's (fields first). */
function wrap(log: Pino): Logger {
  return {
    debug: (msg, fields) => log.debug(fields ?? {}, msg),
    info: (msg, fields) => log.info(fields ?? {}, msg),
    warn: (msg, fields) => log.warn(fields ?? {}, msg),
    error: (msg, fields) => log.error(fields ?? {}, msg),
    child: (fields) => wrap(log.child(fields)),
  };
}
