/**
 * The docs site's checked code blocks: a fence opened with ` ```ts check ` is type-checked, one with
 * ` ```ts run ` is type-checked and executed (getting-started.md says so to readers).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** One checked code block. */
export interface Snippet {
  /** The page, relative to docs/ (`getting-started.md`). */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  mode: 'check' | 'run';
  code: string;
  /** A file name unique to this block (`getting-started-3.ts`). */
  file: string;
}

/** The checked blocks of one page's markdown. */
export function snippetsOf(page: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(?:ts|typescript) (check|run)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${page}:${i + 1}: unclosed code block`);
    const slug = page.replace(/\.md$/, '').replace(/[^a-zA-Z0-9]+/g, '-');
    out.push({ page, line: i + 1, mode: open[1] as 'check' | 'run', code: `${lines.slice(i + 1, end).join('\n')}\n`, file: `${slug}-${out.length + 1}.ts` });
    i = end;
  }
  return out;
}

/** Every page's checked blocks, docs/**\/*.md (the VitePress folder left out). */
export function docsSnippets(docsDir: string): Snippet[] {
  const pages: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.md')) pages.push(relative(docsDir, full).split(sep).join('/'));
    }
  };
  walk(docsDir);
  return pages.sort().flatMap((page) => snippetsOf(page, readFileSync(join(docsDir, page), 'utf8')));
}
