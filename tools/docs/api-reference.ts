/**
 * The GraphQL API reference, made from schema/'s own descriptions: each root field with its
 * arguments, then every type with its fields (or values), deprecations with their reasons.
 */
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

const ROOTS = ['Query', 'Mutation', 'Subscription'];

/** A description on one line, for a table cell. */
function oneLine(text: string | null | undefined): string {
  return (text ?? '').replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').trim();
}

function deprecation(item: { deprecationReason?: string | null }): string {
  return item.deprecationReason ? ` **Deprecated:** ${oneLine(item.deprecationReason)}` : '';
}

function argumentList(args: readonly GraphQLArgument[]): string {
  return args.length ? `(${args.map((arg) => `${arg.name}: ${arg.type}`).join(', ')})` : '';
}

function fieldRows(fields: readonly (GraphQLField<unknown, unknown> | GraphQLInputField)[]): string[] {
  return [
    '| field | type | description |',
    '|---|---|---|',
    ...fields.map((field) => {
      const args = 'args' in field ? argumentList(field.args) : '';
      return `| \`${field.name}${args}\` | \`${field.type}\` | ${oneLine(field.description)}${deprecation(field)} |`;
    }),
  ];
}

function typeSection(type: GraphQLNamedType): string[] {
  const kind = isObjectType(type) ? 'type' : isInputObjectType(type) ? 'input' : isEnumType(type) ? 'enum' : isUnionType(type) ? 'union' : isInterfaceType(type) ? 'interface' : 'scalar';
  const out = [`### ${type.name}`, '', `*${kind}*`, ''];
  if (type.description) out.push(type.description.trim(), '');
  if (isObjectType(type) || isInterfaceType(type)) {
    const interfaces = type.getInterfaces();
    if (interfaces.length) out.push(`Implements ${interfaces.map((i) => `[${i.name}](#${anchor(i.name)})`).join(', ')}.`, '');
    out.push(...fieldRows(Object.values(type.getFields())), '');
  } else if (isInputObjectType(type)) {
    out.push(...fieldRows(Object.values(type.getFields())), '');
  } else if (isEnumType(type)) {
    out.push('| value | description |', '|---|---|', ...type.getValues().map((value) => `| \`${value.name}\` | ${oneLine(value.description)}${deprecation(value)} |`), '');
  } else if (isUnionType(type)) {
    out.push(`One of ${type.getTypes().map((member) => `[${member.name}](#${anchor(member.name)})`).join(', ')}.`, '');
  }
  return out;
}

/** GitHub's anchor for a type's heading (`### Name`). */
function anchor(typeName: string): string {
  return typeName.toLowerCase();
}

/** The reference as Markdown (without a title: it goes under the page's own). */
export function apiReference(schema: GraphQLSchema): string {
  const types = Object.values(schema.getTypeMap())
    .filter((type) => !type.name.startsWith('__') && !ROOTS.includes(type.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  const out: string[] = [];
  for (const name of ROOTS) {
    const root = schema.getType(name);
    if (!isObjectType(root)) continue;
    out.push(`## ${name}`, '');
    for (const field of Object.values(root.getFields())) {
      out.push(`### ${name}.${field.name}`, '', `\`${field.name}${argumentList(field.args)}: ${field.type}\``, '');
      if (field.description) out.push(field.description.trim(), '');
      if (field.deprecationReason) out.push(`**Deprecated:** ${field.deprecationReason}`, '');
      if (field.args.length) {
        out.push('| argument | type | description |', '|---|---|---|', ...field.args.map((arg) => `| \`${arg.name}\` | \`${arg.type}\` | ${oneLine(arg.description)}${deprecation(arg)} |`), '');
      }
    }
  }
  out.push('## Types', '');
  for (const type of types) {
    if (isScalarType(type) && ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
    out.push(...typeSection(type));
  }
  return out.join('\n').trimEnd();
}
