/**
 * The GraphQL API is versioned: schema/ is diffed against the snapshot of the last release
 * (schema/released/api.graphql), and a change that breaks a client fails here unless
 * package.json's major version moved. CHANGELOG.md has an entry for the version.
 */
import { readFileSync } from 'node:fs';
import { buildSchema, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { currentSchema, judge, releasedSchema } from '../../tools/schema/compatibility.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const released = releasedSchema();

/** The current schema's SDL with `edit` applied, as a schema. */
const edited = (edit: (sdl: string) => string) => buildSchema(edit(printSchema(currentSchema())));

describe('API version', () => {
  it('schema/ may ship as the version in package.json', async () => {
    const verdict = await judge(released.schema, released.version, currentSchema(), version);
    expect(verdict.refusal).toBeNull();
  });

  it('the version is not behind the released one, and CHANGELOG.md describes it', () => {
    const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
    const [rMajor, rMinor, rPatch] = released.version.split('.').map(Number) as [number, number, number];
    expect(major * 1e6 + minor * 1e3 + patch).toBeGreaterThanOrEqual(rMajor * 1e6 + rMinor * 1e3 + rPatch);
    expect(readFileSync(new URL('../../CHANGELOG.md', import.meta.url), 'utf8')).toMatch(new RegExp(`^## ${version.replace(/\./g, '\\.')} \\(\\d{4}-\\d{2}-\\d{2}\\)`, 'm'));
  });

  it('refuses a removed field under the same major version, naming it, and lets a new major version ship it', async () => {
    const withoutCurrency = edited((sdl) => sdl.replace(/(type Wallet \{[^}]*?)\n\s*"""ISO 4217 code\."""\n\s*currency: String!/, '$1'));
    expect(withoutCurrency.getType('Wallet')!.toConfig()).not.toHaveProperty('fields.currency');
    const verdict = await judge(released.schema, '1.0.0', withoutCurrency, '1.1.0');
    expect(verdict.breaking).toEqual(["Wallet.currency: Field 'currency' was removed from object type 'Wallet'"]);
    expect(verdict.refusal).toMatch(/1 breaking change\(s\) to the GraphQL API since 1\.0\.0, but the version is still 1\.1\.0:\n {2}- Wallet\.currency: /);
    expect((await judge(released.schema, '1.0.0', withoutCurrency, '2.0.0')).refusal).toBeNull();
  });

  it('refuses an argument made required', async () => {
    const stricter = edited((sdl) => sdl.replace(/wallet\(id: ID\)/, 'wallet(id: ID!)').replace(/(walletEvents\(types: \[WalletEventType!\]), /, '$1!, '));
    const verdict = await judge(released.schema, '1.0.0', stricter, '1.0.1');
    expect(verdict.refusal).not.toBeNull();
    expect(verdict.breaking.some((line) => line.startsWith('Subscription.walletEvents.types'))).toBe(true);
  });

  it('lets an additive change ship under the same major version', async () => {
    const wider = edited((sdl) => sdl.replace(/type Query \{/, 'type Query {\n  "The API version."\n  apiVersion: String'));
    const verdict = await judge(released.schema, '1.0.0', wider, '1.1.0');
    expect(verdict.changes.map((change) => change.path)).toContain('Query.apiVersion');
    expect(verdict.breaking).toEqual([]);
    expect(verdict.refusal).toBeNull();
  });
});
