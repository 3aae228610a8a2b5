/**
 * Every relative link in the project's Markdown leads somewhere: the file exists, and a
 * `#fragment` names a heading of the page it points to (GitHub's anchors). External links
 * are not followed (the tests make no request off this machine).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const SKIP = new Set(['node_modules', 'dist', '.git', '.artifacts', '.data', '.demo-data']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings (outside code blocks), with GitHub's -1, -2 for repeats. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const base = anchorOf(heading[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Relative links of a page (outside code blocks): [text](target) with no scheme. */
function linksOf(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('links in the docs', () => {
  const pages = markdownFiles(ROOT);

  it('finds the pages (README, docs/, the client package)', () => {
    const names = pages.map((page) => relative(ROOT, page));
    expect(names).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'docs/ARCHITECTURE.md', 'docs/reference/api.md', 'packages/client/README.md']));
  });

  it.each(pages.map((page) => [relative(ROOT, page), page]))('%s: every relative link resolves', (_name, page) => {
    const broken: string[] = [];
    for (const link of linksOf(readFileSync(page, 'utf8'))) {
      const [path, fragment] = link.split('#') as [string, string | undefined];
      const target = path === '' ? page : join(dirname(page), decodeURIComponent(path));
      if (!existsSync(target)) {
        broken.push(`${link} (no such file)`);
        continue;
      }
      if (fragment && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(fragment)) broken.push(`${link} (no such heading)`);
    }
    expect(broken).toEqual([]);
  });

  it('the anchor rule is GitHub\'s', () => {
    expect(anchorOf('Error codes (`extensions.code`)')).toBe('error-codes-extensionscode');
    expect(anchorOf('Running with PostgreSQL and Redis')).toBe('running-with-postgresql-and-redis');
    expect(anchorsOf('# A\n## A\n```\n# not a heading\n```')).toEqual(new Set(['a', 'a-1']));
  });
});
