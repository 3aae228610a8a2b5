/** The custom scalars of schema/scalars.graphql. */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { ErrorCode } from '../domain/errors.ts';
import { parseMoney } from '../domain/money.ts';
import { asGraphQLError } from './errors.ts';

function invalid(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
}

export const MoneyScalar = new GraphQLScalarType<bigint, string>({
  name: 'Money',
  description: 'An exact amount in minor units, serialized as a string of digits.',
  serialize(value) {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    throw new GraphQLError(`Money cannot represent ${String(value)}`);
  },
  parseValue: (value) => asGraphQLError(() => parseMoney(value, 'Money')),
  parseLiteral(ast: ValueNode) {
    if (ast.kind !== Kind.INT && ast.kind !== Kind.STRING) throw invalid('Money must be a string of digits or an Int');
    return asGraphQLError(() => parseMoney(ast.kind === Kind.INT ? ast.value : ast.value, 'Money'));
  },
});

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'ISO 8601 instant in UTC.',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string' && ISO_UTC.test(value)) return value;
    throw new GraphQLError(`DateTime cannot represent ${String(value)}`);
  },
  parseValue(value) {
    if (typeof value !== 'string' || !ISO_UTC.test(value)) throw invalid('DateTime must be an ISO 8601 UTC string');
    return new Date(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING || !ISO_UTC.test(ast.value)) throw invalid('DateTime must be an ISO 8601 UTC string');
    return new Date(ast.value);
  },
});

function toSequence(value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalid('Sequence must be a non-negative integer below 2^53');
  return n;
}

export const SequenceScalar = new GraphQLScalarType<number, number>({
  name: 'Sequence',
  description: 'A per-owner sequence number, up to 2^53 − 1.',
  serialize: (value) => toSequence(value),
  parseValue: (value) => toSequence(value),
  parseLiteral(ast) {
    if (ast.kind !== Kind.INT) throw invalid('Sequence must be an integer');
    return toSequence(Number(ast.value));
  },
});
