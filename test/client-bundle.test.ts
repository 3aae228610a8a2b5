/**
 * The client library runs in browsers: it
 * bundles for the browser platform, where a Node-only import fails the build; the wrapper
 * alone pulls in no package; the client guide quotes the sizes `npm run client:size` prints.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { browserBundle, clientBundles } from '../tools/client/bundle.ts';

describe('the client library in a browser bundle', () => {
  it('bundles for browsers; the wrapper alone brings no package with it', async () => {
    const bundles = Object.fromEntries((await clientBundles()).map((bundle) => [bundle.name, bundle]));
    expect(bundles.resumable!.packages).toEqual([]);
    expect(bundles.WalletEventsClient!.packages).toEqual(['graphql', 'graphql-ws']);
  });

  it('would fail on a Node-only import (the check above can fail)', async () => {
    await expect(browserBundle('node-only', "import { readFileSync } from 'node:fs'; export const read = readFileSync;")).rejects.toThrow(/node:fs/);
  });

  it('the client guide quotes the current sizes', async () => {
    const guide = await readFile('docs/guides/clients.md', 'utf8');
    for (const bundle of await clientBundles()) {
      const row = `| \`${bundle.name}\` | ${(bundle.minifiedBytes / 1024).toFixed(1)} KB | ${(bundle.gzippedBytes / 1024).toFixed(1)} KB |`;
      expect(guide, `docs/guides/clients.md should have the row ${row} (run npm run client:size)`).toContain(row);
    }
  });
});
