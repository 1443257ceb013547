/**
 * Pages link to repository files beside the docs (`../packages/core/src/state-machine.ts`,
 * `../deploy/kubernetes/`) so they read well on GitHub. On the site those paths do not exist, so this
 * markdown-it rule rewrites each such link to `/source/<path>.html` and `buildEnd` writes that page: the
 * file's text (or a directory's listing) as HTML. The site then has no link out of itself and no
 * dead one; pages between themselves (`*.md` under docs/) are left to VitePress.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type MarkdownIt from 'markdown-it';

const docsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(docsDir, '..');

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const page = (title: string, body: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Tender</title>` +
  `<style>body{font:14px/1.5 ui-monospace,monospace;margin:2rem}pre{white-space:pre-wrap}</style></head>` +
  `<body><p><a href="/index.html">Tender docs</a> · <code>${escapeHtml(title)}</code></p>${body}</body></html>\n`;

/** Where a repository path is published on the site. */
export function sourceHref(repoPath: string, isDirectory: boolean): string {
  const clean = repoPath.replace(/\/+$/, '');
  return isDirectory ? `/source/${clean}/index.html` : `/source/${clean}.html`;
}

/** The markdown-it plugin and the build step that writes what the rewritten links point at. */
export function repositoryLinks() {
  const referenced = new Set<string>();

  function plugin(md: MarkdownIt): void {
    md.core.ruler.push('tender_repository_links', (state) => {
      const from = (state.env as { relativePath?: string }).relativePath;
      if (!from) return;
      for (const block of state.tokens) {
        for (const token of block.children ?? []) {
          if (token.type !== 'link_open') continue;
          const href = token.attrGet('href');
          if (!href || /^([a-z][a-z0-9+.-]*:|\/|#)/i.test(href)) continue;
          const path = decodeURI(href.split('#')[0]!);
          if (path === '') continue;
          const target = resolve(docsDir, dirname(from), path);
          const inDocs = !relative(docsDir, target).startsWith('..');
          if (inDocs && /\.md$/.test(target)) continue;
          if (!existsSync(target)) continue; // left for VitePress to report as a dead link
          const repoPath = relative(repoRoot, target).split(sep).join(posix.sep);
          if (repoPath.startsWith('..')) throw new Error(`${from} links outside the repository: ${href}`);
          referenced.add(repoPath);
          token.attrSet('href', sourceHref(repoPath, statSync(target).isDirectory()));
        }
      }
    });
  }

  function copy(outDir: string): void {
    for (const repoPath of [...referenced]) {
      if (statSync(join(repoRoot, repoPath)).isDirectory()) copyOne(outDir, repoPath);
      else write(outDir, repoPath, false);
    }
  }

  // A directory listed inside a listing gets its own listing, one level deep at a time.
  function write(outDir: string, repoPath: string, isDirectory: boolean): void {
    const full = join(repoRoot, repoPath);
    if (isDirectory) {
      copyOne(outDir, repoPath);
      return;
    }
    writeAt(outDir, sourceHref(repoPath, false), page(repoPath, `<pre>${escapeHtml(readFileSync(full, 'utf8'))}</pre>`));
  }

  function copyOne(outDir: string, repoPath: string): void {
    const full = join(repoRoot, repoPath);
    const entries = readdirSync(full, { withFileTypes: true }).filter((e) => !e.name.startsWith('.') && e.name !== 'node_modules');
    const items = entries
      .map((e) => {
        const child = posix.join(repoPath, e.name);
        write(outDir, child, e.isDirectory());
        return `<li><a href="${sourceHref(child, e.isDirectory())}">${escapeHtml(e.name)}${e.isDirectory() ? '/' : ''}</a></li>`;
      })
      .join('');
    writeAt(outDir, sourceHref(repoPath, true), page(`${repoPath}/`, `<ul>${items}</ul>`));
  }

  return { plugin, copy };
}

function writeAt(outDir: string, href: string, html: string): void {
  const file = join(outDir, ...href.split('/').filter(Boolean));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, html);
}
