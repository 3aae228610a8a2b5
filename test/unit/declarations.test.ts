/**
 * What the docs and the client package repeat is the code's own: the reference pages'
 * generated blocks (configuration, error and close codes, the API, the metrics) are what
 * `npm run docs` makes from their declarations, and the client's retry rules agree with
 * the error table.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TERMINAL_CLOSE_CODES, TRANSIENT_CODES } from '../../packages/client/src/error-codes.ts';
import { optionsOf } from '../../src/config/option.ts';
import { OPTIONS } from '../../src/config/options.ts';
import { CLOSES, ERRORS } from '../../src/domain/errors.ts';
import { GENERATED_PAGES, withGenerated } from '../../tools/docs/tables.ts';

describe('declared once, documented from the declaration', () => {
  it.each(GENERATED_PAGES)('%s is fresh (run npm run docs after changing a declaration or the schema)', (page) => {
    const text = readFileSync(new URL(`../../${page}`, import.meta.url), 'utf8');
    expect(text).toBe(withGenerated(page, text));
  });

  it('every setting has its own variable, a meaning, a default and a range', () => {
    const options = optionsOf(OPTIONS);
    expect(new Set(options.map((option) => option.env)).size).toBe(options.length);
    for (const option of options) {
      expect(option.doc.length, option.env).toBeGreaterThan(10);
      expect(option.defaultText, option.env).not.toBe('');
      expect(option.rangeText, option.env).not.toBe('');
    }
  });

  it('no source file outside src/config/ reads the environment', () => {
    const offenders = sources().filter(({ path, text }) => !path.startsWith('src/config/') && /process\.env\b/.test(text));
    expect(offenders.map(({ path }) => path)).toEqual([]);
  });

  it('the client library resubscribes after exactly the error codes the table calls retryable', () => {
    const retryable = Object.entries(ERRORS)
      .filter(([, spec]) => spec.retry === 'yes')
      .map(([code]) => code);
    expect([...TRANSIENT_CODES].sort()).toEqual(retryable.sort());
  });

  it('the client library gives up after exactly the close codes the table says it does not resume after', () => {
    for (const spec of Object.values(CLOSES)) expect(TERMINAL_CLOSE_CODES.has(spec.code), `close ${spec.code}`).toBe(!spec.resumed);
  });

  it('every error code the source names is in the table', () => {
    const named = new Set<string>();
    for (const { text } of sources()) for (const match of text.matchAll(/ErrorCode\.([A-Z_]+)/g)) named.add(match[1]!);
    expect([...named].filter((code) => !(code in ERRORS))).toEqual([]);
  });
});

function sources(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = `${dir}/${name}`;
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.includes('/generated/')) out.push({ path, text: readFileSync(path, 'utf8') });
    }
  };
  walk('src');
  return out;
}
