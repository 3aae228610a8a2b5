/**
 * The layers of src/ are checked, not only written down: dependency-cruiser finds no
 * import that breaks .dependency-cruiser.cjs (a folder importing one it may not, a cycle,
 * the composition root imported, a Node module or a server import in the client package), and docs/ARCHITECTURE.md's
 * "Layers" table says exactly what that file enforces.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { LAYERS } = require('../../.dependency-cruiser.cjs') as { LAYERS: Record<string, string[]> };

describe('layers', () => {
  it('no import in src/ or the client package breaks the layer rules', async () => {
    const run = promisify(execFile)(process.execPath, ['node_modules/dependency-cruiser/bin/dependency-cruise.mjs', 'src', 'packages/client/src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
      maxBuffer: 10 * 1024 * 1024,
    });
    const outcome = await run.then(
      ({ stdout }) => ({ ok: true, output: stdout }),
      (error: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
    );
    expect(outcome.output).not.toMatch(/error/);
    expect(outcome.ok).toBe(true);
  });

  it("docs/ARCHITECTURE.md's layer table lists what the rules allow", () => {
    const doc = readFileSync(new URL('../../docs/ARCHITECTURE.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('## Layers'));
    const documented: Record<string, string[]> = {};
    for (const match of table.matchAll(/^\| `src\/([a-z/-]+)\/` \| ([^|]*) \|/gm)) {
      const allowed = match[2]!.trim();
      documented[match[1]!] = allowed === 'nothing of ours' ? [] : [...allowed.matchAll(/`([a-z/-]+)`/g)].map((name) => name[1]!).sort();
    }
    const enforced = Object.fromEntries(Object.entries(LAYERS).map(([folder, allowed]) => [folder, [...allowed].sort()]));
    expect(documented).toEqual(enforced);
  });
});
