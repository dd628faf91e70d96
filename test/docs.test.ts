/**
 * The documentation lives in the repository: no Markdown file may link to or mention a path outside
 * it (such as `../shared/…`), and every relative link must point at a file that exists (and, for a
 * `#fragment` into a Markdown file, at a heading that exists). Pure file checks: no servers.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Tracked Markdown files, plus new ones not yet committed (but not ignored ones such as node_modules). */
function markdownFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.md'], {
    cwd: root,
    encoding: 'utf8',
  });
  return [...new Set(out.split('\0').filter(Boolean))].filter((f) => fs.existsSync(path.join(root, f))).sort();
}

interface Link {
  target: string;
  line: number;
}

/** The text with fenced code blocks blanked out (line numbers kept). */
function withoutFences(text: string): string {
  let fence: string | undefined;
  return text
    .split('\n')
    .map((l) => {
      const m = /^\s{0,3}(`{3,}|~{3,})/.exec(l);
      if (m) {
        if (!fence) fence = m[1]![0]!.repeat(m[1]!.length);
        else if (l.trim().startsWith(fence)) fence = undefined;
        return '';
      }
      return fence ? '' : l;
    })
    .join('\n');
}

const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Inline links and images `[text](target)` and reference definitions `[id]: target`, outside code. */
function links(text: string): Link[] {
  const prose = withoutFences(text).replace(/`[^`\n]*`/g, (m) => ' '.repeat(m.length));
  const out: Link[] = [];
  for (const m of prose.matchAll(/\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+"[^"]*")?\s*\)/g)) {
    out.push({ target: m[1]!.replace(/^<|>$/g, ''), line: lineAt(prose, m.index!) });
  }
  for (const m of prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*(\S+)/gm)) {
    out.push({ target: m[1]!, line: lineAt(prose, m.index!) });
  }
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, duplicates numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const l of withoutFences(text).split('\n')) {
    const m = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (!m) continue;
    const plain = m[1]!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i; // http:, https:, mailto:, …

function insideRoot(p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Every problem in one Markdown file (empty when it is fine). */
function problems(file: string, read: (f: string) => string = (f) => fs.readFileSync(path.join(root, f), 'utf8')): string[] {
  const text = read(file);
  const dir = path.dirname(path.join(root, file));
  const found: string[] = [];
  // 1. mentions of the sibling directory the docs used to live in, anywhere (code included)
  text.split('\n').forEach((l, i) => {
    if (/\.\.\/shared\b/.test(l)) found.push(`${file}:${i + 1}: mentions ../shared (outside the repository)`);
  });
  // 2. relative paths in code spans or code blocks that climb out of the repository
  const codeMentions = [...text.matchAll(/(?:^|[\s`'"(=])((?:\.\.\/)+[A-Za-z0-9_.-][^\s`'")]*)/g)];
  for (const m of codeMentions) {
    if (!insideRoot(path.resolve(dir, m[1]!))) {
      found.push(`${file}:${lineAt(text, m.index!)}: mentions ${m[1]} (outside the repository)`);
    }
  }
  // 3. links: nothing outside the repository, every relative target present
  for (const { target, line } of links(text)) {
    if (EXTERNAL.test(target)) continue;
    const [rawPath, fragment] = target.split('#', 2) as [string, string | undefined];
    let filePart: string;
    try {
      filePart = decodeURI(rawPath.split('?')[0]!);
    } catch {
      found.push(`${file}:${line}: link ${target} is not a valid URI`);
      continue;
    }
    if (filePart === '') {
      if (fragment && !anchors(text).has(fragment.toLowerCase())) found.push(`${file}:${line}: link ${target}: no such heading in this file`);
      continue;
    }
    const abs = filePart.startsWith('/') ? path.join(root, filePart) : path.resolve(dir, filePart);
    if (!insideRoot(abs)) {
      found.push(`${file}:${line}: link ${target} leaves the repository`);
      continue;
    }
    if (!fs.existsSync(abs)) {
      found.push(`${file}:${line}: link ${target} points at ${path.relative(root, abs)}, which does not exist`);
      continue;
    }
    if (fragment && abs.endsWith('.md') && fs.statSync(abs).isFile()) {
      const a = anchors(fs.readFileSync(abs, 'utf8'));
      if (!a.has(fragment.toLowerCase())) {
        found.push(`${file}:${line}: link ${target}: no heading #${fragment} in ${path.relative(root, abs)}`);
      }
    }
  }
  return found;
}

describe('Markdown documentation stays inside the repository', () => {
  const files = markdownFiles();

  it('finds the Markdown files through git', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('docs/api.md');
    expect(files).toContain('docs/toolchain.md');
    expect(files.some((f) => f.startsWith('node_modules/'))).toBe(false);
  });

  it('no file links to or mentions a path outside the repository, and every relative link resolves', () => {
    const all = files.flatMap((f) => problems(f));
    expect(all).toEqual([]);
  });

  it('the checker catches what it is meant to catch', () => {
    const fake: Record<string, string> = {
      'docs/x.md': [
        'See `../shared/API.md` and [stack](../../shared/STACK.md).',
        '[up](../../outside.md) · [gone](missing.md) · [ok](api.md) · [bad anchor](api.md#no-such-heading)',
        '[good anchor](api.md#errors) · [web](https://example.com/../x) · [self](#title)',
        '# Title',
        '```bash',
        'cat ../../../etc/passwd',
        '```',
      ].join('\n'),
    };
    const found = problems('docs/x.md', (f) => fake[f]!);
    expect(found.some((p) => p.includes(':1: mentions ../shared'))).toBe(true);
    expect(found.some((p) => p.includes('link ../../shared/STACK.md leaves the repository'))).toBe(true);
    expect(found.some((p) => p.includes('link ../../outside.md leaves the repository'))).toBe(true);
    expect(found.some((p) => p.includes('link missing.md points at docs/missing.md'))).toBe(true);
    expect(found.some((p) => p.includes('no heading #no-such-heading'))).toBe(true);
    expect(found.some((p) => p.includes('mentions ../../../etc/passwd'))).toBe(true);
    expect(found.some((p) => p.includes('api.md#errors') || p.includes('example.com') || p.includes('#title'))).toBe(false);
  });
});
