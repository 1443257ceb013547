/**
 * docs/operations.md points at other guides, files and its own sections; every relative link must
 * name a file that exists and, with a `#fragment`, a heading of that file (GitHub's anchors), so the
 * runbooks and procedures never send an operator to nothing. (monitoring.test.ts checks that each
 * alert has its runbook section.)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const DOC = join(ROOT, 'docs/operations.md');

/** Markdown outside fenced code blocks. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's heading anchors: lower case, punctuation other than `-` and `_` dropped, spaces to `-`. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, text] of prose(markdown).matchAll(/^#{1,6} +(.+?) *$/gm)) {
    const base = text!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((href) => !/^[a-z]+:/i.test(href));
}

describe('docs/operations.md', () => {
  const markdown = readFileSync(DOC, 'utf8');

  it('links only to files that exist and to headings they have', () => {
    const found = links(markdown);
    expect(found.length).toBeGreaterThan(20);
    const broken: string[] = [];
    for (const href of found) {
      const [path, fragment] = href.split('#') as [string, string | undefined];
      const target = path === '' ? DOC : resolve(dirname(DOC), path);
      if (!existsSync(target)) {
        broken.push(`${href}: no such file`);
        continue;
      }
      if (fragment !== undefined && statSync(target).isFile() && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(fragment)) {
        broken.push(`${href}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('is linked from README.md and docs/README.md', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('](docs/operations.md)');
    expect(readFileSync(join(ROOT, 'docs/README.md'), 'utf8')).toContain('](operations.md)');
  });
});
