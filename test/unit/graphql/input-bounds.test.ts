/**
 * The literal bounds of a document: a document within bounds is walked once and then
 * known, but only for the bound it was checked against.
 */
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkLiterals } from '../../../src/graphql/input-bounds.ts';

describe('checkLiterals', () => {
  it('refuses a list literal past the bound, also for a document already found within a larger one', () => {
    const document = parse('query { a(ids: ["1", "2", "3"]) }');
    expect(checkLiterals(document, 5)).toBeNull();
    expect(checkLiterals(document, 5)).toBeNull();
    const refusal = checkLiterals(document, 2);
    expect(refusal?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 2 });
    expect(checkLiterals(document, 2)?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 2 });
  });

  it('refuses a literal nested past the depth bound every time it is asked', () => {
    const document = parse(`query { a(v: ${'{ x: '.repeat(40)}1${' }'.repeat(40)}) }`);
    expect(checkLiterals(document, 5)?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 32 });
    expect(checkLiterals(document, 5)?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 32 });
  });
});
