/**
 * The JSON text of subscription results: what every transport's frame is built around.
 * A result its plan rendered carries its text from the start (no object to build and then
 * walk with `JSON.stringify`); any other result is serialized once, when it is first sent.
 */
import type { ExecutionResult } from 'graphql';

/** Where to resume after an event: what every event's result says in its `extensions`. */
export type ResultPosition = {
  /** base64url, as every cursor this server makes (domain/events.ts). */
  cursor: string;
  sequence: number;
  eventId: string;
};

/** What `JSON.stringify` escapes in a string: quotes, backslashes, control characters, surrogates (lone ones; paired ones go the slow way too). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `value` as a JSON string, exactly as `JSON.stringify` writes it: most strings of events
 * (ids, amounts, enum names, timestamps, cursors) need no escape and are just quoted.
 */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * A result whose JSON text a plan wrote (see result-plan.ts). Its text is what goes on the
 * wire; `data` is parsed back from it only if something reads it (Yoga's own response
 * writers, through `toJSON`), which the transports never do.
 */
export class RenderedResult implements ExecutionResult {
  /** The whole result as JSON: `{"data":…,"extensions":…}`, as `JSON.stringify` would write it. */
  readonly json: string;
  private parsed: Record<string, unknown> | undefined;

  constructor(
    private readonly dataJson: string,
    readonly extensions: ResultPosition,
  ) {
    const { cursor, sequence, eventId } = extensions;
    // A cursor is base64url (domain/events.ts): nothing in it for JSON to escape.
    this.json = `{"data":${dataJson},"extensions":{"cursor":"${cursor}","sequence":${sequence},"eventId":${jsonString(eventId)}}}`;
  }

  get data(): Record<string, unknown> {
    return (this.parsed ??= JSON.parse(this.dataJson) as Record<string, unknown>);
  }

  /** A plain result, for whatever serializes or copies results itself. */
  toJSON(): ExecutionResult {
    return { data: this.data, extensions: this.extensions };
  }
}

const serialized = new WeakMap<ExecutionResult, string>();

/**
 * The JSON text of `result`, made once per result object: a shared live result is
 * serialized once however many subscribers it goes to, and each transport builds its
 * frame around this text.
 */
export function resultJson(result: ExecutionResult): string {
  if (result instanceof RenderedResult) return result.json;
  let text = serialized.get(result);
  if (text === undefined) {
    text = JSON.stringify(result);
    serialized.set(result, text);
  }
  return text;
}
