/**
 * Result plans: a subscription's document compiled once into the work one event needs.
 *
 * graphql-js's `execute` does, for every event, what depends only on the document and
 * its variables: it finds the operation, coerces the variables, collects the fields
 * through fragments and `@include`/`@skip`, builds each field's arguments, and allocates a
 * path and an info object per field. A replay of 10,000 events paid that 10,000 times. A
 * plan does it once and keeps, per selected field, only what an event still needs: read
 * or resolve the value, complete it for its type, and write it as JSON text: a plan's
 * output is the text of the result's `data`, with no result object to build and walk
 * again with `JSON.stringify` (the text is the same, byte for byte).
 *
 * A plan covers what subscription payloads are (events, plain objects) and steps aside for
 * anything else, so its results are always graphql-js's own:
 * - At compile time there is no plan for a resolver that takes `info` (four parameters or
 *   more; the plan has none to give), a type resolver that takes `info`, an `isTypeOf`,
 *   custom default resolvers, or variables that do not coerce.
 * - At run time an event is handed back ({@link ResultPlan.run} returns null) when a
 *   resolver throws or returns a promise or an `Error`, a non-null field is null, a leaf
 *   does not serialize, or a type resolver names a type the plan does not know: `execute`
 *   then produces the result, with its errors, exactly as before.
 * Resolvers of event fields are pure functions of the event (render-once already shares
 * their results between subscribers), so handing an event back and executing it again
 * repeats no side effect.
 */
import {
  getArgumentValues,
  getOperationAST,
  Kind,
  visit,
  type ASTNode,
  isAbstractType,
  isEnumType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type ExecutionArgs,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLAbstractType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { collectFields, collectSubfields } from 'graphql/execution/collectFields.js';
import { buildExecutionContext } from 'graphql/execution/execute.js';
import { jsonString } from './result-text.ts';

/** Thrown inside a plan to hand the event back to `execute`; never leaves this module. */
class Unplanned extends Error {}
const UNPLANNED = new Unplanned('not planned');

/** Completes one value of one selected type: its JSON text, or throws UNPLANNED. */
type Complete = (value: unknown, context: unknown) => string;

/** Writes an object of one type for a source value: its JSON text. */
type WriteObject = (source: unknown, context: unknown) => string;

/** One selected field: its key as JSON text, where its value comes from, and how it is completed. */
interface FieldStep {
  /** `"name":`, with the comma before it for every field but the first. */
  key: string;
  resolve: (source: unknown, context: unknown) => unknown;
  complete: Complete;
}

/** What compiling shares: the operation's fragments and coerced variables. */
interface Compiler {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  variableValues: Record<string, unknown>;
}

/** A compile-time refusal: no plan for this document. */
class NoPlan extends Error {}

/** A subscription operation compiled for its variables; run it once per event. */
export class ResultPlan {
  private constructor(private readonly root: WriteObject) {}

  /**
   * Compiles `args` (a subscription operation with its variables), or returns null when a
   * plan could not promise graphql-js's result (see the module's comment).
   */
  static compile(args: ExecutionArgs): ResultPlan | null {
    if (args.fieldResolver || args.typeResolver) return null;
    const built = buildExecutionContext(args);
    if (!('schema' in built)) return null;
    const { schema, fragments, variableValues, operation } = built;
    const rootType = schema.getSubscriptionType();
    if (operation.operation !== 'subscription' || !rootType) return null;
    try {
      const compiler: Compiler = { schema, fragments, variableValues };
      return new ResultPlan(objectOf(compiler, rootType, collectFields(schema, fragments, variableValues, rootType, operation.selectionSet)));
    } catch (error) {
      if (error instanceof NoPlan) return null;
      throw error;
    }
  }

  /**
   * The JSON text of the result's `data` for one event (`payload` is the root value), or
   * null when this event must go through `execute` instead.
   */
  run(payload: unknown, context: unknown): string | null {
    try {
      return this.root(payload, context);
    } catch {
      // Whatever it was (ours or a resolver's), execute tells it properly.
      return null;
    }
  }
}

/** An object of `type` with the fields `fields` selects. */
function objectOf(compiler: Compiler, type: GraphQLObjectType, fields: Map<string, readonly FieldNode[]>): WriteObject {
  if (type.isTypeOf) throw new NoPlan();
  const steps = [...fields].map(([responseName, nodes], i) => fieldStep(compiler, type, `${i ? ',' : ''}${JSON.stringify(responseName)}:`, nodes));
  return (source, context) => {
    let out = '{';
    for (const step of steps) out += step.key + step.complete(step.resolve(source, context), context);
    return out + '}';
  };
}

function fieldStep(compiler: Compiler, parent: GraphQLObjectType, key: string, nodes: readonly FieldNode[]): FieldStep {
  const fieldName = nodes[0]!.name.value;
  if (fieldName === '__typename') {
    const name = JSON.stringify(parent.name);
    return { key, resolve: () => name, complete: (text) => text as string };
  }
  const field = parent.getFields()[fieldName];
  if (!field) throw new NoPlan(); // __schema, __type: not on a subscription's types
  const complete = completer(compiler, field.type, nodes);
  const resolver = field.resolve;
  if (!resolver) return { key, resolve: (source) => property(source, fieldName), complete };
  if (resolver.length >= 4) throw new NoPlan();
  // Arguments depend only on the document and its variables: built once, shared by every event.
  const args = getArgumentValues(field, nodes[0]!, compiler.variableValues);
  return { key, resolve: (source, context) => checked(resolver(source, args, context, undefined as never)), complete };
}

/** graphql-js's default resolver, except that a method (which would want `info`) is not planned. */
function property(source: unknown, name: string): unknown {
  if ((typeof source !== 'object' || source === null) && typeof source !== 'function') return undefined;
  const value = (source as Record<string, unknown>)[name];
  if (typeof value === 'function') throw UNPLANNED;
  return value;
}

/** A resolver's value as a plan can use it: not a promise. */
function checked(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function') throw UNPLANNED;
  return value;
}

function completer(compiler: Compiler, type: GraphQLOutputType, nodes: readonly FieldNode[]): Complete {
  if (isNonNullType(type)) {
    const inner = nullableCompleter(compiler, type.ofType, nodes);
    return (value, context) => {
      // execute reports the null, or the Error a resolver returned
      if (value === null || value === undefined || value instanceof Error) throw UNPLANNED;
      return inner(value, context);
    };
  }
  const inner = nullableCompleter(compiler, type, nodes);
  return (value, context) => {
    if (value instanceof Error) throw UNPLANNED;
    return value === null || value === undefined ? 'null' : inner(value, context);
  };
}

/** Completes a value known not to be null. */
function nullableCompleter(compiler: Compiler, type: GraphQLOutputType, nodes: readonly FieldNode[]): Complete {
  if (isListType(type)) {
    const item = completer(compiler, type.ofType, nodes);
    return (value, context) => {
      if (!Array.isArray(value)) throw UNPLANNED; // other iterables: execute's way
      let out = '[';
      for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + item(value[i], context);
      return out + ']';
    };
  }
  if (isEnumType(type)) {
    // An enum serializes to one of its value names, which GraphQL restricts to
    // [_A-Za-z][_0-9A-Za-z]*: quoting is all of JSON's work, and no escape check is needed.
    return (value) => {
      const name = type.serialize(value);
      if (name === null || name === undefined) throw UNPLANNED;
      return `"${name}"`;
    };
  }
  if (isLeafType(type)) {
    return (value) => {
      const serialized = type.serialize(value);
      if (serialized === null || serialized === undefined) throw UNPLANNED;
      if (typeof serialized === 'string') return jsonString(serialized);
      // JSON writes a finite number as String does; NaN and the infinities are JSON's null.
      if (typeof serialized === 'number' && Number.isFinite(serialized)) return String(serialized);
      if (typeof serialized === 'boolean') return serialized ? 'true' : 'false';
      return JSON.stringify(serialized);
    };
  }
  if (isObjectType(type)) {
    const object = objectOf(compiler, type, collectSubfields(compiler.schema, compiler.fragments, compiler.variableValues, type, nodes));
    return object;
  }
  if (isAbstractType(type)) return abstractCompleter(compiler, type, nodes);
  throw new NoPlan();
}

/** An interface or union: the type resolver picks one of the possible types' plans. */
function abstractCompleter(compiler: Compiler, type: GraphQLAbstractType, nodes: readonly FieldNode[]): Complete {
  const resolveType = type.resolveType;
  if (!resolveType || resolveType.length >= 3) throw new NoPlan();
  const byName = new Map<string, WriteObject>();
  for (const possible of compiler.schema.getPossibleTypes(type)) {
    try {
      byName.set(possible.name, objectOf(compiler, possible, collectSubfields(compiler.schema, compiler.fragments, compiler.variableValues, possible, nodes)));
    } catch (error) {
      if (!(error instanceof NoPlan)) throw error;
      // That type's events go through execute; the others keep their plan.
    }
  }
  return (value, context) => {
    const name = resolveType(value, context, undefined as never, type);
    const object = typeof name === 'string' ? byName.get(name) : undefined;
    if (!object) throw UNPLANNED;
    return object(value, context);
  };
}

/**
 * The names of the variables that can change a subscription's results, or null when all
 * can. Variables used only in the root field's arguments (`after`, `walletId`…) choose the
 * events, not how an event renders, as long as the root resolver ignores its arguments:
 * then subscribers that differ only there (clients resuming from their own cursors) share
 * each event's result.
 */
export function shapingVariables(args: Pick<ExecutionArgs, 'schema' | 'document' | 'operationName'>): string[] | null {
  const operation = getOperationAST(args.document, args.operationName);
  const rootType = args.schema.getSubscriptionType();
  if (!operation || operation.operation !== 'subscription' || !rootType) return null;
  const names = new Set<string>();
  const collect = (node: ASTNode) => visit(node, { Variable: (variable) => void names.add(variable.name.value) });
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return null;
    const resolver = rootType.getFields()[selection.name.value]?.resolve;
    if (!resolver || resolver.length >= 2) return null;
    for (const directive of selection.directives ?? []) collect(directive);
    if (selection.selectionSet) collect(selection.selectionSet);
  }
  for (const definition of args.document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) collect(definition);
  return [...names].sort();
}
