/**
 * Bounds on what a request's values may hold, whatever field they go to: text must be
 * well-formed Unicode (an unpaired surrogate cannot be stored or put in an event's JSON),
 * a list may hold at most `MAX_LIST_ITEMS` items (each can become a query parameter), and
 * values may nest only so deep (a deeply nested list would exhaust the stack). Checked on
 * the document's literals and on the variables, before anything runs.
 */
import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode } from '../domain/errors.ts';

/** Deepest nesting of lists and objects a value may have: far beyond any argument of the schema. */
export const MAX_VALUE_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function refusal(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...extensions } });
}

/** The three refusals, the same whether a variable or a literal broke the bound. */
const malformedText = () => refusal('text must be well-formed Unicode (it holds an unpaired surrogate)', { reason: 'malformed-text' });
const tooManyItems = (max: number) => refusal(`a list may hold at most ${max} items (MAX_LIST_ITEMS)`, { limit: max });
const tooDeep = () => refusal(`values may nest at most ${MAX_VALUE_DEPTH} deep`, { limit: MAX_VALUE_DEPTH });

/** The refusal for `value` (a variables object, a list, text…), or null when it is within bounds. */
export function checkValue(value: unknown, maxListItems: number, depth = 0): GraphQLError | null {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? malformedText() : null;
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= MAX_VALUE_DEPTH) return tooDeep();
  if (Array.isArray(value)) {
    if (value.length > maxListItems) return tooManyItems(maxListItems);
    for (const item of value) {
      const found = checkValue(item, maxListItems, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = checkValue(key, maxListItems, depth + 1) ?? checkValue(item, maxListItems, depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * Documents whose literals were found within bounds, with the list bound they were checked
 * against. Parsed documents are cached by their text, so a subscription sent by thousands
 * of clients is the same object: it is walked once, not once per subscriber (a walk made
 * about 8 KB of garbage).
 */
const withinBounds = new WeakMap<DocumentNode, number>();

/** The refusal for a literal of `document` out of bounds, or null. */
export function checkLiterals(document: DocumentNode, maxListItems: number): GraphQLError | null {
  if (withinBounds.get(document) === maxListItems) return null;
  const found = findLiteralOutOfBounds(document, maxListItems);
  if (!found) withinBounds.set(document, maxListItems);
  return found;
}

function findLiteralOutOfBounds(document: DocumentNode, maxListItems: number): GraphQLError | null {
  let found: GraphQLError | null = null;
  let depth = 0;
  const enter = () => {
    depth += 1;
    if (depth > MAX_VALUE_DEPTH && !found) found = tooDeep();
  };
  const leave = () => void (depth -= 1);
  visit(document, {
    [Kind.LIST]: {
      enter(node) {
        enter();
        if (node.values.length > maxListItems && !found) found = tooManyItems(maxListItems);
      },
      leave,
    },
    [Kind.OBJECT]: { enter, leave },
    [Kind.STRING](node) {
      if (!found && LONE_SURROGATE.test(node.value)) found = malformedText();
    },
  });
  return found;
}

/** Deepest nesting of brackets (`{`, `[`, `(`) a document may have before it is parsed. */
export const MAX_DOCUMENT_NESTING = 64;

/**
 * The refusal for a document that nests brackets deeper than {@link MAX_DOCUMENT_NESTING},
 * found by one pass over its text before it is parsed: graphql-js's parser recurses once
 * per level, and a document of a few thousand `[` exhausts the stack (a token limit stops
 * it too late, inside the recursion).
 */
export function checkNesting(source: string): GraphQLError | null {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '#') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
    } else if (char === '"') {
      const block = source.startsWith('"""', i);
      const end = block ? '"""' : '"';
      i += end.length;
      while (i < source.length && !source.startsWith(end, i)) i += source[i] === '\\' ? 2 : 1;
      i += end.length - 1;
    } else if (char === '{' || char === '[' || char === '(') {
      depth += 1;
      if (depth > MAX_DOCUMENT_NESTING) {
        return new GraphQLError(`the document nests brackets more than ${MAX_DOCUMENT_NESTING} deep`, { extensions: { code: ErrorCode.LIMIT_EXCEEDED, limit: MAX_DOCUMENT_NESTING } });
      }
    } else if (char === '}' || char === ']' || char === ')') depth -= 1;
  }
  return null;
}

/** The bounds as a Yoga plugin: nesting before parsing, literals and variables before executing or subscribing. */
export function useInputBounds(maxListItems: number): Plugin {
  const checkArgs = ({ args, setResultAndStopExecution }: { args: { document: DocumentNode; variableValues?: unknown }; setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void }) => {
    const found = checkLiterals(args.document, maxListItems) ?? checkValue(args.variableValues ?? null, maxListItems);
    if (found) setResultAndStopExecution({ errors: [found] });
  };
  return {
    onParse({ params }) {
      const found = checkNesting(typeof params.source === 'string' ? params.source : params.source.body);
      if (found) throw found;
    },
    onExecute: checkArgs,
    onSubscribe: ({ args, setResultAndStopExecution }) => checkArgs({ args, setResultAndStopExecution: (result) => setResultAndStopExecution(result as never) }),
  };
}
