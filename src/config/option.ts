/**
 * How one setting is declared: its environment variable, what it means, its default and
 * the values it takes, and how a raw value is read. Each setting is declared once
 * (options.ts); the loader, the configuration reference (docs/reference/configuration.md) and its check all read that.
 */

/** Raised for a missing or malformed setting; `variable` names the culprit. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** The environment as read: names to raw values. */
export type Env = Record<string, string | undefined>;

/** One setting. */
export interface Option<T> {
  /** The environment variable. */
  readonly env: string;
  /** What it does, in a sentence (the "meaning" column of the configuration reference). */
  readonly doc: string;
  /** The default as a person would write it (`7d`, `4000`, `none`). */
  readonly defaultText: string;
  /** The values it takes (`1 to 1000`, `100ms to 1h`, `true or false`). */
  readonly rangeText: string;
  /** Reads the trimmed raw value (null when unset or blank); throws {@link ConfigError}. */
  read(raw: string | null, env: Env): T;
}

/** A tree of options, as declared (groups nest). */
export type OptionTree = { readonly [key: string]: Option<unknown> | OptionTree };

/** The values an option tree reads to. */
export type ValuesOf<T> = { -readonly [K in keyof T]: T[K] extends Option<infer V> ? V : ValuesOf<T[K]> };

/** True for a declared option (as opposed to a group of them). */
export function isOption(node: Option<unknown> | OptionTree): node is Option<unknown> {
  return typeof (node as Option<unknown>).read === 'function' && typeof (node as Option<unknown>).env === 'string';
}

/** Every option of `tree`, depth first, in declaration order. */
export function optionsOf(tree: OptionTree): Option<unknown>[] {
  return Object.values(tree).flatMap((node) => (isOption(node) ? [node] : optionsOf(node)));
}

const DAY = 86_400_000;
const UNITS: [string, number][] = [
  ['d', DAY],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];
const UNIT_MS: Record<string, number> = { '': 1, ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: DAY };

/** `ms` as the shortest exact duration text: `7d`, `90s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** Reads a duration such as `250` or `250ms`, `30s`, `5m`, `12h`, `7d` into milliseconds; `name` is for the error. */
export function parseDuration(raw: string, name: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(raw);
  if (!match) throw new ConfigError(name, `must be a duration such as 500ms, 30s, 5m, 12h or 7d, got "${raw}"`);
  return Number(match[1]) * UNIT_MS[match[2] ?? '']!;
}

/** A whole number within `min`..`max`. */
export function int(env: string, fallback: number, min: number, max: number, doc: string): Option<number> {
  return {
    env,
    doc,
    defaultText: String(fallback),
    rangeText: `${min} to ${max}`,
    read(raw) {
      if (raw === null) return fallback;
      if (!/^\d+$/.test(raw)) throw new ConfigError(env, `must be a whole number, got "${raw}"`);
      const value = Number(raw);
      if (value < min || value > max) throw new ConfigError(env, `must be between ${min} and ${max}, got ${value}`);
      return value;
    },
  };
}

/**
 * A duration within `min`..`max` milliseconds (see {@link parseDuration}); with `zeroMeans`,
 * `0` is also allowed and means that (for example "off").
 */
export function duration(env: string, fallback: number, min: number, max: number, doc: string, zeroMeans?: string): Option<number> {
  return {
    env,
    doc: zeroMeans ? `${doc} (\`0\`: ${zeroMeans})` : doc,
    defaultText: formatDuration(fallback),
    rangeText: `${formatDuration(min)} to ${formatDuration(max)}${zeroMeans ? ', or 0' : ''}`,
    read(raw) {
      if (raw === null) return fallback;
      const value = parseDuration(raw, env);
      if (value === 0 && zeroMeans) return 0;
      if (value === 0) throw new ConfigError(env, 'must be greater than zero');
      if (value < min || value > max) throw new ConfigError(env, `must be between ${min} ms and ${max} ms${zeroMeans ? ' (or 0)' : ''}, got ${value} ms`);
      return value;
    },
  };
}

/** `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`). */
export function bool(env: string, fallback: boolean, doc: string): Option<boolean> {
  return {
    env,
    doc,
    defaultText: String(fallback),
    rangeText: 'true or false',
    read(raw) {
      const value = raw?.toLowerCase();
      if (value == null) return fallback;
      if (['true', '1', 'yes', 'on'].includes(value)) return true;
      if (['false', '0', 'no', 'off'].includes(value)) return false;
      throw new ConfigError(env, `must be true or false, got "${raw}"`);
    },
  };
}

/** Free text; a `fallback` of null means "unset" (the value's type then allows null). */
export function text<F extends string | null>(env: string, fallback: F, doc: string, rangeText = 'text'): Option<string | F> {
  return { env, doc, defaultText: fallback ?? 'none', rangeText, read: (raw) => raw ?? fallback };
}

/** One of `allowed`. */
export function oneOf<T extends string>(env: string, allowed: readonly T[], fallback: T, doc: string): Option<T> {
  return {
    env,
    doc,
    defaultText: fallback,
    rangeText: allowed.join(', '),
    read(raw) {
      if (raw === null) return fallback;
      if (!allowed.includes(raw as T)) throw new ConfigError(env, `must be one of ${allowed.join(', ')}, got "${raw}"`);
      return raw as T;
    },
  };
}

/** A URL with one of `protocols` (such as `postgres:`); unset means none. */
export function url(env: string, protocols: readonly string[], doc: string): Option<string | null> {
  return {
    env,
    doc,
    defaultText: 'none',
    rangeText: protocols.map((protocol) => `${protocol}//…`).join(' or '),
    read(raw) {
      if (raw === null) return null;
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        throw new ConfigError(env, 'is not a valid URL');
      }
      if (!protocols.includes(parsed.protocol)) throw new ConfigError(env, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
      return raw;
    },
  };
}

/** A comma-separated list of URLs, each with one of `protocols`; unset means none (an empty list). */
export function urlList(env: string, protocols: readonly string[], doc: string): Option<string[]> {
  const one = url(env, protocols, doc);
  return {
    env,
    doc,
    defaultText: 'none',
    rangeText: `${protocols[0]}//…,${protocols[0]}//…`,
    read(raw, all) {
      if (raw === null) return [];
      const urls = raw.split(',').map((entry) => entry.trim());
      if (urls.some((entry) => entry === '')) throw new ConfigError(env, 'has an empty entry');
      return urls.map((entry) => one.read(entry, all) as string);
    },
  };
}

/** Any other form: `read` parses a raw value (never null) and throws {@link ConfigError} naming `env`. */
export function custom<T>(env: string, fallback: T, defaultText: string, rangeText: string, doc: string, read: (raw: string, env: Env) => T): Option<T> {
  return { env, doc, defaultText, rangeText, read: (raw, all) => (raw === null ? fallback : read(raw, all)) };
}

export { DAY };
